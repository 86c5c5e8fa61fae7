"""Issue 16, maou-train options: every bad value is one line and exit 2, before anything exists."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.trainer.conftest import REPO, trainer_env
from trainer.cli import parse_config
from trainer.config import VIT_PRESET_DIM_HEADS, ConfigError
from trainer.shogi.hcpe import HCPE_DTYPE

NOBODY = 65534


@pytest.fixture
def bad_files(tmp_path: Path) -> Path:
    record = HCPE_DTYPE.itemsize
    (tmp_path / "random.hcpe").write_bytes(os.urandom(1001))
    aligned = bytearray(os.urandom(100 * record))
    for index in range(100):  # valid game results, so only the positions are garbage
        aligned[index * record + HCPE_DTYPE.fields["gameResult"][1]] = 1
    (tmp_path / "aligned.hcpe").write_bytes(bytes(aligned))
    (tmp_path / "empty.hcpe").write_bytes(b"")
    (tmp_path / "a-file").write_text("not a directory")
    os.mkfifo(tmp_path / "pipe.hcpe")  # opening it to read would wait for a writer forever
    return tmp_path


CASES = [
    (["--run-dir", ""], "an empty path is not a path"),
    (["--resume", ""], "an empty path is not a path"),
    (["--batch-size", str(10**30)], "--batch-size must be in [1, 1048576]"),
    (["--stage3-batch-size", "2000000"], "--stage3-batch-size must be in [1, 1048576]"),
    (["--model-architecture", "vit", "--vit-num-heads", "7"], "not divisible by --vit-num-heads 7"),
    (["--model-architecture", "vit", "--vit-embed-dim", "90"], "--vit-embed-dim 90 is not"),
    (["--cache-dir", "{d}/a-file"], "is a file; give a directory"),
    (["--stage", "3", "--stage3-data-path", "{d}/random.hcpe"], "not a multiple of 38"),
    (["--stage", "3", "--stage3-data-path", "{d}/aligned.hcpe"], "aligned.hcpe "),
    (["--stage", "3", "--stage3-data-path", "{d}/empty.hcpe"], "holds no records"),
    (["--stage", "3", "--stage3-data-path", "{d}/pipe.hcpe"], "is not a file; give HCPE files"),
    (["--stage", "3", "--stage3-data-path", "{d}/none.hcpe"], "does not exist; give an existing"),
    (["--lr-find", "--stage", "all"], "--lr-find sweeps one stage"),
    (["--stage1-thresh", "0.5"], "unrecognized arguments: --stage1-thresh"),
    (["--seed", "1", "--cpu", "--run-d", "x"], "unrecognized arguments: --run-d"),
]


@pytest.mark.parametrize(("args", "fragment"), CASES)
def test_bad_option_is_one_line(bad_files: Path, args: list[str], fragment: str) -> None:
    argv = [arg.format(d=bad_files) for arg in args]
    with pytest.raises(ConfigError) as caught:
        parse_config(argv)
    assert fragment in str(caught.value) and "\n" not in str(caught.value)


def test_vit_preset_shapes_match_the_models() -> None:
    from trainer.models.presets import _CONFIGS  # torch: only here

    for preset, (dim, heads) in VIT_PRESET_DIM_HEADS.items():
        config = _CONFIGS[("vit", preset)]
        assert (config.dim, config.num_heads) == (dim, heads)


def test_bad_hcpe_exits_2_and_creates_no_run_directory(bad_files: Path) -> None:
    run_dir = bad_files / "run"
    done = subprocess.run(
        [sys.executable, "-m", "trainer", "--stage", "3", "--run-dir", str(run_dir),
         "--stage3-data-path", str(bad_files / "aligned.hcpe")],
        cwd=REPO, env=trainer_env(), capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("maou-train: error: --stage3-data-path ")
    assert not run_dir.exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="becoming another user needs root")
def test_unreadable_hcpe_file_is_one_line_for_a_normal_user(tmp_path: Path) -> None:
    """As uid 65534 (root reads anything): the file exists but may not be read."""
    data = tmp_path / "secret.hcpe"
    data.write_bytes(b"\0" * 38)
    data.chmod(0o600)
    tmp_path.chmod(0o755)
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: drop to nobody, parse, report the error line
        message = b"accepted"
        try:
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            parse_config(["--stage", "3", "--stage3-data-path", str(data), "--run-dir", "/x"])
        except ConfigError as exc:
            message = str(exc).encode()
        except BaseException as exc:  # a traceback in the parent's eyes
            message = f"crashed: {type(exc).__name__}: {exc}".encode()
        finally:
            os.write(write_end, message)
            os._exit(0)
    os.close(write_end)
    os.waitpid(pid, 0)
    with os.fdopen(read_end, "rb") as pipe:
        message = pipe.read().decode()
    assert message == f"--stage3-data-path {data} cannot be read (Permission denied)"

"""Issue 16, checkpoints: loaded without pickle code, checked, refused by name when damaged, and
written so that a full disk costs nothing but the new file."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from maou_tui.sdk import RunDir
from maou_tui.sdk.private_files import UnsafePathError
from tests.full_disk import fill, free, small_filesystem
from tests.trainer.conftest import REPO, trainer_env
from trainer import checkpoint
from trainer.config import build_config
from trainer.train_log import close_logger, setup_logger

NOBODY = 65534


def sample_state(step: int) -> dict:
    layer = torch.nn.Linear(4, 3)
    return {"global_step": step, "weights": layer.state_dict(), "thresholds": {"1": {"v": 0.9}}}


def draws() -> tuple[float, float, float]:
    return torch.rand(1).item(), float(np.random.rand()), random.random()


def test_round_trip_restores_state_and_every_rng(tmp_path: Path):
    torch.manual_seed(1), np.random.seed(2), random.seed(3)
    draws()
    checkpoint.save_latest(tmp_path, sample_state(7))
    expected = draws()
    draws()
    state = checkpoint.load_latest(tmp_path)
    assert state is not None and state["global_step"] == 7
    checkpoint.restore_rng_state(state["rng"])
    assert draws() == expected


def damage(path: Path, how: str) -> None:
    data = bytearray(path.read_bytes())
    if how == "flipped byte":
        data[len(data) // 2] ^= 0xFF
    elif how == "empty":
        data = bytearray()
    elif how == "garbage":
        data = bytearray(os.urandom(len(data)))
    elif how == "truncated":
        data = data[: len(data) // 3]
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("how", ["flipped byte", "empty", "garbage", "truncated"])
def test_damaged_latest_is_refused_by_name_with_the_previous_one_named(tmp_path: Path, how: str):
    checkpoint.save_latest(tmp_path, sample_state(1))
    checkpoint.save_latest(tmp_path, sample_state(2))
    latest, previous = tmp_path / "latest.pt", tmp_path / "previous.pt"
    damage(latest, how)
    with pytest.raises(checkpoint.CheckpointDamagedError) as caught:
        checkpoint.load_latest(tmp_path)
    message = str(caught.value)
    assert message.startswith(f"checkpoint {latest} is damaged: ")
    assert f"the previous one is {previous}" in message and "\n" not in message
    previous.replace(latest)  # what the message tells the user to do
    assert checkpoint.load_latest(tmp_path)["global_step"] == 1  # type: ignore[index]


def test_first_checkpoint_damaged_says_there_is_no_previous(tmp_path: Path):
    checkpoint.save_latest(tmp_path, sample_state(1))
    damage(tmp_path / "latest.pt", "flipped byte")
    with pytest.raises(checkpoint.CheckpointDamagedError, match="there is no previous one"):
        checkpoint.load_latest(tmp_path)


class RunsShell:
    """What the attacker plants: a pickle whose loading would run a shell command."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (os.system, (f"touch {self.marker}",))


def test_swapped_pickle_is_never_executed(tmp_path: Path):
    marker = tmp_path / "pwned"
    torch.save({"state": RunsShell(marker)}, tmp_path / "latest.pt")
    with pytest.raises(checkpoint.CheckpointDamagedError, match=r"latest\.pt is damaged"):
        checkpoint.load_latest(tmp_path)
    assert not marker.exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="planting another user's file needs root")
def test_checkpoint_of_another_user_is_refused_before_loading(tmp_path: Path):
    marker = tmp_path / "pwned"
    planted = tmp_path / "latest.pt"
    torch.save({"state": RunsShell(marker)}, planted)
    os.chown(planted, NOBODY, NOBODY)
    with pytest.raises(UnsafePathError, match=f"belongs to uid {NOBODY}"):
        checkpoint.load_latest(tmp_path)
    assert not marker.exists()


def test_group_writable_or_symlinked_checkpoint_is_refused(tmp_path: Path):
    checkpoint.save_latest(tmp_path, sample_state(1))
    latest = tmp_path / "latest.pt"
    latest.chmod(0o666)
    with pytest.raises(UnsafePathError, match="writable by other users"):
        checkpoint.load_latest(tmp_path)
    elsewhere = tmp_path / "elsewhere.pt"
    latest.replace(elsewhere)
    latest.symlink_to(elsewhere)
    with pytest.raises(UnsafePathError, match="symbolic link"):
        checkpoint.load_latest(tmp_path)


def test_full_disk_keeps_the_previous_checkpoint_and_names_path_and_errno():
    with small_filesystem("4m") as disk:
        checkpoint.save_latest(disk, sample_state(1))
        fill(disk)
        big = {"global_step": 2, "blob": torch.zeros(1 << 20)}
        with pytest.raises(checkpoint.CheckpointWriteError) as caught:
            checkpoint.save_latest(disk, big)
        message = str(caught.value)
        assert f"cannot write checkpoint {disk / 'latest.pt'}" in message
        assert "[Errno 28] No space left on device" in message
        assert sorted(p.name for p in disk.iterdir()) == [".filler", "latest.pt"], "no temp left"
        assert checkpoint.load_latest(disk)["global_step"] == 1  # type: ignore[index]
        free(disk)


def test_log_on_a_full_disk_reports_once_and_resumes(capfd: pytest.CaptureFixture[str]):
    with small_filesystem("1m") as disk:
        log_path = disk / "train.log"
        logger = setup_logger(log_path, to_stderr=False)
        logger.info("before")
        fill(disk)
        for n in range(40):
            logger.info("line %d %s", n, "x" * 200)
        free(disk)
        logger.info("after")
        close_logger(logger)
        text = log_path.read_text()
    err = capfd.readouterr().err
    assert err.count("maou-train: cannot write the log") == 1 and "Logging error" not in err
    assert "No space left on device" in err
    assert text.endswith("| after\n")
    (note,) = [line for line in text.splitlines() if "log lines were lost" in line]
    lost = int(note.split("| ")[-1].split()[0])
    written = [line for line in text.splitlines() if "| line " in line]
    assert lost > 0 and len(written) + lost == 40, "every line is either whole or counted"


def test_resume_of_a_damaged_checkpoint_is_one_line_and_exit_2(tmp_path: Path):
    run_dir = tmp_path / "run"
    with RunDir.create(run_dir) as run:
        run.write_config(build_config({}).to_json_dict())
    checkpoint.save_latest(run_dir / "checkpoints", sample_state(1))
    checkpoint.save_latest(run_dir / "checkpoints", sample_state(2))
    damage(run_dir / "checkpoints" / "latest.pt", "flipped byte")
    done = subprocess.run(
        [sys.executable, "-m", "trainer", "--resume", str(run_dir)],
        cwd=REPO,
        env=trainer_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith(f"maou-train: error: --resume {run_dir}: checkpoint ")
    assert "latest.pt is damaged: checksum mismatch" in line
    assert f"the previous one is {run_dir / 'checkpoints' / 'previous.pt'}" in line

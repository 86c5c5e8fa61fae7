"""Issue 16, the maou-tui CLI: bad input is one line and exit 2; a closed pipe ends quietly."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from maou_tui.cli import main
from maou_tui.protocol import RunStarted, StageStarted, Step
from maou_tui.sdk import EventWriter
from tests.lrtools.sweep_fixture import write_sweep

REPO = Path(__file__).resolve().parents[2]
NOBODY = 65534


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run directory with real events: 400 steps of Stage 1."""
    path = tmp_path_factory.mktemp("cli") / "run"
    path.mkdir()
    writer = EventWriter(path / "events.jsonl")
    writer.emit(RunStarted(pid=os.getpid()))
    writer.emit(StageStarted(stage=1, name="REACHABLE_SQUARES", metric="accuracy"))
    for n in range(1, 401):
        writer.emit(Step(stage=1, epoch=1, batch=n, global_step=n, loss=1 / n, metric=0.5, lr=1e-3))
    writer.close()
    return path


def one_line_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["recommend", "--arch", "vit", "--stage", "1", "--batch-size", "256", "--embed-dim",
          "-3"], "--embed-dim: must be a positive whole number, got -3"),
        (["recommend", "--arch", "vit", "--stage", "4", "--batch-size", "256"],
         "stage must be 1, 2 or 3"),
        (["recommend", "--arch", "resnet", "--stage", "1", "--batch-size", "0"], "--batch-size"),
        (["recommend", "--task", "rl", "--lr", "nan"], "--lr: must be a finite number > 0"),
        (["watch", "{run}", "--them", "dark"], "unrecognized arguments: --them"),
        (["watch", "{run}", "--theme", "nope"], "unknown theme 'nope'; choose one of: dark"),
        (["attach", "{run}", "--theme", "nope"], "unknown theme 'nope'"),
        (["export", "{run}", "--name", "nosuch"], "no series named nosuch; the series are:"),
    ],
)  # fmt: skip
def test_bad_input_is_one_line_and_exit_2(
    run_dir: Path, capsys: pytest.CaptureFixture[str], argv: list[str], fragment: str
) -> None:
    err = one_line_exit_2([arg.format(run=run_dir) for arg in argv], capsys)
    assert fragment in err


def test_lr_find_of_all_stages_is_refused_before_anything_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    runs = tmp_path / "runs"
    err = one_line_exit_2(
        ["lr-find", "--no-tui", "--runs-root", str(runs), "--stage", "all"], capsys
    )
    assert "--lr-find sweeps one stage: give --stage 1, 2 or 3" in err
    assert not any(runs.glob("*/events.jsonl")), "no run left behind"


@pytest.mark.parametrize(
    "argv",
    [
        ["recommend", "--arch", "vit", "--stage", "1", "--batch-size", "256"],
        ["report", "{run}"],
        ["watch", "--no-tui", "{run}"],
        ["attach", "--no-tui", "{run}"],
        ["export", "{run}"],
        ["lr-find", "--show", "{sweep}"],
    ],
)
def test_output_into_a_closed_pipe_ends_quietly(
    run_dir: Path, tmp_path: Path, argv: list[str]
) -> None:
    sweep = tmp_path / "sweep"
    sweep.mkdir()
    write_sweep(sweep)
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader (head) is gone before a byte is written
    try:
        done = subprocess.run(
            [sys.executable, "-m", "maou_tui", *(a.format(run=run_dir, sweep=sweep) for a in argv)],
            stdout=write_end, stderr=subprocess.PIPE, text=True, cwd=REPO, timeout=60,
        )  # fmt: skip
    finally:
        os.close(write_end)
    assert done.returncode == 0 and done.stderr == "", done.stderr


@pytest.mark.skipif(os.geteuid() != 0, reason="becoming another user needs root")
def test_unreadable_directory_for_watch_is_one_line(tmp_path: Path) -> None:
    """As uid 65534 in a forked child (root reads anything): a directory it may not list."""
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: drop to nobody, run the command, send back its stderr and status
        code = 99
        try:
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            sys.stderr = open(write_end, "w", closefd=False)  # noqa: SIM115
            code = main(["watch", "--no-tui", str(private)])
            sys.stderr.flush()
        except BaseException as exc:
            os.write(write_end, f"crashed: {type(exc).__name__}: {exc}\n".encode())
        finally:
            os.write(write_end, f"exit {code}\n".encode())
            os._exit(0)
    os.close(write_end)
    os.waitpid(pid, 0)
    with os.fdopen(read_end, "rb") as pipe:
        *err, status = pipe.read().decode().strip().splitlines()
    assert status == "exit 2", err
    (line,) = err
    assert line.startswith("maou-tui watch: ") and "ermission denied" in line

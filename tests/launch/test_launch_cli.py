"""run / attach / watch: naming, argument checks and their one-line errors."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import pytest

from maou_tui.cli import main
from maou_tui.launch import liveness, new_run_dir
from maou_tui.sdk import RunDir

NOON = datetime(2026, 11, 22, 12, 0, 5)


def _one_line_error(capsys: pytest.CaptureFixture[str], command: str) -> str:
    err = capsys.readouterr().err.strip()
    assert "\n" not in err, err
    assert err.startswith(f"maou-tui {command}: error: ")
    return err


def test_run_dir_names_time_architecture_and_preset(tmp_path: Path) -> None:
    args = ["--model-architecture", "vit", "--preset", "small", "--epoch", "1"]
    assert new_run_dir(args, tmp_path, NOON) == tmp_path / "20261122-120005-vit-small"
    assert new_run_dir([], tmp_path, NOON) == tmp_path / "20261122-120005-resnet-tiny"


@pytest.mark.parametrize(
    "args", [[], ["--preset", "maou"], ["--model-architecture", "vit"], ["--epoch", "2"]]
)
def test_run_names_its_directory_as_maou_train_would(args: list[str], tmp_path: Path) -> None:
    from trainer.cli import default_run_dir, parse_config

    trainer_dir = default_run_dir(parse_config(args))
    assert new_run_dir(args, tmp_path).name[16:] == trainer_dir.name[16:]  # after the time


def test_run_dir_names_never_collide(tmp_path: Path) -> None:
    first = new_run_dir([], tmp_path, NOON)
    first.mkdir()
    second = new_run_dir([], tmp_path, NOON)
    assert second == tmp_path / "20261122-120005-resnet-tiny-2"


def test_run_refuses_a_directory_that_already_holds_a_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "events.jsonl").write_text('{"v": 1, "type": "run_started", "pid": 1}\n')
    assert main(["run", "--no-tui", "--run-dir", str(tmp_path)]) == 2
    assert "already holds a run" in _one_line_error(capsys, "run")
    assert not (tmp_path / "trainer.out").exists()


def test_attach_without_runs_says_how_to_start_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["attach", "--runs-root", str(tmp_path / "none")]) == 2
    assert "no runs found" in _one_line_error(capsys, "attach")


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda p: p, "no such run directory"),
        (lambda p: p.write_text("x") and p, "use `maou-tui watch"),
        (lambda p: p.mkdir() or p, "not a run directory"),
    ],
    ids=["missing", "a-file", "no-events"],
)
def test_attach_explains_a_wrong_target(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], make, expected: str
) -> None:
    target = make(tmp_path / "target")
    assert main(["attach", str(target)]) == 2
    assert expected in _one_line_error(capsys, "attach")


def test_watch_a_missing_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["watch", str(tmp_path / "nope.log")]) == 2
    assert "no such file or directory" in _one_line_error(capsys, "watch")


def test_liveness_needs_a_live_pid_holding_the_run_lock(tmp_path: Path) -> None:
    assert not liveness(tmp_path).trainer_alive  # nothing there
    with RunDir.create(tmp_path):  # what a trainer holds while it runs (pid file + lock)
        state = liveness(tmp_path)
        assert state.trainer_alive and state.pid == os.getpid()
        assert not state.controllable  # no control socket served
    # The same live pid without the lock: a pid reused after the trainer died.
    (tmp_path / "trainer.pid").write_text(f"{os.getpid()}\n")
    assert not liveness(tmp_path).trainer_alive
    (tmp_path / "trainer.pid").write_text("999999999\n")
    assert not liveness(tmp_path).trainer_alive


def test_run_resume_needs_an_existing_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", "--no-tui", "--resume", str(tmp_path / "gone")]) == 2
    assert "--resume" in _one_line_error(capsys, "run")
    assert not (tmp_path / "gone").exists()


def test_last_output_line_reads_only_the_tail_of_a_long_output(tmp_path: Path) -> None:
    from maou_tui.launch import TRAINER_OUTPUT, last_output_line

    assert last_output_line(tmp_path) == ""  # no trainer.out
    lines = [f"step {i}" for i in range(20_000)] + ["ValueError: bad data", "", "  "]
    (tmp_path / TRAINER_OUTPUT).write_text("\n".join(lines))
    assert last_output_line(tmp_path) == "ValueError: bad data"

"""attach picks the newest run; watch follows a foreign maou log without touching anything."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from maou_tui.app import MaouApp
from maou_tui.cli import main
from maou_tui.protocol import RunStarted, StageStarted, Step, encode

PREFIX = "2026-08-22T10:15:00+09:00 | INFO  | multi_stage_training.py | _run_stage | 501 | "
MAOU_LOG = [
    "=" * 60,
    "STAGE 2: LEGAL MOVES LEARNING",
    "=" * 60,
    "Starting Stage 2 (TrainingLoop): max_epochs=10, threshold=85.0%",
    "Stage 2 Epoch 1/10: Loss=0.0456, F1=61.20%",
    "Stage 2 Epoch 1: LR = 0.000400",
    "Stage 2 Epoch 2/10: Loss=0.0321, F1=72.80%",
    "Stage 2 Epoch 2: LR = 0.000380",
]


def _write_run(run_dir: Path, stage_name: str, mtime: float) -> Path:
    run_dir.mkdir(parents=True)
    events = [
        RunStarted(pid=999_999_999, device="cpu"),
        StageStarted(stage=1, name=stage_name, metric="accuracy", max_epochs=3),
        Step(stage=1, epoch=1, batch=1, global_step=1, loss=0.7, metric=0.9, lr=1e-3),
    ]
    path = run_dir / "events.jsonl"
    path.write_text("".join(encode(e) + "\n" for e in events))
    os.utime(path, (mtime, mtime))
    return run_dir


def _snapshot(directory: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(directory)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(directory.rglob("*"))
    }


def test_attach_without_argument_shows_the_newest_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    now = time.time()
    _write_run(tmp_path / "runs" / "b-older", "OLDER_STAGE", now - 100)
    newest = _write_run(tmp_path / "runs" / "a-newer", "NEWER_STAGE", now)
    (tmp_path / "runs" / "loose.log").write_text(PREFIX + "a newer log file, not a run\n")
    assert main(["attach", "--no-tui", "--runs-root", str(tmp_path / "runs")]) == 0
    out = capsys.readouterr().out
    assert f"run directory: {newest}" in out
    assert "NEWER_STAGE" in out and "OLDER_STAGE" not in out
    assert "trainer: not running" in out
    # Naming the directory of runs itself does the same.
    assert main(["attach", "--no-tui", str(tmp_path / "runs")]) == 0
    assert f"run directory: {newest}" in capsys.readouterr().out


def test_watch_summarises_a_plain_maou_log(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "maou.log"
    log.write_text("".join(PREFIX + line + "\n" for line in MAOU_LOG))
    assert main(["watch", "--no-tui", str(log)]) == 0
    out = capsys.readouterr().out
    assert "Stage 2" in out


def test_watch_summarises_the_newest_of_a_directory_of_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    now = time.time()
    _write_run(tmp_path / "runs" / "old", "OLDER_STAGE", now - 100)
    newest = _write_run(tmp_path / "runs" / "new", "NEWER_STAGE", now)
    assert main(["watch", "--no-tui", str(tmp_path / "runs")]) == 0
    out = capsys.readouterr().out
    assert f"newest of 2 run(s) in {tmp_path / 'runs'}: {newest}" in out
    assert "NEWER_STAGE" in out and "OLDER_STAGE" not in out


def test_watch_an_empty_directory_is_a_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["watch", "--no-tui", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and err.startswith("maou-tui watch: error: ")
    assert "no runs found" in err


async def test_watching_a_maou_log_is_read_only(tmp_path: Path) -> None:
    log = tmp_path / "logs" / "maou.log"
    log.parent.mkdir()
    log.write_text("".join(PREFIX + line + "\n" for line in MAOU_LOG))
    before = _snapshot(tmp_path)
    app = MaouApp(log, mode="watch")
    async with app.run_test(size=(100, 30)) as pilot:
        deadline = time.monotonic() + 15
        while 2 not in app.store.stages or app.store.current_epoch is None:
            assert time.monotonic() < deadline, "the log's stage and epoch never arrived"
            await pilot.pause(0.05)
        await pilot.press("p")
        await pilot.press("left_square_bracket")
        await pilot.pause(0.2)
        messages = [note.message for note in app._notifications]
    assert sum("read-only" in m for m in messages) == 2, messages
    assert _snapshot(tmp_path) == before, "watch wrote into the watched directory"

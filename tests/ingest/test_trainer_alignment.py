"""A real run of our trainer: its train.log and its events.jsonl give the same curves."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from maou_tui.ingest import load_store


@pytest.mark.slow
@pytest.mark.timeout(1500)
def test_train_log_and_events_jsonl_of_one_run_line_up(tmp_path: Path) -> None:
    run = tmp_path / "run"
    cmd = [sys.executable, "-m", "trainer", "--preset", "tiny", "--stage", "1"]
    cmd += ["--stage1-max-epochs", "2", "--log-every", "5", "--run-dir", str(run), "--cpu"]
    cmd += ["--num-threads", "1"]
    done = subprocess.run(cmd, capture_output=True, timeout=1400)
    assert done.returncode in (0, 1), done.stderr  # 1: maou's fail-fast at the threshold
    from_events = load_store(run / "events.jsonl")
    from_log = load_store(run / "train.log")
    log_cum = from_log.series("accuracy_cum")
    events_cum = from_events.series("accuracy_cum")
    assert len(log_cum) >= 10
    at = np.searchsorted(events_cum.steps, log_cum.steps)
    assert np.array_equal(events_cum.steps[at], log_cum.steps)
    np.testing.assert_allclose(events_cum.values[at], log_cum.values, atol=5e-5)
    assert [e.global_step for e in from_log.epoch_ends] == [
        e.global_step for e in from_events.epoch_ends
    ]
    assert from_log.stages[1].start_step == from_events.stages[1].start_step


def test_stage3_log_and_events_jsonl_line_up_across_epochs(tmp_path: Path) -> None:
    """Stage 3 opens each epoch with maou's ``EPOCH n:``: printed at the end instead, the log's
    second epoch started one epoch too late (step 141 for a 70-batch epoch, not 71)."""
    run = tmp_path / "run"
    cmd = [sys.executable, "-m", "trainer", "--preset", "tiny", "--stage", "3", "--cpu"]
    cmd += ["--stage3-games", "6", "--epoch", "2", "--log-every", "2", "--num-threads", "1"]
    done = subprocess.run([*cmd, "--run-dir", str(run)], capture_output=True, timeout=300)
    assert done.returncode == 0, done.stderr
    from_events, from_log = load_store(run / "events.jsonl"), load_store(run / "train.log")
    events_loss, log_loss = from_events.series("loss"), from_log.series("loss")
    assert set(log_loss.epochs.tolist()) == {1, 2}
    step_of = {
        (e, b): s
        for e, b, s in zip(events_loss.epochs, events_loss.batches, events_loss.steps, strict=True)
    }
    assert [
        step_of[e, b] for e, b in zip(log_loss.epochs, log_loss.batches, strict=True)
    ] == log_loss.steps.tolist()
    assert [e.global_step for e in from_log.epoch_ends] == [
        e.global_step for e in from_events.epoch_ends
    ]

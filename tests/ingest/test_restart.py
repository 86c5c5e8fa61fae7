"""A run resumed from an earlier checkpoint logs some steps again: like TensorBoard's purge,
the later copy replaces the earlier one in the store, the export and the charts."""

from __future__ import annotations

import csv
import io
import signal
from pathlib import Path

import pytest

from maou_tui.cli import main
from maou_tui.ingest import load_store
from maou_tui.protocol import EpochEnd, RunStarted, Step
from maou_tui.store import RunStore


def _steps(first: int, last: int, loss_offset: float) -> list[Step]:
    return [
        Step(stage=1, epoch=1 + (s - 1) // 50, batch=1 + (s - 1) % 50, global_step=s,
             loss=loss_offset + s / 1000, lr=0.01)
        for s in range(first, last + 1)
    ]  # fmt: skip


@pytest.mark.parametrize("bulk", [True, False])
def test_redone_steps_replace_their_first_copies(bulk: bool) -> None:
    first = [RunStarted(pid=1), *_steps(1, 105, 0.0), EpochEnd(stage=1, epoch=2, global_step=100,
             train_loss=0.5)]  # fmt: skip
    again = [RunStarted(pid=2, resumed=True), *_steps(101, 110, 1.0)]
    store = RunStore()
    if bulk:
        store.apply_all(first + again)
    else:
        for event in first + again:
            store.apply(event)
    loss = store.series("loss")
    assert loss.steps.tolist() == list(range(1, 111))  # 110 points for 110 steps
    assert loss.values[100] == pytest.approx(1.101)  # step 101 is the resumed run's
    assert store.series("train_loss").steps.tolist() == [100]  # before the restart point: kept
    assert any(m.kind == "resumed" and m.step == 101 for m in store.marks)
    assert store.purged_points >= 5


@pytest.mark.slow
def test_sigkill_and_resume_export_each_step_once(tmp_path: Path, capsys) -> None:
    from tests.trainer.conftest import (
        read_events,
        resume_trainer,
        send,
        start_trainer,
        wait_for_event,
    )

    run_dir, cache = tmp_path / "run", tmp_path / "cache"
    args = ("--stage", "1", "--stage1-max-epochs", "3", "--stage1-threshold", "1.0")
    process = start_trainer(run_dir, cache, *args)
    try:
        wait_for_event(run_dir, lambda e: e["type"] == "step" and e["global_step"] >= 2)
        assert send(run_dir, "checkpoint")["ok"]  # saved at the next step boundary
        saved = wait_for_event(run_dir, lambda e: e["type"] == "checkpoint_saved")
        redo = saved["step"] + 2
        wait_for_event(run_dir, lambda e: e["type"] == "step" and e["global_step"] >= redo)
        assert send(run_dir, "pause")["ok"]
        wait_for_event(run_dir, lambda e: e["type"] == "paused" and e["step"] >= redo)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    resume_trainer(run_dir)
    events = read_events(run_dir)
    logged = [e["global_step"] for e in events if e["type"] == "step"]
    assert len(logged) > len(set(logged))  # the redone steps are in events.jsonl twice
    assert main(["export", str(run_dir), "--name", "loss"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    steps = [int(r["step"]) for r in rows]
    assert steps == sorted(set(logged))  # each step once, in order
    last_copy = {e["global_step"]: e["loss"] for e in events if e["type"] == "step"}
    assert [float(r["value"]) for r in rows] == pytest.approx([last_copy[s] for s in steps])
    assert load_store(run_dir).series("loss").steps.tolist() == steps

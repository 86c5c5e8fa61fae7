"""The real trainer under torchrun: 2 CPU processes (gloo), controlled and monitored as one run."""

from __future__ import annotations

import os
import signal
import time
from itertools import pairwise
from pathlib import Path

import pytest

from tests.ddp.conftest import (
    FAST,
    finish,
    kill_all,
    of_type,
    read_events,
    read_trace,
    send,
    start,
    torchrun,
    wait_for,
    wait_for_step,
)

#: Stage 1 that will not finish by itself while the test steers it.
LONG_STAGE1 = ["--stage1-threshold", "0.999", "--stage1-max-epochs", "60"]
#: Stage 1 has 5 batches per rank and epoch: optimizer steps of 2, 2 and 1 micro-batches.
ACCUMULATE_2 = ["--gradient-accumulation-steps", "2"]


def stage_flow(run_dir: Path) -> list[tuple[str, int | None, str | None]]:
    """What a user sees of a run's course: stages started/completed and how the run ended."""
    kinds = ("stage_started", "stage_completed", "run_finished")
    return [
        (e["type"], e.get("stage"), e.get("reason") if e["type"] != "run_finished" else e["status"])
        for e in read_events(run_dir)
        if e["type"] in kinds
    ]


@pytest.mark.slow  # two whole runs; the control test's resumed run also goes through stages 1-3
def test_two_processes_run_stages_1_to_3_like_one(tmp_path: Path, cache_dir: Path) -> None:
    common = [*FAST, "--cache-dir", str(cache_dir)]
    one, two = tmp_path / "one", tmp_path / "two"
    status, output = finish(start(torchrun(1, *common, "--run-dir", str(one))))
    assert status == 0, output[-3000:]
    status, output = finish(start(torchrun(2, *common, "--run-dir", str(two))))
    assert status == 0, output[-3000:]

    assert stage_flow(two) == stage_flow(one)
    assert [s for _, s, _ in stage_flow(two)] == [1, 1, 2, 2, 3, 3, None]
    events = read_events(two)
    assert of_type(events, "run_started")[0]["world_size"] == 2
    assert of_type(read_events(one), "run_started")[0]["world_size"] == 1
    # Each rank trains on half of Stage 1's 1,105 patterns: 5 batches of 128 instead of 9.
    stage1 = of_type(events, "stage_started")[0]
    assert stage1["batches_per_epoch"] == 5 and stage1["train_samples"] == 1105
    # Step values are global: a full step counts both ranks' samples.
    first_steps = [e for e in of_type(events, "step") if e["stage"] == 1 and e["epoch"] == 1]
    assert [e["batch"] for e in first_steps] == [1, 2, 3, 4, 5]
    log = (two / "train.log").read_text()
    assert "(global batch 256 = 128 per process x 2 processes)" in log
    assert len(of_type(events, "run_started")) == 1  # rank 0 alone writes events
    # Rank 0's system samples cover both ranks' processes (the first one is taken at start).
    first_sample = of_type(events, "system")[0]
    assert sorted(p["rank"] for p in first_sample["processes"]) == [0, 1]
    assert all(p["rss_bytes"] > 0 for p in first_sample["processes"])


@pytest.mark.slow  # 26 s idle (~60 s on 2 loaded cores); a real torchrun stays in the default
# suite through test_a_killed_rank_fails_the_run_naming_it
def test_control_applies_on_every_rank_at_the_same_step_then_resume(
    tmp_path: Path, cache_dir: Path
) -> None:
    """Also under gradient accumulation: one gradient all-reduce per optimizer step."""
    run_dir, trace = tmp_path / "run", tmp_path / "trace"
    args = [*FAST, *LONG_STAGE1, *ACCUMULATE_2, "--cache-dir", str(cache_dir)]
    args += ["--run-dir", str(run_dir)]
    process = start(torchrun(2, *args), trace_dir=trace)
    try:
        wait_for_step(run_dir, 2)
        halved = send(run_dir, "scale_lr", factor=0.5)
        assert halved["ok"], halved
        paused = send(run_dir, "pause")
        assert paused["ok"], paused
        pause_step = paused["step"]
        time.sleep(2.0)
        steps_while_paused = len(of_type(read_events(run_dir), "step"))
        time.sleep(1.5)
        assert len(of_type(read_events(run_dir), "step")) == steps_while_paused
        # The other rank is held too: its last record says paused, at the pause step.
        last = wait_for(lambda: read_trace(trace, 1)[-1]["paused"] and read_trace(trace, 1)[-1])
        assert last["step"] == pause_step and process.poll() is None
        # Let the resumed run finish Stage 1 at its next epoch end.
        assert send(run_dir, "set_threshold", stage=1, value=0.5)["ok"]
        assert send(run_dir, "stop")["ok"]
        status, output = finish(process)
    finally:
        kill_all(process)
    assert status == 0, output[-3000:]

    events = read_events(run_dir)
    (control,) = [e for e in of_type(events, "control") if e["command"] == "scale_lr"]
    lr_step = control["applied_at_step"]
    for rank in (0, 1):
        halving = [r for r in read_trace(trace, rank) if r["lr_multiplier"] == 0.5]
        assert halving[0]["step"] == lr_step, (rank, read_trace(trace, rank))
    lrs = {rank: halving_lr(trace, rank) for rank in (0, 1)}
    assert lrs[0] == lrs[1]
    after = [e for e in of_type(events, "step") if e["global_step"] > lr_step]
    assert after and all(e["lr_multiplier"] == 0.5 for e in after)
    (finished,) = of_type(events, "run_finished")
    assert finished["status"] == "stopped" and finished["step"] == pause_step
    (saved,) = of_type(events, "checkpoint_saved")
    assert saved["step"] == pause_step and Path(saved["path"]).exists()

    status, output = finish(start(torchrun(2, "--resume", str(run_dir))))
    assert status == 0, output[-3000:]
    events = read_events(run_dir)
    resumed = of_type(events, "run_started")[-1]
    assert resumed["resumed"] and resumed["world_size"] == 2
    first = next(e for e in of_type(events, "step") if e["t"] > resumed["t"])
    assert first["global_step"] == pause_step + 1 and first["lr_multiplier"] == 0.5
    assert of_type(events, "run_finished")[-1]["status"] == "completed"
    assert [e["stage"] for e in of_type(events, "stage_completed")] == [1, 2, 3]
    for rank in (0, 1):
        groups = accumulation_groups(read_trace(trace, rank))
        # Groups of 2 micro-batches (1 at an epoch's odd end), each with ONE all-reduce.
        assert {batches for batches, _ in groups} == {1, 2}, groups
        assert {syncs for _, syncs in groups} == {1}, groups


def halving_lr(trace: Path, rank: int) -> float:
    return next(r["lr"] for r in read_trace(trace, rank) if r["lr_multiplier"] == 0.5)


def accumulation_groups(records: list[dict]) -> list[tuple[int, int]]:
    """(micro-batches, gradient all-reduces) of each optimizer step of one rank's trace: the
    differences between the step boundaries that follow a gradient all-reduce."""
    groups = []
    for pid in dict.fromkeys(r["pid"] for r in records):  # the first run, then the resumed one
        own = [r for r in records if r["pid"] == pid]
        after_sync = [b for a, b in pairwise(own) if b["gradient_syncs"] != a["gradient_syncs"]]
        boundaries = [own[0], *after_sync]
        groups += [
            (b["step"] - a["step"], b["gradient_syncs"] - a["gradient_syncs"])
            for a, b in pairwise(boundaries)
        ]
    return groups


@pytest.mark.slow  # 8-27 s on 2 cores: kept out of the default run's 5 minutes
def test_a_killed_rank_fails_the_run_naming_it(tmp_path: Path, cache_dir: Path) -> None:
    run_dir, trace = tmp_path / "run", tmp_path / "trace"
    args = [*FAST, *LONG_STAGE1, "--cache-dir", str(cache_dir), "--run-dir", str(run_dir)]
    process = start(torchrun(2, *args), trace_dir=trace)
    try:
        wait_for_step(run_dir, 2)
        victim = wait_for(lambda: read_trace(trace, 1))[0]["pid"]
        os.kill(victim, signal.SIGKILL)
        status, _ = finish(process, timeout=120)
    finally:
        kill_all(process)
    assert status != 0
    (finished,) = of_type(read_events(run_dir), "run_finished")
    assert finished["status"] == "failed"
    assert f"rank 1 (pid {victim}" in finished["reason"], finished["reason"]

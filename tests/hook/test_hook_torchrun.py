"""``maou-tui run -- torchrun --nproc-per-node 2 script.py``: two gloo ranks steered as one run."""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

import pytest

from tests.hook.conftest import (
    WARMUP_SGD,
    last_logged_step,
    read_events,
    run_finished,
    send,
    start_run,
    steps_in_log,
    wait_for,
)

LR, WARMUP = 0.1, 400
TORCHRUN = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2"]


@pytest.mark.slow  # two ranks importing torch: ~35 s on 2 loaded cores
def test_both_ranks_pause_halve_and_stop_at_the_same_step(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    script = [str(WARMUP_SGD), "--lr", str(LR), "--warmup", str(WARMUP), "--sleep", "0.02"]
    start_run(run_dir, *TORCHRUN, *script)
    wait_for(lambda: min(last_logged_step(run_dir, r) for r in (0, 1)) >= 5, what="5 steps")

    paused = send(run_dir, "pause")
    assert paused["ok"], paused
    at = paused["step"]
    wait_for(lambda: all(last_logged_step(run_dir, r) == at for r in (0, 1)), timeout=10)
    time.sleep(1.0)
    assert [last_logged_step(run_dir, r) for r in (0, 1)] == [at, at]

    assert send(run_dir, "scale_lr", factor=0.5)["ok"]
    assert send(run_dir, "resume")["ok"]
    wait_for(lambda: last_logged_step(run_dir, 1) >= at + 5, timeout=30, what="5 more steps")
    stopped = send(run_dir, "stop")
    assert stopped["ok"], stopped
    finished = wait_for(lambda: run_finished(run_dir), timeout=60, what="run_finished")
    assert finished["status"] == "stopped"

    log = (run_dir / "train.log").read_text()
    for rank in (0, 1):
        interrupted = f"[rank {rank}] KeyboardInterrupt at step {stopped['step'] + 1}"
        assert interrupted in log
        rows = steps_in_log(run_dir, rank)
        assert rows[-1][0] == stopped["step"]
        for step, scheduled, used in rows:
            expected = scheduled * (0.5 if step > at else 1.0)
            assert math.isclose(used, expected, rel_tol=1e-3), (rank, step, scheduled, used)
    steps = [e for e in read_events(run_dir) if e["type"] == "step"]  # rank 0 alone writes
    assert [e["global_step"] for e in steps] == list(range(1, stopped["step"] + 1))

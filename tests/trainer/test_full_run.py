"""The done-when run: the tiny preset trains Stages 1-3 to their thresholds (minutes: slow)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.trainer.conftest import REPO, of_type, read_events, send, trainer_env, wait_for_event


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_tiny_preset_completes_all_stages(tmp_path: Path, cache_dir: Path) -> None:
    run_dir = tmp_path / "run"
    command = [
        sys.executable, "-m", "trainer", "--preset", "tiny", "--stage", "all",
        "--cache-dir", str(cache_dir), "--run-dir", str(run_dir),
    ]  # fmt: skip
    start = time.monotonic()
    env = trainer_env()
    process = subprocess.Popen(command, cwd=REPO, env=env, stderr=subprocess.PIPE, text=True)
    try:
        wait_for_event(run_dir, lambda e: e["type"] == "step", what="the first step")
        # A user's touch, so that the control events appear too: pause, resume, LR x 1.
        assert send(run_dir, "pause")["ok"]
        assert send(run_dir, "scale_lr", factor=1.0)["ok"]
        assert send(run_dir, "resume")["ok"]
        _, err = process.communicate(timeout=1700)
    finally:
        if process.poll() is None:
            process.kill()
    elapsed = time.monotonic() - start
    assert process.returncode == 0, err
    events = read_events(run_dir)
    kinds = {e["type"] for e in events}
    assert kinds >= {
        "run_started", "stage_started", "phase", "step", "epoch_end", "threshold_reached",
        "checkpoint_saved", "stage_completed", "run_finished", "control", "paused", "resumed",
    }  # fmt: skip
    completed = of_type(events, "stage_completed")
    assert [(c["stage"], c["reason"]) for c in completed] == [
        (1, "threshold"), (2, "threshold"), (3, "max_epochs")
    ]  # fmt: skip
    assert events[-1]["status"] == "completed"
    names = sorted(p.name.rsplit("_", 2)[0] for p in (run_dir / "checkpoints").glob("stage*.pt"))
    assert names == [
        "stage1_backbone", "stage1_reachable_head", "stage2_backbone", "stage2_legal_moves_head",
        "stage3_policy_value_model",
    ]  # fmt: skip
    print(f"tiny preset, all stages: {elapsed:.0f} s wall")

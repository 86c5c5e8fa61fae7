"""``maou-tui run -- python script.py``: a torch script that knows nothing of maou-tui, steered."""

from __future__ import annotations

import math
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from maou_tui.hook.supervise import hook_env
from maou_tui.ingest import load_store
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
REPORT_LINE = re.compile(r"^iter (?P<iter>\d+): loss (?P<loss>\S+), lr", re.MULTILINE)


def test_pause_halve_resume_stop_a_plain_torch_script(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    script = [str(WARMUP_SGD), "--lr", str(LR), "--warmup", str(WARMUP), "--report-every", "5"]
    start_run(run_dir, sys.executable, *script)
    wait_for(lambda: last_logged_step(run_dir) >= 5, what="the script's 5th step")

    paused = send(run_dir, "pause")
    assert paused["ok"], paused
    at = paused["step"]
    time.sleep(1.0)  # ~100 steps' time at the script's pace: none may happen
    assert last_logged_step(run_dir) == at

    halved = send(run_dir, "scale_lr", factor=0.5)
    assert halved["ok"] and halved["step"] == at, halved
    refused = send(run_dir, "checkpoint")
    assert not refused["ok"] and "outside the program" in refused["error"]
    status = send(run_dir, "status")["state"]
    assert status["paused"] and status["lr_multiplier"] == 0.5
    assert status["optimizer_steps"] == at
    assert status["optimizers"][0]["optimizer"] == "SGD"

    assert send(run_dir, "resume")["ok"]
    wait_for(lambda: last_logged_step(run_dir) >= at + 10, timeout=30, what="10 more steps")
    stopped = send(run_dir, "stop")
    assert stopped["ok"], stopped
    finished = wait_for(lambda: run_finished(run_dir), timeout=30, what="run_finished")

    log = (run_dir / "train.log").read_text()
    assert f"KeyboardInterrupt at step {stopped['step'] + 1}: saving and exiting" in log
    assert finished["status"] == "stopped"
    rows = steps_in_log(run_dir)
    for step, scheduled, used in rows:
        # The schedule keeps its warmup shape; the step uses half of it after the command.
        assert math.isclose(scheduled, LR * min(1.0, step / WARMUP), rel_tol=1e-4)
        expected = scheduled * (0.5 if step > at else 1.0)
        assert math.isclose(used, expected, rel_tol=1e-3), (step, scheduled, used)
    assert rows[-1][0] == stopped["step"]
    events = read_events(run_dir)
    steps = [e for e in events if e["type"] == "step"]
    assert [e["global_step"] for e in steps] == list(range(1, len(steps) + 1))
    assert all(
        math.isclose(e["lr"], used, rel_tol=1e-3)
        for e, (_, _, used) in zip(steps, rows, strict=True)
    )
    assert all(e["loss"] is not None and e["loss"] > 0 for e in steps)
    stage = next(e for e in events if e["type"] == "stage_started")
    assert stage["base_lr"] == LR  # the scheduler's initial_lr, not the warmup's first LR
    applied = [e["command"] for e in events if e["type"] == "control"]
    assert applied == ["pause", "scale_lr", "resume", "stop"]
    # What the TUI charts: the LR of every step (the halving visible), the loss it
    # backpropagated, and what the script reported itself, each at the hook's step count.
    store = load_store(run_dir)
    backward, lr = store.series("backward_loss"), store.series("lr")
    assert len(backward) == len(rows) and all(v > 0 for v in backward.values)
    charted = zip(lr.values, rows, strict=True)
    assert all(math.isclose(v, used, rel_tol=1e-3) for v, (_, _, used) in charted)
    reports = {int(m["iter"]) // 4: float(m["loss"]) for m in REPORT_LINE.finditer(log)}
    assert len(reports) >= 3 and all(step % 5 == 0 for step in reports)
    loss = store.series("loss")  # the script's own loss is the loss; counted in micro-batches
    assert dict(zip(loss.steps.tolist(), loss.values.tolist(), strict=True)) == reports
    val = store.series("val_loss")  # per "epoch" of 20 steps, its value is the step
    assert len(val) == log.count(" val_loss=") and val.steps.tolist() == val.values.tolist()
    logged_lr = store.series("logged_lr")  # the schedule's LR as printed: no multiplier
    assert all(
        math.isclose(v, LR * min(1.0, step / WARMUP), rel_tol=1e-4)
        for step, v in zip(logged_lr.steps, logged_lr.values, strict=True)
    )


def test_a_program_without_torch_loads_nothing(tmp_path: Path) -> None:
    check = "import sys; print(sorted(m for m in sys.modules if m.split('.')[0] in "
    check += "('torch', 'maou_tui', 'pydantic')))"
    env = hook_env(tmp_path)
    done = subprocess.run([sys.executable, "-c", check], env=env, capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.strip() == "[]", done


@pytest.mark.slow  # a second torch start-up (~10-25 s on 2 loaded cores) in the default suite
def test_a_failing_hook_switches_off_and_the_program_trains_on(tmp_path: Path) -> None:
    """The control socket's path is taken by a regular file: the hook cannot serve."""
    (tmp_path / "control.sock").write_text("not a socket")
    (tmp_path / "events.jsonl").touch()
    command = [sys.executable, str(WARMUP_SGD), "--steps", "20", "--sleep", "0"]
    done = subprocess.run(command, env=hook_env(tmp_path), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "finished 20 steps" in done.stdout
    assert done.stderr.count("maou-tui hook: switched off after an error") == 1
    assert "control.sock exists and is not a socket" in done.stderr


def test_the_sitecustomize_it_shadows_still_runs(tmp_path: Path) -> None:
    """A virtualenv's or distribution's own sitecustomize, later on the path, is not lost."""
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    (theirs / "sitecustomize.py").write_text("import builtins\nbuiltins.THEIRS_RAN = True\n")
    env = hook_env(tmp_path)
    env["PYTHONPATH"] += os.pathsep + str(theirs)
    check = "import builtins, sitecustomize; print(builtins.THEIRS_RAN, sitecustomize.__file__)"
    done = subprocess.run([sys.executable, "-c", check], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    ran, ours = done.stdout.split()
    assert ran == "True" and ours.endswith("maou_tui/hook/site/sitecustomize.py")

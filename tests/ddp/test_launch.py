"""Launching via trainer.launch_ddp and ``maou-tui run --nproc-per-node``; rank 0's death."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.ddp.conftest import (
    FAST,
    REPO,
    env,
    finish,
    kill_all,
    of_type,
    read_events,
    read_trace,
    send,
    start,
    wait_for,
    wait_for_step,
)
from trainer.launch_ddp import failure_reason

#: torchrun's report after rank 0 was killed (copied from a real run).
REPORT = """\
Root Cause (first observed failure):
[0]:
  time      : 2026-11-22_01:16:45
  host      : localhost
  rank      : 0 (local_rank: 0)
  exitcode  : -9 (pid: 26498)  (SIGKILL)
  error_file: <N/A>
  traceback : Signal 9 (SIGKILL) received by PID 26498
"""


def launcher(*args: str) -> list[str]:
    return [sys.executable, "-m", "trainer.launch_ddp", "--standalone", *args]


def test_failure_reason_names_the_rank_and_the_signal() -> None:
    assert failure_reason(REPORT, 1) == (
        "rank 0 died (killed by SIGKILL); the run cannot go on without it"
    )
    exited = REPORT.replace("rank      : 0 (local_rank: 0)", "rank      : 3 (local_rank: 1)")
    exited = exited.replace("-9 (pid: 26498)  (SIGKILL)", "1 (pid: 7)")
    assert failure_reason(exited, 1).startswith("rank 3 died (exit 1)")
    assert "status 2" in failure_reason("no report at all", 2)


def test_a_bad_option_is_one_line_before_torchrun_starts(tmp_path: Path) -> None:
    command = launcher("--nproc-per-node", "2", "--", "--optimizer", "rmsprop")
    result = subprocess.run(
        [*command, "--run-dir", str(tmp_path / "run")],
        cwd=REPO, env=env(), capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "maou-train: error:" in result.stderr
    assert "optimizer" in result.stderr
    assert not (tmp_path / "run").exists()


@pytest.mark.slow
def test_launcher_writes_run_finished_when_rank_0_dies(tmp_path: Path, cache_dir: Path) -> None:
    run_dir, trace = tmp_path / "run", tmp_path / "trace"
    args = [*FAST, "--stage1-threshold", "0.999", "--cache-dir", str(cache_dir)]
    process = start(
        launcher("--nproc-per-node", "2", "--", *args, "--run-dir", str(run_dir)), trace
    )
    try:
        wait_for_step(run_dir, 2)
        rank0 = wait_for(lambda: read_trace(trace, 0))[0]["pid"]
        os.kill(rank0, signal.SIGKILL)
        status, output = finish(process, timeout=120)
    finally:
        kill_all(process)
    assert status != 0
    (finished,) = of_type(read_events(run_dir), "run_finished")
    assert finished["status"] == "failed", output[-2000:]
    assert finished["reason"].startswith("rank 0 died (killed by SIGKILL)")


@pytest.mark.slow
def test_maou_tui_run_starts_two_processes_and_controls_them(
    tmp_path: Path, cache_dir: Path
) -> None:
    run_dir = tmp_path / "run"
    command = [
        sys.executable, "-m", "maou_tui", "run", "--no-tui", "--nproc-per-node", "2",
        "--run-dir", str(run_dir), *FAST, "--stage1-threshold", "0.999",
        "--cache-dir", str(cache_dir),
    ]  # fmt: skip
    result = subprocess.run(command, cwd=REPO, env=env(), capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert f"maou-tui attach {run_dir}" in result.stdout
    wait_for_step(run_dir, 2)
    (started,) = of_type(read_events(run_dir), "run_started")
    assert started["world_size"] == 2
    halved = send(run_dir, "scale_lr", factor=0.5)
    assert halved["ok"] and halved["state"]["lr_multiplier"] == 0.5
    assert send(run_dir, "stop")["ok"]
    finished = wait_for(lambda: of_type(read_events(run_dir), "run_finished"), 120)
    assert finished[0]["status"] == "stopped"

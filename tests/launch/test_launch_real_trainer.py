"""`maou-tui run --no-tui` with the real trainer: bad options, and a run that outlives its CLI."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from maou_tui.cli import main
from maou_tui.control import ControlClient
from maou_tui.launch import pid_alive, read_pid

REPO_ROOT = Path(__file__).resolve().parents[2]
STAGE1_ONLY = ["--stage", "1", "--stage1-max-epochs", "30", "--num-threads", "1"]


def _events(run_dir: Path) -> list[dict]:
    lines = (run_dir / "events.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines if line.endswith("}")]


def _wait_for_event(run_dir: Path, kind: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [e for e in _events(run_dir) if e["type"] == kind]
        if found:
            return found[-1]
        time.sleep(0.1)
    raise AssertionError(f"no {kind} event in {run_dir} after {timeout} s")


@pytest.mark.parametrize(
    ("option", "expected"),
    [
        (["--no-such-option"], "maou-train: error: unrecognized arguments: --no-such-option"),
        (["--stage1-threshold", "2"], "--stage1-threshold"),
    ],
    ids=["unknown", "out-of-range"],
)
def test_bad_trainer_option_is_one_line_and_leaves_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], option: list[str], expected: str
) -> None:
    runs_root = tmp_path / "runs"
    assert main(["run", "--no-tui", "--runs-root", str(runs_root), *option]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and err.startswith("maou-tui run: error: maou-train: error: ")
    assert expected in err
    assert not any(runs_root.iterdir()), "a run directory was left behind"


def test_detached_run_outlives_the_command_and_stops_cleanly(tmp_path: Path) -> None:
    cli = subprocess.run(
        [sys.executable, "-m", "maou_tui", "run", "--no-tui", "--runs-root", "runs", *STAGE1_ONLY],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        capture_output=True,
        text=True,
        timeout=150,
    )
    assert cli.returncode == 0, cli.stderr
    (run_dir,) = (tmp_path / "runs").iterdir()
    assert f"maou-tui attach {Path('runs') / run_dir.name}" in cli.stdout
    pid = read_pid(run_dir)
    assert pid is not None and pid_alive(pid)
    try:
        first = _wait_for_event(run_dir, "step")
        time.sleep(1.0)
        assert _wait_for_event(run_dir, "step")["global_step"] > first["global_step"]
        asyncio.run(_request(run_dir, "stop"))
        finished = _wait_for_event(run_dir, "run_finished", timeout=30)
        assert finished["status"] == "stopped"
        deadline = time.monotonic() + 20
        while pid_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not pid_alive(pid)
    finally:
        if pid_alive(pid):
            os.kill(pid, 9)


async def _request(run_dir: Path, command: str) -> None:
    async with ControlClient(run_dir, timeout=5.0) as client:
        reply = await client.request(command)
    assert reply.ok, reply.error

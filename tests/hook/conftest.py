"""Helpers for the hook tests: start programs with ``maou-tui run -- CMD``, talk to their socket."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

PROGRAMS = Path(__file__).parent / "programs"
WARMUP_SGD = PROGRAMS / "warmup_sgd.py"
#: Generous: importing torch takes seconds on a loaded 2-core machine.
START_TIMEOUT_S = 90.0
STEP_LINE = re.compile(
    r"^(?:\[rank (?P<rank>\d+)\] )?step (?P<step>\d+) scheduled_lr (?P<scheduled>\S+) "
    r"used_lr (?P<used>\S+)",
    re.MULTILINE,
)


def maou_tui(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "maou_tui", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=cwd)


def start_run(run_dir: Path, *command: str) -> None:
    """``maou-tui run --no-tui --run-dir RUN -- CMD``: returns once CMD runs detached."""
    done = maou_tui("run", "--no-tui", "--terminal-size", "100x30", "--run-dir", str(run_dir),
                    "--", *command)  # fmt: skip
    assert done.returncode == 0, done.stderr


def read_events(run_dir: Path) -> list[dict[str, Any]]:
    text = (run_dir / "events.jsonl").read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def steps_in_log(run_dir: Path, rank: int | None = None) -> list[tuple[int, float, float]]:
    """(step, scheduled LR, used LR) of every step line the program printed."""
    text = (run_dir / "train.log").read_text(encoding="utf-8", errors="replace")
    rows = []
    for match in STEP_LINE.finditer(text):
        if rank is not None and int(match["rank"] or 0) != rank:
            continue
        rows.append((int(match["step"]), float(match["scheduled"]), float(match["used"])))
    return rows


def wait_for(condition: Any, timeout: float = START_TIMEOUT_S, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what or condition}")


def send(run_dir: Path, command_type: str, **fields: Any) -> dict[str, Any]:
    """One request on the run's control socket and its reply."""
    request = {"v": 1, "id": f"t-{command_type}", "type": command_type, **fields}
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
        client.settimeout(30)
        client.connect(os.fspath(run_dir / "control.sock"))
        client.sendall((json.dumps(request) + "\n").encode())
        reply = client.makefile("r", encoding="utf-8").readline()
    return dict(json.loads(reply))


def last_logged_step(run_dir: Path, rank: int | None = None) -> int:
    rows = steps_in_log(run_dir, rank)
    return rows[-1][0] if rows else 0


def run_finished(run_dir: Path) -> dict[str, Any] | None:
    return next((e for e in read_events(run_dir) if e["type"] == "run_finished"), None)

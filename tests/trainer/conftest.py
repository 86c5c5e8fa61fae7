"""Helpers to run the real trainer (``python -m trainer``) on small sizes and talk to its socket."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from maou_tui.sdk import find_socket

REPO = Path(__file__).resolve().parents[2]

#: Small sizes: Stage 1 in 5 batches/epoch, Stage 2 on 300 positions, Stage 3 on 2 games.
SMALL = [
    "--num-threads", "1",
    "--stage1-batch-size", "256",
    "--stage2-positions", "300",
    "--stage2-batch-size", "100",
    "--stage3-games", "2",
    "--stage3-batch-size", "128",
    "--epoch", "1",
    "--checkpoint-interval", "0",
]  # fmt: skip


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One data cache for the session: generated positions are reused by every trainer run."""
    return tmp_path_factory.mktemp("trainer-cache")


def trainer_command(run_dir: Path, cache: Path, *args: str) -> list[str]:
    return [
        sys.executable, "-m", "trainer", *SMALL, "--cache-dir", str(cache), *args,
        "--run-dir", str(run_dir),
    ]  # fmt: skip


def trainer_env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}


def run_trainer(
    run_dir: Path, cache: Path, *args: str, timeout: float = 240
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        trainer_command(run_dir, cache, *args),
        cwd=REPO,
        env=trainer_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def start_trainer(run_dir: Path, cache: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        trainer_command(run_dir, cache, *args),
        cwd=REPO,
        env=trainer_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def resume_trainer(run_dir: Path, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "trainer", "--resume", str(run_dir)],
        cwd=REPO,
        env=trainer_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def read_events(run_dir: Path) -> list[dict[str, Any]]:
    path = run_dir / "events.jsonl"
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.endswith("}")]


def of_type(events: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [e for e in events if e["type"] == kind]


def wait_for(predicate: Callable[[], Any], timeout: float = 120, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def wait_for_event(
    run_dir: Path, match: Callable[[dict[str, Any]], bool], timeout: float = 120, what: str = ""
) -> dict[str, Any]:
    def found() -> dict[str, Any] | None:
        return next((e for e in read_events(run_dir) if match(e)), None)

    return wait_for(found, timeout, what or "an event")


def send(run_dir: Path, kind: str, timeout: float = 60, **fields: Any) -> dict[str, Any]:
    """One raw JSON request over the run's control socket; returns the reply."""
    path = wait_for(lambda: find_socket(run_dir), 60, "the control socket")
    request = {"v": 1, "id": uuid.uuid4().hex[:12], "type": kind, **fields}
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect(str(path))
        sock.sendall((json.dumps(request) + "\n").encode())
        buffer = b""
        while not buffer.endswith(b"\n"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            buffer += chunk
    return json.loads(buffer)

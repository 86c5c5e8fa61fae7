"""Helpers to run the real trainer under torchrun (2 CPU processes, gloo) and talk to it."""

from __future__ import annotations

import contextlib
import json
import os
import signal
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

#: Small sizes: Stage 1 in 5 batches/epoch per rank, Stage 2 on 300 positions, Stage 3 on 2 games.
FAST = [
    "--cpu",
    "--num-threads", "1",
    "--stage1-batch-size", "128",
    "--stage1-threshold", "0.5",
    "--stage2-positions", "300",
    "--stage2-batch-size", "50",
    "--stage2-threshold", "0",
    "--stage3-games", "2",
    "--stage3-batch-size", "64",
    "--epoch", "1",
    "--checkpoint-interval", "0",
]  # fmt: skip


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One data cache for the session: generated positions are reused by every run."""
    return tmp_path_factory.mktemp("ddp-cache")


def torchrun(nproc: int, *trainer_args: str) -> list[str]:
    """``python -m torch.distributed.run`` on a free local port, starting ``python -m trainer``."""
    launcher = [sys.executable, "-m", "torch.distributed.run", "--standalone"]
    return [*launcher, "--nproc-per-node", str(nproc), "-m", "trainer", *trainer_args]


def env(trace_dir: Path | None = None) -> dict[str, str]:
    out = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    if trace_dir is not None:
        out["MAOU_DDP_TRACE_DIR"] = str(trace_dir)
    return out


def start(command: list[str], trace_dir: Path | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        command,
        cwd=REPO,
        env=env(trace_dir),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # torchrun and its ranks: one process group to clean up
    )


def kill_all(process: subprocess.Popen[str]) -> None:
    """Kill the launcher and every rank it started, if any is left (after a failed test)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def finish(process: subprocess.Popen[str], timeout: float = 240) -> tuple[int, str]:
    """Wait for the launcher; its exit status and output (killed and failed if it hangs)."""
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        pytest.fail(f"still running after {timeout} s:\n{output[-3000:]}")
    return process.returncode, output


def read_events(run_dir: Path) -> list[dict[str, Any]]:
    path = run_dir / "events.jsonl"
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.endswith("}")]


def of_type(events: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [e for e in events if e["type"] == kind]


def read_trace(trace_dir: Path, rank: int) -> list[dict[str, Any]]:
    path = trace_dir / f"rank{rank}.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.endswith("}")]


def wait_for(predicate: Callable[[], Any], timeout: float = 120, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def wait_for_step(run_dir: Path, step: int, timeout: float = 180) -> dict[str, Any]:
    def found() -> dict[str, Any] | None:
        steps = of_type(read_events(run_dir), "step")
        return next((e for e in steps if e["global_step"] >= step), None)

    return wait_for(found, timeout, f"global step {step}")


def send(run_dir: Path, kind: str, **fields: Any) -> dict[str, Any]:
    """One JSON request over the run's control socket; returns the reply."""
    path = wait_for(lambda: find_socket(run_dir), 120, "the control socket")
    request = {"v": 1, "id": uuid.uuid4().hex[:12], "type": kind, **fields}
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(60)
        sock.connect(str(path))
        sock.sendall((json.dumps(request) + "\n").encode())
        buffer = b""
        while not buffer.endswith(b"\n"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            buffer += chunk
    return json.loads(buffer)

"""Test processes: a live control loop and the environment a child Python needs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from maou_tui.sdk import find_socket

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")])
    return env


def wait_until(predicate: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


class LiveLoop:
    """A running ``live_loop.py`` process and its run directory."""

    def __init__(self, run_dir: Path, *args: str) -> None:
        self.run_dir = run_dir
        self.process = subprocess.Popen(
            [sys.executable, str(HERE / "live_loop.py"), str(run_dir), *args],
            env=child_env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        wait_until(self._ready, 20, "the loop's control socket")

    def _ready(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"live loop exited: {self.process.stderr.read().decode()}")
        return (self.run_dir / "events.jsonl").exists() and find_socket(self.run_dir) is not None

    def events_text(self) -> str:
        return (self.run_dir / "events.jsonl").read_text()

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.kill()
        if self.process.stderr:
            self.process.stderr.close()

"""Fixtures for the app tests: a deterministic run directory and live control-loop processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from maou_tui.sdk import find_socket

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(HERE))

from demo_run import write_demo_run  # noqa: E402


@pytest.fixture(autouse=True)
def _isolated_themes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No test reads the user's own theme directory."""
    theme_dir = tmp_path / "user-themes"
    monkeypatch.setenv("MAOU_TUI_THEME_DIR", str(theme_dir))
    return theme_dir


@pytest.fixture
def demo_dir(tmp_path: Path) -> Path:
    return write_demo_run(tmp_path / "runs" / "demo-run")


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


@pytest.fixture
def live_loop(tmp_path: Path) -> Iterator[Callable[..., LiveLoop]]:
    """Start live loops on demand (``live_loop(*args)``); all are ended after the test."""
    loops: list[LiveLoop] = []

    def start(*args: str) -> LiveLoop:
        loop = LiveLoop(tmp_path / f"run{len(loops)}", *args)
        loops.append(loop)
        return loop

    yield start
    for loop in loops:
        loop.close()

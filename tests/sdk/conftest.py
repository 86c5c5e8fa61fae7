"""Fixtures for the SDK tests: a real socket served to a real (torch-free) step loop."""

from __future__ import annotations

import json
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from maou_tui.protocol import Threshold
from maou_tui.sdk import ControlServer, EventWriter, LoopControl, RunDir

SCHEDULE_LR = 0.01


@pytest.fixture
def short_dir() -> Iterator[Path]:
    """A private temporary directory with a short path (socket paths are limited to 107 bytes)."""
    with tempfile.TemporaryDirectory(prefix="sdk-") as name:
        yield Path(name)


class StepLoop:
    """A training-loop stand-in: steps at ~``rate`` per second, polling control at each boundary."""

    def __init__(self, run_dir: Path, rate: float = 200.0, **server_options: Any) -> None:
        self.run = RunDir.create(run_dir)
        self.events = EventWriter(self.run.events_path)
        self.server = ControlServer(self.run.socket_path, **server_options).start()
        self.control = LoopControl(self.server, self.events, thresholds={1: Threshold(value=0.99)})
        self.period = 1.0 / rate
        self.step = 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    @property
    def socket_path(self) -> Path:
        return self.run.socket_path

    def _run(self) -> None:
        while not self._done.is_set() and not self.control.stop_requested:
            self.step += 1
            self.control.update_state(
                stage=1,
                stage_name="REACHABLE_SQUARES",
                epoch=1,
                batch=self.step,
                step=self.step,
                lr=self.control.lr_multiplier * SCHEDULE_LR,
            )
            self.control.poll(self.step, schedule_lr=SCHEDULE_LR)
            time.sleep(self.period)

    def advances(self, steps: int = 3, timeout: float = 5.0) -> bool:
        """True when the loop makes ``steps`` more steps within ``timeout`` (it is unaffected)."""
        target = self.step + steps
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.step >= target:
                return True
            time.sleep(0.005)
        return False

    def close(self) -> None:
        self._done.set()
        self.control.stop_requested = True
        self.control.paused = False
        self._thread.join(timeout=5)
        self.control.close()
        self.events.close()
        self.run.close()

    def event_lines(self) -> list[dict[str, Any]]:
        self.events.flush()
        return [json.loads(line) for line in self.run.events_path.read_text().splitlines()]


@pytest.fixture
def step_loop(short_dir: Path) -> Iterator[StepLoop]:
    loop = StepLoop(short_dir / "run")
    yield loop
    loop.close()


class RawClient:
    """A client that speaks raw bytes, as any outside process would."""

    def __init__(self, path: Path, timeout: float = 5.0) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(str(path))
        self._buffer = b""

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def send(self, message: dict[str, Any]) -> None:
        self.send_raw(json.dumps(message).encode() + b"\n")

    def read_reply(self) -> dict[str, Any]:
        while b"\n" not in self._buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("server closed the connection")
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        return json.loads(line)

    def ask(self, message: dict[str, Any]) -> dict[str, Any]:
        self.send(message)
        return self.read_reply()

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> RawClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


@pytest.fixture
def raw_client(step_loop: StepLoop) -> Iterator[RawClient]:
    client = RawClient(step_loop.socket_path)
    yield client
    client.close()

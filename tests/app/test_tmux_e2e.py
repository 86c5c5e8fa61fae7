"""The user's story in a real terminal: tmux drives the installed ``maou-tui``.

run -> charts appear -> `p` pauses, `[` halves the LR, `p` resumes (checked in events.jsonl)
-> `q` quits while training goes on -> `maou-tui attach` shows the history -> the trainer is
stopped cleanly.
"""

from __future__ import annotations

import asyncio
import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from maou_tui.launch import pid_alive, read_pid

pytestmark = [
    pytest.mark.tmux,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]

REPO_ROOT = Path(__file__).resolve().parents[2]
# Stage 1 never reaches a threshold of 1.0 and has epochs to spare, so the run is still going
# when the test attaches again however fast or slow the machine is; the test stops it.
TRAINER_OPTIONS = [
    "--stage2-positions",
    "500",
    "--stage3-games",
    "4",
    "--stage1-threshold",
    "1.0",
    "--stage1-max-epochs",
    "500",
    "--num-threads",
    "1",
]
WIDTH, HEIGHT = 120, 40


def maou_tui_command() -> str:
    """The installed console script next to this Python, else ``python -m maou_tui``."""
    script = Path(sys.executable).parent / "maou-tui"
    if script.is_file():
        return shlex.quote(str(script))
    return f"{shlex.quote(sys.executable)} -m maou_tui"


class Tmux:
    """One private tmux server (its own socket) with one shell window."""

    def __init__(self, socket: Path, cwd: Path) -> None:
        self.base = ["tmux", "-S", str(socket)]
        env = {"PYTHONPATH": str(REPO_ROOT), "MAOU_TUI_THEME_DIR": str(cwd / "no-themes")}
        setenv = [arg for key, value in env.items() for arg in ("-e", f"{key}={value}")]
        self._tmux(
            "new-session", "-d", "-x", str(WIDTH), "-y", str(HEIGHT), "-c", str(cwd), *setenv,
            "bash --norc --noprofile",
        )  # fmt: skip

    def _tmux(self, *args: str) -> str:
        done = subprocess.run([*self.base, *args], capture_output=True, text=True, check=True)
        return done.stdout

    def type_line(self, line: str) -> None:
        self._tmux("send-keys", "-l", line)
        self._tmux("send-keys", "Enter")

    def press(self, key: str) -> None:
        self._tmux("send-keys", key)

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p")

    def wait_for_screen(self, predicate: Callable[[str], bool], what: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.screen()
            if predicate(text):
                return text
            time.sleep(0.2)
        raise AssertionError(f"timed out waiting for {what}; the screen shows:\n{self.screen()}")

    def kill(self) -> None:
        subprocess.run([*self.base, "kill-server"], capture_output=True, check=False)


def read_events(run_dir: Path) -> list[dict]:
    path = run_dir / "events.jsonl"
    if not path.exists():
        return []
    events = []
    for line in path.read_text().splitlines():
        try:
            events.append(json.loads(line))
        except json.JSONDecodeError:
            continue  # a half-written last line
    return events


def wait_for_event(
    run_dir: Path, predicate: Callable[[dict], bool], what: str, timeout: float
) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [event for event in read_events(run_dir) if predicate(event)]
        if found:
            return found[0]
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what} in {run_dir / 'events.jsonl'}")


def stop_trainer(run_dir: Path) -> None:
    from maou_tui.control import ControlClient
    from maou_tui.sdk import find_socket

    async def send_stop() -> None:
        socket = find_socket(run_dir)
        assert socket is not None, "the live trainer has no control socket"
        client = ControlClient(socket, timeout=5.0)
        await client.connect()
        try:
            reply = await client.request("stop")
            assert reply.ok, reply.error
        finally:
            await client.close()

    asyncio.run(send_stop())


def test_run_pause_halve_quit_attach(tmp_path: Path) -> None:
    runs_root = tmp_path / "runs"
    tmux = Tmux(tmp_path / "tmux.sock", tmp_path)
    pid = None
    try:
        options = " ".join(shlex.quote(o) for o in TRAINER_OPTIONS)
        tmux.type_line(f"{maou_tui_command()} run --runs-root runs {options}")
        run_dir = _wait_for_run_dir(runs_root)

        # The charts are up once the first steps are on screen.
        wait_for_event(run_dir, lambda e: e["type"] == "step", "the first step", 90)
        tmux.wait_for_screen(lambda s: "loss" in s.lower(), "the loss chart", 30)
        tmux.wait_for_screen(lambda s: "RUNNING" in s, "the running state", 30)
        pid = read_pid(run_dir)
        assert pid is not None

        tmux.press("p")
        paused = wait_for_event(run_dir, lambda e: e["type"] == "paused", "paused", 40)
        tmux.wait_for_screen(lambda s: "PAUSED" in s, "the paused state", 20)
        tmux.press("[")  # applied at once: the paused loop still serves commands
        halved = wait_for_event(
            run_dir,
            lambda e: e["type"] == "control" and e["command"] == "scale_lr",
            "the scale_lr control event",
            20,
        )
        assert halved["before"]["lr_multiplier"] == pytest.approx(1.0)
        assert halved["after"]["lr_multiplier"] == pytest.approx(0.5)
        assert halved["applied_at_step"] == paused["step"]
        tmux.press("p")
        wait_for_event(run_dir, lambda e: e["type"] == "resumed", "resumed", 20)
        wait_for_event(
            run_dir,
            lambda e: e["type"] == "step" and e["lr_multiplier"] == pytest.approx(0.5),
            "a step at half the LR",
            30,
        )

        tmux.press("q")
        tmux.wait_for_screen(lambda s: "come back with" in s, "the come-back hint", 20)
        time.sleep(1.0)
        assert pid_alive(pid), "quitting the TUI stopped the trainer"

        tmux.type_line(f"clear; {maou_tui_command()} attach --runs-root runs")
        # The history replayed: the stage, the halved LR's origin (base × m 0.5) and curves.
        # (The chart's "LR ×0.5" label may be hidden when it overlaps an earlier label.)
        history = tmux.wait_for_screen(
            lambda s: "REACHABLE" in s and "× m 0.5" in s and _curve_cells(s) > 20,
            "the stage name, the halved LR multiplier and the replayed curves",
            30,
        )
        assert "RUNNING" in history
        tmux.press("q")
        tmux.wait_for_screen(lambda s: "come back with" in s, "the shell again", 20)

        stop_trainer(run_dir)
        finished = wait_for_event(run_dir, lambda e: e["type"] == "run_finished", "the end", 30)
        assert finished["status"] == "stopped"
        _wait_until_dead(pid, 30)
    finally:
        tmux.kill()
        if pid is not None and pid_alive(pid):
            os.kill(pid, 9)


def _curve_cells(screen: str) -> int:
    """Braille cells plotext draws lines with: a chart with curves has dozens."""
    return sum(screen.count(dots) for dots in "⠉⠒⠤⣀")


def _wait_for_run_dir(runs_root: Path, timeout: float = 20) -> Path:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = sorted(runs_root.glob("*")) if runs_root.is_dir() else []
        if runs:
            return runs[0]
        time.sleep(0.1)
    raise AssertionError(f"`maou-tui run` created no run directory under {runs_root}")


def _wait_until_dead(pid: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            return
        time.sleep(0.2)
    raise AssertionError(f"the trainer (pid {pid}) did not exit after stop")

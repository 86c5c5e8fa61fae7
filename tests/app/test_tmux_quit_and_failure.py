"""Issue 17 in a real terminal: quitting while paused says so and offers to resume; a trainer
that fails after the TUI opened (a slow start) shows its reason, in `run` and in `attach`."""

from __future__ import annotations

import os
import shlex
import shutil
import time
from pathlib import Path

import pytest
from test_tmux_e2e import (
    REPO_ROOT,
    TRAINER_OPTIONS,
    Tmux,
    maou_tui_command,
    read_events,
    stop_trainer,
    wait_for_event,
)

from maou_tui.layout import TRAINER_OUTPUT
from maou_tui.processes import pid_alive, read_pid

pytestmark = [
    pytest.mark.tmux,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]

#: Every Python started under it (the TUI and the trainer) starts this much later: a slow
#: machine, where the trainer is still loading when `run` stops waiting for it (1.5 s).
SLOW_START_S = 2.5


class SlowTmux(Tmux):
    """A tmux whose shell runs Python with a ``sitecustomize`` that sleeps first."""

    def __init__(self, socket: Path, cwd: Path) -> None:
        slow = cwd / "slow-python"
        slow.mkdir()
        (slow / "sitecustomize.py").write_text(f"import time\ntime.sleep({SLOW_START_S})\n")
        self.base = ["tmux", "-S", str(socket)]
        env = {
            "PYTHONPATH": f"{slow}{os.pathsep}{REPO_ROOT}",
            "MAOU_TUI_THEME_DIR": str(cwd / "no-themes"),
        }
        setenv = [arg for key, value in env.items() for arg in ("-e", f"{key}={value}")]
        self._tmux(
            "new-session", "-d", "-x", "80", "-y", "24", "-c", str(cwd), *setenv,
            "bash --norc --noprofile",
        )  # fmt: skip


@pytest.mark.slow  # ~35 s: three slow Python starts
def test_a_trainer_failing_after_the_tui_opened_shows_its_reason(tmp_path: Path) -> None:
    tmux = SlowTmux(tmp_path / "tmux.sock", tmp_path)
    try:
        # --gpu 99 fails in the trainer after torch is loaded, on any machine.
        tmux.type_line(f"{maou_tui_command()} run --runs-root runs --gpu 99")
        shown = tmux.wait_for_screen(
            lambda s: "FAILED" in s and "--gpu 99" in s, "the failure and its reason", 60
        )
        assert "UNKNOWN" not in shown
        (run_dir,) = (tmp_path / "runs").iterdir()
        tmux.press("q")
        # Back in the shell, `run` says it once more.
        tmux.wait_for_screen(
            lambda s: "FAILED" not in s and "error:" in s and "--gpu 99" in s, "the shell", 20
        )

        # Later: `attach` of that run (no pid was ever written) says the same.
        old = time.time() - 120
        os.utime(run_dir / TRAINER_OUTPUT, (old, old))
        tmux.type_line(f"clear; {maou_tui_command()} attach {shlex.quote(str(run_dir))}")
        attached = tmux.wait_for_screen(
            lambda s: "FAILED" in s and "--gpu 99" in s, "attach: the failure and its reason", 40
        )
        assert "UNKNOWN" not in attached
        tmux.press("q")
    finally:
        tmux.kill()


@pytest.mark.slow  # ~35 s: a real trainer
def test_quitting_while_paused_says_it_stays_paused_and_offers_to_resume(tmp_path: Path) -> None:
    tmux = Tmux(tmp_path / "tmux.sock", tmp_path)
    pid = None
    try:
        options = " ".join(shlex.quote(o) for o in [*TRAINER_OPTIONS, "--stage", "1"])
        tmux.type_line(f"{maou_tui_command()} run --runs-root runs {options}")
        run_dir = _run_dir(tmp_path / "runs")
        wait_for_event(run_dir, lambda e: e["type"] == "step", "the first step", 90)
        tmux.wait_for_screen(lambda s: "RUNNING" in s, "the running state", 30)
        pid = read_pid(run_dir)

        tmux.press("p")
        paused = wait_for_event(run_dir, lambda e: e["type"] == "paused", "paused", 40)
        tmux.wait_for_screen(lambda s: "● PAUSED" in s, "the paused state", 20)
        tmux.press("q")
        tmux.wait_for_screen(lambda s: "Quitting leaves it paused" in s, "the question", 20)
        tmux.press("q")  # quit, stay paused
        hint = tmux.wait_for_screen(lambda s: "stays paused" in s, "the paused hint", 20)
        assert f"PAUSED at step {paused['step']}" in hint
        assert "continues in the background" not in hint
        time.sleep(1.0)
        assert pid is not None and pid_alive(pid)
        assert not [e for e in read_events(run_dir) if e["type"] == "resumed"]

        tmux.type_line(f"clear; {maou_tui_command()} attach {shlex.quote(str(run_dir))}")
        tmux.wait_for_screen(lambda s: "● PAUSED" in s, "the paused run again", 30)
        tmux.press("q")
        tmux.wait_for_screen(lambda s: "Quitting leaves it paused" in s, "the question", 20)
        tmux.press("r")  # resume, then quit
        wait_for_event(run_dir, lambda e: e["type"] == "resumed", "resumed", 20)
        tmux.wait_for_screen(
            lambda s: "training continues in the background" in s, "the running hint", 20
        )
        stop_trainer(run_dir)
        wait_for_event(run_dir, lambda e: e["type"] == "run_finished", "the end", 60)
    finally:
        tmux.kill()
        if pid is not None and pid_alive(pid):
            os.kill(pid, 9)


def _run_dir(runs_root: Path, timeout: float = 20) -> Path:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = sorted(runs_root.glob("*")) if runs_root.is_dir() else []
        if runs:
            return runs[0]
        time.sleep(0.1)
    raise AssertionError(f"no run directory under {runs_root}")

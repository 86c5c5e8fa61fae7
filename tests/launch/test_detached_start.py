"""The launcher's process handling: detachment, early failures, liveness (no trainer needed)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from maou_tui.launch import LaunchError, pid_alive, start_detached

# Stands in for a trainer: writes its pid like the real one, then lives until killed.
SLEEPER = (
    "import os, pathlib, sys, time; pathlib.Path(sys.argv[1], 'trainer.pid').write_text("
    "f'{os.getpid()}\\n'); print('sleeper up', flush=True); time.sleep(120)"
)


def _wait_until(predicate, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


def test_hangup_of_the_terminal_session_leaves_the_trainer_running(tmp_path: Path) -> None:
    # A "TUI" process in its own session, as a login shell over SSH would be, starts the
    # trainer and is then hung up (SIGHUP to its whole process group, like an SSH drop).
    run_dir = tmp_path / "run"
    tui_script = textwrap.dedent(
        f"""
        import sys, time
        from pathlib import Path
        from maou_tui.launch import start_detached
        run = start_detached([sys.executable, "-c", {SLEEPER!r}, {str(run_dir)!r}],
                             Path({str(run_dir)!r}))
        print(run.pid, flush=True)
        time.sleep(120)
        """
    )
    tui = subprocess.Popen(
        [sys.executable, "-c", tui_script],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    trainer_pid = int(tui.stdout.readline())
    try:
        assert os.getsid(trainer_pid) != os.getsid(tui.pid)
        os.killpg(tui.pid, signal.SIGHUP)
        assert tui.wait(timeout=10) == -signal.SIGHUP
        time.sleep(0.2)
        assert pid_alive(trainer_pid), "the trainer died with the TUI's session"
        assert "sleeper up" in (run_dir / "trainer.out").read_text()
    finally:
        _kill_group(tui.pid)
        _kill_group(trainer_pid)
    assert _wait_until(lambda: not pid_alive(trainer_pid))


def test_trainer_has_no_terminal_input(tmp_path: Path) -> None:
    probe = (
        "import sys, pathlib; "
        "pathlib.Path(sys.argv[1], 'stdin.txt').write_text(repr(sys.stdin.read()))"
    )
    run = start_detached([sys.executable, "-c", probe, str(tmp_path)], tmp_path)
    assert run.process.wait(timeout=10) == 0
    assert (tmp_path / "stdin.txt").read_text() == "''"


def test_early_exit_reports_the_process_last_line_and_status(tmp_path: Path) -> None:
    bad_option = (
        "import sys; print('usage: maou-train [-h] ...', file=sys.stderr); "
        "print('maou-train: error: unrecognized arguments: --bogus', file=sys.stderr); sys.exit(2)"
    )
    with pytest.raises(LaunchError) as caught:
        start_detached([sys.executable, "-c", bad_option], tmp_path / "run")
    assert caught.value.exit_code == 2
    assert str(caught.value) == "maou-train: error: unrecognized arguments: --bogus"


def test_start_returns_as_soon_as_the_trainer_wrote_its_pid(tmp_path: Path) -> None:
    started = time.monotonic()
    run = start_detached([sys.executable, "-c", SLEEPER, str(tmp_path)], tmp_path, wait_s=30)
    try:
        assert time.monotonic() - started < 10
        assert run.process.poll() is None
    finally:
        _kill_group(run.pid)
        run.process.wait(timeout=10)


def test_an_exited_unreaped_child_is_not_alive(tmp_path: Path) -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    assert _wait_until(
        lambda: Path(f"/proc/{child.pid}/stat").read_text().split(")")[1].split()[0] == "Z"
    )
    assert not pid_alive(child.pid)
    child.wait()
    assert pid_alive(os.getpid())

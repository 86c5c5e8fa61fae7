"""Start the trainer as a detached process, find earlier runs, and tell whether a run is alive.

The trainer runs in its own session (``start_new_session=True``) with stdin closed and its
output going to ``<run dir>/trainer.out``, so closing the terminal, an SSH drop or a crash of
the TUI leaves training running; ``maou-tui attach`` shows it again later.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import maou_tui
from maou_tui.layout import (
    DEFAULT_ARCHITECTURE,
    DEFAULT_PRESET,
    EVENTS_FILE,
    TRAINER_OUTPUT,
    run_dir_name,
)
from maou_tui.processes import last_output_line, pid_alive, read_pid
from maou_tui.sdk.private_files import UnsafePathError, make_private_dir, open_private_append

if TYPE_CHECKING:
    from maou_tui.app.maou_app import Mode
    from maou_tui.protocol import Reply

DEFAULT_RUNS_ROOT = Path("runs")
#: How long ``start_trainer`` waits for the trainer's pid or an early exit (a bad option) before
#: the TUI opens; the TUI shows a trainer that fails later, and so does ``run`` when it closes.
START_WAIT_S = 1.5
#: ``run --no-tui`` has no screen to show a late failure on: it waits until the trainer wrote its
#: pid (options validated, torch loaded, the run directory locked) or exited.
DETACHED_WAIT_S = 120.0
_POLL_S = 0.02
#: A trainer with no pid yet whose output stayed unchanged this long is taken as dead.
STARTUP_QUIET_S = 30.0


class LaunchError(Exception):
    """A run could not be started or found; ``str()`` is one line, ``exit_code`` the status."""

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass
class LaunchedRun:
    """A trainer process started detached, and the run directory it writes."""

    run_dir: Path
    process: subprocess.Popen[bytes]

    @property
    def pid(self) -> int:
        return self.process.pid


@dataclass(frozen=True)
class Liveness:
    """Whether a run's trainer process lives and where its control socket is."""

    pid: int | None
    trainer_alive: bool
    socket: Path | None

    @property
    def controllable(self) -> bool:
        return self.trainer_alive and self.socket is not None


# --------------------------------------------------------------------------------------------
# Run directory
# --------------------------------------------------------------------------------------------


def _run_options(trainer_args: Sequence[str]) -> argparse.Namespace:
    """The maou-train options that decide where a run lives (architecture, preset, resume),
    read before the trainer starts so the TUI opens on its directory at once; their defaults
    are maou-train's own (``layout``)."""
    parser = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    parser.add_argument("--model-architecture", default=DEFAULT_ARCHITECTURE)
    parser.add_argument("--preset", default=DEFAULT_PRESET)
    parser.add_argument("--resume", type=Path, default=None)
    known, _ = parser.parse_known_args(list(trainer_args))
    return known


def resumed_run_dir(trainer_args: Sequence[str]) -> Path | None:
    """The run directory ``--resume DIR`` continues (the trainer keeps writing there)."""
    return _run_options(trainer_args).resume


def new_run_dir(
    trainer_args: Sequence[str], runs_root: Path = DEFAULT_RUNS_ROOT, now: datetime | None = None
) -> Path:
    """``<runs_root>/<YYYYmmdd-HHMMSS>-<arch>-<preset>``, with ``-2``, ``-3``... if taken."""
    options = _run_options(trainer_args)
    name = run_dir_name(options.model_architecture, options.preset, now or datetime.now())
    base = runs_root / name
    candidate, n = base, 1
    while candidate.exists():
        n += 1
        candidate = base.with_name(f"{base.name}-{n}")
    return candidate


# --------------------------------------------------------------------------------------------
# Starting the trainer
# --------------------------------------------------------------------------------------------


def trainer_command(trainer_args: Sequence[str], run_dir: Path) -> list[str]:
    return [sys.executable, "-m", "trainer", *trainer_args, "--run-dir", str(run_dir)]


def _trainer_env() -> dict[str, str]:
    """The caller's environment, plus this source checkout on PYTHONPATH when not installed.

    ``python -m trainer`` must import the same code as this process even when the user runs
    ``python -m maou_tui`` from a checkout with another working directory.
    """
    env = dict(os.environ)
    env["PYTHONUNBUFFERED"] = "1"
    source_root = Path(maou_tui.__file__).resolve().parents[1]
    if (source_root / "pyproject.toml").is_file() and (source_root / "trainer").is_dir():
        parts = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
        if str(source_root) not in parts:
            env["PYTHONPATH"] = os.pathsep.join([str(source_root), *parts])
    return env


def start_trainer(
    trainer_args: Sequence[str], run_dir: Path, wait_s: float = START_WAIT_S
) -> LaunchedRun:
    """Start ``python -m trainer ... --run-dir run_dir`` detached and check it got going."""
    return start_detached(trainer_command(trainer_args, run_dir), Path(run_dir), wait_s)


def start_detached(
    command: Sequence[str],
    run_dir: Path,
    wait_s: float = START_WAIT_S,
    also_create: Sequence[str] = (),
) -> LaunchedRun:
    """Run ``command`` in its own session, output to ``run_dir/trainer.out``, and check it.

    ``events.jsonl`` (and the empty files named in ``also_create``) are created first, so a
    viewer opened while the trainer still loads torch already reads the run the right way.
    Waits up to ``wait_s`` for the process to write its pid to
    ``trainer.pid`` (it has validated its options and locked the run directory) or to exit. An
    exit with a non-zero status (a bad maou-train option exits 2) raises ``LaunchError``
    carrying the process's own last output line and its exit status.
    """
    created = not run_dir.exists()
    try:
        run_dir.parent.mkdir(parents=True, exist_ok=True)
        make_private_dir(run_dir)
        for name in (EVENTS_FILE, *also_create):
            os.close(open_private_append(run_dir / name))
        output_fd = open_private_append(run_dir / TRAINER_OUTPUT)
    except UnsafePathError as exc:
        raise LaunchError(str(exc)) from None
    except OSError as exc:
        raise LaunchError(f"cannot create run directory {run_dir}: {exc.strerror}") from None
    with open(output_fd, "ab") as output:
        process = subprocess.Popen(
            list(command),
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
            env=_trainer_env(),
        )
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        if process.poll() is not None or read_pid(run_dir) == process.pid:
            break
        time.sleep(_POLL_S)
    status = process.poll()
    if status:
        error = LaunchError(trainer_error(run_dir, status), exit_code=max(status, 1))
        if created and _never_started(run_dir, also_create):
            shutil.rmtree(run_dir)  # leave nothing behind
        raise error
    return LaunchedRun(run_dir=run_dir, process=process)


def _never_started(run_dir: Path, also_created: Sequence[str] = ()) -> bool:
    """Only what ``start_detached`` itself put there: the output and empty files."""
    names = sorted(p.name for p in run_dir.iterdir())
    created = sorted([EVENTS_FILE, TRAINER_OUTPUT, *also_created])
    return names == created and not holds_events(run_dir)


def holds_events(run_dir: Path) -> bool:
    """True when ``run_dir/events.jsonl`` exists and is not empty."""
    try:
        return (run_dir / EVENTS_FILE).stat().st_size > 0
    except OSError:
        return False


def trainer_error(run_dir: Path, status: int) -> str:
    """The trainer's last non-empty output line (argparse and tracebacks end with the cause)."""
    last = last_output_line(run_dir)
    if last:
        return last
    output_path = run_dir / TRAINER_OUTPUT
    return f"the trainer exited with status {status} before starting; see {output_path}"


# --------------------------------------------------------------------------------------------
# Finding runs and their liveness
# --------------------------------------------------------------------------------------------


def newest_run(runs_root: Path = DEFAULT_RUNS_ROOT) -> Path:
    """The most recent run directory under ``runs_root``; LaunchError when there is none."""
    runs: list[Path] = []
    if runs_root.is_dir():
        from maou_tui.ingest import find_runs

        runs = [run for run in find_runs(runs_root) if run.is_dir()]  # not loose log files
    if not runs:
        raise LaunchError(
            f"no runs found under {runs_root}; start one with `maou-tui run` "
            "or pass a run directory (or --runs-root DIR)"
        )
    return runs[0]


def died_before_start(run_dir: Path, quiet_s: float = STARTUP_QUIET_S) -> bool:
    """True for a trainer that never got going: no pid written, the run directory not locked,
    and ``trainer.out`` holds output that has not changed for ``quiet_s`` (a trainer still
    loading torch writes nothing yet; one that failed left its error there)."""
    from maou_tui.sdk import RunDir

    if read_pid(run_dir) is not None or RunDir.is_active(run_dir):
        return False
    try:
        output = (Path(run_dir) / TRAINER_OUTPUT).stat()
    except OSError:
        return False
    return output.st_size > 0 and time.time() - output.st_mtime >= quiet_s


def liveness(run_dir: Path) -> Liveness:
    """A run is alive while its pid lives and still holds the run directory's lock (so a pid
    reused by an unrelated process after a crash does not count)."""
    from maou_tui.sdk import RunDir, find_socket

    pid = read_pid(run_dir)
    alive = pid is not None and pid_alive(pid) and RunDir.is_active(run_dir)
    socket = find_socket(Path(run_dir)) if alive else None
    return Liveness(pid=pid, trainer_alive=alive, socket=socket)


# --------------------------------------------------------------------------------------------
# What the run/attach/watch commands share
# --------------------------------------------------------------------------------------------


def fail(command: str, message: str, exit_code: int = 2) -> int:
    """Print a one-line error for ``maou-tui <command>`` and return the exit status."""
    print(f"maou-tui {command}: error: {message}", file=sys.stderr)
    return exit_code


def show(
    target: Path,
    mode: Mode,
    theme: str | None,
    runs_root: Path | None,
    trainer_pid: int | None = None,
) -> int:
    """Open the TUI on ``target`` until the user quits; the app's exit status (1 if it crashed).

    ``trainer_pid`` is the process ``run`` started: the TUI notices its death even before it
    wrote ``trainer.pid``. The trainer is never stopped here: it runs in its own session.
    """
    from maou_tui.app import MaouApp

    app = MaouApp(target, mode=mode, theme=theme, runs_root=runs_root, trainer_pid=trainer_pid)
    app.run()
    return app.return_code or 0


def come_back_hint(run_dir: Path) -> str:
    """What is printed when the TUI closes: where the run is and, while it trains, how to
    come back to it."""
    state = liveness(run_dir)
    if not state.trainer_alive:
        return f"run directory: {run_dir}"
    step = paused_at(run_dir) if state.socket is not None else None
    if step is not None:
        return (
            f"training is PAUSED at step {step} and stays paused (pid {state.pid})\n"
            f"resume it with: maou-tui attach {run_dir}  then press p"
        )
    return (
        f"training continues in the background (pid {state.pid})\n"
        f"come back with: maou-tui attach {run_dir}"
    )


def paused_at(run_dir: Path) -> int | None:
    """The step a live trainer is paused at, asked over its control socket (None when it
    runs or does not answer)."""
    import asyncio

    from maou_tui.control import ControlClient, ControlError

    async def ask() -> Reply:
        async with ControlClient(run_dir, timeout=2.0) as client:
            return await client.request("status")

    try:
        reply = asyncio.run(ask())
    except (ControlError, OSError):
        return None
    state = reply.state
    return state.step if reply.ok and state is not None and state.paused else None


def print_summary(path: Path) -> None:
    """Print a run's (or a log's) summary and liveness, for ``--no-tui``; a directory of runs
    prints its newest run, as the TUI would show. LaunchError when nothing there is readable."""
    from maou_tui.ingest import IngestError, find_runs, is_run_dir, load_store
    from maou_tui.ingest.summary import format_summary, summarize

    if path.is_dir() and not is_run_dir(path):
        runs = find_runs(path)
        if runs:
            print(f"newest of {len(runs)} run(s) in {path}: {runs[0]}")
            path = runs[0]
    try:
        store = load_store(path)
    except IngestError as exc:
        raise LaunchError(str(exc)) from None
    print(format_summary(summarize(store)))
    if path.is_dir():
        state = liveness(path)
        if state.trainer_alive:
            control = f"control socket {state.socket}" if state.socket else "no control socket"
            print(f"trainer: alive (pid {state.pid}), {control}")
        else:
            print("trainer: not running")

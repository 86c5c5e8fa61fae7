"""``python -m maou_tui.hook.supervise --run-dir DIR [--columns C --rows R] -- CMD [ARGS...]``.

The process ``maou-tui run -- CMD`` starts detached. It owns the run directory (its lock and
``trainer.pid``, so ``attach`` and the TUI see the run as alive while CMD runs), writes
``run_started``, runs CMD on a pseudo-terminal of the given size (so tqdm and colour logging draw
as in a terminal; ``\\r`` and ANSI codes reach ``train.log`` as the terminal would get them, line
ends left as ``\\n``), with the hook's ``sitecustomize`` first on CMD's PYTHONPATH, and records
CMD's exit as ``run_finished``. SIGTERM, SIGINT and SIGHUP are passed on to CMD's process group.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import pty
import select
import signal
import socket
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import BinaryIO, TextIO

from maou_tui.hook.named_boards import NamedBoards
from maou_tui.hook.step_marks import MarkStripper
from maou_tui.layout import BOARD_DIRS_FILE, LOG_TIMES_FILE
from maou_tui.protocol import RunFinished, RunOutcome, RunStarted
from maou_tui.sdk import EventWriter, RunDir

SITE_DIR = Path(__file__).resolve().parent / "site"
RUN_DIR_ENV = "MAOU_TUI_HOOK_RUN_DIR"
SYSPATH_ENV = "MAOU_TUI_HOOK_SYSPATH"
DEFAULT_COLUMNS = 120
DEFAULT_ROWS = 40
#: After CMD exits, how long output still arriving from its leftover children is read.
_DRAIN_S = 1.0
_READ_BYTES = 64 * 1024
_TAIL_BYTES = 256 * 1024


def hook_env(run_dir: Path, base: dict[str, str] | None = None) -> dict[str, str]:
    """CMD's environment: the hook's site directory first on PYTHONPATH, and where it finds
    the run directory and maou_tui."""
    env = dict(os.environ if base is None else base)
    parts = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    env["PYTHONPATH"] = os.pathsep.join([str(SITE_DIR), *parts])
    env[RUN_DIR_ENV] = str(run_dir.absolute())
    env[SYSPATH_ENV] = os.pathsep.join(p for p in sys.path if p and os.path.isdir(p))
    return env


def open_terminal(columns: int, rows: int) -> tuple[int, int]:
    """A pseudo-terminal (master, slave) of ``columns`` x ``rows`` that leaves ``\\n`` alone."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
    attrs = termios.tcgetattr(slave)
    attrs[1] &= ~termios.ONLCR  # oflag: no \n -> \r\n, the log keeps the program's line ends
    termios.tcsetattr(slave, termios.TCSANOW, attrs)
    return master, slave


def run_captured(
    command: Sequence[str],
    env: dict[str, str],
    log_path: Path,
    size: tuple[int, int],
    boards: NamedBoards | None = None,
) -> int:
    """Run ``command`` on a pseudo-terminal, appending all it prints to ``log_path`` (and
    showing it to ``boards``); its exit status (negative: killed by that signal)."""
    master, slave = open_terminal(*size)
    # An inherited COLUMNS/LINES would override the terminal's size for shutil and others.
    env = {**env, "COLUMNS": str(size[0]), "LINES": str(size[1])}
    try:
        process = subprocess.Popen(
            list(command),
            stdin=subprocess.DEVNULL,
            stdout=slave,
            stderr=slave,
            env=env,
            start_new_session=True,
        )
    finally:
        os.close(slave)
    _forward_signals(process)
    with open(log_path, "ab") as log, open(log_path.with_name(LOG_TIMES_FILE), "a") as times:
        writer = LogWriter(log, times, boards)
        _copy_output(master, writer, process)
        writer.close()
    os.close(master)
    return process.wait()


class LogWriter:
    """Appends CMD's output to the log without the hook's step marks and records, in the times
    file, where each mark was (``OFFSET step N``, see ``step_marks``) and, per write, the log's
    end offset and the time (``OFFSET TIME``): the reading side places what the program
    printed at the hook's step. ``boards``, if given, sees the output for TensorBoard
    directories the program prints."""

    def __init__(self, log: BinaryIO, times: TextIO, boards: NamedBoards | None = None) -> None:
        self._log, self._times, self._boards = log, times, boards
        self._marks = MarkStripper(log.seek(0, os.SEEK_END))

    def write(self, data: bytes) -> None:
        output, marks = self._marks.feed(data)
        if self._boards is not None:
            self._boards.feed(output)
        self._append(output, [f"{offset} step {step}\n" for offset, step in marks])

    def close(self) -> None:
        self._append(self._marks.flush(), [])

    def _append(self, output: bytes, lines: list[str]) -> None:
        if output:
            self._log.write(output)
            self._log.flush()
        lines.append(f"{self._marks.offset} {time.time():.6f}\n")
        self._times.write("".join(lines))
        self._times.flush()


def _forward_signals(process: subprocess.Popen[bytes]) -> None:
    def forward(signum: int, _frame: FrameType | None) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signum)

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, forward)


def _copy_output(master: int, log: LogWriter, process: subprocess.Popen[bytes]) -> None:
    """Copy until every holder of the terminal closed it, or ``_DRAIN_S`` after CMD exited
    (a daemon child that keeps the terminal open must not keep the run alive)."""
    drain_until: float | None = None
    while True:
        timeout = 0.5 if drain_until is None else max(0.0, drain_until - time.monotonic())
        ready, _, _ = select.select([master], [], [], timeout)
        if ready:
            try:
                data = os.read(master, _READ_BYTES)
            except OSError:  # EIO: the last holder of the slave side closed it
                return
            if not data:
                return
            log.write(data)
        elif drain_until is not None:
            return
        if drain_until is None and process.poll() is not None:
            drain_until = time.monotonic() + _DRAIN_S


def outcome(events_path: Path, status: int, command: Sequence[str]) -> tuple[RunOutcome, str]:
    """``run_finished``'s status and reason from CMD's exit status and the applied commands."""
    name = Path(command[0]).name
    how = _describe_exit(status)
    if _stop_applied(events_path):
        return "stopped", f"stopped from maou-tui; {name} {how}"
    if status == 0:
        return "completed", f"{name} {how}"
    if status in (-signal.SIGINT, -signal.SIGTERM, 130):
        return "stopped", f"{name} {how}"
    return "failed", f"{name} {how}"


def _describe_exit(status: int) -> str:
    if status < 0:
        return f"was killed by {signal.Signals(-status).name}"
    return f"exited with status {status}"


def _tail_events(events_path: Path) -> list[dict[str, object]]:
    try:
        with events_path.open("rb") as handle:
            handle.seek(max(0, handle.seek(0, os.SEEK_END) - _TAIL_BYTES))
            lines = handle.read().splitlines()
    except OSError:
        return []
    events = []
    for line in lines:
        with contextlib.suppress(ValueError):
            event = json.loads(line)
            if isinstance(event, dict):
                events.append(event)
    return events


def _stop_applied(events_path: Path) -> bool:
    return any(
        e.get("type") == "control" and e.get("command") == "stop" for e in _tail_events(events_path)
    )


def last_step(events_path: Path) -> int | None:
    steps = [e.get("global_step") for e in _tail_events(events_path) if e.get("type") == "step"]
    return steps[-1] if steps and isinstance(steps[-1], int) else None


def _emit(events_path: Path, event: RunStarted | RunFinished) -> None:
    writer = EventWriter(events_path)
    try:
        writer.emit(event)
    finally:
        writer.close()


def supervise(command: Sequence[str], run_dir: Path, size: tuple[int, int]) -> int:
    """Own ``run_dir``, run ``command`` captured and hooked, record its end; its exit status."""
    with RunDir.create(run_dir) as run:
        config = {"command": list(command), "cwd": os.getcwd(), "hook": True}
        run.write_config(config)
        _emit(
            run.events_path,
            RunStarted(config=config, pid=os.getpid(), host=socket.gethostname()),
        )
        boards = NamedBoards(run.path / BOARD_DIRS_FILE, Path.cwd(), command)
        try:
            status = run_captured(command, hook_env(run.path), run.log_path, size, boards)
        except OSError as exc:
            status = 127
            message = f"maou-tui: cannot start {command[0]}: {exc.strerror}\n"
            with open(run.log_path, "a", encoding="utf-8") as log:
                log.write(message)
        result, reason = outcome(run.events_path, status, command)
        step = last_step(run.events_path)
        _emit(run.events_path, RunFinished(status=result, reason=reason, step=step))
    return status if status >= 0 else 128 - status


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m maou_tui.hook.supervise")
    parser.add_argument("--run-dir", type=Path, required=True)
    parser.add_argument("--columns", type=int, default=DEFAULT_COLUMNS)
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    if args.command[:1] == ["--"]:
        args.command = args.command[1:]
    if not args.command:
        parser.error("no command after --")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    return supervise(args.command, args.run_dir, (args.columns, args.rows))


if __name__ == "__main__":
    sys.exit(main())

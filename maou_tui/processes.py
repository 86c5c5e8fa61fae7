"""The trainer process seen from outside: its pid file, whether a pid lives, its last words.

Used by ``launch`` (starting and finding runs) and by the app (noticing a trainer that died);
plain ``os`` calls only, so neither has to import the other for them.
"""

from __future__ import annotations

import os
from pathlib import Path

from maou_tui.layout import PID_FILE, TRAINER_OUTPUT


def read_pid(run_dir: Path) -> int | None:
    try:
        return int((Path(run_dir) / PID_FILE).read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def pid_alive(pid: int) -> bool:
    """True while ``pid`` is a running (not zombie) process."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists but belongs to someone else
    try:
        # A child that exited but was not reaped yet still answers kill(0): look at its state.
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    state = stat.rpartition(")")[2].split()[0]
    return state not in ("Z", "X")


def last_output_line(run_dir: Path) -> str:
    """The last non-empty line of ``run_dir/trainer.out`` ("" when none)."""
    return last_line(Path(run_dir) / TRAINER_OUTPUT)


def last_line(path: Path, tail_bytes: int = 64 * 1024) -> str:
    """The last non-empty line of ``path`` without terminal escapes ("" when none); reads only
    its tail (a trainer's output grows with the run)."""
    from maou_tui.ingest.lines import clean

    try:
        with open(path, "rb") as output:
            output.seek(max(0, output.seek(0, os.SEEK_END) - tail_bytes))
            lines = clean(output.read()).decode("utf-8", errors="replace").splitlines()
    except OSError:
        return ""
    return next((line.strip() for line in reversed(lines) if line.strip()), "")

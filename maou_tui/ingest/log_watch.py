"""Which file is a run's log and how big it is now: what the log viewer needs to index it.

The Tailer of a run checks this on each of its wakes (``Tailer(log_watch=...)``), so the log
is followed by the run's one reader thread and watchdog observer, whatever file feeds the charts.
Until ``path`` exists, ``fallback`` is shown (a trainer that dies before it creates train.log
leaves its reason only in trainer.out).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class LogGrowth:
    """The log is ``path`` and holds ``size`` bytes; ``restarted``: a file not seen before (the
    first look, the fallback replaced, a rotation or a truncation): index it from scratch."""

    path: Path
    size: int
    restarted: bool


class LogWatch:
    """``check()`` says what changed in the log since the last call (None: nothing)."""

    def __init__(self, path: Path, fallback: Path | None = None) -> None:
        self.path = Path(path)
        self.fallback = fallback
        self.showing: Path | None = None
        self._identity: tuple[int, int] | None = None
        self._size = 0

    def check(self) -> LogGrowth | None:
        for candidate in (self.path, self.fallback):
            if candidate is None:
                continue
            try:
                st = os.stat(candidate)
            except OSError:
                continue
            identity = (st.st_dev, st.st_ino)
            restarted = (
                candidate != self.showing or identity != self._identity or st.st_size < self._size
            )
            if not restarted and st.st_size == self._size:
                return None
            self.showing, self._identity, self._size = candidate, identity, st.st_size
            return LogGrowth(candidate, st.st_size, restarted)
        return None

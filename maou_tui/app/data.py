"""Feeding the app: where a target's events, log and control socket are, and the reader threads.

Threads only read and buffer; the UI thread drains the buffers (in bounded slices, so a long
history never freezes the screen) and applies events to the one ``RunStore``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from maou_tui.ingest import Source
    from maou_tui.ingest.log_watch import LogGrowth, LogWatch
    from maou_tui.store import StoreItem

from maou_tui.layout import EVENTS_FILE, LOG_FILE


@dataclass(frozen=True)
class RunTarget:
    """What the app shows: the events/log source, the run directory (if any) and its log."""

    source: Path
    run_dir: Path | None
    log_path: Path | None

    @property
    def reads_events(self) -> bool:
        """True for a run directory or an events.jsonl (which end with ``run_finished``)."""
        return self.source.is_dir() or self.source.name == EVENTS_FILE

    @property
    def label(self) -> str:
        return (self.run_dir or self.source).name


def resolve_target(target: Path) -> RunTarget:
    """Map a run directory, a directory of runs, an events.jsonl or a log file to a RunTarget."""
    target = Path(target)
    if target.is_dir():
        from maou_tui.ingest import find_runs, is_run_dir  # first use: see EventFeed
        from maou_tui.ingest.source import run_file

        # A run (ours, a log's folder or a TensorBoard run, whose add_scalars subfolders are
        # not runs of their own) is shown itself; a directory of runs shows its newest.
        runs = [] if is_run_dir(target) else find_runs(target)
        if runs:
            return resolve_target(runs[0])
        # A run directory, perhaps one whose trainer has not written its first event yet; its
        # log is train.log, or the log a folder of someone else's run holds (a tee'd maou.log).
        found = run_file(target)
        log = found if found is not None and found.name != EVENTS_FILE else target / LOG_FILE
        return RunTarget(source=target, run_dir=target, log_path=log)
    parent = target.parent
    run_dir = parent if (parent / EVENTS_FILE).exists() else None
    if target.name == EVENTS_FILE:
        return RunTarget(source=target, run_dir=parent, log_path=parent / LOG_FILE)
    return RunTarget(source=target, run_dir=run_dir, log_path=target)


class EventFeed:
    """Tails a source with the ingest ``Tailer`` and buffers its events for the UI thread; the
    same tailer reports the growth of the run's log (``log_watch``) to ``on_log``."""

    def __init__(
        self,
        source: Path,
        on_pending: Callable[[], object],
        log_watch: LogWatch | None = None,
        on_log: Callable[[LogGrowth], object] | None = None,
        *,
        reader: Source | None = None,
    ) -> None:
        """``reader``: an open source to go on with (a history read to its end) instead of
        reading ``source`` from its first byte."""
        # Imported here: the readers start after the app's first frame, which does not need them.
        from maou_tui.ingest import Tailer

        self._pending: deque[StoreItem] = deque()
        self._on_pending = on_pending
        path = reader.path if reader is not None else source
        self._tailer = Tailer(
            path, self._receive, source=reader, columns=True, log_watch=log_watch, on_log=on_log
        )

    def start(self) -> None:
        self._tailer.start()

    def stop(self) -> None:
        self._tailer.stop()

    def _receive(self, events: list[StoreItem]) -> None:
        # Called on the tailer's thread: deque.extend is atomic, the UI thread pops.
        self._pending.extend(events)
        self._on_pending()

    def drain(self, limit: int) -> list[StoreItem]:
        """Up to ``limit`` buffered events, oldest first."""
        out: list[StoreItem] = []
        pending = self._pending
        while pending and len(out) < limit:
            out.append(pending.popleft())
        return out

    @property
    def pending(self) -> int:
        return len(self._pending)

    @property
    def bytes_read(self) -> int:
        """Bytes of the source read so far (all of a history handed over, then the tail's)."""
        return self._tailer.source.bytes_read

    @property
    def error(self) -> str | None:
        """The reader's last problem (a file error, or an exception in ``_receive``)."""
        return self._tailer.error

    @property
    def skipped_lines(self) -> int:
        """Corrupt lines the reader skipped (and over-long lines it cut) so far."""
        source = self._tailer.source
        return source.skipped_lines + source.cut_lines

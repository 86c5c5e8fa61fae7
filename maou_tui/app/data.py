"""Feeding the app: where a target's events, log and control socket are, and the reader threads.

Threads only read and buffer; the UI thread drains the buffers (in bounded slices, so a long
history never freezes the screen) and applies events to the one ``RunStore``.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from maou_tui.ingest import FileSource
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

        # A run (ours, a log's folder or a TensorBoard run, whose add_scalars subfolders are
        # not runs of their own) is shown itself; a directory of runs shows its newest.
        runs = [] if is_run_dir(target) else find_runs(target)
        if runs:
            return resolve_target(runs[0])
        # A run directory, perhaps one whose trainer has not written its first event yet.
        return RunTarget(source=target, run_dir=target, log_path=target / LOG_FILE)
    parent = target.parent
    run_dir = parent if (parent / EVENTS_FILE).exists() else None
    if target.name == EVENTS_FILE:
        return RunTarget(source=target, run_dir=parent, log_path=parent / LOG_FILE)
    return RunTarget(source=target, run_dir=run_dir, log_path=target)


class EventFeed:
    """Tails a source with the ingest ``Tailer`` and buffers its events for the UI thread."""

    def __init__(
        self, path: Path, on_pending: Callable[[], object], *, reader: FileSource | None = None
    ) -> None:
        """``reader``: an open source to go on with (a history read to its end) instead of
        reading ``path`` from its first byte."""
        # Imported here: the readers start after the app's first frame, which does not need them.
        from maou_tui.ingest import Tailer

        self._pending: deque[StoreItem] = deque()
        self._on_pending = on_pending
        path = reader.path if reader is not None else path
        self._tailer = Tailer(path, self._receive, source=reader, columns=True)

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


class LogTail:
    """Follows the last lines of a text log (handles truncation and rotation by size).

    Hand-written because the ingest Tailer yields parsed events, and the log pane needs the raw
    text; the file is polled (a few lines per second), which also works on network file systems.
    Until ``path`` exists, ``fallback`` is followed instead (a trainer that dies before it
    creates train.log leaves its reason only in trainer.out); ``showing`` says which.
    """

    def __init__(
        self,
        path: Path,
        on_pending: Callable[[], object],
        keep: int = 200,
        poll_interval: float = 0.3,
        fallback: Path | None = None,
    ) -> None:
        self.path = path
        self.fallback = fallback
        self.showing = path if fallback is None else fallback
        self._lines: deque[str] = deque(maxlen=keep)
        self._on_pending = on_pending
        self._poll_interval = poll_interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="maou-log-tail", daemon=True)
        self._offset = 0
        self._partial = b""

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=2)

    def take(self) -> list[str]:
        lines = []
        while self._lines:
            lines.append(self._lines.popleft())
        return lines

    def _run(self) -> None:
        while not self._stop.is_set():
            if self._read_new():
                self._on_pending()
            self._stop.wait(self._poll_interval)

    def _read_new(self) -> bool:
        if self.showing != self.path and self.path.exists():
            self.showing, self._offset, self._partial = self.path, 0, b""
        try:
            size = self.showing.stat().st_size
            if size < self._offset:  # truncated or replaced: start again
                self._offset, self._partial = 0, b""
            if size == self._offset:
                return False
            with open(self.showing, "rb") as handle:
                # Only the tail matters on a first read of a big log.
                start = max(self._offset, size - 256 * 1024)
                handle.seek(start)
                data = handle.read(size - start)
        except OSError:
            return False
        self._offset = size
        text = (self._partial + data).replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        *complete, self._partial = text.split(b"\n")
        for raw in complete:
            line = raw.decode("utf-8", errors="replace").rstrip()
            if line:
                self._lines.append(line[:500])
        return bool(complete)

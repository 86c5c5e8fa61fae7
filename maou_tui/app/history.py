"""Opening a big history progressively: its tail on screen first, the whole file behind it.
A TensorBoard run (a folder of event files, or one file) is opened the same way: its preview is
each file's share of the last ``PREVIEW_BYTES``, at the steps the records carry.

``HistoryReader.run`` runs in a Textual thread worker (never on the event loop):
1. the last ``PREVIEW_BYTES`` of the file are read into a preview store and shown;
2. the whole file is read from its first byte into a new store, with progress reports;
3. the whole store is diagnosed on the same thread (a long history's diagnosis takes seconds:
   on the event loop it froze the keys), then it replaces the preview with its diagnoser, and
   the same open source is handed to the live tail, so nothing appended meanwhile is lost or
   read twice.

Why the history is read forwards and swapped in whole, not merged into the preview: a maou log
has no step numbers; a batch's global step is the sum of every epoch before it (``EpochClock``).
Until the first byte before the tail is read, the tail's steps count from the tail's start, and
the status line says so ("x: steps from the last 4 MB"); after the swap every point sits at its
exact step, the same as ``load_store`` puts it. events.jsonl carries its own steps, so there the
preview's x is already exact.

Why not newest first for events.jsonl either (tried, measured, dropped): the store only appends
in step order (a lower step is a restart and purges what follows), so pieces read backwards must
be kept until the older ones are read, then applied oldest first; the events reader yields one
pydantic ``Step`` a line. On a 100k-step run, keeping them and rebuilding the shown store after
each doubling piece took 1.9-2.0 s of CPU against ``load_store``'s 1.2-1.4 s, and a peak of
465 bytes a point against 52. Doing it at no cost needs step columns from the events reader or
a store that joins stores.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from maou_tui.app.data import RunTarget
from maou_tui.ingest import (
    RunDirSource,
    RunsDirectory,
    Source,
    open_source,
    read_tail,
    run_file,
    run_source,
)
from maou_tui.ingest.tb_paths import EVENT_FILE_MARK
from maou_tui.ingest.tensorboard import TensorBoardSource
from maou_tui.layout import EVENTS_FILE
from maou_tui.store import RunStore

if TYPE_CHECKING:
    from maou_tui.diagnose import Diagnoser

#: The preview's share of a log: parsed and charted well within a second (4 MB of a maou log
#: with tqdm bars: ~2.6k points in 0.06 s of CPU).
PREVIEW_BYTES = 4 << 20
#: The preview's share of an events.jsonl, whose lines cost ~4 x more a byte (a pydantic event
#: each): 1 MB is ~4.5k steps, more than a 160-column chart shows, in 0.075 s of CPU (4 MB:
#: 0.24 s, which a loaded machine stretches to half a second before the first chart).
EVENTS_PREVIEW_BYTES = 1 << 20
#: Smaller files are read whole by the live feed at once (a preview would not be sooner).
PROGRESSIVE_BYTES = 8 << 20
#: The longest the whole-history read waits for the preview to be drawn.
PREVIEW_DRAW_WAIT_S = 2.0
#: Bytes read between two checks for cancellation (and for a progress report); a bigger
#: piece only raises the peak memory (16 MB pieces: +13 MB RSS on a 100 MB log).
READ_BYTES = 2 << 20
#: The least time between two progress reports: each repaints the status panel, and the UI
#: thread's repaints hold the GIL the reader needs (~0.1 s of CPU each at 160x50).
PROGRESS_INTERVAL_S = 1.0


@dataclass(frozen=True)
class HistoryProgress:
    """How much of the history is read: the status panel's progress line."""

    read_bytes: int
    total_bytes: int

    def line(self) -> str:
        percent = 100 * self.read_bytes // max(1, self.total_bytes)
        return (
            f"reading history: {percent} % "
            f"({format_bytes(self.read_bytes)} of {format_bytes(self.total_bytes)})"
        )


def format_bytes(count: int) -> str:
    """``430 MB``, ``1.0 GB``: decimal units, as ``ls -h --si`` and disk tools say them."""
    if count >= 10**9:
        return f"{count / 1e9:.1f} GB"
    if count >= 10**6:
        return f"{count / 1e6:.0f} MB"
    return f"{count / 1e3:.0f} kB"


def progressive_file(target: RunTarget) -> Path | None:
    """The file (or TensorBoard run folder) to open progressively, or None: a target without
    one (a log read with its event files), one that does not exist yet, or a small one."""
    path = target.source
    found: Path | None = path
    if path.is_dir() and (path / EVENTS_FILE).is_file():
        found = path / EVENTS_FILE
    elif path.is_dir():
        source = run_source(path)
        source.close()
        if isinstance(source, RunDirSource):
            found = run_file(path)
        elif not isinstance(source, TensorBoardSource):
            found = None
    big = found is not None and history_bytes(found) >= PROGRESSIVE_BYTES
    return found if big else None


def history_bytes(path: Path) -> int:
    """The bytes a history holds: a file's size, a TensorBoard folder's event files' (0 when
    gone)."""
    try:
        if path.is_dir():
            files = path.rglob(f"*{EVENT_FILE_MARK}*")
            return sum(f.stat().st_size for f in files if f.is_file())
        return path.stat().st_size
    except OSError:
        return 0


class HistoryReader:
    """Reads one file's history for the app; the callbacks run on the worker's thread."""

    def __init__(
        self,
        path: Path,
        on_preview: Callable[[RunStore, str], object],
        on_progress: Callable[[HistoryProgress], object],
        on_whole: Callable[[RunStore, Diagnoser, Source], object],
        clock: Callable[[], float],
    ) -> None:
        """``clock``: the time source of the history's diagnoser (the app's)."""
        self.path = path
        self._clock = clock
        self._on_preview = on_preview
        self._on_progress = on_progress
        self._on_whole = on_whole
        self._stop = threading.Event()
        self._preview_drawn = threading.Event()

    def stop(self) -> None:
        """Stop reading at the next piece (a run switch, or the app quitting)."""
        self._stop.set()
        self._preview_drawn.set()

    def preview_drawn(self) -> None:
        """The preview is on screen: the whole history may be read now."""
        self._preview_drawn.set()

    def run(self) -> None:
        events = self.path.name == EVENTS_FILE
        preview, start = read_tail(self.path, EVENTS_PREVIEW_BYTES if events else PREVIEW_BYTES)
        if self._stop.is_set():
            return
        exact = start == 0 or events
        note = "" if exact else f"x: steps from the last {format_bytes(PREVIEW_BYTES)}"
        self._on_preview(preview, note)
        # Parsing holds the GIL: let the UI thread draw the preview before the long read.
        self._preview_drawn.wait(PREVIEW_DRAW_WAIT_S)
        source = open_source(self.path)
        assert not isinstance(source, RunsDirectory)  # progressive_file names one run
        store = RunStore()
        if not self._read_all(source, store):
            source.close()
            return
        from maou_tui.diagnose import Diagnoser

        diagnoser = Diagnoser(store, clock=self._clock)
        diagnoser.update()
        self._on_whole(store, diagnoser, source)

    def _read_all(self, source: Source, store: RunStore) -> bool:
        """Read ``source`` to its current end into ``store``; False when stopped first."""
        reported = time.monotonic()
        while not self._stop.is_set():
            before = source.bytes_read
            store.apply_all(source.read_new(READ_BYTES, columns=True))
            store.note_skipped_lines(source.skipped_lines + source.cut_lines)
            if source.bytes_read == before:
                return True
            if time.monotonic() - reported >= PROGRESS_INTERVAL_S:
                reported = time.monotonic()
                total = max(source.bytes_read, history_bytes(self.path))
                self._on_progress(HistoryProgress(source.bytes_read, total))
        return False

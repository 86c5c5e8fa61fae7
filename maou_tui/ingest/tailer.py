"""Live tail of a log, events.jsonl or run directory: a watchdog observer plus polling.

The observer (inotify where the platform has it) wakes the reader as soon as the file changes;
the poll every ``poll_interval`` seconds (<= 0.5 s) covers network file systems, which send no
inotify events, and anything the observer misses. One background thread reads: it takes the
bytes appended since last time, cut at the last line break (``FileFollower``), and hands them to
the source's parser; ``on_events`` is called from that thread with each non-empty batch. A long
history (a big log being watched) is read and handed over 16 MB at a time.

With a ``log_watch``, the same thread also reports each growth of the run's log (its size, not
its bytes) to ``on_log``: the log viewer indexes and reads the file itself, the visible part only.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel
from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver, ObservedWatch

from maou_tui.ingest.log_watch import LogGrowth, LogWatch
from maou_tui.ingest.source import Source, file_source, find_runs, is_run_dir, run_source
from maou_tui.protocol import TrainerWarning
from maou_tui.store import StepBatch, StoreItem

MAX_POLL_INTERVAL = 0.5
SETTLE_S = 0.05
# Reads in a row that found new bytes: the file is busy, and polling alone follows it. The
# observer's Python handles every write (a trainer flushing 100 times a second: ~3.5% of a
# core at 10,000 lines/s, measured by bench/ingest.py's tail with and without it), while a
# poll every ``poll_interval`` reads the same bytes; it is back as soon as a poll finds none.
BUSY_READS = 4
READ_BYTES = 16 << 20  # per read: a big log's history arrives in pieces, newest state last


class _Wake(FileSystemEventHandler):
    """Any change in the watched directory wakes the reader (it then checks its own file)."""

    def __init__(self, wake: threading.Event) -> None:
        self._wake = wake

    def on_any_event(self, event: FileSystemEvent) -> None:
        self._wake.set()


class Tailer:
    """Follows ``path`` until ``stop()``; ``on_events(list)`` runs on the tail thread."""

    def __init__(
        self,
        path: Path,
        on_events: Callable[[list[StoreItem]], object],
        poll_interval: float = 0.25,
        source: Source | None = None,
        *,
        columns: bool = False,
        log_watch: LogWatch | None = None,
        on_log: Callable[[LogGrowth], object] | None = None,
    ) -> None:
        self.path = Path(path)
        # A consumer that feeds a RunStore takes a log's runs of steps as StepBatch columns:
        # at 10,000 lines/s one Step object per line is most of the tail's cost.
        self.columns = columns
        self.on_events = on_events
        self.log_watch = log_watch
        self.on_log = on_log
        self.poll_interval = min(poll_interval, MAX_POLL_INTERVAL)
        self.source: Source = source or _source_for(self.path)
        self.error: str | None = None
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"tail:{self.path.name}", daemon=True
        )
        self._observer: BaseObserver | None = None
        self._watching: ObservedWatch | None = None  # the observer's watch, off while busy
        self._notes_seen = 0

    def start(self) -> Tailer:
        self._observer, self._watching = _start_observer(self._watch_dir(), self._wake)
        self._thread.start()
        return self

    def stop(self, timeout: float = 2.0) -> None:
        self._stopping.set()
        self._wake.set()
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(timeout)
        if self._thread.is_alive():
            self._thread.join(timeout)
        self.source.close()

    def __enter__(self) -> Tailer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _watch_dir(self) -> Path:
        return self.path if self.path.is_dir() else self.path.parent

    def _run(self) -> None:
        busy = 0
        while not self._stopping.is_set():
            self._wake.clear()
            before = self.source.bytes_read
            try:
                events = self.source.read_new(READ_BYTES, columns=self.columns) + self._notes()
            except OSError as exc:  # e.g. a network file system hiccup: try again next poll
                self.error = f"{self.path}: {exc.strerror or exc}"
                events = []
            if events and not self._stopping.is_set():
                self._deliver(events)
            self._check_log()
            busy = busy + 1 if self.source.bytes_read > before else 0
            self._observe(busy < BUSY_READS)
            if self.source.bytes_read - before >= READ_BYTES:
                continue  # a backfill: hand it over in pieces, without waiting in between
            if self._wake.wait(self.poll_interval) and not self._stopping.is_set():
                # Woken by the observer: let a burst of writes land, then read them in one go
                # (a trainer flushing 100 times a second costs 20 reads, not 100).
                self._stopping.wait(SETTLE_S)

    def _observe(self, on: bool) -> None:
        """Watch the directory with the observer (``on``), or leave a busy file to polling."""
        observer, watch = self._observer, self._watching
        if observer is None or (watch is not None) == on or self._stopping.is_set():
            return
        if on:
            self._watching = _schedule(observer, _existing_dir(self._watch_dir()), self._wake)
        else:
            observer.unschedule(watch)  # type: ignore[arg-type]  # not None: on is False
            self._watching = None

    def _deliver(self, events: list[StoreItem]) -> None:
        try:
            self.on_events(events)
        except Exception as exc:  # a consumer's bug must not stop the tail; it is kept
            self.error = f"on_events failed: {type(exc).__name__}: {exc}"

    def _check_log(self) -> None:
        if self.log_watch is None or self.on_log is None or self._stopping.is_set():
            return
        growth = self.log_watch.check()
        if growth is None:
            return
        try:
            self.on_log(growth)
        except Exception as exc:  # as in _deliver: the tail goes on, the problem is kept
            self.error = f"on_log failed: {type(exc).__name__}: {exc}"

    def _notes(self) -> list[BaseModel | StepBatch]:
        """Truncation and rotation notes as warnings, so a user sees them on the chart."""
        notes = self.source.notes
        fresh, self._notes_seen = notes[self._notes_seen :], len(notes)
        return [
            TrainerWarning(kind="log_rotated" if "rotated" in n else "log_truncated", message=n)
            for n in fresh
        ]


def _source_for(path: Path) -> Source:
    if path.is_dir():
        if not is_run_dir(path) and find_runs(path):
            raise ValueError(f"{path} is a directory of runs; tail one of them (see find_runs)")
        return run_source(path)  # a run directory, perhaps before its first file appears
    return file_source(path)


def _existing_dir(directory: Path) -> Path:
    """``directory``, or its nearest parent that exists (the file's directory may appear later:
    watch its parent)."""
    while not directory.exists() and directory != directory.parent:
        directory = directory.parent
    return directory


def _start_observer(
    directory: Path, wake: threading.Event
) -> tuple[BaseObserver | None, ObservedWatch | None]:
    """A watchdog observer on ``directory`` and its watch; None where it cannot run (polling
    still works)."""
    observer = Observer()
    watch = _schedule(observer, _existing_dir(directory), wake)
    if watch is None:
        return None, None
    try:
        observer.start()
    except OSError:
        return None, None
    return observer, watch


def _schedule(
    observer: BaseObserver, directory: Path, wake: threading.Event
) -> ObservedWatch | None:
    try:
        return observer.schedule(_Wake(wake), str(directory), recursive=False)
    except OSError:
        return None

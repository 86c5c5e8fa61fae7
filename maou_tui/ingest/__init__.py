"""Sources to events to a RunStore: events.jsonl, maou logs, run directories, live tails.

open_source(path)   -> FileSource | RunDirSource | RunsDirectory   (format detected)
load_store(path)    -> RunStore    (read a whole file / run directory once)
read_tail(path, max_bytes) -> (RunStore, offset)   (a quick first screenful)
find_runs(directory) -> list[Path]  (newest first)
Tailer(path, on_events, poll_interval=0.25)   (watchdog + polling; .start() / .stop())
"""

from __future__ import annotations

from pathlib import Path

from maou_tui.ingest.source import (
    FileSource,
    RunDirSource,
    RunsDirectory,
    Source,
    find_runs,
    is_run_dir,
    run_file,
)
from maou_tui.ingest.tailer import Tailer
from maou_tui.store import RunStore

READ_BYTES = 64 << 20

__all__ = [
    "FileSource",
    "IngestError",
    "RunDirSource",
    "RunsDirectory",
    "Source",
    "Tailer",
    "find_runs",
    "load_store",
    "open_source",
    "read_tail",
]


class IngestError(ValueError):
    """A path that cannot be read as a run; the message is one line saying what to do."""


def open_source(path: Path) -> Source | RunsDirectory:
    """A source for ``path``: a log or events.jsonl file, a run directory, or a directory of
    runs. A file that does not exist yet is followed once it appears."""
    path = Path(path)
    if path.is_dir():
        return RunDirSource(path) if is_run_dir(path) else RunsDirectory(path)
    return FileSource(path)


def _single_source(path: Path) -> FileSource:
    """The one file to read for ``path`` (a file, or a run directory's events.jsonl/log)."""
    path = Path(path)
    if not path.exists():
        raise IngestError(f"{path}: no such file or directory; pass a log, events.jsonl or run dir")
    source = open_source(path)
    if isinstance(source, RunsDirectory):
        runs = source.runs()
        if not runs:
            raise IngestError(f"{path}: no runs found (no events.jsonl, train.log or *.log in it)")
        raise IngestError(f"{path} holds {len(runs)} runs; pass one of them (newest: {runs[0]})")
    if isinstance(source, RunDirSource):
        found = run_file(path)
        if found is None:
            raise IngestError(f"{path}: run directory has no events.jsonl or train.log yet")
        return FileSource(found)
    return source


def load_store(path: Path) -> RunStore:
    """Read a whole file or run directory once into a new store."""
    source = _single_source(path)
    store = RunStore()
    try:
        _read_to_end(source, store)
    finally:
        source.close()
    return store


def _read_to_end(source: FileSource, store: RunStore) -> None:
    while True:
        before = source.follower.offset
        store.apply_all(source.read_new(max_bytes=READ_BYTES, columns=True))
        if source.follower.offset == before:
            break
    store.apply_all(source.finish(columns=True))
    store.note_skipped_lines(source.skipped_lines + source.cut_lines)


def read_tail(path: Path, max_bytes: int = 4 << 20) -> tuple[RunStore, int]:
    """A first screenful: the events of the last ``max_bytes`` of a file (from its first full
    line) and the offset where that tail starts. For a maou log the steps in it count from the
    tail's start, since the epochs before it are unknown until the whole file is read:
    ``load_store`` it in the background and swap the stores. events.jsonl steps are exact."""
    source = _single_source(path)
    store = RunStore()
    try:
        size = source.path.stat().st_size
        start = max(0, size - max_bytes)
        if start:
            source.follower.start_at(start)
            source.follower.lines.skip_partial_line()
        _read_to_end(source, store)
    finally:
        source.close()
    return store, start

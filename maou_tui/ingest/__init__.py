"""Sources to events to a RunStore: events.jsonl, maou logs, TensorBoard event files, run
directories, live tails.

open_source(path)   -> FileSource | RunDirSource | RunsDirectory   (format detected)
load_store(path)    -> RunStore    (read a whole file / run directory once)
read_tail(path, max_bytes) -> (RunStore, offset)   (a quick first screenful)
find_runs(directory) -> list[Path]  (newest first)
Tailer(path, on_events, poll_interval=0.25)   (watchdog + polling; .start() / .stop())
"""

from __future__ import annotations

import stat
from pathlib import Path
from typing import TYPE_CHECKING, Any

from maou_tui.ingest.source import (
    FileSource,
    RunDirSource,
    RunsDirectory,
    Source,
    file_source,
    find_runs,
    is_run_dir,
    run_file,
    run_source,
)
from maou_tui.ingest.tb_paths import (
    holds_event_files,
    is_event_file,
    require_packages,
    tensorboard_runs,
)
from maou_tui.store import RunStore

if TYPE_CHECKING:
    from maou_tui.ingest.tailer import Tailer

READ_BYTES = 1 << 20  # per read_new of a backfill: bounds the raw bytes held at once

__all__ = [
    "FileSource",
    "IngestError",
    "RunDirSource",
    "RunsDirectory",
    "Source",
    "Tailer",
    "find_runs",
    "is_run_dir",
    "load_store",
    "open_source",
    "read_tail",
]


def __getattr__(name: str) -> Any:
    """``Tailer`` loads watchdog's observers: imported when first asked for (PEP 562), so
    ``report`` and ``export`` do not pay for them."""
    if name == "Tailer":
        from maou_tui.ingest.tailer import Tailer

        return Tailer
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class IngestError(ValueError):
    """A path that cannot be read as a run; the message is one line saying what to do."""


def open_source(path: Path) -> Source | RunsDirectory:
    """A source for ``path``: a log, events.jsonl or TensorBoard event file, a run directory
    (ours or a TensorBoard run), or a directory of runs. A file that does not exist yet is
    followed once it appears."""
    path = Path(path)
    if path.is_dir():
        return run_source(path) if is_run_dir(path) else RunsDirectory(path)
    return file_source(path)


def _single_source(path: Path) -> Source:
    """The one source to read for ``path`` (a file, or a run directory's events.jsonl, log
    and/or event files)."""
    path = Path(path)
    if not path.exists():
        raise IngestError(
            f"{path}: no such file or directory; pass a log, events.jsonl, TensorBoard event "
            "file or run dir"
        )
    if stat.S_ISCHR(path.stat().st_mode) or stat.S_ISBLK(path.stat().st_mode):
        raise IngestError(f"no training log found in {path}: it is a device, not a log file")
    source = open_source(path)
    if isinstance(source, RunsDirectory):
        runs = source.runs()
        if not runs:
            nested = next(tensorboard_runs(path), None)
            if nested is not None:
                raise IngestError(f"{path}: no runs directly in it; pass {nested.parent}")
            raise IngestError(
                f"{path}: no runs found (no events.jsonl, log or tfevents file in it)"
            )
        raise IngestError(f"{path} holds {len(runs)} runs; pass one of them (newest: {runs[0]})")
    if isinstance(source, RunDirSource):
        found = run_file(path)
        if found is None:
            raise IngestError(
                f"{path}: run directory has no events.jsonl, train.log or tfevents file yet"
            )
        return FileSource(found)
    return source


def load_store(path: Path, events: Path | None = None) -> RunStore:
    """Read a whole file or run directory once into a new store; with ``events`` (a
    TensorBoard event file or run folder), ``path`` is the log of the same run and both are
    read as one run (``merged.LogWithEventsSource``)."""
    source = _single_source(path) if events is None else _pair(path, events)
    store = RunStore()
    try:
        _read_to_end(source, store)
    finally:
        source.close()
    if store.version == 0:
        raise IngestError(f"no training log found in {source.path}: {_why_empty(source)}")
    return store


def _pair(log: Path, events: Path) -> Source:
    """A log file and the TensorBoard event files of the same run."""
    log, events = Path(log), Path(events)
    if not log.is_file():
        raise IngestError(f"{log}: not a log file; pass the run's log, then its event files")
    if not (is_event_file(events) or (events.is_dir() and holds_event_files(events))):
        raise IngestError(f"{events}: no TensorBoard event file here; pass a tfevents file or run")
    require_packages(events)
    from maou_tui.ingest.merged import LogWithEventsSource

    return LogWithEventsSource(log, events)  # type: ignore[return-value]


def _why_empty(source: Source) -> str:
    if not isinstance(source, FileSource):
        return "no scalar of a training run in its event files"
    if source.bytes_read == 0:
        return "the file is empty"
    if source.format == "events":
        return f"none of its {source.skipped_lines} lines is an event of the events.jsonl format"
    return (
        f"none of its {source.bytes_read} bytes reads as training output (maou, this project's "
        "train.log, HF Trainer, Lightning, Keras, nanoGPT or step=.. loss=.. lines)"
    )


def _read_to_end(source: Source, store: RunStore) -> None:
    while True:
        before = source.bytes_read
        store.apply_all(source.read_new(max_bytes=READ_BYTES, columns=True))
        if source.bytes_read == before:
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
    if source.format == "tensorboard":  # TensorBoardSource: each file's share of the tail
        try:
            source.start_tail(max_bytes)  # type: ignore[union-attr]
            _read_to_end(source, store)
        finally:
            source.close()
        return store, 0
    assert isinstance(source, FileSource)  # _single_source gives a file or TensorBoard source
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

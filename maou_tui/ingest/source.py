"""Sources: a path turned into protocol events, incrementally (nothing read twice).

- ``FileSource``: one events.jsonl or maou log; the format is detected from the first line.
- ``hooked.HookedRunSource``: a run of ``maou-tui run -- CMD`` (the program's output and
  TensorBoard files on the hook's steps);
- ``RunDirSource``: a run directory; prefers ``events.jsonl``, else ``train.log`` (or another
  ``*.log``); waits for either to appear.
- ``RunsDirectory``: a directory of runs; every run in it, newest first, new ones picked up.
- ``tensorboard.TensorBoardSource``: a TensorBoard run folder or event file;
  ``merged.LogWithEventsSource``: a run folder holding a log and event files (see
  ``run_source``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TypeAlias, Union

from maou_tui.ingest.events_jsonl import EventsParser
from maou_tui.ingest.maou_log import MaouLogParser
from maou_tui.ingest.metrics_csv import MetricsCsvParser
from maou_tui.ingest.reader import FileFollower
from maou_tui.ingest.tb_paths import (
    holds_event_files,
    is_event_file,
    require_packages,
    tensorboard_runs,
    tensorboard_source,
)
from maou_tui.store import StoreItem

if TYPE_CHECKING:
    from maou_tui.ingest.tensorboard import TensorBoardSource

from maou_tui.layout import EVENTS_FILE, LOG_FILE, LOG_TIMES_FILE, RUN_MARKERS

LOG_SUFFIXES = (".log", ".jsonl", ".txt", ".out", ".err", ".csv")


class Parser(Protocol):
    skipped_lines: int

    def feed(self, block: bytes, *, columns: bool = False) -> Sequence[StoreItem]: ...
    def finish(self, *, columns: bool = False) -> Sequence[StoreItem]: ...


def detect_format(path: Path, first_block: bytes) -> str:
    """``"events"`` for events.jsonl (by name or a first line that is a JSON object),
    ``"csv"`` for a metrics CSV (Lightning, Keras), else ``"maou"`` (any text log)."""
    if path.name.endswith(".jsonl"):
        return "events"
    if path.name.endswith(".csv"):
        return "csv"
    first = next((line for line in first_block.splitlines() if line.strip()), b"")
    return "events" if first.lstrip().startswith(b"{") else "maou"


class FileSource:
    """Incremental reader of one file; ``read_new()`` returns the events appended since."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.follower = FileFollower(self.path)
        self.format: str | None = None
        self.parser: Parser | None = None

    @property
    def skipped_lines(self) -> int:
        return self.parser.skipped_lines if self.parser is not None else 0

    @property
    def cut_lines(self) -> int:
        return self.follower.lines.cut_lines

    @property
    def bytes_read(self) -> int:
        return self.follower.bytes_read

    @property
    def notes(self) -> list[str]:
        return self.follower.notes

    def read_new(self, max_bytes: int | None = None, *, columns: bool = False) -> list[StoreItem]:
        """Events appended since the last call; with ``columns``, a log's runs of steps come
        as ``StepBatch`` (``RunStore.apply_all`` takes both)."""
        return self._parse(self.follower.read(max_bytes), columns)

    def finish(self, *, columns: bool = False) -> list[StoreItem]:
        """End of a file read whole: its unterminated last line and whatever is still pending.
        In events.jsonl such a line is an event still being written (a live run): a line that
        does not decode is left out without counting it as corrupt."""
        last = self.follower.flush()
        if self.format == "events" and self.parser is not None:
            skipped = self.parser.skipped_lines
            events = self._parse([last], columns)
            self.parser.skipped_lines = skipped
        else:
            events = self._parse([last], columns)
        if self.parser is not None:
            events += self.parser.finish(columns=columns)
        return events

    def close(self) -> None:
        self.follower.close()

    def _parse(self, blocks: list[bytes], columns: bool = False) -> list[StoreItem]:
        events: list[StoreItem] = []
        for block in blocks:
            if not block:
                continue
            if self.parser is None:
                self.format = detect_format(self.path, block[:4096])
                self.parser = _PARSERS[self.format]()
            events += self.parser.feed(block, columns=columns)
        return events


_PARSERS: dict[str, type[Parser]] = {
    "events": EventsParser,
    "csv": MetricsCsvParser,
    "maou": MaouLogParser,
}


def run_file(run_dir: Path) -> Path | None:
    for name in (EVENTS_FILE, LOG_FILE):
        if (run_dir / name).is_file():
            return run_dir / name
    logs = sorted(run_dir.glob("*.log"))
    return logs[0] if logs else None


class RunDirSource:
    """A run directory: events.jsonl when present, else its log."""

    def __init__(self, run_dir: Path) -> None:
        self.path = Path(run_dir)
        self._inner: FileSource | None = None

    @property
    def file(self) -> Path | None:
        return self._inner.path if self._inner is not None else None

    def _source(self) -> FileSource | None:
        if self._inner is None:
            found = run_file(self.path)
            if found is not None:
                self._inner = FileSource(found)
        return self._inner

    def read_new(self, max_bytes: int | None = None, *, columns: bool = False) -> list[StoreItem]:
        source = self._source()
        return source.read_new(max_bytes, columns=columns) if source is not None else []

    def finish(self, *, columns: bool = False) -> list[StoreItem]:
        return self._inner.finish(columns=columns) if self._inner is not None else []

    def close(self) -> None:
        if self._inner is not None:
            self._inner.close()

    @property
    def format(self) -> str | None:
        return self._inner.format if self._inner is not None else None

    @property
    def skipped_lines(self) -> int:
        return self._inner.skipped_lines if self._inner is not None else 0

    @property
    def cut_lines(self) -> int:
        return self._inner.cut_lines if self._inner is not None else 0

    @property
    def notes(self) -> list[str]:
        return self._inner.notes if self._inner is not None else []

    @property
    def bytes_read(self) -> int:
        return self._inner.bytes_read if self._inner is not None else 0


Source: TypeAlias = Union[FileSource, RunDirSource, "TensorBoardSource"]


def is_run_dir(path: Path) -> bool:
    """A run folder: ours (events.jsonl, train.log, config.json) or a TensorBoard run."""
    if not path.is_dir():
        return False
    return any((path / marker).exists() for marker in RUN_MARKERS) or holds_event_files(path)


def run_source(run_dir: Path) -> Source:
    """The source of a run folder: events.jsonl (exact) first; else its log and its event
    files together (the folder's own, or the newest TensorBoard run below it, as maou's
    ``--log-dir`` next to a ``tee``'d log), or whichever of them it holds."""
    run_dir = Path(run_dir)
    if (run_dir / LOG_TIMES_FILE).is_file():  # a program run by ``maou-tui run -- CMD``
        from maou_tui.ingest.hooked import HookedRunSource  # it builds on FileSource

        return HookedRunSource(run_dir)  # type: ignore[return-value]
    if (run_dir / EVENTS_FILE).is_file():
        return RunDirSource(run_dir)
    log = run_file(run_dir)
    if holds_event_files(run_dir):
        board: Path | None = run_dir
    else:
        board = max(tensorboard_runs(run_dir), key=_newest_mtime, default=None) if log else None
    if board is None:
        return RunDirSource(run_dir)
    if log is None:
        return tensorboard_source(board)
    require_packages(board)
    from maou_tui.ingest.merged import LogWithEventsSource  # it builds on FileSource

    return LogWithEventsSource(log, board)  # type: ignore[return-value]


def file_source(path: Path) -> Source:
    """An event file, else a log or events.jsonl."""
    return tensorboard_source(path) if is_event_file(path) else FileSource(path)


def _newest_mtime(run: Path) -> float:
    target = run_file(run) if run.is_dir() else run
    if target is None and run.is_dir():
        target = max(run.glob("*tfevents*"), key=_mtime, default=None)
    try:
        return os.stat(target or run).st_mtime
    except OSError:
        return 0.0


def _mtime(path: Path) -> float:
    try:
        return os.stat(path).st_mtime
    except OSError:
        return 0.0


def find_runs(directory: Path) -> list[Path]:
    """Runs in ``directory``, newest first: run directories and log files directly in it."""
    directory = Path(directory)
    runs = [
        entry
        for entry in directory.iterdir()
        if is_run_dir(entry) or (entry.is_file() and entry.suffix in LOG_SUFFIXES)
    ]
    return sorted(runs, key=_newest_mtime, reverse=True)


class RunsDirectory:
    """Every run in a directory, each with its own source; ``refresh`` picks up new ones."""

    def __init__(self, directory: Path) -> None:
        self.path = Path(directory)
        self.sources: dict[Path, Source] = {}
        self.refresh()

    def refresh(self) -> list[Path]:
        """Start following runs that appeared since; returns them (newest first)."""
        new = [run for run in find_runs(self.path) if run not in self.sources]
        for run in new:
            self.sources[run] = run_source(run) if run.is_dir() else file_source(run)
        return new

    def runs(self) -> list[Path]:
        return sorted(self.sources, key=_newest_mtime, reverse=True)

    def read_new(self) -> dict[Path, list[StoreItem]]:
        self.refresh()
        return {run: source.read_new() for run, source in self.sources.items()}

    def close(self) -> None:
        for source in self.sources.values():
            source.close()

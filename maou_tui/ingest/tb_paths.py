"""Where TensorBoard event files are: cheap path checks, without the protobuf readers (which
``tensorboard.py`` loads only when a TensorBoard source is opened)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

EVENT_FILE_MARK = "tfevents"
NEEDS_PACKAGES = (
    "reading TensorBoard event files needs the tensorboard and google-crc32c packages: "
    "pip install tensorboard google-crc32c"
)


def is_event_file(path: Path) -> bool:
    return EVENT_FILE_MARK in path.name and path.is_file()


def holds_event_files(directory: Path) -> bool:
    """True when ``directory`` itself holds an event file (it is a TensorBoard run)."""
    try:
        return any(is_event_file(entry) for entry in directory.iterdir())
    except OSError:
        return False


def tensorboard_runs(directory: Path, depth: int = 3) -> Iterator[Path]:
    """TensorBoard runs under ``directory`` (not itself), at most ``depth`` levels down; a run's
    own subfolders belong to it."""
    try:
        entries = sorted(p for p in directory.iterdir() if p.is_dir())
    except OSError:
        return
    for entry in entries:
        if holds_event_files(entry):
            yield entry
        elif depth > 1:
            yield from tensorboard_runs(entry, depth - 1)


def require_packages(path: Path) -> None:
    """ValueError with one line to act on when the TensorBoard readers' packages are missing
    (logs and events.jsonl are read without them)."""
    try:
        import maou_tui.ingest.tensorboard  # noqa: F401
    except ImportError:
        raise ValueError(f"{path}: {NEEDS_PACKAGES}") from None


def tensorboard_source(path: Path, step_offset: int = 0):  # -> TensorBoardSource
    """A ``TensorBoardSource`` (``require_packages`` first)."""
    require_packages(path)
    from maou_tui.ingest.tensorboard import TensorBoardSource

    return TensorBoardSource(path, step_offset)

"""Where TensorBoard event files are: cheap path checks, without the protobuf readers (which
``tensorboard.py`` loads only when a TensorBoard source is opened), and the directories a
program names for them (its options, a line it prints)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from pathlib import Path

EVENT_FILE_MARK = "tfevents"
#: Command-line options with which programs name where their TensorBoard files go (``--NAME
#: X`` or ``--NAME=X``, dashes or underscores): maou's and most scripts' ``--log-dir``,
#: TensorBoard's ``--logdir``, HF's ``--logging_dir`` and ``--output_dir``, Lightning's
#: ``--default_root_dir``.
LOG_DIR_OPTIONS = frozenset(
    {
        "log_dir",
        "logdir",
        "logging_dir",
        "tensorboard_dir",
        "tb_dir",
        "output_dir",
        "default_root_dir",
        "trainer.default_root_dir",
    }
)
#: A printed line naming the directory, as maou's ``TensorBoard log directory: %s (model: %s)``;
#: the path ends the line or comes before `` (model: ...)``.
_PRINTED_LOG_DIR = re.compile(
    r"tensorboard (?:log(?:ging)? ?)?dir(?:ectory)?\s*[:=]\s*(?P<dir>\S.*?)"
    r"(?:\s+\(model: [^()]*\))?\s*$",
    re.IGNORECASE,
)
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]")
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


def named_log_dirs(args: Sequence[str]) -> list[str]:
    """The directories a command line names with one of ``LOG_DIR_OPTIONS`` (``--opt X`` or
    ``--opt=X``), in order."""
    found = []
    for index, arg in enumerate(args):
        option, equals, value = arg.partition("=")
        if not option.startswith("--") or option[2:].replace("-", "_") not in LOG_DIR_OPTIONS:
            continue
        if not equals:
            value = args[index + 1] if index + 1 < len(args) else ""
        if value and not value.startswith("-"):
            found.append(value)
    return found


def printed_log_dir(line: str) -> str | None:
    """The directory a printed line says TensorBoard files go to (colours and any
    ``[rank]``/logging prefix allowed), else None."""
    match = _PRINTED_LOG_DIR.search(_ANSI.sub("", line))
    return match["dir"].strip("'\"") if match else None


def recorded_log_dirs(path: Path) -> list[Path]:
    """The directories listed in ``path`` (``layout.BOARD_DIRS_FILE``: one a line), if any."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    return [Path(line) for line in dict.fromkeys(text.splitlines()) if line]


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

"""The directories a program names for its TensorBoard files, recorded for the charts.

The charts of a ``maou-tui run -- CMD`` run look for event files under the run directory and
the program's working directory (``ingest.hooked.ProgramBoards``). A program that writes them
elsewhere names the place: in its command line (``--log-dir X``, ``--logdir=X``, ...:
``tb_paths.LOG_DIR_OPTIONS``) or in a line it prints (maou: ``TensorBoard log directory: X
(model: M)``). The supervisor, which starts the command and sees all it prints, writes each such
directory once, absolute, to the run directory's ``tensorboard.dirs``; the charts search those
too.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

from maou_tui.ingest.tb_paths import named_log_dirs, printed_log_dir

#: Cheap test of a piece of output before it is split into lines.
_MENTION = re.compile(rb"tensorboard", re.IGNORECASE)
_LINE_END = re.compile(rb"[\r\n]")
#: Longest unfinished line kept between writes (a longer one cannot be a path line).
_MAX_PARTIAL = 4096


class NamedBoards:
    """Appends the directories ``command`` names, then those its output names, to ``path``."""

    def __init__(self, path: Path, cwd: Path, command: Sequence[str]) -> None:
        self.path = path
        self.cwd = cwd
        self.named: list[Path] = []
        self._partial = b""
        for directory in named_log_dirs(command[1:]):
            self.name(directory)

    def name(self, directory: str) -> None:
        """Record ``directory`` (relative to the program's working directory) once."""
        absolute = Path(os.path.normpath(self.cwd / os.path.expanduser(directory)))
        if absolute in self.named:
            return
        self.named.append(absolute)
        with open(self.path, "a", encoding="utf-8") as listing:
            listing.write(f"{absolute}\n")

    def feed(self, output: bytes) -> None:
        """Look for printed directory lines in the next piece of the program's output."""
        text = self._partial + output
        last_end = max(text.rfind(b"\n"), text.rfind(b"\r"))
        self._partial = text[last_end + 1 :][-_MAX_PARTIAL:]
        if last_end < 0 or not _MENTION.search(text, 0, last_end):
            return
        for line in _LINE_END.split(text[:last_end]):
            if _MENTION.search(line):
                directory = printed_log_dir(line.decode("utf-8", "replace"))
                if directory:
                    self.name(directory)

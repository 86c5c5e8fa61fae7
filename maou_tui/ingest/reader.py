"""Follow one file path by bytes: what was appended since last time, as complete lines.

Handles what happens to logs on a GPU box while they are read:
- late creation: nothing to read until the path exists;
- truncation in place (logrotate ``copytruncate``): the size drops below what was read, so
  reading restarts from the top; noted in ``notes`` (the parse state is kept: it is the same run);
- rotation (rename + new file at the path): the old file is read to its end through the still
  open descriptor (its unterminated last line included), then the new file is followed from 0;
- deletion: the open descriptor is read to its end; a file that appears later is followed anew.
A truncation that is refilled beyond the old size between two reads cannot be told from growth.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import BinaryIO

from maou_tui.ingest.lines import LineBuffer

CHUNK_BYTES = 1 << 20


class FileFollower:
    """Reads new bytes of ``path``; ``read()`` returns blocks of complete lines."""

    def __init__(self, path: Path, chunk_bytes: int = CHUNK_BYTES) -> None:
        self.path = Path(path)
        self.chunk_bytes = chunk_bytes
        self.lines = LineBuffer()
        self.offset = 0
        self.bytes_read = 0
        self.notes: list[str] = []
        self._file: BinaryIO | None = None
        self._inode: tuple[int, int] | None = None

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def start_at(self, offset: int) -> None:
        """Begin reading at ``offset`` (after a tail preview) instead of the top."""
        self._open()
        self.offset = offset

    def read(self, max_bytes: int | None = None) -> list[bytes]:
        """Complete lines appended since the last call (at most about ``max_bytes`` of them)."""
        blocks: list[bytes] = []
        if self._file is None and not self._open():
            return blocks
        current = self._stat_path()
        if current is not None and current != self._inode:
            blocks += self._drain(None, final=True)
            self.notes.append(f"{self.path}: rotated; finished the old file, following the new one")
            self.close()
            if not self._open():
                return blocks
        elif self._file is not None and os.fstat(self._file.fileno()).st_size < self.offset:
            self.notes.append(f"{self.path}: truncated; reading again from the top")
            self.offset = 0
            self.lines.reset()
        blocks += self._drain(max_bytes, final=False)
        return blocks

    def flush(self) -> bytes:
        """The unterminated last line, for a file known to be complete."""
        return self.lines.flush()

    def _open(self) -> bool:
        try:
            self._file = open(self.path, "rb", buffering=0)  # noqa: SIM115 - kept open to follow
        except (FileNotFoundError, IsADirectoryError, PermissionError):
            return False
        st = os.fstat(self._file.fileno())
        self._inode = (st.st_dev, st.st_ino)
        self.offset = 0
        return True

    def _stat_path(self) -> tuple[int, int] | None:
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        return (st.st_dev, st.st_ino)

    def _drain(self, max_bytes: int | None, final: bool) -> list[bytes]:
        assert self._file is not None
        blocks: list[bytes] = []
        budget = max_bytes if max_bytes is not None else -1
        while budget != 0:
            size = self.chunk_bytes if budget < 0 else min(self.chunk_bytes, budget)
            data = os.pread(self._file.fileno(), size, self.offset)
            if not data:
                break
            self.offset += len(data)
            self.bytes_read += len(data)
            if budget > 0:
                budget -= len(data)
            block = self.lines.feed(data)
            if block:
                blocks.append(block)
        if final:
            last = self.lines.flush()
            if last:
                blocks.append(last)
        return blocks

"""Where each line of a log starts, found without decoding the log: the log viewer's index.

A 1 GB log opens at once: the index is built from the end backwards (the lines a user sees
first, with follow on, are the last ones), a small first block and then big ones, each searched
for ``\\n`` with numpy or ``bytes.find`` (``newline_offsets``). Lines appended later are
indexed forwards as the Tailer reports growth. Blocks are scanned memory-mapped; only the lines
on screen are ever read (``line_bytes``), with ``os.pread``.

Hand-written (toolong does the same with a Python loop of ``mmap.rfind``, one call a line, and
yields every 0.25 s): no maintained library indexes a growing file's lines.

Thread use: one scanning thread calls ``step()`` while the UI thread reads; the chunks of newline
offsets are swapped under a lock. ``grow_to`` tells the caller when a scan must be started.
"""

from __future__ import annotations

import mmap
import os
import re
import threading
from collections import deque
from pathlib import Path

import numpy as np
import numpy.typing as npt

FIRST_BLOCK = 256 << 10  # the first screen's block: small, so it shows at once
BLOCK = 16 << 20
#: Longest part of one line read for display (a tqdm line of 90 KB shows its last render).
LINE_READ_CAP = 64 << 10
#: Forward appends are merged into the last chunk while it is smaller than this.
MERGE_BELOW = 1 << 16

Offsets = npt.NDArray[np.int64]


#: Above this many bytes a line on average, newlines are found one ``find`` (memchr) at a time.
SPARSE_LINE_BYTES = 256
SAMPLE_BYTES = 64 << 10


def newline_offsets(data: mmap.mmap, start: int, stop: int) -> Offsets:
    """Offsets of the ``\\n`` bytes in ``data[start:stop]``, read in place (no copy). One numpy
    compare for short lines; for long ones (a maou log's tqdm lines run to 90 KB) ``find``
    (memchr) from each to the next, which builds no array of every byte on the way (measured
    in bench/log_viewer.py: 3 x faster on a maou log, 3 x slower on one of short lines)."""
    view = np.frombuffer(data, dtype=np.uint8, count=stop - start, offset=start)
    sample = int(np.count_nonzero(view[:SAMPLE_BYTES] == 10))
    if sample * SPARSE_LINE_BYTES >= min(SAMPLE_BYTES, len(view)):
        found = np.flatnonzero(view == 10).astype(np.int64) + start
        del view  # the map is closed after this: no view of it may live on
        return found
    del view
    offsets: list[int] = []
    find, position = data.find, start - 1
    while (position := find(b"\n", position + 1, stop)) >= 0:
        offsets.append(position)
    return np.array(offsets, dtype=np.int64)


class LineIndex:
    """Line starts of ``path``; lines end at ``\\n`` (the bytes after the last one are a line too).

    Line numbers count from the first line known: until the backward scan reaches the top of the
    file, new lines appear above; ``lines_prepended`` counts them so a view can keep its place.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._fd: int | None = None
        self._lock = threading.Lock()
        self._chunks: list[Offsets] = []  # newline offsets, ascending across the chunks
        self._counts = np.zeros(0, dtype=np.int64)  # cumulative lengths of _chunks
        self._low = self._high = 0  # every newline in [_low, _high) is in _chunks
        self._target = 0  # the file's size as last reported
        self._started = False
        self._scanning = False
        self._closed = False
        self.lines_prepended = 0

    # ------------------------------------------------------------------ building

    def grow_to(self, size: int) -> bool:
        """The file now holds ``size`` bytes. True when no scan is running and one must be
        started (call ``step()`` until it returns False, on a worker thread)."""
        with self._lock:
            if not self._started:
                self._low = self._high = size  # the backward scan starts at this end
                self._started = True
            self._target = max(self._target, size)
            if self._scanning or not self._has_work():
                return False
            self._scanning = True
            return True

    def step(self) -> bool:
        """Index one block (new lines at the end first, then the next block backwards).
        False when there is nothing left to do: the scan is over until ``grow_to`` says so."""
        with self._lock:
            if self._closed or not self._has_work():
                self._scanning = False
                return False
            forward = self._high < self._target
            if forward:
                start, stop = self._high, min(self._target, self._high + BLOCK)
            else:
                block = BLOCK if self._chunks or self._low < self._high else FIRST_BLOCK
                start, stop = max(0, self._low - block), self._low
        newlines = self._find_newlines(start, stop)
        with self._lock:
            if forward:
                self._append(newlines, stop)
            else:
                self._prepend(newlines, start)
        return True

    def close(self) -> None:
        """Stop a running scan and release the file."""
        with self._lock:
            self._closed = True
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None

    def _has_work(self) -> bool:
        return self._started and (self._high < self._target or self._low > 0)

    def _find_newlines(self, start: int, stop: int) -> Offsets:
        """Mapped for this block only: a map of a growing file would need remapping, and one
        held while ``close()`` runs on another thread could not be closed."""
        base = start - start % mmap.ALLOCATIONGRANULARITY
        with (
            open(self.path, "rb") as handle,
            mmap.mmap(handle.fileno(), stop - base, offset=base, access=mmap.ACCESS_READ) as data,
        ):
            return newline_offsets(data, start - base, stop - base) + base

    def _append(self, newlines: Offsets, stop: int) -> None:
        if len(newlines):
            if self._chunks and len(self._chunks[-1]) < MERGE_BELOW:
                self._chunks[-1] = np.concatenate([self._chunks[-1], newlines])
            else:
                self._chunks.append(newlines)
        self._high = stop
        self._recount()

    def _prepend(self, newlines: Offsets, start: int) -> None:
        before = self._line_count()
        if len(newlines):
            self._chunks.insert(0, newlines)
        self._low = start
        self._recount()
        if before:  # lines above lines already known (the first ones are above nothing)
            self.lines_prepended += self._line_count() - before

    def _recount(self) -> None:
        self._counts = np.cumsum([len(chunk) for chunk in self._chunks], dtype=np.int64)

    # ------------------------------------------------------------------ reading

    @property
    def complete(self) -> bool:
        """Every line of the file, from its first byte, is indexed."""
        return self._started and self._low == 0

    @property
    def indexed_fraction(self) -> float:
        with self._lock:
            return (self._high - self._low) / self._high if self._high else 1.0

    @property
    def line_count(self) -> int:
        with self._lock:
            return self._line_count()

    def snapshot(self) -> tuple[int, int]:
        """``(line_count, lines_prepended)`` read together (a scan may be adding lines)."""
        with self._lock:
            return self._line_count(), self.lines_prepended

    def line_span(self, line: int) -> tuple[int, int]:
        """Byte offsets ``[start, end)`` of ``line``, without its ``\\n``."""
        with self._lock:
            return self._span(line)

    def line_bytes(self, line: int) -> bytes:
        """The line's bytes; of a line over ``LINE_READ_CAP``, the part a terminal shows last:
        the tail when it holds a carriage return (a progress bar's last render), else the head."""
        start, end = self.line_span(line)
        if end - start <= LINE_READ_CAP:
            return self._read(start, end - start)
        tail = self._read(end - LINE_READ_CAP, LINE_READ_CAP)
        if b"\r" in tail.rstrip(b"\r"):
            return tail
        return self._read(start, LINE_READ_CAP)

    def line_at(self, offset: int) -> int:
        """The line holding byte ``offset`` (clamped to the lines known)."""
        with self._lock:
            newlines_before = int(self._newlines_before(offset))
            line = newlines_before - (0 if self._low == 0 else 1)
            return min(max(line, 0), max(self._line_count() - 1, 0))

    def find(self, pattern: re.Pattern[bytes], line: int, *, backwards: bool = False) -> int | None:
        """The first line after ``line`` (the last before it, ``backwards``) holding ``pattern``,
        or None; ``line`` may be -1 (search from the top) or ``line_count`` (from the bottom).
        Reads the file in blocks cut at line breaks (a match never spans two lines)."""
        count = self.line_count
        if count == 0:
            return None
        if backwards:
            start, _ = self.line_span(0)
            stop = self.line_span(line)[0] if line < count else self.line_span(count - 1)[1]
            while stop > start:
                block_start = max(start, stop - BLOCK)
                data = self._read(block_start, stop - block_start)
                cut = data.find(b"\n") + 1 if block_start > start else 0
                last = deque(pattern.finditer(data, cut), maxlen=1)  # keeps only the last
                if last:
                    return self.line_at(block_start + last[0].start())
                stop = block_start + cut if cut else block_start
            return None
        if line >= count - 1:
            return None
        start = self.line_span(line)[1] if line >= 0 else self.line_span(0)[0]
        _, stop = self.line_span(count - 1)
        while start < stop:
            data = self._read(start, min(BLOCK, stop - start))
            end = data.rfind(b"\n") + 1 if start + len(data) < stop else len(data)
            end = end or len(data)
            match = pattern.search(data, 0, end)
            if match is not None:
                return self.line_at(start + match.start())
            start += end
        return None

    def _line_count(self) -> int:
        if not self._started:
            return 0
        newlines = int(self._counts[-1]) if len(self._counts) else 0
        lines = newlines + (1 if self._low == 0 else 0)  # the file's first line has no \n before
        if lines and self._span(lines - 1)[0] >= self._high:
            lines -= 1  # nothing after the last \n yet
        return lines

    def _span(self, line: int) -> tuple[int, int]:
        first = 1 if self._low == 0 else 0  # newlines are line ends; line k starts after one
        start = 0 if line == 0 and first else int(self._newline(line - first)) + 1
        total = int(self._counts[-1]) if len(self._counts) else 0
        index = line + 1 - first
        end = int(self._newline(index)) if index < total else self._high
        return start, end

    def _newline(self, index: int) -> np.int64:
        chunk = int(np.searchsorted(self._counts, index, side="right"))
        before = int(self._counts[chunk - 1]) if chunk else 0
        return self._chunks[chunk][index - before]

    def _newlines_before(self, offset: int) -> int:
        total = 0
        for chunk in self._chunks:
            if len(chunk) and chunk[-1] < offset:
                total += len(chunk)
            else:
                return total + int(np.searchsorted(chunk, offset, side="left"))
        return total

    def _read(self, offset: int, size: int) -> bytes:
        if self._fd is None:
            self._fd = os.open(self.path, os.O_RDONLY)
        return os.pread(self._fd, size, offset)

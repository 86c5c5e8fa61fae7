"""Bytes to complete lines: the only place that knows about line breaks and byte-level damage.

``LineBuffer.feed(bytes)`` returns one block of complete lines only (bytes); the bytes after
the last line break wait for the next feed (a half-written last line is never parsed). Both
``\\n`` and ``\\r`` end a line: a tqdm bar rewrites itself with ``\\r``, so each ``\\r`` segment is
a line of its own (a 1 GB maou log holds ~90 KB "lines" made of thousands of them).

Cleaning, applied to whole blocks with C-speed ``bytes`` methods rather than per line: ANSI
escape sequences are removed, and a line over ``MAX_LINE_BYTES`` is cut to that
length (counted in ``cut_lines``). Blocks stay bytes: the parsers decode only the lines they
read (``decode``: invalid UTF-8 replaced by U+FFFD), so the bulk of a log, repeated progress
segments, is never decoded.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

MAX_LINE_BYTES = 1 << 20

# CSI sequences (colours, cursor moves such as tqdm's ESC[A), OSC sequences, and 2-byte escapes.
_ANSI = re.compile(rb"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])")
_LONG_LINE = re.compile(rb"[^\r\n]{%d}[^\r\n]*" % MAX_LINE_BYTES)


def clean(block: bytes) -> bytes:
    """Remove ANSI escapes and backspaces from a block of complete lines. (CRLF needs no pass
    of its own: the ``\\r`` before a ``\\n`` just ends an empty segment, which readers skip.)"""
    if b"\x1b" in block:
        block = _ANSI.sub(b"", block)
    if b"\x08" in block:  # Keras redraws its bar with backspaces before each \r
        block = block.replace(b"\x08", b"")
    return block


def decode(line: bytes) -> str:
    return line.decode("utf-8", "replace")


def split_lines(block: bytes) -> Iterator[bytes]:
    """``block.split(b"\\n")``, lazily. ``bytes.split`` tests every byte in Python's C loop
    (~2 ns a byte here) where ``find`` uses ``memchr``; a maou log's lines are tqdm bars of
    ~80 KB, so a block of few long lines is cut with ``find`` (measured 0.29 s of 150 MB)."""
    if b"\r" not in block:  # short lines (a train.log): one split is cheaper than a loop
        yield from block.split(b"\n")
        return
    start, size = 0, len(block)
    while start <= size:
        end = block.find(b"\n", start)
        if end < 0:
            end = size
        yield block[start:end]
        start = end + 1


def _may_hold_long_line(block: bytes) -> bool:
    """Cheap test: any line over MAX_LINE_BYTES fully covers one of these half-size windows."""
    half = MAX_LINE_BYTES // 2
    for start in range(0, len(block) - half + 1, half):
        stop = start + half
        if block.find(b"\n", start, stop) < 0 and block.find(b"\r", start, stop) < 0:
            return True
    return False


class LineBuffer:
    """Accumulates bytes; hands out complete, cleaned lines as one text block per feed."""

    def __init__(self) -> None:
        self._partial = b""
        self._discarding = False  # inside the rest of a line that was already cut
        self.cut_lines = 0

    def reset(self) -> None:
        """Forget a half-read line (the file was truncated or replaced)."""
        self._partial = b""
        self._discarding = False

    def skip_partial_line(self) -> None:
        """Reading starts mid-file: drop bytes up to the first line break."""
        self._partial = b""
        self._discarding = True

    def feed(self, data: bytes) -> bytes:
        if self._discarding:
            data = self._skip_cut_remainder(data)
        if self._partial:
            data = self._partial + data
        end = max(data.rfind(b"\n"), data.rfind(b"\r")) + 1
        complete, rest = data[:end], data[end:]
        if len(rest) > MAX_LINE_BYTES:
            complete += rest[:MAX_LINE_BYTES] + b"\n"
            self.cut_lines += 1
            self._discarding, rest = True, b""
        self._partial = rest
        if len(complete) > MAX_LINE_BYTES // 2 and _may_hold_long_line(complete):
            complete = _LONG_LINE.sub(self._cut, complete)
        return clean(complete) if complete else b""

    def flush(self) -> bytes:
        """The last line even without its line break (the file is complete, e.g. for export)."""
        rest, self._partial = self._partial, b""
        return clean(rest + b"\n") if rest else b""

    def _skip_cut_remainder(self, data: bytes) -> bytes:
        breaks = [i for i in (data.find(b"\n"), data.find(b"\r")) if i >= 0]
        if not breaks:
            return b""
        self._discarding = False
        return data[min(breaks) + 1 :]

    def _cut(self, match: re.Match[bytes]) -> bytes:
        self.cut_lines += 1
        return match.group()[:MAX_LINE_BYTES]

"""maou's tqdm renders read as columns: a line of thousands of ``\\r`` renders in a few numpy
passes instead of Python per render.

Each render is classified by its shape (the render with its digits as 0s): a line holds a few
dozen shapes, each matched once against ``_SHAPE`` (maou's Training bar with its two-item postfix
in plain numbers, and none of ``| [ ] = /`` outside the places the pattern puts them). A shape
that matches fixes where every field of its renders lies, so batches, losses and metrics are
read for all renders at once (``decimals``). Every other render (the ``0/N`` one, Validation
bars, NaN, log messages) is read by ``BarTracker`` one by one.

Within a run of qualifying renders, once one of them has been read one by one (so that the
tracker's last postfix is the previous render's), the tracker's per-render rules are column
operations: a render with the previous render's postfix is a repeat and is skipped; a new
postfix is a step at batch ``n`` of the open epoch, as long as ``n`` is not 0 and not below the
last step's batch. The first render that breaks that (a new epoch) goes back to the tracker.
The result is exactly that of reading every render one by one
(``tests/ingest/test_bar_columns.py``)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from maou_tui.ingest.maou_patterns import DIGITS_AS_ZERO

if TYPE_CHECKING:
    from maou_tui.ingest.lanes import LineSink
    from maou_tui.ingest.progress import BarTracker

# A render's shape is the render with its digits as 0s (``DIGITS_AS_ZERO``): a line of thousands
# of renders has a few dozen shapes, and where each field lies follows from the shape alone.
# A shape qualifies when it matches whole (the original's "f1" is checked apart: "f0" here).
# Each part of a number has at most 8 digits (read 8 at a time), a number at most 15 in all.
_NUMBER = rb"(0{1,8})(?:\.(0{1,8}))?"
_SHAPE = re.compile(
    rb"Training[^|\[\]=/\r\n]*\|[^|\[\]=/\r\n]*\| (0{1,8})/0{1,9} "
    rb"\[[^\],\[=|\r\n]*, [^\],\[=|\r\n]*, ((acc|accuracy|f0)="
    + _NUMBER
    + rb"(%?), loss="
    + _NUMBER
    + rb")\]"
)
_POW10 = 10.0 ** np.arange(16)  # exact: powers of ten up to 10**15
_CACHED_SHAPES = 4096


class _Layout(NamedTuple):
    """Where a qualifying shape's fields lie, from the render's first byte: each part of a
    number as (end, length); -1 everywhere for a shape that does not qualify."""

    batch_end: int
    batch_length: int
    metric_end: int
    metric_length: int
    metric_fraction_end: int
    metric_fraction_length: int
    percent: int
    loss_end: int
    loss_length: int
    loss_fraction_end: int
    loss_fraction_length: int
    postfix: int
    postfix_end: int
    f1_digit: int  # where the "1" of "f1" must be
    postfix_shape: int  # the postfix's shape, as a number: equal numbers, equal shapes


_NOT_A_RENDER = _Layout(*([-1] * len(_Layout._fields)))
_layouts: dict[bytes, _Layout] = {}
_postfix_shapes: dict[bytes, int] = {}


def _cached_layout(shape: bytes) -> _Layout:
    found = _layouts.get(shape)
    if found is None:
        found = _layouts[shape] = _layout(shape)
    return found


def _layout(shape: bytes) -> _Layout:
    m = _SHAPE.fullmatch(shape)
    if m is None or max(len(m[4]) + len(m[5] or b""), len(m[7]) + len(m[8] or b"")) > 15:
        return _NOT_A_RENDER
    return _Layout(
        m.end(1),
        len(m[1]),
        *_part(m, 4),
        *_part(m, 5),
        len(m[6]),
        *_part(m, 7),
        *_part(m, 8),
        m.start(2),
        m.end(2),
        m.end(3) - 1 if m[3] == b"f0" else -1,
        _postfix_shapes.setdefault(m[2], len(_postfix_shapes)),
    )


def _part(m: re.Match[bytes], group: int) -> tuple[int, int]:
    """(end, length) of a number's part; an absent fraction ends where its number does."""
    if m[group] is None:
        return m.end(group - 1), 0
    return m.end(group), len(m[group])


def read_renders(tracker: BarTracker, line: bytes, parser: LineSink) -> None:
    """Read every ``\\r`` render of ``line``: what ``tracker`` would read one by one."""
    renders = _Renders(line)
    i, count = 0, renders.count
    while i < count:
        if not renders.qualifies[i]:
            j = renders.next_qualifying(i)
            tracker.scan_segments(line[renders.starts[i] : renders.stops[j - 1]], parser)
            i = j
            continue
        run_start, run_end = i, renders.next_other(i)
        while i < run_end:
            if i > run_start and _ready(tracker, parser, renders.postfix(i - 1)):
                i = _read_run(tracker, parser, renders, i, run_end)
                if i == run_end:
                    break
            tracker.scan_segments(line[renders.starts[i] : renders.stops[i]], parser)
            i += 1


def _ready(tracker: BarTracker, parser: LineSink, previous_postfix: bytes) -> bool:
    """May the renders from here be read as columns (the conditions of ``_next_point`` that do
    not depend on the render, and the tracker's last postfix being the previous render's)?"""
    clock = parser.clock
    return (
        tracker.last_n is not None
        and parser.stage is not None
        and clock.length is not None
        and clock.is_open
        and tracker.last_postfix == previous_postfix
    )


def _read_run(
    tracker: BarTracker, parser: LineSink, renders: _Renders, first: int, end: int
) -> int:
    """Qualifying renders ``first..end-1``, the one before ``first`` qualifying too; returns
    where it stopped: ``end``, or the first render the tracker must read (a new epoch)."""
    offset = renders.rank(first) - first  # rank of render i is i + offset within the run
    new = np.flatnonzero(~renders.same_as_previous[first + offset : end + offset])
    kept = new + first + offset
    batches = renders.batch[kept]
    before = np.empty_like(batches)
    before[:1] = tracker.last_n or 0  # not None: _ready
    before[1:] = batches[:-1]
    bad = np.flatnonzero((batches == 0) | (batches < before))
    stop = end
    if bad.size:
        stop = int(kept[bad[0]]) - offset
        kept, batches = kept[: bad[0]], batches[: bad[0]]
    if kept.size:
        assert parser.stage is not None  # _ready
        parser.steps(parser.stage, batches, renders.loss[kept], renders.metric_cum[kept])
        last = int(kept[-1])
        tracker.took(int(batches[-1]), renders.postfix(last - offset), len(kept))
    return stop


class _Renders:
    """The ``\\r`` segments of one line and, for those that qualify, their fields as columns
    (indexed by rank among the qualifying ones)."""

    def __init__(self, line: bytes) -> None:
        self.line = line
        data = np.frombuffer(line, np.uint8)
        shapes = line.translate(DIGITS_AS_ZERO).split(b"\r")
        self.count = count = len(shapes)
        lengths = np.fromiter(map(len, shapes), np.int64, count)
        self.starts = np.zeros(count, np.int64)
        np.cumsum(lengths[:-1] + 1, out=self.starts[1:])
        self.stops = self.starts + lengths
        unique = dict.fromkeys(shapes)
        if len(_layouts) + len(unique) > _CACHED_SHAPES:
            _layouts.clear()
            _postfix_shapes.clear()
        table = np.array([_cached_layout(shape) for shape in unique], np.int64)
        ids = dict(zip(unique, range(len(unique)), strict=True))
        rows = table[np.fromiter(map(ids.__getitem__, shapes), np.intp, count)]
        self.qualifies = rows[:, 0] >= 0
        f1 = self.qualifies & (rows[:, 13] >= 0)
        self.qualifies[f1] = data[self.starts[f1] + rows[f1, 13]] == ord("1")
        self._qualifying = np.flatnonzero(self.qualifies)
        self._others = np.flatnonzero(~self.qualifies)
        rows, starts = rows[self._qualifying], self.starts[self._qualifying]
        n = len(rows)
        batch_parts = np.column_stack((rows[:, :2], rows[:, :1], np.zeros((n, 1), np.int64)))
        parts = np.concatenate((rows[:, 2:6], rows[:, 7:11], batch_parts))
        digits, values = decimals(data, np.tile(starts, 3), parts)  # all numbers in one go
        metric_digits, loss_digits, self.batch = digits[:n], digits[n : 2 * n], digits[2 * n :]
        metric, self.loss = values[:n], values[n : 2 * n]
        self.metric_cum = np.where(rows[:, 6] > 0, metric / 100, metric)
        self.same_as_previous = np.zeros(len(rows), bool)
        self.same_as_previous[1:] = (
            (rows[1:, 14] == rows[:-1, 14])
            & (metric_digits[1:] == metric_digits[:-1])
            & (loss_digits[1:] == loss_digits[:-1])
        )
        self._postfix_start = starts + rows[:, 11]
        self._postfix_stop = starts + rows[:, 12]

    def rank(self, index: int) -> int:
        """Rank of qualifying render ``index`` among the qualifying ones."""
        return int(np.searchsorted(self._qualifying, index))

    def postfix(self, index: int) -> bytes:
        """The postfix (``acc=95.1%, loss=0.1234``) of qualifying render ``index``."""
        rank = self.rank(index)
        return self.line[self._postfix_start[rank] : self._postfix_stop[rank]]

    def next_qualifying(self, index: int) -> int:
        return _next(self._qualifying, index, self.count)

    def next_other(self, index: int) -> int:
        return _next(self._others, index, self.count)


def _next(indices: np.ndarray, index: int, default: int) -> int:
    """The first of the sorted ``indices`` at or after ``index``, else ``default``."""
    at = int(np.searchsorted(indices, index))
    return int(indices[at]) if at < len(indices) else default


def decimals(
    data: np.ndarray, starts: np.ndarray, parts: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Numbers whose whole and fraction parts lie at ``parts`` (columns: end, length of each,
    from ``starts``): their digits as one integer, and their values. The value is that integer
    divided by a power of ten, both exact in float64 (at most 15 digits), so IEEE division rounds
    it as ``float(text)`` does."""
    n = len(starts)
    ends = np.concatenate((starts + parts[:, 0], starts + parts[:, 2]))
    words = _digits(data, ends, np.concatenate((parts[:, 1], parts[:, 3])))
    whole, fraction = words[:n], words[n:]
    integer = (whole * _POW10[parts[:, 3]].astype(np.uint64) + fraction).astype(np.int64)
    return integer, integer / _POW10[parts[:, 3]]


_ZEROS = np.uint64(0x3030303030303030)
# The low ``8 - k`` bytes cleared: the bytes before a part of ``k`` digits.
_KEEP = np.array([((1 << 64) - 1) ^ ((1 << (8 * (8 - k))) - 1) for k in range(9)], np.uint64)
_ROUNDS = [  # (mask of the high halves, shift, multiplier of the low halves): pairs, 4s, 8s
    (np.uint64(0x0F000F000F000F00), np.uint64(8), np.uint64(0x000F000F000F000F), np.uint64(10)),
    (np.uint64(0x00FF000000FF0000), np.uint64(16), np.uint64(0x000000FF000000FF), np.uint64(100)),
    (np.uint64(0x0000FFFF00000000), np.uint64(32), np.uint64(0x000000000000FFFF), np.uint64(10000)),
]


def _digits(data: np.ndarray, ends: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The integers written by ``lengths`` (0 to 8) ASCII digits ending before ``ends``
    (at least 8 bytes into ``data``). Hand-written because numpy has no vectorised decimal
    parser: eight bytes are read as one little-endian word and combined in three rounds of
    two (the SWAR method), a dozen array operations for all numbers instead of one per digit."""
    words = data[ends[:, None] - 8 + np.arange(8)].view("<u8")[:, 0]
    keep = _KEEP[lengths]
    words = (words & keep) - (_ZEROS & keep)
    for high, shift, low, multiplier in _ROUNDS:
        words = ((words & high) >> shift) + (words & low) * multiplier
    return words

"""maou's tqdm renders read as columns: a line of thousands of ``\\r`` renders in a few numpy
passes instead of Python per render.

Each render is classified by its shape (the render with its digits as 0s): a line holds a few
dozen shapes, each matched once against ``_SHAPE`` (maou's Training bar with its two-item postfix
in plain numbers, and none of ``| [ ] = /`` outside the places the pattern puts them). A shape
that matches fixes where every field of its renders lies, so batches, losses and metrics are
read for all renders at once (``_decimals``). Every other render (the ``0/N`` one, Validation
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
_NUMBER = rb"(0{1,15}(?:\.0{1,15})?)"  # at most 15 digits in all: exact as mantissa / 10**k
_SHAPE = re.compile(
    rb"Training[^|\[\]=/\r\n]*\|[^|\[\]=/\r\n]*\| (0{1,9})/0{1,9} "
    rb"\[[^\],\[=|\r\n]*, [^\],\[=|\r\n]*, ((acc|accuracy|f0)="
    + _NUMBER
    + rb"(%?), loss="
    + _NUMBER
    + rb")\]"
)
_WIDTH = 16  # bytes of a number: 15 digits and a point
_POW10_INT = 10 ** np.arange(_WIDTH, dtype=np.int64)
_POW10 = _POW10_INT.astype(np.float64)  # exact: powers of ten up to 10**15
_CACHED_SHAPES = 4096


class _Layout(NamedTuple):
    """Where a qualifying shape's fields lie, from the render's first byte (-1: none)."""

    batch: int
    batch_length: int
    metric: int
    metric_length: int
    metric_point: int
    percent: int
    loss: int
    loss_length: int
    loss_point: int
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
    if m is None or max(m.group(4).count(b"0"), m.group(6).count(b"0")) > 15:
        return _NOT_A_RENDER
    postfix = m.group(2)
    return _Layout(
        m.start(1),
        len(m.group(1)),
        m.start(4),
        len(m.group(4)),
        m.group(4).find(b"."),
        len(m.group(5)),
        m.start(6),
        len(m.group(6)),
        m.group(6).find(b"."),
        m.start(2),
        m.end(2),
        m.end(3) - 1 if m.group(3) == b"f0" else -1,
        _postfix_shapes.setdefault(postfix, len(_postfix_shapes)),
    )


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
    before[:1] = tracker.last_n
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
        f1 = self.qualifies & (rows[:, 11] >= 0)
        self.qualifies[f1] = data[self.starts[f1] + rows[f1, 11]] == ord("1")
        self._qualifying = np.flatnonzero(self.qualifies)
        self._others = np.flatnonzero(~self.qualifies)
        rows, starts = rows[self._qualifying], self.starts[self._qualifying]
        batch, _ = _decimals(data, starts + rows[:, 0], rows[:, 1], np.full(len(rows), -1))
        metric_digits, metric = _decimals(data, starts + rows[:, 2], rows[:, 3], rows[:, 4])
        loss_digits, self.loss = _decimals(data, starts + rows[:, 6], rows[:, 7], rows[:, 8])
        self.batch = batch
        self.metric_cum = np.where(rows[:, 5] > 0, metric / 100, metric)
        self.same_as_previous = np.zeros(len(rows), bool)
        self.same_as_previous[1:] = (
            (rows[1:, 12] == rows[:-1, 12])
            & (metric_digits[1:] == metric_digits[:-1])
            & (loss_digits[1:] == loss_digits[:-1])
        )
        self._postfix_start = starts + rows[:, 9]
        self._postfix_stop = starts + rows[:, 10]

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


def _decimals(
    data: np.ndarray, starts: np.ndarray, lengths: np.ndarray, points: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The numbers written at ``data[start:start + length]`` (digits, a point at ``point`` or
    none at -1, at most 15 digits): their digits as one integer, and their values. The value is
    that integer divided by a power of ten, both exact in float64, so IEEE division rounds it
    as ``float(text)`` does."""
    if not len(starts):
        return np.zeros(0, np.int64), np.zeros(0)
    columns = np.arange(int(lengths.max()))
    length, point = lengths[:, None], points[:, None]
    digits = data[np.minimum(starts[:, None] + columns, len(data) - 1)].astype(np.int64) - 48
    exponents = length - 1 - columns - (point > columns)  # digits after this one
    used = (columns < length) & (columns != point)
    integer = np.where(used, digits * _POW10_INT[np.clip(exponents, 0, 15)], 0).sum(axis=1)
    fraction = np.where(points >= 0, lengths - points - 1, 0)
    return integer, integer / _POW10[fraction]

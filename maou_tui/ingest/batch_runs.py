"""Runs of the LR guide's batch lines (``Epoch E Batch B/N: Loss=.., F1=..%``) read in bulk.

A train.log is almost all such lines, and reading them one by one cost ~4.6 µs of Python each.
Here a block's lines are classified by shape (the line with its digits as 0s: a train.log has
a few dozen shapes, each matched once with ``BATCH_LINE``, which treats all digits alike), runs
of adjacent batch lines are found with C-level list scans, a ``findall`` per run takes its numbers
(``BATCH_FIELDS``), and the columns are converted with ``map``/list comprehensions and appended
to the parser's ``StepBatch`` in one go. Everything between runs goes through ``feed_lines``.

The result is exactly that of reading every line with ``LineSink.feed_lines``
(``tests/ingest/test_batch_runs.py`` checks it). A run's first line goes through the parser
(stage, epoch opening, a pending ``EpochEnd``, a multi-line message). The rest is read in bulk
only where that is provably the same, else line by line: no multi-line message is open; each
line holds one ``Batch `` (its message's, so ``BATCH_FIELDS`` reads that one); and every line
names the now open epoch (``Epoch E Batch``), or none does and the open epoch is >= 1. Then the
clock's work per line is only: the epoch's length is its first ``/N``, its largest batch is the
largest seen, and the global step is ``offset + batch``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from itertools import islice
from typing import TYPE_CHECKING, NamedTuple, cast

import numpy as np

from maou_tui.ingest.bar_columns import decimals
from maou_tui.ingest.maou_patterns import (
    BATCH_FIELDS,
    BATCH_LINE,
    DIGITS_AS_ZERO,
    FIRST_TOTAL,
    as_value,
)

if TYPE_CHECKING:
    from maou_tui.ingest.lanes import LineSink

Fields = tuple[bytes, bytes, bytes, bytes]  # batch, loss, metric, "%" ("" = none)


def feed_runs(parser: LineSink, block: bytes) -> None:
    """``parser.feed_lines(block)``, with runs of batch lines read in bulk (no ``\\r`` in it)."""
    pos = 0
    for start, end, lines, shapes in _runs(block):
        if start > pos:
            parser.feed_lines(block[pos:start])
        _read_run(parser, block, start, end, lines, shapes)
        pos = end
    if pos < len(block):
        parser.feed_lines(block[pos:])


def _runs(block: bytes) -> Iterator[tuple[int, int, int, list[bytes]]]:
    """(start, end, lines, shapes) of each run of two or more adjacent batch lines, with their
    breaks; ``shapes`` are the run's lines with their digits as 0s."""
    shapes = block.translate(DIGITS_AS_ZERO).split(b"\n")
    is_batch = dict.fromkeys(set(shapes), False)
    is_batch.update({s: BATCH_LINE.fullmatch(s) is not None for s in is_batch if b"Batch " in s})
    flags = list(map(is_batch.__getitem__, shapes))
    n, i, pos = len(flags), 0, 0  # line i starts at byte pos
    while i < n:
        j = _index(flags, not flags[i], i, n)  # lines i..j-1 are alike
        size = sum(map(len, islice(shapes, i, j))) + j - i  # their bytes, breaks included
        if flags[i] and j - i > 1:
            yield pos, min(pos + size, len(block)), j - i, shapes[i:j]
        i, pos = j, pos + size


def _index(flags: list[bool], value: bool, start: int, stop: int) -> int:
    """``flags.index(value, start)`` (a C-level scan), or ``stop`` if it is not there."""
    try:
        return flags.index(value, start)
    except ValueError:
        return stop


def _read_run(
    parser: LineSink, block: bytes, start: int, end: int, lines: int, shapes: list[bytes]
) -> None:
    """Whole lines ``block[start:end]``, ``lines`` of them, every one a batch line."""
    first_end = block.find(b"\n", start, end) + 1 or end
    parser.feed_lines(block[start:first_end])
    if not _may_read_in_bulk(parser, block, first_end, end, lines - 1):
        parser.feed_lines(block[first_end:end])
        return
    first = FIRST_TOTAL.search(block, first_end, end) if parser.clock.length is None else None
    if first is not None:
        parser.clock.learn_length(int(first.group(1)))
    columns = _plain_columns(block, first_end, shapes[1:])
    _add_steps(parser, columns or _columns(BATCH_FIELDS.findall(block, first_end, end)))


def _may_read_in_bulk(parser: LineSink, block: bytes, start: int, end: int, lines: int) -> bool:
    """May the ``lines`` lines ``block[start:end]`` be read in bulk?"""
    if parser.in_message() or block.count(b"Batch ", start, end) != lines:
        return False
    epoch = parser.clock.epoch  # open: the run's first line was a step (no message is open)
    named = block.count(b"Epoch %d Batch " % epoch, start, end)
    return named == lines or (epoch >= 1 and block.find(b"Epoch ", start, end) < 0)


class _Columns(NamedTuple):
    """A run's steps: batches, losses (None: not finite), running means (None: none)."""

    batches: list[int] | np.ndarray
    losses: list[float | None] | np.ndarray
    metrics: list[float | None] | np.ndarray


def _columns(rows: list[Fields]) -> _Columns:
    """``BATCH_FIELDS.findall`` rows (one a line: one ``Batch `` a line) as columns."""
    return _Columns(
        [int(row[0]) for row in rows],
        _losses([row[1] for row in rows]),
        _metrics([row[2] for row in rows], [row[3] for row in rows]),
    )


def _add_steps(parser: LineSink, columns: _Columns) -> None:
    """Lines of the open epoch, after its first one went through the parser: what ``step``
    and the clock would do line by line, column by column."""
    clock = parser.clock
    batches = np.asarray(columns.batches, np.int64)
    clock.see_batches(int(batches.max()))
    assert parser.stage is not None  # the open epoch's first line set it
    parser.steps_of(parser.stage).extend(
        batches + clock.offset,
        np.full(len(batches), clock.epoch, np.int64),
        batches,
        columns.losses,
        columns.metrics,
    )


def _losses(texts: list[bytes]) -> list[float | None]:
    """Losses as ``step`` keeps them: a non-finite one is None."""
    values = list(map(float, texts))
    total = sum(values)  # finite unless a value is not (or the sum overflows): then look
    if not math.isfinite(total):
        return [v if math.isfinite(v) else None for v in values]
    return cast("list[float | None]", values)  # no None in it; the list is not added to


def _metrics(texts: list[bytes], pcts: list[bytes]) -> list[float | None]:
    """Running means as ``as_value`` makes them: ``75.00%`` is 0.75; absent is None."""
    n = len(texts)
    if pcts.count(b"%") == n:
        return [v / 100.0 for v in map(float, texts)]
    if texts.count(b"") == n:
        return [None] * n
    if texts.count(b"") == 0 and pcts.count(b"") == n:
        return list(map(float, texts))
    return [as_value(t, p) if t else None for t, p in zip(texts, pcts, strict=True)]


class _Layout(NamedTuple):
    """Where a batch line's numbers lie from its first byte, as ``decimals``'s parts (end and
    length of the whole part, then of the fraction), for a shape whose numbers are plain
    (``\\d{1,8}(\\.\\d{1,8})?``, at most 15 digits). Without a metric, its parts are the
    batch's."""

    batch: tuple[int, int, int, int]
    loss: tuple[int, int, int, int]
    metric: tuple[int, int, int, int]
    has_metric: bool
    percent: bool


_PLAIN = re.compile(rb"(0{1,8})(?:\.(0{1,8}))?")
_FRONT = 8  # zero bytes before a run: decimals reads the 8 bytes before a number's end
_CACHED_SHAPES = 4096
_layouts: dict[bytes, _Layout | None] = {}


def _plain_columns(block: bytes, start: int, shapes: list[bytes]) -> _Columns | None:
    """The columns of the lines from ``block[start:]`` whose shapes are ``shapes``, read with
    numpy where every line's numbers are plain and all or none have a metric; else None (then
    ``BATCH_FIELDS.findall`` reads them: hand-written because no regex engine returns numbers
    as columns, and Python's float() per line was most of a train.log's cost)."""
    unique = dict.fromkeys(shapes)
    layouts = _plain_layouts(list(unique))
    if layouts is None or len({layout.has_metric for layout in layouts}) != 1:
        return None
    table = np.array(
        [(*lay.batch, *lay.loss, *lay.metric, lay.percent) for lay in layouts], np.int64
    )
    ids = dict(zip(unique, range(len(unique)), strict=True))
    n = len(shapes)
    rows = table[np.fromiter(map(ids.__getitem__, shapes), np.intp, n)]
    starts = np.full(n, _FRONT, np.int64)
    np.cumsum(np.fromiter(map(len, shapes[:-1]), np.int64, n - 1) + 1, out=starts[1:])
    starts[1:] += _FRONT
    run = block[start : start + int(starts[-1]) - _FRONT + len(shapes[-1])]
    data = np.frombuffer(bytes(_FRONT) + run, np.uint8)
    parts = np.concatenate((rows[:, 0:4], rows[:, 4:8], rows[:, 8:12]))
    digits, values = decimals(data, np.tile(starts, 3), parts)
    if not layouts[0].has_metric:
        return _Columns(digits[:n], values[n : 2 * n], [None] * n)
    metrics = values[2 * n :]
    return _Columns(
        digits[:n], values[n : 2 * n], np.where(rows[:, 12] > 0, metrics / 100, metrics)
    )


def _plain_layouts(shapes: list[bytes]) -> list[_Layout] | None:
    """The layouts of these shapes (cached), None if one of them has a number not plain."""
    if len(_layouts) + len(shapes) > _CACHED_SHAPES:
        _layouts.clear()
    found = []
    for shape in shapes:
        if shape not in _layouts:
            _layouts[shape] = _layout(shape)
        layout = _layouts[shape]
        if layout is None:
            return None
        found.append(layout)
    return found


def _layout(shape: bytes) -> _Layout | None:
    """The layout of a batch line's shape (``BATCH_FIELDS`` reads the line's numbers where it
    reads the shape's: it treats all digits alike), None if a number is not plain."""
    m = BATCH_FIELDS.search(shape)
    if m is None or len(m[1]) > 8:
        return None
    batch = (m.end(1), len(m[1]), m.end(1), 0)
    loss = _plain_parts(m, 2)
    metric = _plain_parts(m, 3) if m[3] else batch
    if loss is None or metric is None:
        return None
    return _Layout(batch, loss, metric, bool(m[3]), bool(m[4]))


def _plain_parts(m: re.Match[bytes], group: int) -> tuple[int, int, int, int] | None:
    number = _PLAIN.fullmatch(m[group])
    if number is None or len(number[1]) + len(number[2] or b"") > 15:
        return None
    whole_end = m.start(group) + number.end(1)
    if number[2] is None:
        return whole_end, len(number[1]), whole_end, 0
    return whole_end, len(number[1]), m.start(group) + number.end(2), len(number[2])

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
from collections.abc import Iterator
from itertools import islice
from typing import TYPE_CHECKING, cast

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
    for start, end, lines in _runs(block):
        if start > pos:
            parser.feed_lines(block[pos:start])
        _read_run(parser, block, start, end, lines)
        pos = end
    if pos < len(block):
        parser.feed_lines(block[pos:])


def _runs(block: bytes) -> Iterator[tuple[int, int, int]]:
    """(start, end, lines) of each run of two or more adjacent batch lines, with their breaks."""
    shapes = block.translate(DIGITS_AS_ZERO).split(b"\n")
    is_batch = dict.fromkeys(set(shapes), False)
    is_batch.update({s: BATCH_LINE.fullmatch(s) is not None for s in is_batch if b"Batch " in s})
    flags = list(map(is_batch.__getitem__, shapes))
    n, i, pos = len(flags), 0, 0  # line i starts at byte pos
    while i < n:
        j = _index(flags, not flags[i], i, n)  # lines i..j-1 are alike
        size = sum(map(len, islice(shapes, i, j))) + j - i  # their bytes, breaks included
        if flags[i] and j - i > 1:
            yield pos, min(pos + size, len(block)), j - i  # the last line may have no break
        i, pos = j, pos + size


def _index(flags: list[bool], value: bool, start: int, stop: int) -> int:
    """``flags.index(value, start)`` (a C-level scan), or ``stop`` if it is not there."""
    try:
        return flags.index(value, start)
    except ValueError:
        return stop


def _read_run(parser: LineSink, block: bytes, start: int, end: int, lines: int) -> None:
    """Whole lines ``block[start:end]``, ``lines`` of them, every one a batch line."""
    first_end = block.find(b"\n", start, end) + 1 or end
    parser.feed_lines(block[start:first_end])
    rows = _bulk_fields(parser, block, first_end, end, lines - 1)
    if rows is None:
        parser.feed_lines(block[first_end:end])
        return
    first = FIRST_TOTAL.search(block, first_end, end) if parser.clock.length is None else None
    if first is not None:
        parser.clock.learn_length(int(first.group(1)))
    _add_steps(parser, rows)


def _bulk_fields(
    parser: LineSink, block: bytes, start: int, end: int, lines: int
) -> list[Fields] | None:
    """The fields of the ``lines`` lines ``block[start:end]`` if they may be read in bulk."""
    if parser.in_message() or block.count(b"Batch ", start, end) != lines:
        return None
    epoch = parser.clock.epoch  # open: the run's first line was a step (no message is open)
    named = block.count(b"Epoch %d Batch " % epoch, start, end)
    if named != lines and not (epoch >= 1 and block.find(b"Epoch ", start, end) < 0):
        return None
    return BATCH_FIELDS.findall(block, start, end)  # one row a line: one "Batch " a line


def _add_steps(parser: LineSink, rows: list[Fields]) -> None:
    """Lines of the open epoch, after its first one went through the parser: what ``step``
    and the clock would do line by line, column by column."""
    clock = parser.clock
    batches = [int(row[0]) for row in rows]
    clock.see_batches(max(batches))
    offset = clock.offset
    assert parser.stage is not None  # the open epoch's first line set it
    parser.steps_of(parser.stage).extend(
        [offset + b for b in batches],
        [clock.epoch] * len(batches),
        batches,
        _losses([row[1] for row in rows]),
        _metrics([row[2] for row in rows], [row[3] for row in rows]),
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

"""Runs of the LR guide's batch lines (``Epoch E Batch B/N: Loss=.., F1=..%``) read in bulk.

A train.log is almost all such lines, and reading them one by one cost ~4.6 µs of Python each.
Here one regex finds each run of adjacent whole batch lines (``BATCH_RUN``), a ``findall``
takes the run's numbers (``BATCH_FIELDS``), and the columns are converted with ``map``/list
comprehensions and appended to the parser's ``StepBatch`` in one go. Everything between runs
goes through ``feed_lines`` in order.

The result is exactly that of reading every line with ``MaouLogParser.feed_lines``
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
from typing import TYPE_CHECKING

from maou_tui.ingest.maou_patterns import BATCH_FIELDS, BATCH_RUN, as_value

if TYPE_CHECKING:
    from maou_tui.ingest.maou_log import MaouLogParser

Fields = tuple[bytes, bytes, bytes, bytes, bytes]  # batch, total, loss, metric, "%" ("" = none)


def feed_runs(parser: MaouLogParser, block: bytes) -> None:
    """``parser.feed_lines(block)``, with runs of batch lines read in bulk (no ``\\r`` in it)."""
    pos = 0
    for run in BATCH_RUN.finditer(block):
        start, end = run.span()
        if start > pos:
            parser.feed_lines(block[pos:start])
        _read_run(parser, block, start, end)
        pos = end
    if pos < len(block):
        parser.feed_lines(block[pos:])


def _read_run(parser: MaouLogParser, block: bytes, start: int, end: int) -> None:
    """Whole lines ``block[start:end]``, every one a batch line."""
    first_end = block.find(b"\n", start, end) + 1 or end
    parser.feed_lines(block[start:first_end])
    if first_end == end:
        return
    rows = _bulk_fields(parser, block, first_end, end)
    if rows is None:
        parser.feed_lines(block[first_end:end])
    else:
        _add_steps(parser, rows)


def _bulk_fields(parser: MaouLogParser, block: bytes, start: int, end: int) -> list[Fields] | None:
    """The fields of the lines ``block[start:end]`` if they may be read in bulk, else None."""
    lines = block.count(b"\n", start, end) + (block[end - 1] != ord("\n"))
    if parser.in_message() or block.count(b"Batch ", start, end) != lines:
        return None
    epoch = parser.clock.epoch  # open: the run's first line was a step (no message is open)
    named = block.count(b"Epoch %d Batch " % epoch, start, end)
    if named != lines and not (epoch >= 1 and block.find(b"Epoch ", start, end) < 0):
        return None
    return BATCH_FIELDS.findall(block, start, end)  # one row a line: one "Batch " a line


def _add_steps(parser: MaouLogParser, rows: list[Fields]) -> None:
    """Lines of the open epoch, after its first one went through the parser: what ``step``
    and the clock would do line by line, column by column."""
    batch, total, loss, metric, pct = zip(*rows, strict=True)
    clock = parser.clock
    if clock.length is None:
        first = next((t for t in total if t), None)
        if first is not None:
            clock.length = int(first)
    batches = list(map(int, batch))
    clock.max_batch = max(clock.max_batch, max(batches))
    offset = clock.offset
    parser.steps_of(parser.stage).extend(
        [offset + b for b in batches],
        [clock.epoch] * len(batches),
        batches,
        _losses(loss),
        _metrics(metric, pct),
    )


def _losses(texts: tuple[bytes, ...]) -> list[float | None]:
    """Losses as ``step`` keeps them: a non-finite one is None."""
    values: list[float | None] = list(map(float, texts))
    total = sum(values)  # finite unless a value is not (or the sum overflows): then look
    if not math.isfinite(total):
        values = [v if math.isfinite(v) else None for v in values]
    return values


def _metrics(texts: tuple[bytes, ...], pcts: tuple[bytes, ...]) -> list[float | None]:
    """Running means as ``as_value`` makes them: ``75.00%`` is 0.75; absent is None."""
    n = len(texts)
    if pcts.count(b"%") == n:
        return [v / 100.0 for v in map(float, texts)]
    if texts.count(b"") == n:
        return [None] * n
    if texts.count(b"") == 0 and pcts.count(b"") == n:
        return list(map(float, texts))
    return [as_value(t, p) if t else None for t, p in zip(texts, pcts, strict=True)]

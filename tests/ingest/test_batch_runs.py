"""Runs of the guide's batch lines read in bulk (``batch_runs.py``) give exactly the store and
the events that reading every line one by one gives, whatever the runs hold and however the
bytes arrive."""

from __future__ import annotations

import itertools
import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from maou_tui.ingest import batch_runs, maou_log
from maou_tui.ingest.lines import LineBuffer
from maou_tui.ingest.maou_log import MaouLogParser
from maou_tui.store import RunStore
from tests.ingest.conftest import GOLDEN, parse_pieces
from tests.ingest.test_fast_paths import _same_store

PREFIX = b"2026-08-22T10:15:00+09:00 | INFO  | train_log.py | batch_progress | 90 | "
GOLDEN_LOGS = sorted(path.name for path in GOLDEN.glob("*.log"))


def _line_by_line(patch: pytest.MonkeyPatch) -> None:
    patch.setattr(maou_log, "feed_runs", lambda parser, block: parser.feed_lines(block))


def _store(pieces: list[bytes]) -> RunStore:
    """What ``load_store``/a columns tail builds from these bytes, in these pieces."""
    lines, parser, store = LineBuffer(), MaouLogParser(), RunStore()
    for piece in pieces:
        store.apply_all(parser.feed(lines.feed(piece), columns=True))
    store.apply_all(parser.feed(lines.flush(), columns=True) + parser.finish(columns=True))
    return store


def _both_ways(pieces: list[bytes], monkeypatch: pytest.MonkeyPatch) -> None:
    bulk, bulk_events = _store(pieces), parse_pieces(pieces)
    with monkeypatch.context() as patch:
        _line_by_line(patch)
        general, general_events = _store(pieces), parse_pieces(pieces)
    _same_store(bulk, general)
    assert bulk_events == general_events


@pytest.mark.parametrize("name", GOLDEN_LOGS)
def test_golden_logs_load_the_same_in_bulk(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    _both_ways([(GOLDEN / name).read_bytes()], monkeypatch)


def _batch(epoch: int | None, batch: int, loss: str = "0.25", metric: str = ", F1=75.5%") -> bytes:
    head = f"Epoch {epoch} " if epoch is not None else ""
    return f"{head}Batch {batch}/40: Loss={loss}{metric}".encode()


# Lines a run may hold or be cut by: epochs changing and batches going back inside a run, bare
# and prefixed lines, nan/inf, % and fractions, Accuracy/F1/none, multi-line messages, text
# that only looks like a prefix or a batch line, a "Batch " in a prefix or a label, bad UTF-8.
LINES = [
    *(PREFIX + _batch(e, b) for e in (1, 2) for b in (1, 2, 3, 39, 40)),
    *(_batch(e, b) for e in (None, 1, 2) for b in (4, 5)),
    PREFIX + _batch(0, 6),
    PREFIX + _batch(1, 7, "nan"),
    PREFIX + _batch(1, 8, "1e999", ", Accuracy=0.5"),
    PREFIX + _batch(2, 9, "-inf", ", F1=nan%"),
    PREFIX + _batch(2, 10, "0.1", ""),
    _batch(3, 11, ".5", ", F1=1e999%"),
    b"  " + _batch(1, 12),
    b"Epoch 1 Batch 13: Loss=0.5",
    PREFIX + b"Epoch 01 Batch 14/40: Loss=0.5, F1=1%",
    PREFIX + _batch(1, 15, "0.3", ", Batch 5=2%"),
    b"2026-08-22 | Batch 1: x | a | b | c | " + _batch(1, 16),
    b"12 | x Batch 1: Loss=1",
    b"12 | INFO",
    b" | a | b | c | " + _batch(1, 17),
    PREFIX + _batch(1, 18) + b" tail",
    PREFIX + b"Epoch 1 Batch 19/40: Loss=0.5, Pr\xc3\xa9cision=50%",
    PREFIX + _batch(1, 20)[:-3] + b"\xff%",
    PREFIX + b"STAGE 1: REACHABLE SQUARES LEARNING",
    PREFIX + b"STAGE 2: LEGAL MOVES LEARNING",
    PREFIX + b"Stage 2 Epoch 1/5: Loss=0.0500, F1=60.00%",
    PREFIX + b"Stage LEGAL_MOVES Epoch 1: LR = 0.000400",
    PREFIX + b"Epoch 2: Train Loss=0.0100, Val Loss=0.0200, Val F1=82.00%",
    PREFIX + b"METRICS",
    b"  policy_f1_score: 0.5",
    PREFIX + b"=== Training Configuration ===",
    b"Batch: 256, Epoch: 10",
    b"=====",
    b"Training:  5%|#| 5/40 [00:01<00:09, 9.1it/s, acc=95.1%, loss=0.1234]\r",
    b"",
]


TRICKY = {
    "epoch 0, then bare lines (epoch 1)": [_batch(0, 1), _batch(None, 2), _batch(None, 3)],
    "a multi-line message swallows bare lines": [
        PREFIX + b"=== Training Configuration ===",  # Stage 3 begins
        b"=====",
        PREFIX + _batch(1, 1),
        PREFIX + b"=== Training Configuration ===",
        _batch(1, 2),
        _batch(1, 3),
        _batch(1, 4),
        b"=====",
        _batch(1, 5),
    ],
    "a prefix names an epoch, its message another": [
        _batch(1, 1),
        b"2026 | Epoch 1 Batch x | a | b | c | " + _batch(2, 2),
        _batch(1, 3),
    ],
    "the epoch's length comes after its first line": [
        b"Epoch 1 Batch 1: Loss=0.5",
        b"Epoch 1 Batch 2: Loss=0.5",
        b"Epoch 1 Batch 3/40: Loss=0.5",
        b"Epoch 1 Batch 4/50: Loss=0.5",
        PREFIX + b"Stage 2 Epoch 1/5: Loss=0.05, F1=60%",
        _batch(2, 1),
    ],
    "a later /N does not change the epoch's length": [
        _batch(1, 1),
        b"Epoch 1 Batch 2/50: Loss=0.5",
        b"Epoch 1 Batch 3/50: Loss=0.5",
        PREFIX + b"Stage 2 Epoch 1/5: Loss=0.05, F1=60%",
        _batch(2, 1),
    ],
}


@pytest.mark.parametrize("case", sorted(TRICKY))
def test_tricky_runs_load_the_same_in_bulk(case: str, monkeypatch: pytest.MonkeyPatch) -> None:
    data = PREFIX + b"STAGE 2: LEGAL MOVES LEARNING\n" + b"\n".join(TRICKY[case]) + b"\n"
    _both_ways([data], monkeypatch)
    _both_ways(_split(data, list(range(7, len(data), 29))), monkeypatch)


def _split(data: bytes, cuts: list[int]) -> list[bytes]:
    bounds = [0, *sorted({c % (len(data) + 1) for c in cuts}), len(data)]
    return [data[a:b] for a, b in itertools.pairwise(bounds)]


RUN = st.tuples(
    st.integers(0, 60),  # where it goes
    st.sampled_from([None, 0, 1, 2, 3]),  # its epoch (None: bare "Batch B/N" lines)
    st.lists(st.tuples(st.integers(1, 45), st.booleans(), st.sampled_from(["0.5", "nan"]))),
)


@settings(max_examples=200, deadline=None)
@given(
    picks=st.lists(st.integers(0, len(LINES) - 1), max_size=60),
    runs=st.lists(RUN, max_size=4),
    cuts=st.lists(st.integers(0, 10**5), max_size=6),
    crlf=st.booleans(),
)
def test_generated_logs_load_the_same_in_bulk_at_any_split(
    picks: list[int], runs: list, cuts: list[int], crlf: bool
) -> None:
    lines = [LINES[i] for i in picks]
    for where, epoch, batches in runs:  # runs of one epoch, prefixed or bare, batches going back
        run = [
            (PREFIX if prefixed else b"") + _batch(epoch, b, loss) for b, prefixed, loss in batches
        ]
        lines[where:where] = run
    data = b"".join(line + (b"\r\n" if crlf else b"\n") for line in lines)
    monkeypatch = pytest.MonkeyPatch()
    try:
        _both_ways(_split(data, cuts), monkeypatch)
    finally:
        monkeypatch.undo()


def test_a_run_of_batch_lines_is_not_read_line_by_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """A train.log of 2 epochs of 600 lines: a few lines go through the parser, not 1,200."""
    seen = []
    original = MaouLogParser.feed_lines
    monkeypatch.setattr(
        MaouLogParser,
        "feed_lines",
        lambda self, block: seen.append(block.count(b"\n")) or original(self, block),
    )
    data = PREFIX + b"STAGE 2: LEGAL MOVES LEARNING\n"
    for epoch in (1, 2):
        data += b"".join(PREFIX + _batch(epoch, b % 40 + 1) + b"\n" for b in range(600))
        data += PREFIX + f"Stage 2 Epoch {epoch}/5: Loss=0.05, F1=60%\n".encode()
    store = _store([data])
    assert len(store.series("loss")) == 1200
    assert store.series("loss").steps.tolist()[598:602] == [39, 40, 41, 42]
    assert sum(seen) < 10


def test_a_mixed_run_falls_back_to_line_by_line(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    monkeypatch.setattr(
        batch_runs, "_add_steps", lambda parser, columns: calls.append(len(columns.batches))
    )
    parser = MaouLogParser()
    parser.feed(b"".join(_batch(e, b) + b"\n" for e, b in ((1, 1), (1, 2), (2, 1), (2, 2))))
    assert calls == []  # the epoch changes inside the run: nothing is taken in bulk
    parser.feed(b"".join(_batch(3, b) + b"\n" for b in (1, 2, 3)))
    assert calls == [2]  # the first line goes through the parser


def _plain(rng: random.Random, most: int) -> str:
    whole = "".join(rng.choices("0123456789", k=rng.randint(1, most)))
    if rng.random() < 0.3:
        return whole
    return whole + "." + "".join(rng.choices("0123456789", k=rng.randint(1, most)))


def test_plain_numbers_are_read_as_columns_exactly_as_findall_reads_them() -> None:
    """The numpy reading of a run's plain numbers equals ``int``/``float`` of each text (via
    ``findall``, the reference), and a run whose lines disagree on having a metric, or with a
    number of over 15 digits, is left to ``findall``."""
    rng, taken = random.Random(7), 0
    for _ in range(300):
        lines = []
        for _ in range(rng.randint(1, 12)):
            label = rng.choice(["", ", F1=", ", Accuracy="] if rng.random() < 0.2 else [", F1="])
            metric = _plain(rng, 7) + rng.choice(["", "%"]) if label else ""
            batch, loss = rng.randint(0, 10**8 - 1), _plain(rng, 8)
            lines.append(PREFIX + f"Epoch 1 Batch {batch}/40: Loss={loss}{label}{metric}".encode())
        block = b"\n".join(lines) + b"\n"
        shapes = block.translate(batch_runs.DIGITS_AS_ZERO).split(b"\n")[:-1]
        columns = batch_runs._plain_columns(block, 0, shapes)
        if columns is None:
            continue
        taken += 1
        expected = batch_runs._columns(batch_runs.BATCH_FIELDS.findall(block))
        for got, want in zip(columns, expected, strict=True):
            assert list(np.asarray(got, object)) == list(want)
    assert taken > 150  # most runs are plain

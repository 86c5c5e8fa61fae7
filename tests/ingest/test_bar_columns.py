"""tqdm renders read as columns (``bar_columns.py``) give exactly the store and the events that
reading every ``\\r`` render one by one gives: on the real maou capture, the golden logs, other
trainers' captured logs, the benchmark's dense and sparse shapes, and near-miss renders."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from maou_tui.ingest import bar_columns, load_store, maou_log, progress
from tests.ingest.conftest import GOLDEN, parse_pieces
from tests.ingest.test_bulk_bars import PREFIX, _bar, _log
from tests.ingest.test_fast_paths import _same_store

TRAINER_LOGS = Path(__file__).parent / "trainer_logs"
CAPTURES = [
    *sorted(GOLDEN.glob("*.log")),
    GOLDEN / "maou_real_all_stages.typescript",
    *sorted(TRAINER_LOGS.glob("*.log")),
]


def _in_columns(patch: pytest.MonkeyPatch) -> None:
    """Every line of renders is read as columns."""
    patch.setattr(progress, "_COLUMN_BYTES", 0)
    patch.setattr(progress, "_COLUMN_DENSITY", -1.0)


def _one_by_one(patch: pytest.MonkeyPatch) -> None:
    """Every render on its own: no columns, no stepping over repeats, no fast lane."""
    patch.setattr(progress, "_COLUMN_BYTES", 1 << 60)
    patch.setattr(progress.BarTracker, "_skip_repeats", lambda self, line, pos: pos)
    patch.setattr(progress.BarTracker, "_next_point", lambda self, segment, parser: False)
    patch.setattr(maou_log, "split_lines", lambda block: block.split(b"\n"))


def _both_ways(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = path.read_bytes()
    with monkeypatch.context() as patch:
        _in_columns(patch)
        columns, column_events = load_store(path), parse_pieces([data])
    with monkeypatch.context() as patch:
        _one_by_one(patch)
        general, general_events = load_store(path), parse_pieces([data])
    _same_store(columns, general)
    assert column_events == general_events


@pytest.mark.parametrize("path", CAPTURES, ids=lambda path: path.name)
def test_captures_load_the_same_in_columns(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _both_ways(path, monkeypatch)


def _epoch(total: int, every: int, postfix_every: int, stage: int, rng: random.Random) -> bytes:
    """The benchmark's shape: a render every ``every`` batches, a new postfix every
    ``postfix_every``; the ``0/N`` render first."""
    renders = [f"Training:   0%|          | 0/{total} [00:00<?, ?it/s]".encode()]
    postfix = ""
    for n in range(1, total + 1, every):
        if n == 1 or (n - 1) // postfix_every != (n - 1 - every) // postfix_every:
            metric, loss = rng.uniform(0, 1), rng.uniform(0, 2)
            postfix = (
                f"acc={100 * metric:.1f}%, loss={loss:.4f}"
                if stage == 1
                else f"f1={metric:.4f}, loss={loss:.4f}"
            )
        renders.append(_bar(n, total, postfix))
    return b"\r" + b"\r".join(renders) + b"\n"


@pytest.mark.parametrize("postfix_every", [1, 50], ids=["dense", "sparse"])
def test_benchmark_shapes_load_the_same_in_columns(
    postfix_every: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(postfix_every)
    parts = []
    for stage, title in ((1, "REACHABLE SQUARES"), (2, "LEGAL MOVES")):
        parts.append(PREFIX + f"STAGE {stage}: {title} LEARNING\n".encode())
        for epoch in (1, 2):
            parts.append(_epoch(900, 3, postfix_every, stage, rng))
            parts.append(PREFIX + f"Stage {stage} Epoch {epoch}/9: Loss=0.5, F1=9.5%\n".encode())
    path = tmp_path / "maou.log"
    path.write_bytes(b"".join(parts))
    _both_ways(path, monkeypatch)
    assert len(load_store(path).series("loss")) == 4 * (300 if postfix_every == 1 else 18)


def test_the_bulk_bars_log_loads_the_same_in_columns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "bars.log"
    path.write_bytes(_log())
    _both_ways(path, monkeypatch)


# Renders that qualify for the columns and near misses of each of their rules.
RENDERS = [
    _bar(n, 40, postfix)
    for n in (0, 1, 2, 5, 9, 30, 12)
    for postfix in (
        "acc=90.1%, loss=0.5000",
        "acc=9.01%, loss=0.5000",  # the same digits in another shape
        "accuracy=90.1%, loss=0.5000",
        "acc=90.1, loss=0.5000",
        "f1=0.5100, loss=0.0900",
        "accuracy=0.5, loss=1",
    )
] + [
    _bar(7, 40, "f2=0.5100, loss=0.0900"),
    _bar(7, 40, "f1=0.1234567890123456, loss=0.09"),
    _bar(8, 40, "acc=9%, loss=1234567890123456"),
    _bar(8, 40, "acc=9%, loss=nan"),
    _bar(8, 40, "loss=0.5, acc=9%"),
    _bar(9, 40, "acc=9%, loss=1e-3"),
    _bar(10, 40, "acc=9%, loss=0.5") + b" tail",
    _bar(11, 40, "acc=9%, loss=0.5").replace(b"9it/s", b"x=1"),
    _bar(11, 40, "acc=9%, loss=0.5").replace(b"Training: ", b"Training/x "),
    b"Training:  20%|##        |  8/40 [00:01<00:09, 9it/s, acc=9%, loss=0.5]",
    b"Validation: 100%|##########| 5/5 [00:01<00:00, loss=0.3]",
    b"note, acc=90.1%, loss=0.5000]",
    b"",
    PREFIX + b"Stage 1 Epoch 1/9: Loss=0.5, Accuracy=9.5%",
    PREFIX + b"EPOCH 2:",
]


@settings(max_examples=300, deadline=None)
@given(lines=st.lists(st.lists(st.sampled_from(RENDERS), max_size=30), max_size=4))
def test_near_miss_renders_read_the_same_in_columns(lines: list[list[bytes]]) -> None:
    data = PREFIX + b"STAGE 1: REACHABLE SQUARES LEARNING\n"
    data += b"".join(b"\r" + b"\r".join(renders) + b"\n" for renders in lines)
    monkeypatch = pytest.MonkeyPatch()
    try:
        _in_columns(monkeypatch)
        columns = parse_pieces([data])
        monkeypatch.undo()
        _one_by_one(monkeypatch)
        general = parse_pieces([data])
    finally:
        monkeypatch.undo()
    assert columns == general


def test_numbers_read_in_columns_equal_pythons_float() -> None:
    rng = np.random.default_rng(0)
    texts = [b"0", b"7", b"12345678", b"0.00000001", b"9999999.99999999", b"1234567.89012345"]
    for _ in range(3000):
        whole, fraction = rng.integers(1, 9), rng.integers(0, 8)
        digits = "".join(map(str, rng.integers(0, 10, whole + fraction)))
        texts.append((digits[:whole] + ("." + digits[whole:] if fraction else "")).encode())
    line = b"".join(b"Training |x| 1/9 [a, b, acc=%s%%, loss=0]" % text for text in texts)
    data = np.frombuffer(line, np.uint8)
    parts = []
    for start in (i for i in range(len(line)) if line.startswith(b"acc=", i)):
        number = line[start + 4 : line.index(b"%", start)]
        whole, _, fraction = number.partition(b".")
        end = start + 4 + len(whole)
        parts.append((end, len(whole), end + 1 + len(fraction) if fraction else end, len(fraction)))
    _digits, values = bar_columns.decimals(data, np.zeros(len(parts), np.int64), np.array(parts))
    assert values.tolist() == [float(text) for text in texts]


def test_a_dense_line_is_read_in_columns_not_render_by_render(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[bytes] = []
    original = progress.BarTracker.scan_segments
    monkeypatch.setattr(
        progress.BarTracker,
        "scan_segments",
        lambda self, line, parser: seen.append(line) or original(self, line, parser),
    )
    parser = maou_log.MaouLogParser()
    epoch = _epoch(3000, 3, 1, 1, random.Random(0))
    events = parser.feed(PREFIX + b"STAGE 1: REACHABLE SQUARES LEARNING\n" + epoch * 2)
    assert sum(1 for e in events if getattr(e, "type", "") == "step") == 2000
    assert sum(segment.count(b"\r") + 1 for segment in seen) <= 6  # 1000 renders a line

"""The bulk reading of tqdm bars (runs of repeats stepped over, the bar fast lane, long lines cut
with ``find``) gives exactly the store that reading every ``\\r`` segment one by one gives."""

from __future__ import annotations

from pathlib import Path

import pytest

from maou_tui.ingest import load_store, maou_log, progress
from tests.ingest.conftest import GOLDEN
from tests.ingest.test_fast_paths import _same_store

PREFIX = b"2026-08-22T10:15:00+09:00 | INFO  | m.py | f | 1 | "


def _bar(n: int, total: int, postfix: str) -> bytes:
    fill = "\u2588" * (10 * n // total)
    pct = 100 * n // total
    return f"Training: {pct:3d}%|{fill:<10}| {n}/{total} [00:01<00:09, 9it/s, {postfix}]".encode()


def _epoch(postfixes: list[str], total: int = 120, every: int = 3) -> bytes:
    """One epoch's bar: a redraw every ``every`` batches, the postfix changing every 15."""
    segments = [f"Training:   0%|          | 0/{total} [00:00<?, ?it/s]".encode()]
    for n in range(1, total + 1, every):
        segments.append(_bar(n, total, postfixes[(n - 1) // 15 % len(postfixes)]))
    return b"\r" + b"\r".join(segments) + b"\n"


def _log() -> bytes:
    a, b = "acc=90.1%, loss=0.5000", "acc=90.4%, loss=0.4898"
    parts = [PREFIX + b"STAGE 1: REACHABLE SQUARES LEARNING\n"]
    parts.append(_epoch([a, b, "acc=91.0%, loss=0.4500"]))
    parts.append(_epoch([a, b, a, b]))  # a postfix comes back
    aba = [_bar(n, 120, b if n == 7 else a) for n in range(1, 14)]
    parts.append(b"\r" + b"\r".join(aba) + b"\n")  # ... one redraw later: inside one window
    parts.append(PREFIX + b"Stage 1 Epoch 2/9: Loss=0.0123, Accuracy=95.12%\n")
    epoch = _epoch([a, b])
    epoch = epoch.replace(b"\r", b"\r\r", 3)  # empty segments
    epoch = epoch.replace(
        b", " + b.encode() + b"]\r", b", " + b.encode() + b"]\rnote, " + b.encode() + b"]\r", 1
    )
    parts.append(epoch)  # a segment ending like a repeat that is not a bar
    parts.append(
        _epoch(["f1=0.5000, loss=0.1000", "f1=0.5100, loss=0.0900"]).replace(b"\n", b"\r\n")
    )
    parts.append(b"\rValidation: 100%|##########| 5/5 [00:01<00:00]\r" + _bar(7, 9, a) + b" tail\n")
    parts.append(b"\x1b[A" + _epoch([b, a]))  # ANSI before the bar
    parts.append(
        b"\r"
        + _bar(40, 120, "loss=nan, acc=9%")
        + b"\r"
        + _bar(41, 120, "acc=1e999%, loss=1e999")
        + b"\n"
    )
    return b"".join(parts) * 3


def _one_by_one(patch: pytest.MonkeyPatch) -> None:
    patch.setattr(progress.BarTracker, "_skip_repeats", lambda self, line, pos: pos)
    patch.setattr(progress.BarTracker, "_next_point", lambda self, segment, parser: False)
    patch.setattr(maou_log, "split_lines", lambda block: block.split(b"\n"))


@pytest.mark.parametrize(
    "data",
    [
        _log(),
        (GOLDEN / "maou_stage12.log").read_bytes(),
        (GOLDEN / "maou_misc.bare.log").read_bytes(),
    ],
    ids=["bars", "maou_stage12", "maou_misc"],
)
def test_bulk_bars_load_the_store_segment_by_segment_gives(
    data: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "maou.log"
    path.write_bytes(data)
    bulk = load_store(path)
    with monkeypatch.context() as patch:
        _one_by_one(patch)
        general = load_store(path)
    _same_store(bulk, general)
    assert len(bulk.series("loss")) > 0


def test_runs_of_repeats_are_stepped_over_not_visited(monkeypatch: pytest.MonkeyPatch) -> None:
    """The bench's shape: ~17 redraws per postfix; the bar fast lane sees each postfix once."""
    seen = []
    original = progress.BarTracker._next_point
    monkeypatch.setattr(
        progress.BarTracker,
        "_next_point",
        lambda self, segment, parser: seen.append(segment) or original(self, segment, parser),
    )
    parser = maou_log.MaouLogParser()
    parser.feed(
        PREFIX
        + b"STAGE 1: REACHABLE SQUARES LEARNING\n"
        + _epoch(["acc=1%, loss=1", "acc=2%, loss=2"] * 4)
    )
    assert len(seen) <= 2 * 8 + 2  # segments looked at: about one per postfix, not 40

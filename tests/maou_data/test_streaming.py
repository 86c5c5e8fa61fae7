"""Streaming maou files: every row once per epoch, a resumable order, the same for any worker
count (the DataLoader's own workers)."""

from __future__ import annotations

import torch

from tests.maou_data.conftest import MaouData
from trainer.shogi.maou_files import FilePart, inspect_paths
from trainer.streaming import StreamingData


def _source(maou_data: MaouData, workers: int = 0) -> StreamingData:
    files = inspect_paths([maou_data.stage2_dir], "--stage2-data-path", "stage2")
    return StreamingData(
        [FilePart(f) for f in files], "win-rate", 50, seed=0, stage=2,
        device=torch.device("cpu"), workers=workers, prefetch_factor=2,
    )  # fmt: skip


def _rows(batches) -> list[bytes]:  # type: ignore[no-untyped-def]
    """Each batch row as the bytes of its board (a row's identity)."""
    return [row.numpy().tobytes() for batch in batches for row in batch["board"].to(torch.uint8)]


def test_an_epoch_visits_every_row_once_in_a_new_order_each_epoch(maou_data: MaouData) -> None:
    source = _source(maou_data)
    assert source.batches == 6 and len(source) == 240  # 120 rows a file: 3 batches each
    first, second = _rows(source.epoch_batches(1)), _rows(source.epoch_batches(2))
    expected = sorted(row.tobytes() for row in maou_data.stage2.board)
    assert sorted(first) == expected and sorted(second) == expected
    assert first != second


def test_a_resumed_epoch_continues_with_the_same_batches(maou_data: MaouData) -> None:
    source = _source(maou_data)
    whole = list(source.epoch_batches(3))
    tail = list(source.epoch_batches(3, start=4))
    assert len(tail) == 2
    for a, b in zip(whole[4:], tail, strict=True):
        assert all(torch.equal(a[key], b[key]) for key in a)


def test_workers_give_the_same_batches_in_the_same_order(maou_data: MaouData) -> None:
    alone = list(_source(maou_data).epoch_batches(1))
    parallel = list(_source(maou_data, workers=2).epoch_batches(1))
    assert len(alone) == len(parallel)
    for a, b in zip(alone, parallel, strict=True):
        assert all(torch.equal(a[key], b[key]) for key in a)


def test_validation_batches_are_the_files_in_order(maou_data: MaouData) -> None:
    rows = _rows(_source(maou_data).eval_batches())
    assert rows == [row.tobytes() for row in maou_data.stage2.board]

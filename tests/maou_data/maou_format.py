"""Writes small files in maou's data formats with pyarrow, the way maou writes them.

maou's Rust writer (``rust/maou_io/src/schema.rs``, ``arrow_io.rs``): Arrow IPC *file* format,
LZ4_FRAME compression, FixedSizeList columns, several record batches per file. Files written by
polars (maou's older path) hold LargeList columns instead; ``list_type="large"`` writes those.
The rows come from the trainer's own generators (cshogi), encoded as maou encodes them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.ipc as ipc

from trainer.shogi.arrays import ShogiArrays
from trainer.shogi.sparse import SparsePolicy

ListType = Literal["fixed", "large"]


def _column(values: np.ndarray, arrow_type: pa.DataType, list_type: ListType) -> pa.Array:
    """(rows, *shape) numpy -> nested list column, innermost first."""
    flat = pa.array(values.reshape(-1), type=arrow_type)
    array: pa.Array = flat
    for size in reversed(values.shape[1:]):
        if list_type == "fixed":
            array = pa.FixedSizeListArray.from_arrays(array, size)
        else:
            offsets = pa.array(np.arange(0, len(array) + 1, size, dtype=np.int64))
            array = pa.LargeListArray.from_arrays(offsets, array)
    return array


def _inputs(data: ShogiArrays, list_type: ListType) -> dict[str, pa.Array]:
    return {
        "id": pa.array(np.arange(len(data), dtype=np.uint64)),
        "boardIdPositions": _column(data.board.astype(np.uint8), pa.uint8(), list_type),
        "piecesInHand": _column(data.hand.astype(np.uint8), pa.uint8(), list_type),
    }


def stage1_table(data: ShogiArrays, list_type: ListType = "fixed") -> pa.Table:
    reach = np.asarray(data.targets["reachable"]).reshape(-1, 9, 9).astype(np.uint8)
    columns = {
        **_inputs(data, list_type),
        "reachableSquares": _column(reach, pa.uint8(), list_type),
    }
    return pa.table(columns)


def stage2_table(data: ShogiArrays, list_type: ListType = "fixed") -> pa.Table:
    legal = np.asarray(data.targets["legal"]).astype(np.uint8)
    columns = {**_inputs(data, list_type), "legalMovesLabel": _column(legal, pa.uint8(), list_type)}
    return pa.table(columns)


def preprocessing_table(
    data: ShogiArrays, win_rate: np.ndarray | None = None, list_type: ListType = "fixed"
) -> pa.Table:
    """maou's pre-process output: ``moveLabel`` (move frequencies), ``moveWinRate`` (per-move
    win rate; default: the position's value on the moves played), ``resultValue``."""
    policy = data.targets["policy"]
    assert isinstance(policy, SparsePolicy)
    move_label = policy.to_dense()
    value = np.asarray(data.targets["value"], dtype=np.float32)
    if win_rate is None:
        win_rate = (move_label > 0) * np.clip(value, 0.05, 1.0)[:, None]
    win_rate = win_rate.astype(np.float32)
    columns = {
        **_inputs(data, list_type),
        "moveLabel": _column(move_label, pa.float32(), list_type),
        "moveWinRate": _column(win_rate, pa.float32(), list_type),
        "bestMoveWinRate": pa.array(win_rate.max(axis=1), type=pa.float32()),
        "resultValue": pa.array(value, type=pa.float32()),
    }
    return pa.table(columns)


def write_feather(table: pa.Table, path: Path, rows_per_batch: int = 64) -> Path:
    """Arrow IPC file with LZ4_FRAME, several record batches (as maou's save_feather_batches)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    options = ipc.IpcWriteOptions(compression="lz4")
    with ipc.new_file(str(path), table.schema, options=options) as writer:
        for batch in table.to_batches(max_chunksize=rows_per_batch):
            writer.write_batch(batch)
    return path

"""maou's training data files (Arrow IPC ``.feather``, LZ4), read with pyarrow into ShogiArrays.

maou writes (``rust/maou_io/src/schema.rs``, ``domain/data/schema.py``; spec §2):
- Stage 1 ``stage1_data.feather``: ``boardIdPositions`` 9x9 u8, ``piecesInHand`` 14 u8,
  ``reachableSquares`` 9x9 u8;
- Stage 2 ``stage2[_chunkNNNN].feather``: the same inputs, ``legalMovesLabel`` 1496 u8;
- Stage 3 ``transformed_chunkNNNN.feather`` (``pre-process``): the inputs, ``moveLabel`` and
  ``moveWinRate`` 1496 f32, ``resultValue`` f32 (and ``id``, ``bestMoveWinRate``).
Lists are FixedSizeList from maou's Rust writer and (Large)List from polars; both are read.
The board ids and hand counts are maou's mover-normalised features, the same as
``features.encode_positions`` makes, so rows go to the model unchanged.

A file is read one record batch (slice) at a time and each is compacted at once (Stage 3's dense
1496-wide targets become a ``SparsePolicy``), so peak memory is one record batch, not the file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.ipc as ipc

from trainer.shogi.arrays import ShogiArrays
from trainer.shogi.labels import NUM_MOVE_LABELS
from trainer.shogi.sparse import SparsePolicy

Kind = Literal["stage1", "stage2", "preprocessing"]
PolicyMode = Literal["move-label", "win-rate", "weighted"]

ARROW_FILE_MAGIC = b"ARROW1\x00\x00"
#: Rows decoded at a time (see ``read_file``).
DECODE_ROWS = 2048
_INPUTS = ("boardIdPositions", "piecesInHand")
#: The target columns that tell a maou file's kind, and the file maou's command writes.
_KIND_COLUMNS: dict[Kind, tuple[str, ...]] = {
    "stage1": ("reachableSquares",),
    "stage2": ("legalMovesLabel",),
    "preprocessing": ("moveLabel", "moveWinRate", "resultValue"),
}
KIND_DESCRIPTIONS: dict[Kind, str] = {
    "stage1": "maou Stage 1 data (generate-stage1-data: stage1_data.feather)",
    "stage2": "maou Stage 2 data (generate-stage2-data: stage2_chunkNNNN.feather)",
    "preprocessing": "maou preprocessed Stage 3 data (pre-process: transformed_chunkNNNN.feather)",
}


class MaouDataError(ValueError):
    """A data path that is not what its option needs; one line naming the file."""


def is_arrow_file(path: Path) -> bool:
    """Arrow IPC file format (what maou writes), told by its first 8 bytes."""
    with open(path, "rb") as handle:
        return handle.read(8) == ARROW_FILE_MAGIC


def list_data_files(path: Path, option: str, pattern: str = "*.feather") -> list[Path]:
    """A file as is; a directory's ``pattern`` files, sorted (maou's chunk order)."""
    path = Path(path).expanduser()
    if path.is_dir():
        files = sorted(p for p in path.glob(pattern) if p.is_file())
        if not files:
            raise MaouDataError(f"{option} {path}: the directory holds no {pattern} files")
        return files
    if not path.is_file():
        raise MaouDataError(f"{option} {path} does not exist; give a file or directory")
    return [path]


def _open(path: Path, option: str) -> ipc.RecordBatchFileReader:
    if not is_arrow_file(path):
        raise MaouDataError(
            f"{option} {path} is not an Arrow IPC (.feather) file; give maou's data files"
        )
    try:
        return ipc.open_file(pa.memory_map(str(path)))
    except (pa.ArrowInvalid, OSError) as exc:
        raise MaouDataError(
            f"{option} {path} is a damaged .feather file ({exc}); an interrupted write or copy "
            "leaves one: write or copy it again"
        ) from None


def kind_of(schema: pa.Schema) -> Kind | None:
    names = set(schema.names)
    if not set(_INPUTS) <= names:
        return None
    for kind, columns in _KIND_COLUMNS.items():
        if set(columns) <= names:
            return kind
    return None


@dataclass(frozen=True)
class DataFile:
    """One checked maou data file: its kind and row count (read from the footer only)."""

    path: Path
    kind: Kind
    rows: int


def inspect_file(path: Path, option: str, expected: Kind) -> DataFile:
    """Open ``path``, check its columns are ``expected``'s; one line naming the file otherwise."""
    reader = _open(path, option)
    kind = kind_of(reader.schema)
    if kind != expected:
        found = KIND_DESCRIPTIONS[kind] if kind else f"columns {', '.join(reader.schema.names)}"
        raise MaouDataError(
            f"{option} {path} is not {KIND_DESCRIPTIONS[expected]}: it holds {found}"
        )
    return DataFile(Path(path), kind, int(reader.count_rows()))


def _values(column: pa.ChunkedArray | pa.Array, width: int, dtype: type, name: str) -> np.ndarray:
    """A nested list column -> (rows, width) numpy, whatever the list types (fixed or not)."""
    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    flat = array
    while (
        pa.types.is_list(flat.type)
        or pa.types.is_large_list(flat.type)
        or (pa.types.is_fixed_size_list(flat.type))
    ):
        flat = flat.flatten()
    values = flat.to_numpy(zero_copy_only=False)
    if values.size != len(array) * width:
        raise MaouDataError(f"column {name} holds {values.size} values, not {len(array)} x {width}")
    return values.astype(dtype, copy=False).reshape(len(array), width)


def _policy(batch: pa.RecordBatch, mode: PolicyMode) -> SparsePolicy:
    """maou's ``policy_targets.build_policy_targets`` (no legal mask), normalised, kept sparse."""
    move_label = _values(batch["moveLabel"], NUM_MOVE_LABELS, np.float32, "moveLabel")
    if mode == "move-label":
        target = move_label
    else:
        win_rate = _values(batch["moveWinRate"], NUM_MOVE_LABELS, np.float32, "moveWinRate")
        target = win_rate if mode == "win-rate" else move_label * win_rate
    rows, labels = np.nonzero(target)
    weights = target[rows, labels]
    totals = target.sum(axis=1, dtype=np.float32)
    indptr = np.zeros(len(target) + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=len(target)), out=indptr[1:])
    # maou's _safe_normalize: a row whose target sums to 0 stays all zeros.
    return SparsePolicy(
        indptr, labels.astype(np.int16), (weights / totals[rows]).astype(np.float32)
    )


def _batch_arrays(batch: pa.RecordBatch, kind: Kind, mode: PolicyMode) -> ShogiArrays:
    board = _values(batch["boardIdPositions"], 81, np.uint8, "boardIdPositions").reshape(-1, 9, 9)
    hand = _values(batch["piecesInHand"], 14, np.float32, "piecesInHand")
    targets: dict[str, np.ndarray | SparsePolicy]
    if kind == "stage1":
        reach = _values(batch["reachableSquares"], 81, np.float32, "reachableSquares")
        targets = {"reachable": reach}
    elif kind == "stage2":
        legal = _values(batch["legalMovesLabel"], NUM_MOVE_LABELS, np.uint8, "legalMovesLabel")
        targets = {"legal": legal}
    else:
        value = batch["resultValue"].to_numpy(zero_copy_only=False).astype(np.float32)
        targets = {"policy": _policy(batch, mode), "value": value}
    return ShogiArrays(board=np.ascontiguousarray(board), hand=hand, targets=targets)


def concat_arrays(parts: list[ShogiArrays]) -> ShogiArrays:
    """Row-wise concatenation (SparsePolicy targets included)."""
    first = parts[0]
    targets: dict[str, np.ndarray | SparsePolicy] = {}
    for key, target in first.targets.items():
        if isinstance(target, SparsePolicy):
            pieces = [part.targets[key] for part in parts]
            assert all(isinstance(piece, SparsePolicy) for piece in pieces)
            targets[key] = _concat_sparse(pieces)  # type: ignore[arg-type]
        else:
            targets[key] = np.concatenate([part.targets[key] for part in parts])
    return ShogiArrays(
        board=np.concatenate([part.board for part in parts]),
        hand=np.concatenate([part.hand for part in parts]),
        targets=targets,
    )


def _concat_sparse(parts: list[SparsePolicy]) -> SparsePolicy:
    offsets = np.cumsum([0] + [len(part.labels) for part in parts[:-1]])
    indptr = np.concatenate(
        [parts[0].indptr[:1]]
        + [part.indptr[1:] + off for part, off in zip(parts, offsets, strict=True)]
    )
    return SparsePolicy(
        indptr.astype(np.int64),
        np.concatenate([part.labels for part in parts]),
        np.concatenate([part.weights for part in parts]),
    )


def read_file(data: DataFile, mode: PolicyMode = "win-rate") -> ShogiArrays:
    """The whole file as ShogiArrays, decoded one record batch at a time."""
    reader = ipc.open_file(pa.memory_map(str(data.path)))
    parts = []
    for i in range(reader.num_record_batches):
        batch = reader.get_batch(i)
        # A writer may put a whole 1M-row chunk in one record batch: decode it in slices, so
        # the dense 1496-wide temporaries stay ~25 MB (slicing is zero-copy).
        for start in range(0, batch.num_rows, DECODE_ROWS):
            parts.append(_batch_arrays(batch.slice(start, DECODE_ROWS), data.kind, mode))
    parts = [part for part in parts if len(part)]
    if not parts:
        raise MaouDataError(f"{data.path} holds no rows; give a file with training data")
    return parts[0] if len(parts) == 1 else concat_arrays(parts)


# -- a stage's files and its train/validation split --------------------------------------------


@dataclass(frozen=True)
class FilePart:
    """The rows of one file a split gives to one side (``rows`` None = all of them)."""

    file: DataFile
    rows: np.ndarray | None = None

    def __len__(self) -> int:
        return self.file.rows if self.rows is None else len(self.rows)

    def read(self, mode: PolicyMode) -> ShogiArrays:
        arrays = read_file(self.file, mode)
        return arrays if self.rows is None else arrays.subset(self.rows)


def inspect_paths(paths: list[Path], option: str, expected: Kind) -> list[DataFile]:
    files = [file for path in paths for file in list_data_files(path, option)]
    return [inspect_file(file, option, expected) for file in files]


def split_parts(
    files: list[DataFile], ratio: float, seed: int
) -> tuple[list[FilePart], list[FilePart]]:
    """maou's split (spec §3): with two or more files by file (``Random(42)`` order, as maou),
    with one file by row (seed ``seed``). A ratio of 0 keeps everything for training."""
    whole = [FilePart(file) for file in files]
    if ratio == 0:
        return whole, []
    if len(files) >= 2:
        order = np.random.default_rng(42).permutation(len(files))
        held = max(1, round(len(files) * ratio))
        if held >= len(files):
            held = len(files) - 1
        val_idx = set(order[:held].tolist())
        return (
            [part for i, part in enumerate(whole) if i not in val_idx],
            [part for i, part in enumerate(whole) if i in val_idx],
        )
    (file,) = files
    held = max(1, round(file.rows * ratio))
    if held >= file.rows:
        raise MaouDataError(
            f"--test-ratio {ratio} leaves no training rows out of {file.rows} in {file.path}: "
            "use a smaller ratio"
        )
    order = np.random.default_rng(seed).permutation(file.rows)
    return [FilePart(file, np.sort(order[held:]))], [FilePart(file, np.sort(order[:held]))]


def read_parts(parts: list[FilePart], mode: PolicyMode) -> ShogiArrays:
    """All parts in memory (maou's map-style ``--no-streaming``)."""
    arrays = [part.read(mode) for part in parts]
    return arrays[0] if len(arrays) == 1 else concat_arrays(arrays)

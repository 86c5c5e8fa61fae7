"""Every stage's data as ShogiArrays: the trainer's one entry point to shogi data.

- Stage 1: ``stage1_arrays()``, the 1,105 single-piece patterns (``stage1.py``).
- Stage 2: ``stage2_arrays(num_positions, seed, cache_dir)``: distinct self-play positions
  (deduplicated by Zobrist hash, like maou's ``generate-stage2-data``), target the legal-move
  multi-hot in maou's 1496 labels.
- Stage 3: ``stage3_arrays(num_games, seed, cache_dir)``: self-play games aggregated per
  position like maou's ``pre-process``: policy = frequency of each move played from it,
  value = mean result for the side to move; or ``hcpe_arrays(paths)`` from the user's
  HCPE files (``hcpe.py``).

Generated data is deterministic for a seed and cached in ``cache_dir`` (``cache.py``).
"""

from __future__ import annotations

from itertools import islice
from pathlib import Path

import cshogi
import numpy as np

from trainer.shogi import cache
from trainer.shogi.arrays import ShogiArrays, train_val_split
from trainer.shogi.hcpe import hcpe_arrays, write_hcpe
from trainer.shogi.labels import NUM_MOVE_LABELS, move_labels
from trainer.shogi.selfplay import Ply, play_games, value_for_mover
from trainer.shogi.sparse import SparsePolicy
from trainer.shogi.stage1 import stage1_arrays

__all__ = [
    "ShogiArrays",
    "SparsePolicy",
    "hcpe_arrays",
    "policy_from_visits",
    "stage1_arrays",
    "stage2_arrays",
    "stage3_arrays",
    "train_val_split",
    "write_hcpe",
]

DEFAULT_STAGE2_POSITIONS = 20_000
DEFAULT_STAGE3_GAMES = 400


def _check_size(name: str, value: int) -> None:
    if value < 1:
        raise ValueError(f"{name} must be at least 1 (got {value})")


def _stack_inputs(plies: list[Ply]) -> tuple[np.ndarray, np.ndarray]:
    return np.stack([ply.board_ids for ply in plies]), np.stack([ply.hand for ply in plies])


# --- Stage 2 -----------------------------------------------------------------------------


def _distinct_positions(num_positions: int, seed: int) -> list[Ply]:
    """The first ``num_positions`` distinct positions of the seed's self-play games."""
    seen: set[int] = set()
    positions: list[Ply] = []
    for game in play_games(seed):
        for ply in game.plies:
            if ply.zobrist not in seen:
                seen.add(ply.zobrist)
                positions.append(ply)
                if len(positions) == num_positions:
                    return positions
    raise AssertionError("unreachable: play_games is endless")


def _legal_multi_hot(positions: list[Ply]) -> np.ndarray:
    """(N, 1496) uint8: the labels of each position's legal moves, computed in one pass."""
    counts = [len(ply.legal_moves) for ply in positions]
    rows = np.repeat(np.arange(len(positions)), counts)
    moves = np.concatenate([ply.legal_moves for ply in positions])
    white = np.repeat([ply.turn == cshogi.WHITE for ply in positions], counts)
    labels = move_labels(moves, white)
    if (labels < 0).any():
        raise AssertionError("a legal move got no maou label")
    multi_hot = np.zeros((len(positions), NUM_MOVE_LABELS), dtype=np.uint8)
    multi_hot[rows, labels] = 1
    return multi_hot


def _generate_stage2(num_positions: int, seed: int) -> dict[str, np.ndarray]:
    positions = _distinct_positions(num_positions, seed)
    board, hand = _stack_inputs(positions)
    legal_bits = np.packbits(_legal_multi_hot(positions), axis=1)
    return {"board": board, "hand": hand, "legal_bits": legal_bits}


def stage2_arrays(
    num_positions: int = DEFAULT_STAGE2_POSITIONS, seed: int = 0, cache_dir: Path | None = None
) -> ShogiArrays:
    """Stage 2 rows; ``targets["legal"]`` is (N, 1496) uint8 multi-hot of the legal moves."""
    _check_size("the number of Stage 2 positions", num_positions)
    stored = _cached(cache_dir, "stage2", num_positions, seed, ("board", "hand", "legal_bits"))
    if stored is None:
        stored = _generate_stage2(num_positions, seed)
        _store(cache_dir, "stage2", num_positions, seed, stored)
    legal = np.unpackbits(stored["legal_bits"], axis=1, count=NUM_MOVE_LABELS)
    return ShogiArrays(board=stored["board"], hand=stored["hand"], targets={"legal": legal})


# --- Stage 3 -----------------------------------------------------------------------------


def policy_from_visits(num_rows: int, rows: np.ndarray, labels: np.ndarray) -> SparsePolicy:
    """Per row, how often each label was played (frequencies summing to 1), stored sparse."""
    return SparsePolicy.from_visits(num_rows, rows, labels)


def _generate_stage3(num_games: int, seed: int) -> dict[str, np.ndarray]:
    row_of_hash: dict[int, int] = {}
    positions: list[Ply] = []
    visit_rows: list[int] = []
    visit_moves: list[int] = []
    visit_white: list[bool] = []
    visit_values: list[float] = []
    for game in islice(play_games(seed), num_games):
        for ply in game.plies:
            row = row_of_hash.setdefault(ply.zobrist, len(positions))
            if row == len(positions):
                positions.append(ply)
            visit_rows.append(row)
            visit_moves.append(ply.move)
            visit_white.append(ply.turn == cshogi.WHITE)
            visit_values.append(value_for_mover(game.result, ply.turn))
    board, hand = _stack_inputs(positions)
    rows = np.array(visit_rows, dtype=np.int64)
    visits = np.bincount(rows, minlength=len(positions))
    value_sum = np.bincount(rows, weights=visit_values, minlength=len(positions))
    return {
        "board": board,
        "hand": hand,
        "value": (value_sum / visits).astype(np.float32),
        "visit_rows": rows,
        "visit_labels": move_labels(np.array(visit_moves, dtype=np.int64), np.array(visit_white)),
    }


def stage3_arrays(
    num_games: int = DEFAULT_STAGE3_GAMES, seed: int = 0, cache_dir: Path | None = None
) -> ShogiArrays:
    """Stage 3 rows from self-play: ``targets["policy"]`` a SparsePolicy of the move frequencies
    of each position (rows sum to 1), ``targets["value"]`` (N,) float32 mean result for the side
    to move."""
    _check_size("the number of Stage 3 games", num_games)
    keys = ("board", "hand", "value", "visit_rows", "visit_labels")
    stored = _cached(cache_dir, "stage3", num_games, seed, keys)
    if stored is None:
        stored = _generate_stage3(num_games, seed)
        _store(cache_dir, "stage3", num_games, seed, stored)
    policy = policy_from_visits(len(stored["board"]), stored["visit_rows"], stored["visit_labels"])
    return ShogiArrays(
        board=stored["board"],
        hand=stored["hand"],
        targets={"policy": policy, "value": stored["value"]},
    )


# --- cache -------------------------------------------------------------------------------


def _cached(
    cache_dir: Path | None, kind: str, size: int, seed: int, keys: tuple[str, ...]
) -> dict[str, np.ndarray] | None:
    if cache_dir is None:
        return None
    return cache.load(cache.cache_path(cache_dir, kind, size, seed), keys)


def _store(
    cache_dir: Path | None, kind: str, size: int, seed: int, arrays: dict[str, np.ndarray]
) -> None:
    if cache_dir is not None:
        cache.save(cache.cache_path(cache_dir, kind, size, seed), arrays)

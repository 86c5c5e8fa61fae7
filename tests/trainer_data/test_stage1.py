"""Stage 1: the 1,105 single-piece patterns and their reachable squares."""

from __future__ import annotations

import numpy as np
import pytest

from trainer.shogi.datasets import stage1_arrays

FU, KY, KE, GI, KI, KA, HI, OU = range(1, 9)
TO, RYU = 9, 14


@pytest.fixture(scope="module")
def stage1():
    return stage1_arrays()


def _reachable(stage1, piece_id: int, rank: int, file: int) -> np.ndarray:
    """(9, 9) reachable grid of the row with a lone ``piece_id`` at [rank][file]."""
    expected = np.zeros((9, 9), dtype=np.uint8)
    expected[rank, file] = piece_id
    (rows,) = np.nonzero((stage1.board == expected).all(axis=(1, 2)) & ~stage1.hand.any(axis=1))
    assert len(rows) == 1
    return stage1.targets["reachable"][rows[0]].reshape(9, 9)


def test_row_counts_and_shapes(stage1):
    assert len(stage1) == 1105
    assert stage1.board.shape == (1105, 9, 9) and stage1.hand.shape == (1105, 14)
    assert stage1.targets["reachable"].shape == (1105, 81)
    assert stage1.targets["reachable"].dtype == np.float32
    assert stage1.hand.any(axis=1).sum() == 7  # the hand patterns
    # maou's measurement: predicting all zeros already scores 90.2%
    assert 1 - stage1.targets["reachable"].mean() == pytest.approx(0.902, abs=0.001)


def test_lone_rook_on_5e_reaches_16_squares(stage1):
    grid = _reachable(stage1, HI, rank=4, file=4)
    assert grid.sum() == 16
    assert grid[4].sum() == 8 and grid[:, 4].sum() == 8 and grid[4, 4] == 0


def test_known_piece_patterns(stage1):
    assert _reachable(stage1, KA, 4, 4).sum() == 16
    pawn = _reachable(stage1, FU, 4, 4)
    assert pawn.sum() == 1 and pawn[3, 4] == 1  # one square forward (towards rank 一)
    knight = _reachable(stage1, KE, 4, 4)
    assert knight.sum() == 2 and knight[2, 3] == knight[2, 5] == 1
    assert _reachable(stage1, OU, 0, 0).sum() == 3  # a king in the corner
    assert _reachable(stage1, RYU, 4, 4).sum() == 20  # rook lines + 4 diagonal steps
    assert _reachable(stage1, TO, 4, 4).sum() == 6  # moves like a gold


def test_hand_patterns_are_legal_drops(stage1):
    hand_rows = np.flatnonzero(stage1.hand.any(axis=1))
    counts = stage1.targets["reachable"][hand_rows].sum(axis=1).tolist()
    assert counts == [72, 72, 63, 81, 81, 81, 81]  # FU KY KE GI KI KA HI
    assert not stage1.board[hand_rows].any()

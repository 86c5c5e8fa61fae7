"""Stage 1 data: the 1,105 single-piece patterns and the squares each piece can reach.

As maou's ``generate-stage1-data`` (``domain/data/stage1_generator.py``): one lone Black
piece on an otherwise empty board (no kings, no blockers) on every square it may stand on
(FU/KY not on rank 一, KE not on ranks 一-二): 1,098 rows; then the empty board with one
Black piece in hand: 7 rows. The target is the 81 squares the piece can move or drop to,
taken from cshogi's legal move generation (cshogi accepts king-less boards), row-major
[rank][file] like ``board``.
"""

from __future__ import annotations

import cshogi
import numpy as np

from trainer.shogi.arrays import ShogiArrays
from trainer.shogi.features import encode_position

# Black piece codes in maou's order FU KY KE GI KI KA HI OU, then TO NKY NKE NGI UMA RYU.
BOARD_PIECES = (
    cshogi.BPAWN,
    cshogi.BLANCE,
    cshogi.BKNIGHT,
    cshogi.BSILVER,
    cshogi.BGOLD,
    cshogi.BBISHOP,
    cshogi.BROOK,
    cshogi.BKING,
    cshogi.BPROM_PAWN,
    cshogi.BPROM_LANCE,
    cshogi.BPROM_KNIGHT,
    cshogi.BPROM_SILVER,
    cshogi.BPROM_BISHOP,
    cshogi.BPROM_ROOK,
)
# The first rank a piece may stand on (ranks counted from 0 = 一): FU/KY 1, KE 2, others 0.
_FIRST_RANK = {cshogi.BPAWN: 1, cshogi.BLANCE: 1, cshogi.BKNIGHT: 2}
STAGE1_ROWS = 1105


def _reachable_squares(board: cshogi.Board) -> np.ndarray:
    """(81,) float32 0/1, [rank][file]: destinations of the legal moves of ``board``."""
    grid = np.zeros((9, 9), dtype=np.float32)  # [file][rank], cshogi's square order
    for move in board.legal_moves:
        grid.flat[cshogi.move_to(move)] = 1.0
    return grid.T.reshape(81)


def _lone_piece_boards() -> list[cshogi.Board]:
    boards = []
    empty_hand = ([0] * 7, [0] * 7)
    for piece in BOARD_PIECES:
        for sq in range(81):
            if sq % 9 < _FIRST_RANK.get(piece, 0):
                continue
            pieces = [cshogi.NONE] * 81
            pieces[sq] = piece
            board = cshogi.Board()
            board.set_pieces(pieces, empty_hand)
            boards.append(board)
    return boards


def _lone_hand_boards() -> list[cshogi.Board]:
    boards = []
    for hand_piece in range(7):
        black_hand = [0] * 7
        black_hand[hand_piece] = 1
        board = cshogi.Board()
        board.set_pieces([cshogi.NONE] * 81, (black_hand, [0] * 7))
        boards.append(board)
    return boards


def stage1_arrays() -> ShogiArrays:
    """The 1,105 Stage 1 rows; ``targets["reachable"]`` is (1105, 81) float32 0/1."""
    boards = _lone_piece_boards() + _lone_hand_boards()
    encoded = [encode_position(board) for board in boards]
    arrays = ShogiArrays(
        board=np.stack([board_ids for board_ids, _ in encoded]),
        hand=np.stack([hand for _, hand in encoded]),
        targets={"reachable": np.stack([_reachable_squares(board) for board in boards])},
    )
    assert len(arrays) == STAGE1_ROWS, len(arrays)
    return arrays

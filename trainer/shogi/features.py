"""maou's mover-normalised input features of a position (maou ``app/learning/network.py``).

``board_ids`` is (9, 9) uint8, row = rank 一..九, column = file 1..9:
0 empty, 1-14 the mover's FU KY KE GI KI KA HI OU TO NKY NKE NGI UMA RYU, 15-28 the
opponent's (mover id + 14). With White to move the board is rotated 180° and the colours
swapped, so the mover always sits at the bottom. ``hand`` is (14,) float32 raw counts:
the mover's FU..HI, then the opponent's.
"""

from __future__ import annotations

import cshogi
import numpy as np

NUM_PIECE_IDS = 29  # 0 empty + 14 mover + 14 opponent
HAND_SIZE = 14

# cshogi piece types 1-14 are FU KY KE GI KA HI KI OU TO NKY NKE NGI UMA RYU;
# maou puts KI before KA and HI.
_MAOU_TYPE_OF_CSHOGI_TYPE = np.array([0, 1, 2, 3, 4, 6, 7, 5, 8, 9, 10, 11, 12, 13, 14])


def _piece_id_table(mover: int) -> np.ndarray:
    """(32,) uint8: cshogi piece code (Black 1-14, White 17-30) -> maou id for ``mover``."""
    table = np.zeros(32, dtype=np.uint8)
    for piece_type in range(1, 15):
        maou_type = _MAOU_TYPE_OF_CSHOGI_TYPE[piece_type]
        black_id, white_id = (maou_type, maou_type + 14)
        if mover == cshogi.WHITE:
            black_id, white_id = white_id, black_id
        table[piece_type] = black_id
        table[piece_type + 16] = white_id
    return table


_PIECE_IDS = np.stack([_piece_id_table(cshogi.BLACK), _piece_id_table(cshogi.WHITE)])


def encode_positions(
    pieces: np.ndarray, hands: np.ndarray, turns: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``encode_position`` of many positions at once, from cshogi's raw board state.

    ``pieces`` (N, 81) cshogi piece codes by square (``board.pieces``), ``hands`` (N, 2, 7)
    hand counts of Black then White (``board.pieces_in_hand``), ``turns`` (N,) side to move.
    Returns board_ids (N, 9, 9) uint8 and hand (N, 14) float32.
    """
    turns = np.asarray(turns, dtype=np.intp)
    ids = _PIECE_IDS[turns[:, None], np.asarray(pieces, dtype=np.intp)]  # (N, 81) by file*9+rank
    white = turns == cshogi.WHITE
    ids[white] = ids[white, ::-1]  # square sq -> 80 - sq: a 180° rotation
    board_ids = np.ascontiguousarray(ids.reshape(-1, 9, 9).transpose(0, 2, 1))  # -> [rank][file]
    rows = np.arange(len(turns))
    own, other = hands[rows, turns], hands[rows, 1 - turns]
    return board_ids, np.concatenate([own, other], axis=1).astype(np.float32)


def encode_position(board: cshogi.Board) -> tuple[np.ndarray, np.ndarray]:
    """(board_ids (9, 9) uint8, hand (14,) float32) of ``board`` seen by the side to move.

    The one-position twin of ``encode_positions`` (3x faster for one board, which self-play needs).
    """
    mover = board.turn
    pieces = _PIECE_IDS[mover][np.asarray(board.pieces, dtype=np.intp)]  # (81,) by file*9+rank
    if mover == cshogi.WHITE:
        pieces = pieces[::-1]  # square sq -> 80 - sq: a 180° rotation
    board_ids = pieces.reshape(9, 9).T.copy()  # [file][rank] -> [rank][file]
    black_hand, white_hand = board.pieces_in_hand
    own, other = (black_hand, white_hand) if mover == cshogi.BLACK else (white_hand, black_hand)
    hand = np.array(own + other, dtype=np.float32)
    return board_ids, hand

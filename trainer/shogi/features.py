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


_PIECE_IDS = (_piece_id_table(cshogi.BLACK), _piece_id_table(cshogi.WHITE))


def encode_position(board: cshogi.Board) -> tuple[np.ndarray, np.ndarray]:
    """(board_ids (9, 9) uint8, hand (14,) float32) of ``board`` seen by the side to move."""
    mover = board.turn
    pieces = _PIECE_IDS[mover][np.asarray(board.pieces, dtype=np.intp)]  # (81,) by file*9+rank
    if mover == cshogi.WHITE:
        pieces = pieces[::-1]  # square sq -> 80 - sq: a 180° rotation
    board_ids = pieces.reshape(9, 9).T.copy()  # [file][rank] -> [rank][file]
    black_hand, white_hand = board.pieces_in_hand
    own, other = (black_hand, white_hand) if mover == cshogi.BLACK else (white_hand, black_hand)
    hand = np.array(own + other, dtype=np.float32)
    return board_ids, hand

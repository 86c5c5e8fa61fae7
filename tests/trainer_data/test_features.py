"""maou's mover-normalised input encoding."""

from __future__ import annotations

import cshogi
import numpy as np

from trainer.shogi.features import encode_position

FU, KY, KE, GI, KI, KA, HI, OU = range(1, 9)
OPPONENT = 14


def test_initial_position_layout():
    board_ids, hand = encode_position(cshogi.Board())
    assert board_ids.shape == (9, 9) and board_ids.dtype == np.uint8
    # row = rank 一..九, column = file 1..9; the mover (Black) sits on ranks 七-九
    assert board_ids[8].tolist() == [KY, KE, GI, KI, OU, KI, GI, KE, KY]
    assert board_ids[7, 1] == HI and board_ids[7, 7] == KA  # 2h rook, 8h bishop
    assert (board_ids[6] == FU).all()
    assert board_ids[0, 4] == OU + OPPONENT
    assert board_ids[1, 1] == KA + OPPONENT and board_ids[1, 7] == HI + OPPONENT  # 2b, 8b
    assert (board_ids[3:6] == 0).all()
    assert hand.dtype == np.float32 and hand.shape == (14,) and not hand.any()


def test_white_to_move_is_rotated_and_colour_swapped(random_boards):
    """A White position encodes like its 180° rotation with Black to move."""
    white_positions = [b for b in random_boards if b.turn == cshogi.WHITE]
    assert len(white_positions) > 50
    for board in white_positions:
        rotated = cshogi.Board(cshogi.rotate_sfen(board.sfen()))
        for mine, theirs in zip(encode_position(board), encode_position(rotated), strict=True):
            assert np.array_equal(mine, theirs), board.sfen()


def test_white_mover_sees_own_king_at_bottom():
    board = cshogi.Board()
    board.push_usi("7g7f")
    board_ids, _ = encode_position(board)
    assert board_ids[8, 4] == OU and board_ids[0, 4] == OU + OPPONENT
    # Black's advanced pawn on 7f appears, rotated, as an opponent pawn on 3d
    assert board_ids[3, 2] == FU + OPPONENT


def test_hand_lists_mover_first_in_fu_to_hi_order():
    # Black holds 2 FU and 1 KA; White holds 1 KI; White to move.
    board = cshogi.Board("4k4/9/9/9/9/9/9/9/4K4 w 2PBg 1")
    _, hand = encode_position(board)
    mover, opponent = hand[:7].tolist(), hand[7:].tolist()
    assert mover == [0, 0, 0, 0, 1, 0, 0] and opponent == [2, 0, 0, 0, 0, 1, 0]

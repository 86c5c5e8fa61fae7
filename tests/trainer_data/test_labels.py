"""maou's 1496 move labels against cshogi's legal moves."""

from __future__ import annotations

import cshogi
import numpy as np
import pytest

from trainer.shogi.labels import (
    BOARD_MOVE_LABEL,
    DROP_LABEL,
    NUM_MOVE_LABELS,
    legal_move_labels,
    move_labels,
    move_to_label,
)

# maou's MoveCategoryStartLabel: UP .. KEIMA_RIGHT, the same promoting, then drops FU .. HI.
MAOU_CATEGORY_STARTS = [
    0, 72, 136, 200, 272, 344, 416, 480, 544, 584,
    624, 651, 675, 699, 723, 747, 819, 868, 917, 941,
    965, 1037, 1109, 1172, 1253, 1334, 1415,
]  # fmt: skip


def test_category_starts_match_maou():
    tables = list(BOARD_MOVE_LABEL) + list(DROP_LABEL)
    starts = [int(row[row >= 0].min()) for row in tables]
    assert starts == MAOU_CATEGORY_STARTS
    assert int(DROP_LABEL.max()) == NUM_MOVE_LABELS - 1 == 1495


def _usi_label(sfen: str, usi: str) -> int:
    board = cshogi.Board(sfen)
    return move_to_label(board.move_from_usi(usi), board.turn)


@pytest.mark.parametrize(
    ("sfen", "usi", "label"),
    [
        # values from maou's offset formulas (domain/move/label.py)
        (cshogi.STARTING_SFEN, "7g7f", 53),  # UP: to_sq - to_x = 59 - 6
        ("lnsgkgsnl/1r5b1/ppppppppp/9/9/2P6/PP1PPPPPP/1B5R1/LNSGKGSNL w - 2", "3c3d", 53),
        (cshogi.STARTING_SFEN, "2h1h", 272 + 7),  # RIGHT: to_sq
        ("4k4/9/9/9/9/9/9/9/4K4 b P 1", "P*5e", 965 + 35),  # FU drop: to_sq - (to_x + 1)
        ("4k4/9/9/9/9/9/9/9/1N2K4 b - 1", "8i7g", 584 + 34),  # KEIMA_RIGHT: 5x + y - 2
        (
            "lnsgkgsnl/1r5b1/pppppp1pp/6p2/9/2P6/PP1PPPPPP/1B5R1/LNSGKGSNL b - 3",
            "8h2b+",
            675 + 4,  # UP_RIGHT promotion: to_sq - 6 * to_x
        ),
    ],
)
def test_known_moves_get_maous_labels(sfen, usi, label):
    assert _usi_label(sfen, usi) == label


def _assert_labels_biject_to_legal_moves(board: cshogi.Board) -> None:
    moves = list(board.legal_moves)
    labels = [move_to_label(move, board.turn) for move in moves]
    assert all(0 <= label < NUM_MOVE_LABELS for label in labels)
    # label -> move through the board's legal moves is a bijection ...
    move_of_label = dict(zip(labels, moves, strict=True))
    assert len(move_of_label) == len(moves), board.sfen()
    # ... and the multi-hot holds exactly those labels.
    assert set(np.flatnonzero(legal_move_labels(board)).tolist()) == set(move_of_label)


def test_multi_hot_decodes_to_exactly_the_legal_moves(random_boards):
    assert {board.turn for board in random_boards} == {cshogi.BLACK, cshogi.WHITE}
    for board in random_boards:
        _assert_labels_biject_to_legal_moves(board)


def test_labels_are_mover_normalised(random_boards):
    """A White position and its 180° rotation (Black to move) get the same labels."""
    for board in random_boards:
        if board.turn != cshogi.WHITE:
            continue
        rotated = cshogi.Board(cshogi.rotate_sfen(board.sfen()))
        assert rotated.turn == cshogi.BLACK
        assert np.array_equal(legal_move_labels(board), legal_move_labels(rotated))


def test_vectorised_labels_equal_one_at_a_time(random_boards):
    board = random_boards[7]
    moves = np.fromiter(board.legal_moves, dtype=np.int64)
    one_by_one = [move_to_label(int(move), board.turn) for move in moves]
    assert move_labels(moves, board.turn == cshogi.WHITE).tolist() == one_by_one


def test_promotions_and_drops_are_covered(random_boards):
    """The sample exercises every kind of move, so the bijection test means something."""
    moves = [m for board in random_boards for m in board.legal_moves]
    assert any(cshogi.move_is_promotion(m) for m in moves)
    assert any(cshogi.move_is_drop(m) for m in moves)
    labels = np.concatenate(
        [move_labels(list(b.legal_moves), b.turn == cshogi.WHITE) for b in random_boards]
    )
    assert len(set(labels.tolist())) > 700

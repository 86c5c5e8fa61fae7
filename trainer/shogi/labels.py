"""maou's 1496 move labels, mover-normalised (maou ``domain/move/label.py``).

A board move is labelled by (direction it travels, promotes or not, destination square);
a drop by (hand piece, destination square). Squares are cshogi's ``file * 9 + rank``
(file 1 and rank 一 are index 0). When White moves, squares are rotated ``80 - sq`` so the
mover always plays "up the board".

Within each category, the labels run over the destinations a piece could reach in that
category, in ascending square order; destinations no piece can reach (an "up" move onto
rank 九, an unpromoted knight onto rank 一 or 二, a pawn drop on rank 一, ...) get no label.
maou writes an offset formula per category; we derive the same numbering from one validity
rule per category instead, so the table is built, not typed in (tests check it against
cshogi's legal moves on hundreds of positions).

    labels 0-964      board moves: 10 directions x {no promotion, promotion} x destination
    labels 965-1495   drops: FU 72, KY 72, KE 63, GI/KI/KA/HI 81 each
"""

from __future__ import annotations

from collections.abc import Callable

import cshogi
import numpy as np

NUM_MOVE_LABELS = 1496
NUM_BOARD_MOVE_LABELS = 965

# A destination (x = file index, y = rank index) -> can a move of this category end there?
SquareRule = Callable[[int, int], bool]

# (dx, dy) of each direction, dy < 0 is "up" (towards the opponent), dx > 0 is "left".
# The order of this table is the label order (maou's MoveCategoryStartLabel).
DIRECTIONS: tuple[str, ...] = (
    "UP",
    "UP_LEFT",
    "UP_RIGHT",
    "LEFT",
    "RIGHT",
    "DOWN",
    "DOWN_LEFT",
    "DOWN_RIGHT",
    "KEIMA_LEFT",
    "KEIMA_RIGHT",
)

_PLAIN_RULES: dict[str, SquareRule] = {
    "UP": lambda x, y: y <= 7,
    "UP_LEFT": lambda x, y: y <= 7 and x >= 1,
    "UP_RIGHT": lambda x, y: y <= 7 and x <= 7,
    "LEFT": lambda x, y: x >= 1,
    "RIGHT": lambda x, y: x <= 7,
    "DOWN": lambda x, y: y >= 1,
    "DOWN_LEFT": lambda x, y: y >= 1 and x >= 1,
    "DOWN_RIGHT": lambda x, y: y >= 1 and x <= 7,
    "KEIMA_LEFT": lambda x, y: 2 <= y <= 6 and x >= 1,
    "KEIMA_RIGHT": lambda x, y: 2 <= y <= 6 and x <= 7,
}

# A promotion ends in the promotion zone (ranks 一-三), except moves going down, which may
# start in it: a diagonal from ranks 一-三 ends where y <= x + 2 (left) or x + y <= 10 (right).
_PROMOTION_RULES: dict[str, SquareRule] = {
    "UP": lambda x, y: y <= 2,
    "UP_LEFT": lambda x, y: y <= 2 and x >= 1,
    "UP_RIGHT": lambda x, y: y <= 2 and x <= 7,
    "LEFT": lambda x, y: y <= 2 and x >= 1,
    "RIGHT": lambda x, y: y <= 2 and x <= 7,
    "DOWN": lambda x, y: y >= 1,
    "DOWN_LEFT": lambda x, y: y >= 1 and x >= 1 and y <= x + 2,
    "DOWN_RIGHT": lambda x, y: y >= 1 and x <= 7 and x + y <= 10,
    "KEIMA_LEFT": lambda x, y: y <= 2 and x >= 1,
    "KEIMA_RIGHT": lambda x, y: y <= 2 and x <= 7,
}

# Hand pieces in cshogi's (and maou's) order FU KY KE GI KI KA HI.
_DROP_RULES: tuple[SquareRule, ...] = (
    lambda x, y: y >= 1,
    lambda x, y: y >= 1,
    lambda x, y: y >= 2,
    lambda x, y: True,
    lambda x, y: True,
    lambda x, y: True,
    lambda x, y: True,
)


def _number_categories(rules: list[SquareRule], first_label: int) -> np.ndarray:
    """(len(rules), 81) int16 table: label of each (category, destination), -1 if none."""
    table = np.full((len(rules), 81), -1, dtype=np.int16)
    label = first_label
    for category, rule in enumerate(rules):
        for sq in range(81):
            if rule(*divmod(sq, 9)):
                table[category, sq] = label
                label += 1
    return table


# Rows 0-9: unpromoted directions, rows 10-19: the same directions promoting.
BOARD_MOVE_LABEL = _number_categories(
    [_PLAIN_RULES[d] for d in DIRECTIONS] + [_PROMOTION_RULES[d] for d in DIRECTIONS], 0
)
DROP_LABEL = _number_categories(list(_DROP_RULES), NUM_BOARD_MOVE_LABELS)
assert BOARD_MOVE_LABEL.max() == NUM_BOARD_MOVE_LABELS - 1
assert DROP_LABEL.max() == NUM_MOVE_LABELS - 1


def _direction_table() -> np.ndarray:
    """(17, 17) table: direction index of a step (dx + 8, dy + 8), -1 for no step."""
    table = np.full((17, 17), -1, dtype=np.int8)
    for dx in range(-8, 9):
        for dy in range(-8, 9):
            table[dx + 8, dy + 8] = _direction_of(dx, dy)
    return table


def _direction_of(dx: int, dy: int) -> int:
    if (dx, dy) == (1, -2):
        return DIRECTIONS.index("KEIMA_LEFT")
    if (dx, dy) == (-1, -2):
        return DIRECTIONS.index("KEIMA_RIGHT")
    vertical = "UP" if dy < 0 else "DOWN" if dy > 0 else ""
    horizontal = "LEFT" if dx > 0 else "RIGHT" if dx < 0 else ""
    name = "_".join(part for part in (vertical, horizontal) if part)
    return DIRECTIONS.index(name) if name else -1


_DIRECTION = _direction_table()


def move_labels(moves: np.ndarray, white_to_move: np.ndarray | bool) -> np.ndarray:
    """Labels of many cshogi moves at once (int64 array); -1 where a move has no label.

    ``white_to_move`` is one flag per move (or one for all): White's moves are rotated.
    """
    moves = np.asarray(moves, dtype=np.int64)
    # cshogi move bits: 0-6 destination, 7-13 origin (81 + hand piece for a drop), 14 promotion.
    to_sq = moves & 0x7F
    from_sq = (moves >> 7) & 0x7F
    promotes = (moves >> 14) & 1
    is_drop = from_sq >= 81
    white = np.broadcast_to(np.asarray(white_to_move, dtype=bool), moves.shape)
    to_sq = np.where(white, 80 - to_sq, to_sq)
    from_sq = np.where(white & ~is_drop, 80 - from_sq, from_sq)

    board_from = np.where(is_drop, to_sq, from_sq)  # drops take no direction
    dx = to_sq // 9 - board_from // 9
    dy = to_sq % 9 - board_from % 9
    direction = _DIRECTION[dx + 8, dy + 8].astype(np.int64)
    board_label = BOARD_MOVE_LABEL[np.clip(direction, 0, None) + 10 * promotes, to_sq]
    board_label = np.where(direction >= 0, board_label, -1)
    drop_label = DROP_LABEL[np.clip(from_sq - 81, 0, 6), to_sq]
    return np.where(is_drop, drop_label, board_label).astype(np.int64)


# Python-list twins of the tables: indexing them is ~50x faster than numpy for one move.
_BOARD_MOVE_LABEL_LIST = BOARD_MOVE_LABEL.tolist()
_DROP_LABEL_LIST = DROP_LABEL.tolist()
_DIRECTION_LIST = _DIRECTION.tolist()


def move_to_label(move: int, turn: int) -> int:
    """maou's label (0-1495) of one cshogi move played by ``turn`` (cshogi.BLACK or WHITE).

    The scalar twin of ``move_labels`` (same bit decoding, see there).
    """
    white = turn == cshogi.WHITE
    to_sq, from_sq = move & 0x7F, (move >> 7) & 0x7F
    if white:
        to_sq = 80 - to_sq
    if from_sq >= 81:
        label = _DROP_LABEL_LIST[from_sq - 81][to_sq]
    else:
        if white:
            from_sq = 80 - from_sq
        dx, dy = to_sq // 9 - from_sq // 9, to_sq % 9 - from_sq % 9
        direction = _DIRECTION_LIST[dx + 8][dy + 8]
        promotes = (move >> 14) & 1
        label = _BOARD_MOVE_LABEL_LIST[direction + 10 * promotes][to_sq] if direction >= 0 else -1
    if label < 0:
        raise ValueError(f"move {cshogi.move_to_usi(move)} has no maou move label")
    return label


def legal_move_labels(board: cshogi.Board) -> np.ndarray:
    """(1496,) uint8 multi-hot of the labels of ``board.legal_moves``."""
    multi_hot = np.zeros(NUM_MOVE_LABELS, dtype=np.uint8)
    moves = np.fromiter(board.legal_moves, dtype=np.int64)
    labels = move_labels(moves, board.turn == cshogi.WHITE)
    if (labels < 0).any():
        raise ValueError(f"a legal move of {board.sfen()} has no maou move label")
    multi_hot[labels] = 1
    return multi_hot

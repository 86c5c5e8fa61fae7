"""Self-play games with cshogi: mate in one when there is one, otherwise a random legal move.

This is the "real positions" source for Stages 2 and 3 when the user brings no game records
(maou's spec §2: such games end in mate about 90% of the time, after ~170 plies). Games are
deterministic for a seed: the only randomness is a ``random.Random(seed)`` choice among
cshogi's legal moves, which cshogi lists in a fixed order.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

import cshogi
import numpy as np

from trainer.shogi.features import encode_position

MAX_PLIES = 512  # a game still running after this many plies is scored a draw

# Result of a game for Black; the value target is taken from it for the side to move.
BLACK_WIN, WHITE_WIN, DRAW = cshogi.BLACK_WIN, cshogi.WHITE_WIN, cshogi.DRAW


@dataclass
class Ply:
    """One position of a game (before its move) and the move played from it."""

    zobrist: int
    board_ids: np.ndarray
    hand: np.ndarray
    legal_moves: np.ndarray  # int64 cshogi moves
    move: int
    turn: int
    hcp: np.ndarray  # HuffmanCodedPos bytes, to write .hcpe files


@dataclass
class Game:
    plies: list[Ply]
    result: int  # BLACK_WIN, WHITE_WIN or DRAW


def value_for_mover(result: int, turn: int) -> float:
    """maou's result value for the side to move: win 1, loss 0, draw 0.5."""
    if result == DRAW:
        return 0.5
    winner = cshogi.BLACK if result == BLACK_WIN else cshogi.WHITE
    return 1.0 if winner == turn else 0.0


def _win_for(side: int) -> int:
    return BLACK_WIN if side == cshogi.BLACK else WHITE_WIN


def _repetition_result(board: cshogi.Board) -> int | None:
    """The game result if the position repeats (sennichite), else None."""
    repetition = board.is_draw()
    if repetition == cshogi.REPETITION_DRAW:
        return DRAW
    if repetition == cshogi.REPETITION_WIN:  # the opponent gave perpetual check
        return _win_for(board.turn)
    if repetition == cshogi.REPETITION_LOSE:  # the mover gave perpetual check
        return _win_for(cshogi.opponent(board.turn))
    return None  # superior/inferior positions are search notions, not game ends


def play_game(rng: random.Random, max_plies: int = MAX_PLIES) -> Game:
    """Play one game from the initial position; every non-terminal position becomes a Ply."""
    board = cshogi.Board()
    plies: list[Ply] = []
    hcp = np.empty(1, dtype=cshogi.HuffmanCodedPos)
    for _ in range(max_plies):
        result = _repetition_result(board)
        if result is not None:
            return Game(plies, result)
        legal_moves = list(board.legal_moves)
        if not legal_moves:  # mated: the side to move loses
            return Game(plies, _win_for(cshogi.opponent(board.turn)))
        # cshogi's mate_move_in_1ply assumes the mover is not in check: in check it can return a
        # move that leaves the king attacked (an illegal move, which HCPE readers then refuse).
        mate = 0 if board.is_check() else board.mate_move_in_1ply()
        move = mate or rng.choice(legal_moves)
        board_ids, hand = encode_position(board)
        board.to_hcp(hcp)
        plies.append(
            Ply(
                zobrist=board.zobrist_hash(),
                board_ids=board_ids,
                hand=hand,
                legal_moves=np.array(legal_moves, dtype=np.int64),
                move=move,
                turn=board.turn,
                hcp=hcp["hcp"][0].copy(),
            )
        )
        board.push(move)
    return Game(plies, DRAW)


def play_games(seed: int) -> Iterator[Game]:
    """An endless, deterministic stream of self-play games for ``seed``."""
    rng = random.Random(seed)
    while True:
        yield play_game(rng)

"""Fixtures for the trainer data and model tests: small, deterministic self-play samples."""

from __future__ import annotations

import random
from itertools import islice

import cshogi
import pytest

from trainer.shogi.selfplay import Game, play_games


@pytest.fixture(scope="session")
def games() -> list[Game]:
    """Four complete self-play games (seed 11): several hundred positions, both colours."""
    return list(islice(play_games(11), 4))


@pytest.fixture(scope="session")
def random_boards() -> list[cshogi.Board]:
    """300 positions after 1-200 purely random plies, both colours to move."""
    rng = random.Random(5)
    boards = []
    while len(boards) < 300:
        board = cshogi.Board()
        for _ in range(rng.randrange(1, 200)):
            moves = list(board.legal_moves)
            if not moves:
                break
            board.push(rng.choice(moves))
        if list(board.legal_moves):
            boards.append(board)
    return boards

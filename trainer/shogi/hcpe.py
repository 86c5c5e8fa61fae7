"""Stage 3 data from HCPE files: cshogi's ``HuffmanCodedPosAndEval`` records (38 bytes each).

Each record is a position (``hcp``), the move chosen there (``bestMove16``) and the game's
result (``gameResult``: 0 draw, 1 Black won, 2 White won), the format of maou's
``hcpe-convert`` and of most shogi engine training data. A record becomes one row:
policy = one-hot of ``bestMove16``, value = the result for the side to move.
``write_hcpe`` writes self-play games in the same format (a demo file, and the tests).
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import islice
from pathlib import Path

import cshogi
import numpy as np

from trainer.shogi.arrays import ShogiArrays
from trainer.shogi.features import encode_position
from trainer.shogi.labels import NUM_MOVE_LABELS, move_labels
from trainer.shogi.selfplay import play_games, value_for_mover

HCPE_DTYPE = np.dtype(cshogi.HuffmanCodedPosAndEval)
_RESULTS = (cshogi.DRAW, cshogi.BLACK_WIN, cshogi.WHITE_WIN)


class HcpeError(ValueError):
    """An HCPE file that cannot be read; the message names the file and what to do."""


def _read_records(path: Path) -> np.ndarray:
    if not path.is_file():
        raise HcpeError(f"HCPE file {path} does not exist: pass existing .hcpe files")
    size = path.stat().st_size
    if size % HCPE_DTYPE.itemsize:
        raise HcpeError(
            f"{path} is not an HCPE file ({size} bytes is not a multiple of "
            f"{HCPE_DTYPE.itemsize}): pass cshogi HuffmanCodedPosAndEval records"
        )
    return np.fromfile(path, dtype=HCPE_DTYPE)


def _decode_record(board: cshogi.Board, record: np.ndarray, where: str) -> tuple[int, int]:
    """Set ``board`` to the record's position; return (its move, its result)."""
    try:
        board.set_hcp(np.asarray(record["hcp"]))
    except (RuntimeError, ValueError) as error:
        raise HcpeError(f"{where}: invalid position ({error}); is it an HCPE file?") from None
    move = board.move_from_move16(int(record["bestMove16"]))
    if not board.is_legal(move):
        raise HcpeError(f"{where}: bestMove16 is not a legal move in its position")
    result = int(record["gameResult"])
    if result not in _RESULTS:
        raise HcpeError(f"{where}: gameResult {result} is not 0 (draw), 1 or 2 (a side won)")
    return move, result


def hcpe_arrays(paths: Sequence[Path]) -> ShogiArrays:
    """Stage 3 rows, one per record of ``paths``, with the keys of ``stage3_arrays``."""
    if not paths:
        raise HcpeError("no HCPE files given: pass one or more .hcpe files")
    board = cshogi.Board()
    boards, hands, moves, white, values = [], [], [], [], []
    for path in map(Path, paths):
        for index, record in enumerate(_read_records(path)):
            move, result = _decode_record(board, record, f"{path} record {index}")
            board_ids, hand = encode_position(board)
            boards.append(board_ids)
            hands.append(hand)
            moves.append(move)
            white.append(board.turn == cshogi.WHITE)
            values.append(value_for_mover(result, board.turn))
    if not boards:
        raise HcpeError(f"the HCPE files hold no records: {', '.join(map(str, paths))}")
    policy = np.zeros((len(boards), NUM_MOVE_LABELS), dtype=np.float32)
    policy[np.arange(len(boards)), move_labels(np.array(moves), np.array(white))] = 1.0
    return ShogiArrays(
        board=np.stack(boards),
        hand=np.stack(hands),
        targets={"policy": policy, "value": np.array(values, dtype=np.float32)},
    )


def write_hcpe(path: Path, num_games: int, seed: int = 0) -> int:
    """Write ``num_games`` self-play games to ``path`` as HCPE records; return the count."""
    records = []
    for game in islice(play_games(seed), num_games):
        game_records = np.zeros(len(game.plies), dtype=HCPE_DTYPE)
        game_records["hcp"] = [ply.hcp for ply in game.plies]
        game_records["bestMove16"] = [cshogi.move16(ply.move) for ply in game.plies]
        game_records["gameResult"] = game.result
        records.append(game_records)
    all_records = np.concatenate(records) if records else np.zeros(0, dtype=HCPE_DTYPE)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    all_records.tofile(path)
    return len(all_records)

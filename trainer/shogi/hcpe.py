"""Stage 3 data from HCPE files: cshogi's ``HuffmanCodedPosAndEval`` records (38 bytes each).

Each record is a position (``hcp``), the move chosen there (``bestMove16``) and the game's
result (``gameResult``: 0 draw, 1 Black won, 2 White won), the format of maou's
``hcpe-convert`` and of most shogi engine training data. A record becomes one row:
policy = one-hot of ``bestMove16``, value = the result for the side to move.
The policy is stored sparse (``sparse.py``): one (label, 1.0) pair a row, 14 bytes instead of
a 6 KB dense row. ``write_hcpe`` writes self-play games in the same format (a demo file, and
the tests).
"""

from __future__ import annotations

import os
import signal
from collections.abc import Sequence
from itertools import islice
from pathlib import Path

import cshogi
import numpy as np

from trainer.shogi.arrays import ShogiArrays
from trainer.shogi.features import encode_positions
from trainer.shogi.labels import move_labels
from trainer.shogi.selfplay import play_games
from trainer.shogi.sparse import SparsePolicy

HCPE_DTYPE = np.dtype(cshogi.HuffmanCodedPosAndEval)
_RESULTS = (cshogi.DRAW, cshogi.BLACK_WIN, cshogi.WHITE_WIN)
#: Records decoded per chunk: the chunk's temporaries (~2 KB a record, mostly int64 index
#: arrays of the vectorised encoding) stay ~16 MB whatever the file size.
_CHUNK = 1 << 13


class HcpeError(ValueError):
    """An HCPE file that cannot be read; the message names the file and what to do."""


def _open_records(path: Path) -> np.ndarray:
    """The file's records, memory-mapped: only the chunk being decoded is read into memory."""
    if not path.is_file():
        raise HcpeError(f"HCPE file {path} does not exist: pass existing .hcpe files")
    size = path.stat().st_size
    if size % HCPE_DTYPE.itemsize:
        raise HcpeError(
            f"{path} is not an HCPE file ({size} bytes is not a multiple of "
            f"{HCPE_DTYPE.itemsize}): pass cshogi HuffmanCodedPosAndEval records"
        )
    if size == 0:
        return np.zeros(0, dtype=HCPE_DTYPE)
    return np.memmap(path, dtype=HCPE_DTYPE, mode="r")


def _check_results(results: np.ndarray, where: str, first: int) -> None:
    bad = np.flatnonzero(~np.isin(results, _RESULTS))
    if len(bad):
        raise HcpeError(
            f"{where} record {first + bad[0]}: gameResult {results[bad[0]]} is not 0 (draw), "
            "1 or 2 (a side won)"
        )


def _decode_chunk(records: np.ndarray, where: str, first: int) -> dict[str, np.ndarray]:
    """cshogi's raw state of each record's position, and its move; one ``set_hcp`` a record.

    cshogi decodes one position per call (the Huffman code has no bulk decoder), so this loop
    is the floor; everything after it (encoding, labels, values) is vectorised. Board and hand
    are gathered as ``bytes``: 3x cheaper than assigning cshogi's lists into numpy rows.
    """
    pieces, hands, turns, moves = [], [], [], []
    board = cshogi.Board()
    moves16 = records["bestMove16"].tolist()
    for index, (hcp, move16) in enumerate(zip(records["hcp"], moves16, strict=True)):
        try:
            board.set_hcp(hcp)
        except (RuntimeError, ValueError) as error:
            raise HcpeError(
                f"{where} record {first + index}: invalid position ({error}); is it an HCPE file?"
            ) from None
        try:
            move = board.move_from_move16(move16)
        except (OverflowError, ValueError):  # random bytes: cshogi rejects the 16-bit value
            move = None
        if move is None or not board.is_legal(move):
            raise HcpeError(
                f"{where} record {first + index}: bestMove16 is not a legal move in its position"
            )
        black_hand, white_hand = board.pieces_in_hand
        pieces.append(bytes(board.pieces))
        hands.append(bytes(black_hand + white_hand))
        turns.append(board.turn)
        moves.append(move)
    return {
        "pieces": np.frombuffer(b"".join(pieces), dtype=np.uint8).reshape(-1, 81),
        "hands": np.frombuffer(b"".join(hands), dtype=np.uint8).reshape(-1, 2, 7),
        "turns": np.array(turns, dtype=np.uint8),
        "moves": np.array(moves, dtype=np.int64),
    }


def _values(results: np.ndarray, turns: np.ndarray) -> np.ndarray:
    """maou's value for the side to move (``selfplay.value_for_mover``), vectorised."""
    winner = np.where(results == cshogi.BLACK_WIN, cshogi.BLACK, cshogi.WHITE)
    return np.where(results == cshogi.DRAW, 0.5, (winner == turns).astype(np.float32))


#: Records ``check_hcpe_file`` decodes: enough to tell an HCPE file from random bytes.
_CHECK_RECORDS = 64


def check_hcpe_file(path: Path) -> None:
    """Refuse (HcpeError) a file that is empty, not whole records, or whose first records do
    not decode; cheap, so the CLI runs it before creating anything."""
    records = _open_records(path)
    if len(records) == 0:
        raise HcpeError(f"{path} holds no records: pass a non-empty HCPE file")
    head = np.asarray(records[:_CHECK_RECORDS])
    _check_results(head["gameResult"], str(path), 0)
    _decode_chunk(head, str(path), 0)


def check_hcpe_file_isolated(path: Path) -> None:
    """``check_hcpe_file`` in a forked child: cshogi's ``set_hcp`` can segfault on random bytes
    (measured: within 20,000 random records), and a bad file must cost one error line, not the
    process. Raises HcpeError with the child's message, or naming the crash."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: check, report the error line (empty when the file is fine)
        report = b""
        try:
            check_hcpe_file(path)
        except Exception as exc:  # anything the child meets is the parent's one error line
            report = (str(exc) if isinstance(exc, HcpeError) else f"{path}: {exc}").encode()
        finally:
            os.write(write_end, report)
            os._exit(0)
    os.close(write_end)
    _, status = os.waitpid(pid, 0)
    with os.fdopen(read_end, "rb") as pipe:
        message = pipe.read().decode()
    if os.WIFSIGNALED(status):
        signal_name = signal.Signals(os.WTERMSIG(status)).name
        raise HcpeError(f"{path} is not an HCPE file (decoding it crashed cshogi: {signal_name})")
    if message:
        raise HcpeError(message)


def hcpe_arrays(paths: Sequence[Path]) -> ShogiArrays:
    """Stage 3 rows, one per record of ``paths``, with the keys of ``stage3_arrays``."""
    if not paths:
        raise HcpeError("no HCPE files given: pass one or more .hcpe files")
    files = [(Path(path), _open_records(Path(path))) for path in paths]
    total = sum(len(records) for _, records in files)
    if total == 0:
        raise HcpeError(f"the HCPE files hold no records: {', '.join(map(str, paths))}")
    board = np.empty((total, 9, 9), dtype=np.uint8)
    hand = np.empty((total, 14), dtype=np.float32)
    labels = np.empty(total, dtype=np.int16)
    value = np.empty(total, dtype=np.float32)
    row = 0
    for path, records in files:
        for first in range(0, len(records), _CHUNK):
            chunk = np.asarray(records[first : first + _CHUNK])
            _check_results(chunk["gameResult"], str(path), first)
            raw = _decode_chunk(chunk, str(path), first)
            rows = slice(row, row + len(chunk))
            board[rows], hand[rows] = encode_positions(raw["pieces"], raw["hands"], raw["turns"])
            labels[rows] = move_labels(raw["moves"], raw["turns"] == cshogi.WHITE)
            value[rows] = _values(chunk["gameResult"], raw["turns"])
            row += len(chunk)
    return ShogiArrays(
        board=board,
        hand=hand,
        targets={"policy": SparsePolicy.one_hot(labels), "value": value},
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

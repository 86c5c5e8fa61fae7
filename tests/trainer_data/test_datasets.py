"""Stage 2/3 data from self-play, the cache, HCPE files and the train/val split."""

from __future__ import annotations

from itertools import islice

import cshogi
import numpy as np
import pytest

from trainer.shogi import datasets
from trainer.shogi.datasets import (
    ShogiArrays,
    hcpe_arrays,
    stage2_arrays,
    stage3_arrays,
    train_val_split,
    write_hcpe,
)
from trainer.shogi.features import encode_position
from trainer.shogi.hcpe import HcpeError
from trainer.shogi.labels import legal_move_labels, move_to_label
from trainer.shogi.selfplay import play_games, value_for_mover


def _board(hcp: np.ndarray) -> cshogi.Board:
    board = cshogi.Board()
    board.set_hcp(hcp)
    return board


def test_stage2_rows_are_distinct_positions_with_their_legal_moves():
    data = stage2_arrays(400, seed=3, cache_dir=None)
    assert len(data) == 400 and data.targets["legal"].shape == (400, 1496)
    assert data.targets["legal"].dtype == np.uint8
    # the same rows, rebuilt from the seed's games: first 400 distinct hashes, in order
    seen, plies = set(), []
    for game in play_games(3):
        plies += [p for p in game.plies if not (p.zobrist in seen or seen.add(p.zobrist))]
        if len(plies) >= 400:
            break
    for row, ply in enumerate(plies[:400]):
        board = _board(ply.hcp)
        board_ids, hand = encode_position(board)
        assert np.array_equal(data.board[row], board_ids)
        assert np.array_equal(data.hand[row], hand)
        assert np.array_equal(data.targets["legal"][row], legal_move_labels(board))
    inputs = np.concatenate([data.board.reshape(400, -1), data.hand], axis=1)
    assert len(np.unique(inputs, axis=0)) == 400  # deduplicated


def test_generation_is_deterministic_per_seed():
    first, again = stage2_arrays(150, 1, None), stage2_arrays(150, 1, None)
    other = stage2_arrays(150, 2, None)
    assert np.array_equal(first.board, again.board)
    assert np.array_equal(first.targets["legal"], again.targets["legal"])
    assert not np.array_equal(first.board, other.board)
    s3, s3_again = stage3_arrays(2, 4, None), stage3_arrays(2, 4, None)
    assert np.array_equal(s3.targets["policy"].to_dense(), s3_again.targets["policy"].to_dense())


def test_cache_hit_skips_generation_and_bad_file_is_rebuilt(tmp_path, monkeypatch):
    fresh = stage2_arrays(120, 5, tmp_path)
    (cached_file,) = tmp_path.glob("stage2-120-seed5-*.npz")

    def must_not_generate(*_args):
        raise AssertionError("generated again despite a cache file")

    with monkeypatch.context() as patch:
        patch.setattr(datasets, "_generate_stage2", must_not_generate)
        hit = stage2_arrays(120, 5, tmp_path)
    assert np.array_equal(hit.targets["legal"], fresh.targets["legal"])
    assert np.array_equal(hit.board, fresh.board)

    cached_file.write_bytes(b"half a file")
    rebuilt = stage2_arrays(120, 5, tmp_path)
    assert np.array_equal(rebuilt.targets["legal"], fresh.targets["legal"])
    assert stage2_arrays(120, 5, tmp_path).board.shape == (120, 9, 9)
    assert not list(tmp_path.glob("*.tmp"))


def test_stage3_aggregates_visits_per_position(tmp_path):
    num_games, seed = 3, 7
    data = stage3_arrays(num_games, seed, tmp_path)
    policy, value = data.targets["policy"].to_dense(), data.targets["value"]
    assert policy.shape == (len(data), 1496) and policy.dtype == np.float32
    np.testing.assert_allclose(policy.sum(axis=1), 1.0, rtol=1e-6)
    assert ((value >= 0) & (value <= 1)).all()
    # Row 0 is the initial position, visited once per game: its targets average the games.
    games = list(islice(play_games(seed), num_games))
    first_moves = [move_to_label(g.plies[0].move, cshogi.BLACK) for g in games]
    expected_policy = np.bincount(first_moves, minlength=1496) / num_games
    np.testing.assert_allclose(policy[0], expected_policy, rtol=1e-6)
    expected_value = np.mean([value_for_mover(g.result, cshogi.BLACK) for g in games])
    assert value[0] == pytest.approx(expected_value)
    assert len(data) < sum(len(g.plies) for g in games)  # repeated positions merged
    cached = stage3_arrays(num_games, seed, tmp_path)
    np.testing.assert_array_equal(cached.targets["policy"].to_dense(), policy)


def test_selfplay_games_end_in_mate_or_a_draw(games):
    assert {g.result for g in games} <= {cshogi.BLACK_WIN, cshogi.WHITE_WIN, cshogi.DRAW}
    decided = [g for g in games if g.result != cshogi.DRAW]
    assert len(decided) >= 3
    for game in decided:
        last = game.plies[-1]
        board = _board(last.hcp)
        board.push(last.move)
        assert board.is_game_over()  # the last move mated ...
        winner = cshogi.BLACK_WIN if last.turn == cshogi.BLACK else cshogi.WHITE_WIN
        assert game.result == winner  # ... and its player won


def test_selfplay_plays_only_legal_moves_even_in_check():
    """Seed 0's game 25 was once in check with a "mate in one" on the board that ignored it."""
    for game in islice(play_games(0), 30):
        for ply in game.plies:
            assert ply.move in ply.legal_moves, _board(ply.hcp).sfen()


def test_hcpe_round_trip(tmp_path, games):
    path = tmp_path / "games.hcpe"
    count = write_hcpe(path, num_games=2, seed=11)
    plies = games[0].plies + games[1].plies  # the same seed's first two games
    assert count == len(plies) == path.stat().st_size // 38
    data = hcpe_arrays([path])
    assert len(data) == count
    policy = data.targets["policy"].to_dense()
    for row, ply in enumerate(plies):
        assert np.array_equal(data.board[row], ply.board_ids)
        assert np.array_equal(data.hand[row], ply.hand)
        assert policy[row].argmax() == move_to_label(ply.move, ply.turn)
    assert (policy.sum(axis=1) == 1).all()
    result = games[0].result
    assert data.targets["value"][0] == value_for_mover(result, cshogi.BLACK)
    assert data.targets["value"][1] == value_for_mover(result, cshogi.WHITE)


def test_bad_hcpe_files_get_one_line_errors(tmp_path):
    missing = tmp_path / "nope.hcpe"
    with pytest.raises(HcpeError, match=r"nope\.hcpe does not exist"):
        hcpe_arrays([missing])
    odd = tmp_path / "odd.hcpe"
    odd.write_bytes(b"x" * 39)
    with pytest.raises(HcpeError, match=r"odd\.hcpe is not an HCPE file") as error:
        hcpe_arrays([odd])
    assert "\n" not in str(error.value)
    garbage = tmp_path / "garbage.hcpe"
    garbage.write_bytes(bytes(range(38)) * 2)
    with pytest.raises(HcpeError, match=r"garbage\.hcpe record 0"):
        hcpe_arrays([garbage])
    with pytest.raises(HcpeError, match="no HCPE files"):
        hcpe_arrays([])


def test_train_val_split():
    data = ShogiArrays(
        board=np.arange(100 * 81, dtype=np.uint8).reshape(100, 9, 9),
        hand=np.zeros((100, 14), np.float32),
        targets={"value": np.arange(100, dtype=np.float32)},
    )
    train, val = train_val_split(data, 0.2, seed=0)
    assert len(train) == 80 and len(val) == 20
    ids = np.concatenate([train.targets["value"], val.targets["value"]])
    assert sorted(ids.tolist()) == list(range(100))  # disjoint, nothing lost
    _, val_again = train_val_split(data, 0.2, seed=0)
    assert np.array_equal(val.targets["value"], val_again.targets["value"])
    assert train_val_split(data, 0.0, seed=0) == (data, None)
    with pytest.raises(ValueError, match=r"test ratio 1\.0 is out of range"):
        train_val_split(data, 1.0, seed=0)


def test_bad_sizes_are_refused():
    with pytest.raises(ValueError, match="Stage 2 positions must be at least 1"):
        stage2_arrays(0, 0, None)
    with pytest.raises(ValueError, match="Stage 3 games must be at least 1"):
        stage3_arrays(-1, 0, None)

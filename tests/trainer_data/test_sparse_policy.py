"""Stage 3's sparse policy targets: the same targets, losses and metrics as the dense form."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from trainer.config import build_config
from trainer.data import TensorData
from trainer.shogi import hcpe
from trainer.shogi.datasets import hcpe_arrays, stage3_arrays, train_val_split, write_hcpe
from trainer.shogi.features import encode_position, encode_positions
from trainer.shogi.sparse import SparsePolicy
from trainer.stages import StageTask, build_stage_model


def _dense_from_visits(num_rows: int, rows: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """The dense Stage 3 target as it was built before it was stored sparse."""
    policy = np.zeros((num_rows, 1496), dtype=np.float32)
    np.add.at(policy, (rows, labels), 1.0)
    policy /= policy.sum(axis=1, keepdims=True)
    return policy


@pytest.fixture(scope="module")
def hcpe_file(tmp_path_factory: pytest.TempPathFactory):
    path = tmp_path_factory.mktemp("hcpe") / "games.hcpe"
    write_hcpe(path, num_games=2, seed=11)
    return path


def test_visit_frequencies_equal_the_dense_normalisation_bit_for_bit():
    rng = np.random.default_rng(0)
    rows = np.concatenate([np.arange(50), rng.integers(0, 50, 400)])  # every row visited
    labels = rng.integers(0, 12, len(rows))  # few labels: many repeated (row, label) visits
    sparse = SparsePolicy.from_visits(50, rows, labels)
    assert np.array_equal(sparse.to_dense(), _dense_from_visits(50, rows, labels))
    assert sparse.max_pairs <= 12


def test_row_selection_keeps_each_rows_pairs():
    rng = np.random.default_rng(1)
    rows = np.concatenate([np.arange(30), rng.integers(0, 30, 200)])
    sparse = SparsePolicy.from_visits(30, rows, rng.integers(0, 1496, len(rows)))
    dense = sparse.to_dense()
    picks = np.array([29, 0, 5, 5, 17])  # unsorted, repeated
    assert np.array_equal(sparse[picks].to_dense(), dense[picks])
    mask = rng.random(30) < 0.5
    assert np.array_equal(sparse[mask].to_dense(), dense[mask])
    assert len(sparse[np.array([], dtype=np.int64)]) == 0


def test_split_keeps_policy_rows_aligned_with_their_positions():
    data = stage3_arrays(3, seed=2, cache_dir=None)
    dense = data.targets["policy"].to_dense()
    row_of = {data.board[i].tobytes() + data.hand[i].tobytes(): i for i in range(len(data))}
    train, val = train_val_split(data, 0.25, seed=0)
    assert val is not None
    for part in (train, val):
        keys = [b.tobytes() + h.tobytes() for b, h in zip(part.board, part.hand, strict=True)]
        origin = [row_of[key] for key in keys]
        assert np.array_equal(part.targets["policy"].to_dense(), dense[origin])
        assert np.array_equal(part.targets["value"], data.targets["value"][origin])


@pytest.mark.parametrize("source", ["selfplay", "hcpe"])
def test_batches_losses_and_metrics_equal_the_dense_path(source, hcpe_file):
    if source == "selfplay":
        data = stage3_arrays(4, seed=3, cache_dir=None)
    else:
        data = hcpe_arrays([hcpe_file])
    dense = torch.from_numpy(data.targets["policy"].to_dense())
    tensors = TensorData.from_arrays(data, torch.device("cpu"))
    config = build_config({})
    torch.manual_seed(0)
    model = build_stage_model(config, 3).eval()
    task = StageTask(config, 3)
    order = torch.randperm(len(data), generator=torch.Generator().manual_seed(0))
    for idx in (order[:64], order[64:200], order[-7:]):
        batch = tensors.batch(idx)
        assert torch.equal(batch["policy"], dense[idx])
        reference = {**batch, "policy": dense[idx]}
        with torch.no_grad():
            got, want = task.compute(model, batch), task.compute(model, reference)
            extras = task.validation_extras(got, batch)
            want_extras = task.validation_extras(want, reference)
        assert torch.equal(got.loss, want.loss)
        for name, value in {**want.sums, **want_extras}.items():
            assert torch.equal({**got.sums, **extras}[name], value), name


def test_hcpe_rows_cost_bytes_not_kilobytes(hcpe_file):
    data = hcpe_arrays([hcpe_file])
    policy = data.targets["policy"]
    assert policy.max_pairs == 1
    assert policy.nbytes / len(data) < 16  # the dense row was 1496 float32 = 5,984 bytes


def test_chunked_hcpe_read_equals_one_chunk_and_names_the_bad_record(
    hcpe_file, tmp_path, monkeypatch
):
    whole = hcpe_arrays([hcpe_file])
    monkeypatch.setattr(hcpe, "_CHUNK", 7)
    chunked = hcpe_arrays([hcpe_file, hcpe_file])
    assert len(chunked) == 2 * len(whole)
    assert np.array_equal(chunked.board, np.concatenate([whole.board, whole.board]))
    assert np.array_equal(chunked.hand, np.concatenate([whole.hand, whole.hand]))
    assert np.array_equal(chunked.targets["value"], np.tile(whole.targets["value"], 2))
    policy = whole.targets["policy"].to_dense()
    assert np.array_equal(chunked.targets["policy"].to_dense(), np.concatenate([policy, policy]))
    records = np.fromfile(hcpe_file, dtype=hcpe.HCPE_DTYPE)
    records["gameResult"][10] = 7
    bad = tmp_path / "bad.hcpe"
    records.tofile(bad)
    with pytest.raises(hcpe.HcpeError, match=r"bad\.hcpe record 10: gameResult 7"):
        hcpe_arrays([bad])


def test_bulk_encoding_equals_one_position_encoding(random_boards):
    pieces = np.array([board.pieces for board in random_boards])
    hands = np.array([board.pieces_in_hand for board in random_boards])
    turns = np.array([board.turn for board in random_boards])
    assert 0 < turns.sum() < len(turns)  # both colours to move
    board_ids, hand = encode_positions(pieces, hands, turns)
    for row, board in enumerate(random_boards):
        one_ids, one_hand = encode_position(board)
        assert np.array_equal(board_ids[row], one_ids)
        assert np.array_equal(hand[row], one_hand)

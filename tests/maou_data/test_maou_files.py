"""maou's data files (written here with pyarrow in maou's schema) read back row for row."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from tests.maou_data.conftest import MaouData
from tests.maou_data.maou_format import preprocessing_table, write_feather
from trainer.shogi import maou_files
from trainer.shogi.maou_files import MaouDataError, inspect_paths, read_parts, split_parts
from trainer.shogi.sparse import SparsePolicy


def _read_all(path: Path, option: str, kind: maou_files.Kind, mode: str = "win-rate"):  # type: ignore[no-untyped-def]
    files = inspect_paths([path], option, kind)
    return files, read_parts([maou_files.FilePart(f) for f in files], mode)  # type: ignore[arg-type]


def test_stage1_file_reads_back_maous_rows(maou_data: MaouData) -> None:
    files, arrays = _read_all(maou_data.stage1_dir, "--stage1-data-path", "stage1")
    assert [f.path.name for f in files] == ["stage1_data.feather"] and files[0].rows == 1105
    assert np.array_equal(arrays.board, maou_data.stage1.board)
    assert np.array_equal(arrays.hand, maou_data.stage1.hand)
    assert np.array_equal(arrays.targets["reachable"], maou_data.stage1.targets["reachable"])


def test_stage2_chunks_of_fixed_and_large_lists_read_in_chunk_order(maou_data: MaouData) -> None:
    files, arrays = _read_all(maou_data.stage2_dir, "--stage2-data-path", "stage2")
    assert [f.path.name for f in files] == ["stage2_chunk0000.feather", "stage2_chunk0001.feather"]
    assert np.array_equal(arrays.board, maou_data.stage2.board)
    assert np.array_equal(arrays.targets["legal"], maou_data.stage2.targets["legal"])


@pytest.mark.parametrize("mode", ["move-label", "win-rate", "weighted"])
def test_stage3_policy_target_follows_maous_policy_target_mode(
    mode: str, tmp_path: Path, maou_data: MaouData
) -> None:
    rows = maou_data.stage3.subset(np.arange(40))
    policy = rows.targets["policy"]
    assert isinstance(policy, SparsePolicy)
    move_label = policy.to_dense()
    win_rate = (move_label > 0) * np.linspace(0.1, 0.9, 1496, dtype=np.float32)
    win_rate[0] = 0.0  # a row whose win rates are all 0: maou leaves its target all zeros
    path = write_feather(preprocessing_table(rows, win_rate), tmp_path / "t.feather")
    _, arrays = _read_all(path, "--stage3-data-path", "preprocessing", mode)
    target = {"move-label": move_label, "win-rate": win_rate, "weighted": move_label * win_rate}
    expected = target[mode].astype(np.float32)
    sums = expected.sum(axis=1, keepdims=True)
    expected = np.divide(expected, sums, out=np.zeros_like(expected), where=sums > 0)
    got = arrays.targets["policy"].to_dense()
    assert np.allclose(got, expected, atol=1e-6)
    assert (got[0].sum() == 0) == (mode != "move-label")
    assert np.allclose(arrays.targets["value"], rows.targets["value"])


def test_a_file_of_another_stage_is_one_line_naming_it(maou_data: MaouData) -> None:
    with pytest.raises(MaouDataError) as error:
        inspect_paths([maou_data.stage1_dir], "--stage3-data-path", "preprocessing")
    message = str(error.value)
    assert "\n" not in message and "stage1_data.feather is not maou preprocessed Stage 3" in message
    assert "it holds maou Stage 1 data" in message


def test_a_non_arrow_file_and_an_empty_directory_are_refused(tmp_path: Path) -> None:
    hcpe = tmp_path / "games.hcpe"
    hcpe.write_bytes(b"\0" * 38)
    with pytest.raises(MaouDataError, match=r"is not an Arrow IPC"):
        inspect_paths([hcpe], "--stage2-data-path", "stage2")
    (tmp_path / "empty").mkdir()
    with pytest.raises(MaouDataError, match=r"holds no \*\.feather files"):
        inspect_paths([tmp_path / "empty"], "--stage2-data-path", "stage2")


def test_a_truncated_file_is_one_line_naming_it(tmp_path: Path, maou_data: MaouData) -> None:
    whole = (maou_data.stage1_dir / "stage1_data.feather").read_bytes()
    cut = tmp_path / "stage1_data.feather"
    cut.write_bytes(whole[: len(whole) // 2])  # an interrupted copy: the footer is missing
    with pytest.raises(MaouDataError, match=r"is a damaged \.feather file"):
        inspect_paths([cut], "--stage1-data-path", "stage1")


def test_unknown_columns_are_named(tmp_path: Path) -> None:
    path = write_feather(pa.table({"hcp": pa.array([b"x"])}), tmp_path / "hcpe.feather")
    with pytest.raises(MaouDataError, match="it holds columns hcp"):
        inspect_paths([path], "--stage1-data-path", "stage1")


def test_split_is_by_file_with_several_files_and_by_row_with_one(maou_data: MaouData) -> None:
    files = inspect_paths([maou_data.stage3_dir], "--stage3-data-path", "preprocessing")
    train, val = split_parts(files, 0.3, seed=0)
    assert len(train) == 2 and len(val) == 1 and all(p.rows is None for p in train + val)
    train, val = split_parts(files[:1], 0.25, seed=0)
    rows = files[0].rows
    assert len(val[0]) == round(rows * 0.25) and len(train[0]) + len(val[0]) == rows
    assert not set(train[0].rows.tolist()) & set(val[0].rows.tolist())  # type: ignore[union-attr]

"""Small data sets in maou's file formats, written once per session with pyarrow."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from tests.maou_data.maou_format import (
    preprocessing_table,
    stage1_table,
    stage2_table,
    write_feather,
)
from trainer.shogi.arrays import ShogiArrays
from trainer.shogi.datasets import stage1_arrays, stage2_arrays, stage3_arrays


@dataclass(frozen=True)
class MaouData:
    """maou's three directories (as its generate-stage1/2-data and pre-process write them)
    and the rows written into them."""

    root: Path
    stage1: ShogiArrays
    stage2: ShogiArrays
    stage3: ShogiArrays

    @property
    def stage1_dir(self) -> Path:
        return self.root / "stage1"

    @property
    def stage2_dir(self) -> Path:
        return self.root / "stage2"

    @property
    def stage3_dir(self) -> Path:
        return self.root / "stage3"

    @property
    def stage3_val_dir(self) -> Path:
        return self.root / "stage3_val"


def _chunks(rows: int, parts: int) -> list[np.ndarray]:
    return np.array_split(np.arange(rows), parts)


@pytest.fixture(scope="session")
def maou_data(tmp_path_factory: pytest.TempPathFactory) -> MaouData:
    root = tmp_path_factory.mktemp("maou-data")
    cache = root / "cache"
    s1, s2, s3 = stage1_arrays(), stage2_arrays(240, 0, cache), stage3_arrays(3, 0, cache)
    write_feather(stage1_table(s1), root / "stage1" / "stage1_data.feather")
    for i, rows in enumerate(_chunks(len(s2), 2)):  # the second chunk as polars writes it
        table = stage2_table(s2.subset(rows), "fixed" if i == 0 else "large")
        write_feather(table, root / "stage2" / f"stage2_chunk{i:04d}.feather")
    train_rows, val_rows = np.arange(len(s3) - 100), np.arange(len(s3) - 100, len(s3))
    for i, rows in enumerate(_chunks(len(train_rows), 3)):
        write_feather(
            preprocessing_table(s3.subset(rows)),
            root / "stage3" / f"transformed_chunk{i:04d}.feather",
        )
    write_feather(
        preprocessing_table(s3.subset(val_rows)),
        root / "stage3_val" / "transformed_chunk0000.feather",
    )
    return MaouData(root, s1, s2, s3)

"""Each stage's data as tensors on the training device, and a resumable batch order.

Targets stay compact on the device (uint8 multi-hots, Stage 3's sparse policy pairs) and are
expanded to float (B, 1496) one batch at a time, so the device holds ~150 bytes per Stage 3
position instead of 6 KB.

The order of an epoch is a permutation drawn from a generator seeded with (seed, stage, epoch):
it needs no saved state, so a resumed run sees exactly the batches it would have seen.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import torch
from torch import Tensor

from trainer.config import TrainConfig
from trainer.shogi import maou_files
from trainer.shogi.datasets import (
    ShogiArrays,
    SparsePolicy,
    hcpe_arrays,
    stage1_arrays,
    stage2_arrays,
    stage3_arrays,
    train_val_split,
)
from trainer.shogi.labels import NUM_MOVE_LABELS
from trainer.stage_files import stage_files

if TYPE_CHECKING:
    from trainer.distributed import Distributed

#: Targets stored compactly (uint8 multi-hot) and turned to float per batch.
_COMPACT_TARGETS = ("legal",)


def load_stage_data(config: TrainConfig, stage: int) -> tuple[ShogiArrays, ShogiArrays | None]:
    """``(train, validation | None)`` arrays of a stage, in memory: generated (cached), or read
    from maou's data files or HCPE files."""
    files = stage_files(config, stage)
    if files is not None:
        val = maou_files.read_parts(files.val, files.mode) if files.val else None
        return maou_files.read_parts(files.train, files.mode), val
    cache_dir = Path(config.cache_dir).expanduser()
    if stage == 1:
        # All 1,105 patterns are the task itself; like maou, Stage 1 has no validation split.
        return stage1_arrays(), None
    if stage == 2:
        data = stage2_arrays(config.stage2_positions, config.seed, cache_dir)
        return train_val_split(data, config.stage2_test_ratio, config.seed)
    if config.stage3_data_path:
        data = hcpe_arrays([Path(p).expanduser() for p in config.stage3_data_path])
        if config.stage3_validation_data_path is not None:
            return data, hcpe_arrays([Path(config.stage3_validation_data_path).expanduser()])
    else:
        data = stage3_arrays(config.stage3_games, config.seed, cache_dir)
    return train_val_split(data, config.test_ratio, config.seed)


@dataclass
class SparseTensor:
    """A ``SparsePolicy`` on the device; ``rows(idx)`` gives those rows dense, (B, 1496) float32."""

    indptr: Tensor
    labels: Tensor
    weights: Tensor
    #: The most pairs of any row: each batch gathers this many slots per row, so the gather
    #: has a fixed shape and needs no device sync (a ragged gather would).
    width: int

    @classmethod
    def from_sparse(cls, policy: SparsePolicy, device: torch.device) -> SparseTensor:
        return cls(
            indptr=torch.from_numpy(policy.indptr).to(device),
            labels=torch.from_numpy(policy.labels).to(device),
            weights=torch.from_numpy(policy.weights).to(device),
            width=policy.max_pairs,
        )

    def __len__(self) -> int:
        return int(self.indptr.shape[0]) - 1

    def rows(self, idx: Tensor) -> Tensor:
        dense = self.weights.new_zeros((len(idx), NUM_MOVE_LABELS))
        if self.width == 0:
            return dense
        start = self.indptr[idx]
        slot = torch.arange(self.width, device=idx.device)
        valid = slot < (self.indptr[idx + 1] - start)[:, None]
        pair = torch.where(valid, start[:, None] + slot, 0)
        weights = torch.where(valid, self.weights[pair], 0.0)
        # Padding slots add 0.0 to some label: the result equals the dense target bit for bit.
        return dense.scatter_add_(1, self.labels[pair].long(), weights)


@dataclass
class TensorData:
    """Row-aligned tensors on one device; ``batch(idx)`` gives the model inputs and targets."""

    board: Tensor
    hand: Tensor
    targets: dict[str, Tensor | SparseTensor]

    @classmethod
    def from_arrays(cls, arrays: ShogiArrays, device: torch.device) -> TensorData:
        targets: dict[str, Tensor | SparseTensor] = {}
        for key, values in arrays.targets.items():
            if isinstance(values, SparsePolicy):
                targets[key] = SparseTensor.from_sparse(values, device)
                continue
            tensor = torch.from_numpy(values)
            if key not in _COMPACT_TARGETS:
                tensor = tensor.float()
            targets[key] = tensor.to(device)
        return cls(
            board=torch.from_numpy(arrays.board).to(device),
            hand=torch.from_numpy(arrays.hand).float().to(device),
            targets=targets,
        )

    def __len__(self) -> int:
        return int(self.board.shape[0])

    def batch(self, idx: Tensor) -> dict[str, Tensor]:
        out = {"board": self.board[idx].long(), "hand": self.hand[idx]}
        for key, target in self.targets.items():
            if isinstance(target, SparseTensor):
                out[key] = target.rows(idx)
            else:
                out[key] = target[idx].float() if key in _COMPACT_TARGETS else target[idx]
        return out


class InMemoryData:
    """A stage's rows on the device, batched in the shuffled order of each epoch."""

    def __init__(
        self,
        tensors: TensorData,
        batch_size: int,
        seed: int,
        stage: int,
        dist: Distributed | None = None,
    ) -> None:
        self.tensors, self.batch_size = tensors, batch_size
        self.seed, self.stage, self.dist = seed, stage, dist
        rows = len(tensors)
        self.batches = batch_count(dist.shard_rows(rows) if dist else rows, batch_size)

    def __len__(self) -> int:
        return len(self.tensors)

    def batch(self, idx: Tensor) -> dict[str, Tensor]:
        return self.tensors.batch(idx)

    def epoch_order(self, epoch: int) -> Tensor:
        rows = len(self.tensors)
        if self.dist is not None:
            return self.dist.epoch_order(rows, self.seed, self.stage, epoch)
        return epoch_order(rows, self.seed, self.stage, epoch, self.tensors.board.device)

    def epoch_batches(self, epoch: int, start: int = 0) -> Iterator[dict[str, Tensor]]:
        """Batches ``start``.. of ``epoch`` (a resumed epoch starts mid-way)."""
        order = self.epoch_order(epoch)
        for batch in range(start, self.batches):
            yield self.tensors.batch(batch_indices(order, batch, self.batch_size))

    def eval_batches(self) -> Iterator[dict[str, Tensor]]:
        rows, device = len(self.tensors), self.tensors.board.device
        for start in range(0, rows, self.batch_size):
            yield self.tensors.batch(
                torch.arange(start, min(rows, start + self.batch_size), device=device)
            )


def batch_count(rows: int, batch_size: int) -> int:
    """Batches per epoch; the last, partial batch is kept (DataLoader's drop_last=False)."""
    return max(1, math.ceil(rows / batch_size))


def epoch_order(rows: int, seed: int, stage: int, epoch: int, device: torch.device) -> Tensor:
    """The shuffled row order of ``epoch`` (1-based) of ``stage``: deterministic, stateless."""
    generator = torch.Generator().manual_seed(seed * 1_000_003 + stage * 1_009 + epoch)
    return torch.randperm(rows, generator=generator).to(device)


def batch_indices(order: Tensor, batch: int, batch_size: int) -> Tensor:
    """Rows of batch ``batch`` (0-based) of an epoch."""
    return order[batch * batch_size : (batch + 1) * batch_size]

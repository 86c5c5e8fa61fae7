"""Which data a stage trains on: maou files streamed, or rows held in device memory.

maou streams file input by default and ``--no-streaming`` switches to map-style; generated data
and HCPE files are held in memory. Under torchrun every rank needs its own shard of the rows,
which the in-memory order gives (``Distributed.epoch_order``), so files are loaded whole there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

import torch
from torch import Tensor

from trainer.config import TrainConfig, stage_settings
from trainer.data import InMemoryData, TensorData, load_stage_data, stage_files
from trainer.shogi.arrays import ShogiArrays
from trainer.shogi.maou_files import FilePart, read_parts
from trainer.streaming import StreamingData

if TYPE_CHECKING:
    from collections.abc import Iterator

    from trainer.distributed import Distributed


class StageData(Protocol):
    """What the loop needs of a stage's training or validation data."""

    batches: int

    def __len__(self) -> int: ...

    def epoch_batches(self, epoch: int, start: int = 0) -> Iterator[dict[str, Tensor]]: ...

    def eval_batches(self) -> Iterator[dict[str, Tensor]]: ...


def stage_sources(
    config: TrainConfig, stage: int, device: torch.device, dist: Distributed | None
) -> tuple[StageData, StageData | None]:
    """``(train, validation | None)`` of ``stage``."""
    batch_size = stage_settings(config, stage).batch_size
    files = stage_files(config, stage)
    if files is not None and not config.no_streaming and dist is None:

        def streamed(parts: list[FilePart]) -> StreamingData:
            return StreamingData(
                parts,
                files.mode,
                batch_size,
                config.seed,
                stage,
                device,
                workers=config.dataloader_workers,
                pin_memory=config.pin_memory,
                prefetch_factor=config.prefetch_factor,
            )

        return streamed(files.train), streamed(files.val) if files.val else None
    if files is not None:
        train = read_parts(files.train, files.mode)
        val = read_parts(files.val, files.mode) if files.val else None
    else:
        train, val = load_stage_data(config, stage)

    def in_memory(arrays: ShogiArrays) -> InMemoryData:
        return InMemoryData(
            TensorData.from_arrays(arrays, device), batch_size, config.seed, stage, dist
        )

    return in_memory(train), in_memory(val) if val is not None else None

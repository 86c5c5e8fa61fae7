"""maou data files streamed file by file through a torch DataLoader (maou's default mode).

An epoch is a fixed plan of batches: the files in a shuffled order, and within a file its rows in
a shuffled order cut into batches (the last batch of a file may be short, as maou's per-file
streaming gives). The plan depends only on (seed, stage, epoch), so a resumed run continues at
the same batch, and the order is the same for any number of workers: with N workers, worker w
builds batches w, w+N, ... of the plan and the DataLoader hands them out round-robin, in plan
order. A worker keeps only the file it is on in memory (compacted, ``maou_files``), so a set of
40M rows never has to fit in memory. ``--dataloader-workers``, ``--pin-memory`` and
``--prefetch-factor`` are the DataLoader's own arguments.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import DataLoader, IterableDataset, get_worker_info

from trainer.data import TensorData, batch_count
from trainer.shogi.maou_files import FilePart, PolicyMode

#: (part index, batch index within the part)
PlannedBatch = tuple[int, int]


def _row_order(rows: int, seed: int, stage: int, epoch: int, part: int) -> np.ndarray:
    if epoch == 0:  # evaluation: rows in file order
        return np.arange(rows)
    rng = np.random.default_rng([seed, stage, epoch, part])
    return rng.permutation(rows)


class _PlannedBatches(IterableDataset[dict[str, Tensor]]):
    """Yields the planned batches this worker owns, as CPU tensors (model inputs and targets)."""

    def __init__(
        self,
        parts: list[FilePart],
        plan: list[PlannedBatch],
        mode: PolicyMode,
        batch_size: int,
        key: tuple[int, int, int],
    ) -> None:
        self.parts, self.plan, self.mode = parts, plan, mode
        self.batch_size, self.key = batch_size, key

    def __iter__(self) -> Iterator[dict[str, Tensor]]:
        info = get_worker_info()
        worker, workers = (info.id, info.num_workers) if info is not None else (0, 1)
        seed, stage, epoch = self.key
        loaded: tuple[int, TensorData, np.ndarray] | None = None
        for part_index, batch in self.plan[worker::workers]:
            if loaded is None or loaded[0] != part_index:
                loaded = None  # free the previous file before decoding the next
                part = self.parts[part_index]
                tensors = TensorData.from_arrays(part.read(self.mode), torch.device("cpu"))
                order = _row_order(len(part), seed, stage, epoch, part_index)
                loaded = (part_index, tensors, order)
            _, tensors, order = loaded
            rows = order[batch * self.batch_size : (batch + 1) * self.batch_size]
            yield tensors.batch(torch.from_numpy(rows))


class StreamingData:
    """A stage's maou files, batched per epoch without loading them all (see the module doc)."""

    def __init__(
        self,
        parts: list[FilePart],
        mode: PolicyMode,
        batch_size: int,
        seed: int,
        stage: int,
        device: torch.device,
        workers: int = 0,
        pin_memory: bool = False,
        prefetch_factor: int = 4,
    ) -> None:
        self.parts, self.mode, self.batch_size = parts, mode, batch_size
        self.seed, self.stage, self.device = seed, stage, device
        self.workers = workers
        self.pin_memory = pin_memory and device.type == "cuda"
        self.prefetch_factor = prefetch_factor
        self.rows = sum(len(part) for part in parts)
        self.part_batches = [batch_count(len(part), batch_size) for part in parts]
        self.batches = sum(self.part_batches)

    def __len__(self) -> int:
        return self.rows

    def plan(self, epoch: int) -> list[PlannedBatch]:
        """Every batch of ``epoch`` in order (epoch 0: evaluation, files and rows in order)."""
        order = np.arange(len(self.parts))
        if epoch > 0:
            order = np.random.default_rng([self.seed, self.stage, epoch]).permutation(order)
        return [(int(p), b) for p in order for b in range(self.part_batches[p])]

    def _batches(self, epoch: int, start: int) -> Iterator[dict[str, Tensor]]:
        dataset = _PlannedBatches(
            self.parts,
            self.plan(epoch)[start:],
            self.mode,
            self.batch_size,
            (self.seed, self.stage, epoch),
        )
        loader = DataLoader(
            dataset,
            batch_size=None,
            num_workers=self.workers,
            pin_memory=self.pin_memory,
            prefetch_factor=self.prefetch_factor if self.workers else None,
        )
        for batch in loader:
            yield {
                key: value.to(self.device, non_blocking=self.pin_memory)
                for key, value in batch.items()
            }

    def epoch_batches(self, epoch: int, start: int = 0) -> Iterator[dict[str, Tensor]]:
        return self._batches(epoch, start)

    def eval_batches(self) -> Iterator[dict[str, Tensor]]:
        return self._batches(0, 0)

"""The ``system`` samples of a run as columns (``RunStore.system``).

One row per sample: its time, the loop's step, and one float32 column per quantity and source
(``rank0.cpu_percent``, ``gpu1.util_percent``, ...), NaN where a sample lacks it. A week-long
run sampled every 5 s is ~120k rows: a few MB, not 120k pydantic objects.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from maou_tui.protocol import GpuSample, ProcessSample, SystemSample

PROCESS_FIELDS = ("cpu_percent", "rss_bytes")
GPU_FIELDS = (
    "util_percent",
    "memory_used_bytes",
    "memory_total_bytes",
    "temperature_c",
    "power_w",
)
_GROWTH = 1.5


def process_key(rank: int, field: str) -> str:
    return f"rank{rank}.{field}"


def gpu_key(index: int, field: str) -> str:
    return f"gpu{index}.{field}"


class SystemHistory:
    """Growable columns of ``SystemSample`` events; ``latest`` is the last sample as sent."""

    def __init__(self, capacity: int = 64) -> None:
        self._n = 0
        self._times = np.empty(capacity, np.float64)
        self._steps = np.empty(capacity, np.int64)
        self._columns: dict[str, np.ndarray] = {}
        self.latest: SystemSample | None = None

    def __len__(self) -> int:
        return self._n

    @property
    def times(self) -> np.ndarray:
        return self._times[: self._n]

    @property
    def steps(self) -> np.ndarray:
        """The loop's global step at each sample; -1 where the sample had none."""
        return self._steps[: self._n]

    def column(self, key: str) -> np.ndarray:
        """The values of ``key`` per sample (all NaN for a key never sent)."""
        found = self._columns.get(key)
        return found[: self._n] if found is not None else np.full(self._n, np.nan, np.float32)

    def gpu_indices(self) -> list[int]:
        """Every GPU any sample reported, in index order."""
        suffix = "." + GPU_FIELDS[0]
        return sorted(int(k[3:].split(".")[0]) for k in self._columns if k.endswith(suffix))

    def add(self, sample: SystemSample) -> None:
        if self._n == len(self._times):
            self._grow()
        row = self._n
        self._times[row] = sample.t
        self._steps[row] = -1 if sample.step is None else sample.step
        for key in self._columns:
            self._columns[key][row] = np.nan
        for process in sample.processes:
            self._put_row(row, process, PROCESS_FIELDS, process_key, process.rank)
        for gpu in sample.gpus:
            self._put_row(row, gpu, GPU_FIELDS, gpu_key, gpu.index)
        self._n += 1
        self.latest = sample

    def _put_row(
        self,
        row: int,
        source: ProcessSample | GpuSample,
        fields: tuple[str, ...],
        key_of: Callable[[int, str], str],
        number: int,
    ) -> None:
        for field in fields:
            value = getattr(source, field)
            if value is None:
                continue
            key = key_of(number, field)
            column = self._columns.get(key)
            if column is None:
                column = self._columns[key] = np.full(len(self._times), np.nan, np.float32)
            column[row] = value

    def _grow(self) -> None:
        size = int(len(self._times) * _GROWTH) + 1
        self._times = np.resize(self._times, size)
        self._steps = np.resize(self._steps, size)
        for key, column in self._columns.items():
            grown = np.full(size, np.nan, np.float32)
            grown[: len(column)] = column
            self._columns[key] = grown

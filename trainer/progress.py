"""Running means since epoch start (maou's displayed metrics) and a pause-aware throughput meter."""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any


@dataclass
class EpochTotals:
    """Sums since the epoch started; ``mean(key)`` is maou's cumulative average."""

    samples: int = 0
    batches: int = 0
    loss_sum: float = 0.0
    sums: dict[str, float] = field(default_factory=dict)

    def add(self, loss: float, samples: int, sums: dict[str, float]) -> None:
        self.samples += samples
        self.batches += 1
        self.loss_sum += loss
        for key, value in sums.items():
            self.sums[key] = self.sums.get(key, 0.0) + value

    @property
    def mean_loss(self) -> float:
        """Mean of the per-batch losses (maou's "Loss")."""
        return self.loss_sum / self.batches if self.batches else float("nan")

    def mean(self, key: str) -> float:
        return self.sums.get(key, 0.0) / self.samples if self.samples else float("nan")

    def to_dict(self) -> dict[str, Any]:
        return {
            "samples": self.samples,
            "batches": self.batches,
            "loss_sum": self.loss_sum,
            "sums": dict(self.sums),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EpochTotals:
        return cls(
            samples=data["samples"],
            batches=data["batches"],
            loss_sum=data["loss_sum"],
            sums=dict(data["sums"]),
        )


class Throughput:
    """Samples/s over the last ``window`` steps, excluding time spent paused."""

    def __init__(self, window: int = 20) -> None:
        self._marks: deque[tuple[float, int]] = deque(maxlen=window + 1)
        self._samples = 0

    def mark(self, samples: int, paused_seconds_total: float) -> float | None:
        """Record a finished step; returns the current rate (None until two marks exist)."""
        self._samples += samples
        now = time.perf_counter() - paused_seconds_total
        self._marks.append((now, self._samples))
        if len(self._marks) < 2:
            return None
        (t0, s0), (t1, s1) = self._marks[0], self._marks[-1]
        return (s1 - s0) / (t1 - t0) if t1 > t0 else None

    def restart(self, paused_seconds_total: float) -> None:
        """Start measuring afresh (after validation or checkpointing, which are not training)."""
        self._marks.clear()
        self._marks.append((time.perf_counter() - paused_seconds_total, self._samples))

"""maou's adaptive batch (``--adaptive-batch``, Stage 3): accumulation steps follow the gradient
noise scale (GNS), as maou's ``adaptive_batch.py`` and ``gradient_noise_scale.py`` do.

Every ``measurement_interval``-th optimizer step, the squared norm of each micro-batch's gradient
is taken (the difference of the accumulated gradient before and after its backward) and, at the
step, ``B_noise = b * K/(K-1) * (K*S/G - 1)`` with b the batch size, K the micro-batches, S the
sum of micro-gradient squared norms and G the squared norm of the accumulated (mean) gradient
(McCandlish et al. 2018). An EMA of B_noise (``smoothing``) sets, every ``interval`` optimizer
steps, the accumulation to B_noise / b rounded to a power of two within [min, max]. As in maou,
the LR is not changed with it. No library offers this estimator, hence the hand-written code.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
from torch import Tensor, nn


def round_to_power_of_two(value: float, minimum: int = 1) -> int:
    return max(minimum, int(2 ** round(math.log2(max(minimum, value)))))


@dataclass
class GnsEstimator:
    """Collects micro-batch gradient norms over one accumulation cycle (maou's estimator)."""

    batch_size: int
    measurement_interval: int
    optimizer_steps: int = 0
    _prev: list[Tensor | None] | None = None
    _sum_micro: Tensor | None = None
    _micro_batches: int = 0

    @property
    def measuring(self) -> bool:
        return self.optimizer_steps % self.measurement_interval == 0

    def after_backward(self, model: nn.Module, micro_batch: int) -> None:
        """Call after each backward; ``micro_batch`` is its 0-based index in the cycle."""
        if not self.measuring:
            return
        grads = [p.grad.detach() if p.grad is not None else None for p in model.parameters()]
        prev = self._prev if micro_batch > 0 and self._prev is not None else [None] * len(grads)
        total = torch.zeros((), dtype=torch.float64, device=_device(model))
        for grad, before in zip(grads, prev, strict=True):
            if grad is not None:
                diff = grad if before is None else grad - before
                total = total + diff.pow(2).sum().to(torch.float64)
        self._sum_micro = total if self._sum_micro is None else self._sum_micro + total
        self._prev = [g.clone() if g is not None else None for g in grads]
        self._micro_batches = micro_batch + 1

    def at_step(self, model: nn.Module) -> float | None:
        """Call before clipping at each optimizer step: B_noise of this cycle, or None."""
        measured = self.measuring
        self.optimizer_steps += 1
        k, micro_sum = self._micro_batches, self._sum_micro
        self._prev, self._sum_micro, self._micro_batches = None, None, 0
        if not measured or k < 2 or micro_sum is None:
            return None
        mean_sq = sum(
            (p.grad.detach().pow(2).sum().to(torch.float64) for p in model.parameters()
             if p.grad is not None),
            torch.zeros((), dtype=torch.float64, device=micro_sum.device),
        )  # fmt: skip
        s, g = torch.stack([micro_sum, mean_sq.to(micro_sum.device)]).tolist()
        if not math.isfinite(g) or g < 1e-30 or not math.isfinite(s) or s > 1e30:
            return None
        ratio = k * s / g
        if ratio <= 1.0:  # micro-gradients agree: noise too small to estimate
            return None
        return self.batch_size * k / (k - 1) * (ratio - 1.0)


def _device(model: nn.Module) -> torch.device:
    return next(model.parameters()).device


@dataclass
class AdaptiveBatch:
    """maou's ``AdaptiveBatchController``: the accumulation steps of the next cycles."""

    batch_size: int
    min_steps: int
    max_steps: int
    interval: int
    smoothing: float
    measurement_interval: int
    steps: int = 0
    smoothed_gns: float | None = None
    _optimizer_steps: int = 0
    estimator: GnsEstimator = field(init=False)

    def __post_init__(self) -> None:
        self.steps = self.steps or self.min_steps
        self.estimator = GnsEstimator(self.batch_size, self.measurement_interval)

    def update(self, gns: float | None) -> tuple[int, int] | None:
        """After each optimizer step; returns ``(old, new)`` steps when they change."""
        self._optimizer_steps += 1
        if gns is not None:
            a = self.smoothing
            self.smoothed_gns = (
                gns if self.smoothed_gns is None else a * gns + (1 - a) * (self.smoothed_gns)
            )
        if self._optimizer_steps % self.interval or self.smoothed_gns is None:
            return None
        target = self.min_steps
        if self.smoothed_gns > 0:
            raw = round_to_power_of_two(self.smoothed_gns / self.batch_size)
            target = min(self.max_steps, max(self.min_steps, raw))
        if target == self.steps:
            return None
        old, self.steps = self.steps, target
        return old, target

    def state(self) -> dict[str, float | int | None]:
        return {
            "steps": self.steps,
            "smoothed_gns": self.smoothed_gns,
            "optimizer_steps": self._optimizer_steps,
            "estimator_steps": self.estimator.optimizer_steps,
        }

    def restore(self, state: dict[str, float | int | None]) -> None:
        self.steps = int(state["steps"] or self.min_steps)
        gns = state["smoothed_gns"]
        self.smoothed_gns = None if gns is None else float(gns)
        self._optimizer_steps = int(state["optimizer_steps"] or 0)
        self.estimator.optimizer_steps = int(state["estimator_steps"] or 0)

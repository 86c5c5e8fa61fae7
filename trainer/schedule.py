"""Learning-rate schedule of one stage: sqrt batch scaling, maou's scheduler choice, phases.

The schedule is stepped once per OPTIMIZER step. ``total`` counts optimizer steps
(``max_epochs × ceil(batches / accumulation)``), so warmup and cosine cover the whole stage under
``--gradient-accumulation-steps`` (maou counts batches there and covers only 1/K of the curve).

Built on ``torch.optim.lr_scheduler.LambdaLR`` with the closed-form factor below, not on
SequentialLR(LinearLR, CosineAnnealingLR): those recursive schedulers read ``group["lr"]`` back,
and the control channel's multiplier overwrites ``group["lr"]`` every step (LR used =
multiplier × schedule). LambdaLR computes from ``base_lrs`` only, so the two compose exactly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from maou_tui.lrtools import sqrt_scale
from maou_tui.protocol import PhaseName

if TYPE_CHECKING:
    from torch.optim import Optimizer
    from torch.optim.lr_scheduler import LambdaLR

BASE_BATCH_SIZE = 256
WARMUP_COSINE = "Warmup+CosineDecay"
COSINE = "CosineAnnealingLR"
CONSTANT = "constant"


def lr_scale(stage: int, batch_size: int) -> float:
    """maou's sqrt batch scaling: sqrt(batch / 256) above 256 for Stages 1/2; Stage 3 never.

    One rule for the trainer, ``maou-tui recommend`` and the diagnostics' advice: the
    implementation lives in ``maou_tui.lrtools`` (pure Python).
    """
    return sqrt_scale(batch_size, stage)


def resolve_scheduler(stage: int, requested: str, batch_size: int) -> str:
    """``auto`` -> Warmup+CosineDecay above batch 256, constant otherwise; ``none`` -> constant."""
    if stage == 3:
        return requested
    if requested == "auto":
        return WARMUP_COSINE if batch_size > BASE_BATCH_SIZE else CONSTANT
    if requested == "none":
        return CONSTANT
    return requested


@dataclass(frozen=True)
class SchedulePlan:
    """A stage's schedule in optimizer steps, and its phases in batches."""

    name: str
    batches_per_epoch: int
    accumulation: int
    max_epochs: int

    @property
    def steps_per_epoch(self) -> int:
        """Optimizer steps per epoch (a partial accumulation group at the end still steps)."""
        return math.ceil(self.batches_per_epoch / self.accumulation)

    @property
    def total_steps(self) -> int:
        return self.max_epochs * self.steps_per_epoch

    @property
    def warmup_steps(self) -> int:
        if self.name != WARMUP_COSINE:
            return 0
        total = self.total_steps
        return min(total, max(self.steps_per_epoch, math.ceil(0.1 * total)))

    def factor(self, step: int) -> float:
        """LR / effective LR at optimizer step ``step`` (0-based)."""
        if self.name == CONSTANT:
            return 1.0
        warmup, total = self.warmup_steps, self.total_steps
        if step < warmup:
            return (step + 1) / warmup
        span = max(1, total - warmup)
        progress = min(1.0, (step - warmup) / span)
        return 0.5 * (1.0 + math.cos(math.pi * progress))

    def batch_of_step(self, step: int) -> int:
        """Index (within the stage) of the first batch of optimizer step ``step``."""
        epoch, within = divmod(step, self.steps_per_epoch)
        return epoch * self.batches_per_epoch + within * self.accumulation

    def phases(self, start_step: int) -> list[tuple[PhaseName, int, int]]:
        """``(phase, start, end)`` in global steps (batches), ``end`` exclusive."""
        end = start_step + self.max_epochs * self.batches_per_epoch
        if self.name == CONSTANT:
            return [("constant", start_step, end)]
        warmup_end = start_step + self.batch_of_step(self.warmup_steps)
        phases: list[tuple[PhaseName, int, int]] = []
        if warmup_end > start_step:
            phases.append(("warmup", start_step, min(warmup_end, end)))
        if warmup_end < end:
            phases.append(("decay", warmup_end, end))
        return phases


def build_scheduler(optimizer: Optimizer, plan: SchedulePlan) -> LambdaLR:
    """A LambdaLR following ``plan.factor``; applied from construction (starts at base/warmup)."""
    from torch.optim.lr_scheduler import LambdaLR

    return LambdaLR(optimizer, lr_lambda=plan.factor)

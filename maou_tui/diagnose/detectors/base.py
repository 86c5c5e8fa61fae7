"""The data a detector reads for one stage and what it returns."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from maou_tui.diagnose.context import StageContext
from maou_tui.diagnose.models import Advice, Severity


@dataclass
class Detection:
    """One episode of a problem: where it began, the numbers that show it, what to do."""

    kind: str
    severity: Severity
    onset: int
    epoch: int | None
    message: str
    evidence: dict[str, float | int | str]
    advice: Advice
    last_step: int


@dataclass
class EpochTable:
    """Epoch-level values of one stage (from EpochEnd), aligned by row."""

    epoch: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    step: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    columns: dict[str, np.ndarray] = field(default_factory=dict)

    def get(self, name: str) -> np.ndarray:
        """A column, all NaN when the stage never reported it."""
        return self.columns.get(name, np.full(self.epoch.size, np.nan))


@dataclass
class StageData:
    """Everything the detectors of one stage may read."""

    ctx: StageContext
    blocks: dict[str, np.ndarray]
    epochs: EpochTable
    multiplier: float = 1.0
    threshold_reached: bool = False
    metric_now: float | None = None
    first_nonfinite: int | None = None
    nonfinite_count: int = 0
    nonfinite_warnings: list[tuple[int, str]] = field(default_factory=list)
    throughput: tuple[np.ndarray, np.ndarray] | None = None
    last_step: int = 0
    epoch_only: bool = False
    """The stage logged no per-batch loss (maou's Stage 3 without progress bars): its loss is
    read from the epoch table (``detectors.epoch_loss``), not from blocks."""
    first_blowup: tuple[int, int, float, float, str] | None = None
    """(onset step, step, loss, the stage's first logged loss, rule) of the first logged point
    far above where the stage started, or of the last of THROWN_OFF_POINTS points above it
    (``Diagnoser``: flagged at the point itself, live and offline)."""
    memo: dict = field(default_factory=dict)
    """Per-stage scratch a detector may keep between live calls to resume a scan where it
    stopped (blocks never change once closed, so resuming gives what a full rescan gives)."""

"""LR range test (Smith 2017, fastai's variant): the sweep's schedule, smoothing, stop rule and
the published suggestion algorithms. Pure numpy; the trainer drives it, the TUI replays it.

Hand-written because the published implementations live inside torch/fastai/Lightning training
frameworks; this module reproduces their rules exactly (see ``anchors-diagnostics.md`` §3):

- schedule: exponential from ``start_lr`` to ``end_lr`` over ``num_iter`` iterations;
- smoothing: EMA with β = 0.98 and bias correction (fastai ``AvgSmoothLoss``);
- stop: the smoothed loss exceeds 4 × its best so far, or the loss is not finite;
- trimming: drop the first ``num_iter // 10`` points and the last 5, cut at the first non-finite;
- suggestions: ``steepest`` (argmin of Δloss / Δlog(lr), fastai ``steep``), ``valley`` (fastai's
  code: longest decreasing subsequence, start + ⌊L/3⌋ + ⌊L/6⌋) and ``minimum`` (argmin ÷ 10).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from pydantic import BaseModel

BETA = 0.98
DIVERGENCE_FACTOR = 4.0
DEFAULT_START_LR = 1e-7
DEFAULT_END_LR = 10.0
DEFAULT_NUM_ITER = 100
SKIP_END = 5
SUGGESTION_NAMES = ("valley", "steepest", "minimum")

#: Why ``valley`` is the one recommended (shown to the user with the result).
VALLEY_REASON = (
    "fastai's default: it looks at the longest decreasing stretch of the curve, so one noisy "
    "point cannot move it; steepest follows a single gradient and is sensitive to noise; "
    "minimum ÷ 10 is the conservative fallback"
)


def exponential_lrs(
    start_lr: float = DEFAULT_START_LR,
    end_lr: float = DEFAULT_END_LR,
    num_iter: int = DEFAULT_NUM_ITER,
) -> np.ndarray:
    """The LR of each iteration: ``start_lr`` at the first, ``end_lr`` at the last."""
    if not 0 < start_lr < end_lr:
        raise ValueError(f"need 0 < start LR < end LR, got {start_lr} and {end_lr}")
    if num_iter < 2:
        raise ValueError(f"the sweep needs at least 2 iterations, got {num_iter}")
    return np.geomspace(start_lr, end_lr, num_iter)


class LossSmoother:
    """Debiased exponential moving average of the loss, and the divergence stop rule."""

    def __init__(self, beta: float = BETA, divergence_factor: float = DIVERGENCE_FACTOR) -> None:
        self.beta = beta
        self.divergence_factor = divergence_factor
        self._avg = 0.0
        self._count = 0
        self.best = math.inf

    def update(self, loss: float | None) -> float:
        """Add one raw loss; returns the smoothed value (nan once a loss was not finite)."""
        if loss is None or not math.isfinite(loss):
            self._avg = math.nan
        else:
            self._avg = self.beta * self._avg + (1 - self.beta) * loss
        self._count += 1
        smoothed = self._avg / (1 - self.beta**self._count)
        if math.isfinite(smoothed):
            self.best = min(self.best, smoothed)
        return smoothed

    def diverged(self, smoothed: float) -> bool:
        """True when the sweep should stop: non-finite, or above factor × best."""
        return not math.isfinite(smoothed) or smoothed > self.divergence_factor * self.best


def smooth_losses(losses: Sequence[float | None], beta: float = BETA) -> np.ndarray:
    """The debiased EMA of a whole series (for a log that has only raw losses)."""
    smoother = LossSmoother(beta)
    return np.array([smoother.update(x) for x in losses], dtype=float)


def trim(
    lrs: Sequence[float], smoothed: Sequence[float], num_iter: int
) -> tuple[np.ndarray, np.ndarray]:
    """fastai's trimming: skip ``num_iter // 10`` points, drop the last 5, cut at a non-finite."""
    x = np.asarray(lrs, dtype=float)[num_iter // 10 : -SKIP_END or None]
    y = np.asarray(smoothed, dtype=float)[num_iter // 10 : -SKIP_END or None]
    bad = np.flatnonzero(~np.isfinite(y))
    if bad.size:
        x, y = x[: bad[0]], y[: bad[0]]
    return x, y


def steepest(lrs: np.ndarray, losses: np.ndarray) -> float | None:
    """The LR where the loss falls fastest per unit of log(lr) (fastai ``steep``)."""
    if len(losses) < 2:
        return None
    slopes = np.diff(losses) / np.diff(np.log(lrs))
    return float(lrs[int(np.argmin(slopes))])


def valley(lrs: np.ndarray, losses: np.ndarray) -> float | None:
    """fastai's ``valley`` as its code does it (not as its docs say, "2/3 through the valley").

    ``lds[i]`` is the length of the longest decreasing subsequence ending at ``i``; the valley
    ends at the first index of the longest one and starts ``lds`` points earlier. The LR returned
    is at start + ⌊L/3⌋ + ⌊L/6⌋, about the middle of that stretch.
    """
    n = len(losses)
    if n < 2:
        return None
    lds = np.ones(n, dtype=int)
    for i in range(1, n):
        higher_before = losses[:i] > losses[i]
        if higher_before.any():
            lds[i] = lds[:i][higher_before].max() + 1
    max_end = int(np.argmax(lds))
    if lds[max_end] < 2:
        return None
    max_start = max_end - int(lds[max_end])
    sections = (max_end - max_start) / 3
    idx = max(0, max_start + int(sections) + int(sections / 2))
    return float(lrs[idx])


def minimum(lrs: np.ndarray, losses: np.ndarray) -> float | None:
    """The LR of the lowest smoothed loss, divided by 10."""
    if len(losses) == 0:
        return None
    return float(lrs[int(np.argmin(losses))]) / 10


class RangeTestResult(BaseModel):
    """The suggestions of one sweep, all named, and which one is recommended and why."""

    suggestions: dict[str, float | None]
    recommended: str
    """The name of the recommended suggestion; empty when the curve gave none."""
    reason: str
    points_used: int
    diverged: bool
    """Whether the sweep stopped on the divergence rule before its last iteration."""
    warnings: list[str]

    @property
    def recommended_lr(self) -> float | None:
        return self.suggestions.get(self.recommended) if self.recommended else None


def _curve_warnings(
    y: np.ndarray, diverged: bool, end_lr: float, stopped_at: float | None
) -> list[str]:
    warnings = []
    if stopped_at is not None:
        warnings.append(f"the sweep was stopped at LR {stopped_at:.3g}: the curve ends there")
    elif not diverged:
        warnings.append(
            f"the loss never diverged up to {end_lr:g}: the suggestions may be too low; "
            "sweep to a higher end LR"
        )
    if y.size >= 2 and y.min() > y[0] * 0.98:
        warnings.append("the smoothed loss barely fell during the sweep: no clear valley")
    return warnings


def analyse(
    lrs: Sequence[float],
    smoothed: Sequence[float],
    num_iter: int,
    end_lr: float = DEFAULT_END_LR,
    stopped: bool = False,
) -> RangeTestResult:
    """Suggestions from a sweep's LRs and smoothed losses (``num_iter`` = planned iterations).

    ``stopped``: the user ended the sweep early (so a short curve is no sign of divergence).
    """
    x, y = trim(lrs, smoothed, num_iter)
    diverged = not stopped and (len(smoothed) < num_iter or not math.isfinite(smoothed[-1]))
    stopped_at = (float(lrs[-1]) if len(lrs) else 0.0) if stopped else None
    found = {
        "valley": valley(x, y),
        "steepest": steepest(x, y),
        "minimum": minimum(x, y),
    }
    recommended = next((name for name in SUGGESTION_NAMES if found[name] is not None), "")
    if recommended == "valley":
        reason = VALLEY_REASON
    elif recommended:
        reason = "the curve has no decreasing stretch for valley"
    else:
        reason = "too few points after trimming: run more iterations"
    return RangeTestResult(
        suggestions=found,
        recommended=recommended,
        reason=reason,
        points_used=int(x.size),
        diverged=diverged,
        warnings=_curve_warnings(y, diverged, end_lr, stopped_at),
    )

"""Debiased exponential moving average of a growing series (TensorBoard's smoothing).

The cache extends itself with only the points it has not seen, so smoothing a live series costs
O(new points) per redraw; changing the weight recomputes once.
"""

from __future__ import annotations

import math

import numpy as np

#: The weights ``+``/``-`` step through (0 = raw values; TensorBoard caps at 0.999).
SMOOTHING_LEVELS: tuple[float, ...] = (0.0, 0.6, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 0.999)
DEFAULT_SMOOTHING = 0.9


class SmoothedCache:
    """EMA values aligned with a series' points; NaN inputs stay NaN and do not move the mean."""

    def __init__(self, weight: float = DEFAULT_SMOOTHING) -> None:
        self.weight = weight
        self._out = np.empty(0, dtype=np.float64)
        self._done = 0
        self._last = 0.0
        self._count = 0

    def reset(self, weight: float | None = None) -> None:
        if weight is not None:
            self.weight = weight
        self._done, self._last, self._count = 0, 0.0, 0

    def update(self, values: np.ndarray) -> np.ndarray:
        """Smoothed values for ``values`` (which only ever grows, or is replaced by a new run)."""
        if len(values) < self._done:
            self.reset()
        if len(self._out) < len(values):
            grown = np.empty(max(len(values), 2 * len(self._out), 1024), dtype=np.float64)
            grown[: self._done] = self._out[: self._done]
            self._out = grown
        w, last, count = self.weight, self._last, self._count
        out = self._out
        # A plain loop: each point depends on the previous one, and only new points are visited.
        for i, x in enumerate(values[self._done :].tolist(), start=self._done):
            if not math.isfinite(x):
                out[i] = math.nan
                continue
            last = last * w + (1.0 - w) * x
            count += 1
            out[i] = last / (1.0 - w**count)
        self._last, self._count, self._done = last, count, len(values)
        return out[: len(values)]


def step_level(weight: float, direction: int) -> float:
    """The next smoothing weight up (+1) or down (-1) from ``weight``."""
    levels = SMOOTHING_LEVELS
    index = min(range(len(levels)), key=lambda i: abs(levels[i] - weight))
    return levels[max(0, min(len(levels) - 1, index + direction))]


def sample_at(steps: np.ndarray, values: np.ndarray, x_min: float, x_max: float, count: int):
    """``count`` evenly spaced samples of a smooth curve over [x_min, x_max] (plus its last point).

    A smoothed curve has no spikes to preserve, so it needs no min/max decimation.
    """
    lo, hi = np.searchsorted(steps, [x_min, x_max], side="left")
    hi = min(int(hi) + 1, len(steps))
    if hi <= lo:
        return steps[:0], values[:0]
    if hi - lo <= count:
        return steps[lo:hi], values[lo:hi]
    index = np.unique(np.linspace(lo, hi - 1, count).astype(np.int64))
    return steps[index], values[index]

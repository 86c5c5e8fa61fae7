"""Debiased exponential moving average of a growing series (TensorBoard's smoothing).

The cache extends itself with only the points it has not seen, so smoothing a live series costs
O(new points) per redraw; changing the weight recomputes once. The mean is carried in float64;
the smoothed values are kept as float32 (7 digits, far below a chart row) to halve their memory.
"""

from __future__ import annotations

import math

import numpy as np

from maou_tui.series import step_index

#: The weights ``+``/``-`` step through (0 = raw values; TensorBoard caps at 0.999).
SMOOTHING_LEVELS: tuple[float, ...] = (0.0, 0.6, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 0.999)
DEFAULT_SMOOTHING = 0.9
_CHUNK = 1 << 16


class SmoothedCache:
    """EMA values aligned with a series' points; NaN inputs stay NaN and do not move the mean."""

    def __init__(self, weight: float = DEFAULT_SMOOTHING) -> None:
        self.weight = weight
        self._out = np.empty(0, dtype=np.float32)
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
            grown = np.empty(max(len(values), int(1.5 * len(self._out)), 1024), np.float32)
            grown[: self._done] = self._out[: self._done]
            self._out = grown
        for start in range(self._done, len(values), _CHUNK):
            self._smooth(values[start : start + _CHUNK], start)
        self._done = len(values)
        return self._out[: len(values)]

    def _smooth(self, values: np.ndarray, start: int) -> None:
        """A plain loop: each point depends on the previous one (no numpy primitive does a
        NaN-skipping debiased EMA). In chunks, so the Python floats of a long backfill stay few."""
        w, last, count = self.weight, self._last, self._count
        smoothed = []
        for x in values.tolist():
            if not math.isfinite(x):
                smoothed.append(math.nan)
                continue
            last = last * w + (1.0 - w) * x
            count += 1
            smoothed.append(last / (1.0 - w**count))
        self._out[start : start + len(smoothed)] = smoothed
        self._last, self._count = last, count


def step_level(weight: float, direction: int) -> float:
    """The next smoothing weight up (+1) or down (-1) from ``weight``."""
    levels = SMOOTHING_LEVELS
    index = min(range(len(levels)), key=lambda i: abs(levels[i] - weight))
    return levels[max(0, min(len(levels) - 1, index + direction))]


def sample_at(steps: np.ndarray, values: np.ndarray, x_min: float, x_max: float, count: int):
    """``count`` evenly spaced samples of a smooth curve over [x_min, x_max] (plus its last point).

    A smoothed curve has no spikes to preserve, so it needs no min/max decimation.
    """
    lo, hi = step_index(steps, x_min, "left"), step_index(steps, x_max, "left")
    hi = min(int(hi) + 1, len(steps))
    if hi <= lo:
        return steps[:0], values[:0]
    if hi - lo <= count:
        return steps[lo:hi], values[lo:hi]
    index = np.unique(np.linspace(lo, hi - 1, count).astype(np.int64))
    return steps[index], values[index]

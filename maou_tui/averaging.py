"""How a printed series was averaged, inferred from its values (``Series.averaging``).

Logs print three kinds of number under the same names: this batch's value (or this logging
interval's mean: each value stands alone), a running mean since the epoch's start (maou's tqdm
``acc=``, the LR guide's ``Loss=``, Keras' bar), or an exponential moving average. Diagnostics
must know which, and the format alone does not say, so the data decide:

- a running mean since epoch start moves by about ``(x - mean) * gap / n`` at batch ``n``: its
  changes shrink like ``1/n`` within each epoch (the slope of log|change| over log n is near
  -1), and inverting it (``n * m_n - n' * m_n'``) gives per-batch values inside the metric's
  range;
- a plain series' changes keep their size along the epoch and, being differences of
  independent values, cancel one another (lag-1 autocorrelation of the changes near -0.5);
- an exponential average's changes also keep their size but do not cancel (autocorrelation
  near 0 or above): it carries its past.

A series named ``*_cum`` is a running mean by its format and stays one unless its data clearly
contradict it (inverted values far outside the metric's range). Hand-written: no library infers
this; it is a few numpy reductions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

AveragingKind = Literal["batch", "running_mean", "ema", "unknown"]

#: Slope of log|change| over log(batch) at or below which changes shrink like a running mean's.
RUNNING_MEAN_MAX_SLOPE = -0.5
#: Share of inverted per-batch values outside the metric's range a running mean may have (print
#: rounding); a declared running mean whose inversion leaves the range more often than
#: CONTRADICTS is taken to be something else.
RUNNING_MEAN_MAX_OUTSIDE = 0.05
CONTRADICTS = 0.25
#: Lag-1 autocorrelation of the changes: below BATCH_MAX_AUTOCORR they cancel (plain values);
#: above EMA_MIN_AUTOCORR they carry the past (an exponential average).
BATCH_MAX_AUTOCORR = -0.3
EMA_MIN_AUTOCORR = -0.15
#: Points the inference needs before it says anything, and before it calls a series an
#: exponential average (the autocorrelation of a few dozen changes scatters by +-0.2).
MIN_POINTS = 12
EMA_MIN_POINTS = 100
_TREND_WINDOW = 9
# Devillard's median-of-9 exchange network (opt_med9): after these compare-exchanges, element 4
# is the median. Pairs (a, b) leave the smaller at a.
_MEDIAN_PIECE = 1 << 14  # values per piece: nine lanes of them stay in the CPU's cache
_MEDIAN9_NETWORK = (
    (1, 2), (4, 5), (7, 8), (0, 1), (3, 4), (6, 7), (1, 2), (4, 5), (7, 8), (0, 3),
    (5, 8), (4, 7), (3, 6), (1, 4), (2, 5), (4, 7), (4, 2), (6, 4), (4, 2),
)  # fmt: skip

_FRACTION_WORDS = ("acc", "f1", "rate", "precision", "recall")


@dataclass(frozen=True)
class Averaging:
    """What a series' values are, how that was decided, and the numbers behind it."""

    kind: AveragingKind
    basis: Literal["format", "data", "format and data"]
    evidence: str

    def describe(self) -> str:
        """One line for a report or a chart title."""
        label = {
            "batch": "per batch (each value stands alone)",
            "running_mean": "running mean since epoch start",
            "ema": "exponential moving average",
            "unknown": "averaging unknown",
        }[self.kind]
        return f"{label} ({self.basis}: {self.evidence})"


def infer_averaging(
    name: str, epochs: np.ndarray, batches: np.ndarray, values: np.ndarray
) -> Averaging:
    """The averaging of the series ``name`` with these columns (batch -1 where unknown)."""
    declared = name.endswith("_cum")
    finite = np.isfinite(values)
    if int(finite.sum()) < MIN_POINTS:
        if declared:
            return Averaging("running_mean", "format", "named *_cum; too few points to check")
        return Averaging("unknown", "data", f"{int(finite.sum())} points, {MIN_POINTS} needed")
    finite_values = values if bool(finite.all()) else values[finite]
    pairs = _in_epoch_pairs(epochs, batches, values)
    slope = _shrink_slope(pairs, batches, values)
    outside = _inverted_outside(name, pairs, batches, values, finite_values)
    corr = _change_autocorrelation(epochs, values, finite)
    numbers = (
        f"change ~ n^{slope:.2f}, {outside:.0%} of inverted values out of range, "
        f"lag-1 autocorrelation of changes {corr:.2f}"
    )
    if declared and outside <= CONTRADICTS:
        return Averaging("running_mean", "format and data", numbers)
    if slope <= RUNNING_MEAN_MAX_SLOPE and outside <= RUNNING_MEAN_MAX_OUTSIDE:
        return Averaging("running_mean", "data", numbers)
    basis: Literal["data"] = "data"
    if declared:
        numbers = "named *_cum but " + numbers
    if corr <= BATCH_MAX_AUTOCORR:
        return Averaging("batch", basis, numbers)
    if corr >= EMA_MIN_AUTOCORR and int(finite.sum()) >= EMA_MIN_POINTS:
        return Averaging("ema", basis, numbers)
    return Averaging("unknown", basis, numbers)


def _in_epoch_pairs(epochs: np.ndarray, batches: np.ndarray, values: np.ndarray) -> np.ndarray:
    """A mask over the points from the second on: those whose predecessor is in the same
    epoch, both finite, with a known, growing batch. The measures below compute over all
    neighbours with slices and keep the masked ones (gathering a million indexes was most of
    their cost; the same numbers, in the same order)."""
    same = (epochs[1:] == epochs[:-1]) & (epochs[1:] >= 0)
    growing = (batches[1:] > batches[:-1]) & (batches[:-1] > 0)
    ok = np.isfinite(values[1:]) & np.isfinite(values[:-1])
    return same & growing & ok


def _shrink_slope(pairs: np.ndarray, batches: np.ndarray, values: np.ndarray) -> float:
    """Slope of log|change per batch| over log(batch) at the in-epoch ``pairs``; 0.0 where it
    cannot be measured."""
    if int(np.count_nonzero(pairs)) < MIN_POINTS // 2:
        return 0.0
    batch = batches[1:].astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):  # only outside the pairs
        change = np.abs(values[1:] - values[:-1]) / (batch - batches[:-1])
    keep = pairs & (change > 0)
    if int(np.count_nonzero(keep)) < MIN_POINTS // 2:
        return 0.0
    x, y = np.log(batch[keep]), np.log(change[keep])
    if x.min() == x.max():  # one batch number only
        return 0.0
    x -= x.mean()
    return float(np.dot(x, y - y.mean()) / np.dot(x, x))  # least squares: a degree-1 polyfit


def _inverted_outside(
    name: str, pairs: np.ndarray, batches: np.ndarray, values: np.ndarray, finite: np.ndarray
) -> float:
    """Share of per-batch values implied by reading the series as a running mean (at the
    in-epoch ``pairs``; ``finite``: the finite values) that fall outside the metric's range:
    [0, 1] for a fraction, not below -5% of the median for others (losses are not negative)."""
    count = int(np.count_nonzero(pairs))
    if count == 0:
        return 0.0
    n, prev = batches[1:].astype(np.float64), batches[:-1].astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):  # only outside the pairs
        implied = (n * values[1:] - prev * values[:-1]) / (n - prev)
    if any(word in name for word in _FRACTION_WORDS) and finite.min() >= 0 and finite.max() <= 1:
        low, high = -0.02, 1.02
    else:
        low, high = -0.05 * abs(float(np.median(finite))), np.inf
    return int(np.count_nonzero(((implied < low) | (implied > high)) & pairs)) / count


def _change_autocorrelation(epochs: np.ndarray, values: np.ndarray, keep: np.ndarray) -> float:
    """Lag-1 autocorrelation of successive changes of the values ``keep`` marks (the finite
    ones), each less the median change around it (a trend moves every change alike), within
    epochs where epochs are known; NaN when the changes do not vary (a constant, a step
    schedule)."""
    v, e = (values, epochs) if bool(keep.all()) else (values[keep], epochs[keep])
    change = np.diff(v)
    if change.size < _TREND_WINDOW:
        return float("nan")
    residual = change - _running_median9(change)
    same = (e[1:] == e[:-1])[:-1] & (e[1:] == e[:-1])[1:]
    a, b = residual[:-1][same], residual[1:][same]
    if a.size < 3 or np.std(a) == 0 or np.std(b) == 0:
        return float("nan")
    return float(np.corrcoef(a, b)[0, 1])


def _running_median9(values: np.ndarray) -> np.ndarray:
    """The median of each value's window of ``_TREND_WINDOW`` (9) values centred on it, the
    ends repeated (``np.median`` of ``sliding_window_view(np.pad(values, 4, "edge"), 9)``, the
    same numbers). Hand-written: ``np.median`` partitions each of a million tiny rows (~1 s for
    a 3M-point log); this is 19 min/max pairs over cache-sized pieces. No NaN in ``values``."""
    half = _TREND_WINDOW // 2
    padded = np.pad(values, (half, half), mode="edge")
    out = np.empty(len(values))
    for start in range(0, len(values), _MEDIAN_PIECE):
        stop = min(start + _MEDIAN_PIECE, len(values))
        lanes = [padded[start + k : stop + k].copy() for k in range(_TREND_WINDOW)]
        low = np.empty(stop - start)
        for a, b in _MEDIAN9_NETWORK:
            np.minimum(lanes[a], lanes[b], out=low)
            np.maximum(lanes[a], lanes[b], out=lanes[b])
            lanes[a], low = low, lanes[a]
        out[start:stop] = lanes[4]
    return out

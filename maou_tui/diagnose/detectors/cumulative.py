"""``epoch_boundary_reset``: a running mean since epoch start jumps when it is reset.

maou's accuracy/F1 (and a tqdm ``loss=``) are cumulative averages since the epoch began, so at
each epoch start the shown value is the mean of a few batches and jumps away from the epoch's
average. The per-batch values (given, or reconstructed with b_t = t·m_t − (t−1)·m_{t−1}) show no
such jump: it is an artefact, not an LR problem, and never divergence.

Only a reset that looks like a setback is reported: a metric that falls (or a loss that
rises) at the epoch start, the guide's "エポック境界でのメトリクス急落" (section 4). A running
mean lags a run that improves, so at every epoch start of a healthy run it jumps the *good*
way (accuracy 94.3% -> 96.5%): nothing a user would worry about, so nothing is said.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from maou_tui.diagnose.advice import no_lr_advice
from maou_tui.diagnose.detectors.base import Detection
from maou_tui.diagnose.signals import per_batch_from_cumulative

#: A jump of a fraction-valued metric (accuracy, F1) of at least 2 points is one a user notices.
RESET_MIN_JUMP_ABS = 0.02
#: For a loss (unbounded), a jump of 10% of the value before it.
RESET_MIN_JUMP_REL = 0.10
#: The per-batch values may move across the boundary by at most this share of the cumulative
#: jump: more, and the change is real (e.g. memorisation at the start of a new epoch).
RESET_MAX_PER_BATCH_SHARE = 0.5
#: Per-batch points averaged on each side of the boundary.
RESET_SIDE_POINTS = 8


@dataclass
class CumulativeSeries:
    """One stage's slice of a cumulative series and, when there is one, its per-batch twin."""

    name: str
    stage: int
    steps: np.ndarray
    batches: np.ndarray
    epochs: np.ndarray
    values: np.ndarray
    per_batch: np.ndarray | None = None


def _is_fraction(values: np.ndarray) -> bool:
    finite = values[np.isfinite(values)]
    return finite.size > 0 and float(finite.min()) >= 0.0 and float(finite.max()) <= 1.0


def _boundaries(epochs: np.ndarray) -> np.ndarray:
    """Indices of the first point of each epoch after the first."""
    return np.flatnonzero(epochs[1:] != epochs[:-1]) + 1


def _side_mean(values: np.ndarray) -> float:
    finite = values[np.isfinite(values)]
    return float(finite.mean()) if finite.size else float("nan")


def _first_of_epoch(epochs: np.ndarray, i: int, count: int) -> np.ndarray:
    """The first ``count`` indices from ``i`` on whose epoch is ``epochs[i]``, looked for in
    growing windows (a scan of the whole rest per boundary made this quadratic)."""
    span = count
    while True:
        found = np.flatnonzero(epochs[i : i + span] == epochs[i])
        if found.size >= count or i + span >= len(epochs):
            return found[:count] + i
        span *= 4


def _looks_worse(name: str, jump: float) -> bool:
    """A loss that rises, or any other metric (accuracy, F1) that falls."""
    return jump > 0 if "loss" in name else jump < 0


def boundary_jumps(series: CumulativeSeries) -> list[dict[str, float | int]]:
    """Every epoch boundary where the cumulative value jumps the bad way and the per-batch one
    does not move."""
    per_batch = series.per_batch
    if per_batch is None:
        per_batch = per_batch_from_cumulative(series.batches, series.epochs, series.values)
    fraction = "loss" not in series.name and _is_fraction(series.values)
    found = []
    for i in _boundaries(series.epochs):
        prev_epoch = series.epochs[i - 1]
        prev_lo = int(np.searchsorted(series.epochs[:i], prev_epoch, side="left"))
        if i - prev_lo < 2:
            continue
        end_value, first_value = float(series.values[i - 1]), float(series.values[i])
        jump = first_value - end_value
        limit = RESET_MIN_JUMP_ABS if fraction else RESET_MIN_JUMP_REL * abs(end_value)
        if not np.isfinite(jump) or abs(jump) < limit or not _looks_worse(series.name, jump):
            continue
        nxt = _first_of_epoch(series.epochs, i, RESET_SIDE_POINTS)
        if nxt.size < RESET_SIDE_POINTS and series.epochs[-1] == series.epochs[i]:
            continue  # judged once the new epoch has its points: live and offline then agree
        before = _side_mean(per_batch[max(prev_lo + 1, i - RESET_SIDE_POINTS) : i])
        after = _side_mean(per_batch[nxt])
        change = after - before
        if np.isfinite(change) and abs(change) <= RESET_MAX_PER_BATCH_SHARE * abs(jump):
            found.append(
                {
                    "step": int(series.steps[i]),
                    "epoch": int(series.epochs[i]),
                    "jump": jump,
                    "per_batch_change": change,
                    "value_before": end_value,
                    "value_after": first_value,
                }
            )
    return found


def epoch_boundary_reset(series: CumulativeSeries) -> list[Detection]:
    jumps = boundary_jumps(series)
    if not jumps:
        return []
    first = jumps[0]
    largest = max(jumps, key=lambda j: abs(float(j["jump"])))
    fraction = "loss" not in series.name
    unit = (lambda v: f"{100 * v:.2f}%") if fraction else (lambda v: f"{v:.4g}")
    direction = "drops" if float(largest["jump"]) < 0 else "jumps up"
    message = (
        f"Stage {series.stage} {series.name} {direction} at epoch starts "
        f"({unit(float(largest['value_before']))} -> {unit(float(largest['value_after']))} at "
        f"epoch {largest['epoch']}): a running mean reset, per-batch values moved "
        f"{unit(abs(float(largest['per_batch_change'])))}"
    )
    return [
        Detection(
            kind="epoch_boundary_reset",
            severity="info",
            onset=int(first["step"]),
            epoch=int(first["epoch"]),
            message=message,
            evidence={
                "series": series.name,
                "boundaries": len(jumps),
                "largest_jump": float(largest["jump"]),
                "per_batch_change": float(largest["per_batch_change"]),
                "epoch": int(largest["epoch"]),
                "detected_at_step": int(first["step"]),
            },
            advice=no_lr_advice(
                "an artefact of cumulative averages (reset each epoch), not an LR problem: "
                "no change needed; the per-batch curve shows the real trend"
            ),
            last_step=int(jumps[-1]["step"]),
        )
    ]

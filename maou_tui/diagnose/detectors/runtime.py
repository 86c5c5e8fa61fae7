"""Detectors of the run rather than the curve: non-finite loss, throughput collapse, stall."""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from maou_tui.diagnose import advice
from maou_tui.diagnose.detectors.base import Detection, StageData

# --- throughput_collapse -------------------------------------------------------------------
#: Points skipped at a stage start (compilation, cache warm-up, the first data loads).
THROUGHPUT_SKIP_POINTS = 5
#: Points in the window whose median is compared: a few slow batches are not a collapse.
THROUGHPUT_WINDOW = 20
#: Below this many seconds per batch, timer resolution, the GIL and the OS scheduler dominate
#: the measured rate (a 2 ms step swings 10x when another process wakes up): not judged.
THROUGHPUT_MIN_STEP_SECONDS = 0.01
#: The recent median below this fraction of the stage's typical rate is a collapse (maou's
#: Stage 2 slowdowns are ~7x; ordinary jitter stays within +-30%).
THROUGHPUT_COLLAPSE_RATIO = 0.3

# --- stall -----------------------------------------------------------------------------------
#: No new step for this long while the trainer is said to be running is a stall (maou's data
#: loader times out after 120-300 s; a minute of silence is already worth a look).
STALL_MIN_SECONDS = 60.0
#: ...and at least this many times the usual interval between new steps (slow stages).
STALL_INTERVAL_FACTOR = 20.0


def nan(data: StageData) -> list[Detection]:
    """Non-finite loss in the stage: from the loss series or from trainer warnings."""
    ctx = data.ctx
    onsets = [s for s, _ in data.nonfinite_warnings]
    if data.first_nonfinite is not None:
        onsets.append(data.first_nonfinite)
    if not onsets:
        return []
    onset = min(onsets)
    count = data.nonfinite_count + len(data.nonfinite_warnings)
    detail = data.nonfinite_warnings[0][1] if data.nonfinite_warnings else ""
    return [
        Detection(
            kind="nan",
            severity="critical",
            onset=onset,
            epoch=None,
            message=f"Stage {ctx.stage} loss is not finite (first at step {onset}, {count}x)"
            + (f": {detail}" if detail else ""),
            evidence={"nonfinite_count": count, "detected_at_step": onset},
            advice=advice.lr_advice("nan", ctx, data.multiplier),
            last_step=max(data.last_step, onset),
        )
    ]


def throughput_collapse(data: StageData) -> list[Detection]:
    if data.throughput is None:
        return []
    steps, rate = data.throughput
    ok = np.isfinite(rate) & (rate > 0)
    steps, rate = steps[ok][THROUGHPUT_SKIP_POINTS:], rate[ok][THROUGHPUT_SKIP_POINTS:]
    if rate.size < 3 * THROUGHPUT_WINDOW:
        return []
    batch = data.ctx.batch_size
    if batch and batch / float(np.median(rate)) < THROUGHPUT_MIN_STEP_SECONDS:
        return []
    recent = np.median(sliding_window_view(rate, THROUGHPUT_WINDOW), axis=1)
    # A window can only be a collapse against a typical rate no larger than the best window
    # median so far: test those candidates exactly, in order (one median each).
    ceiling = np.maximum.accumulate(recent)
    for k in np.flatnonzero(recent < THROUGHPUT_COLLAPSE_RATIO * ceiling).tolist():
        end = k + THROUGHPUT_WINDOW
        if end < 2 * THROUGHPUT_WINDOW:
            continue
        typical = float(np.median(rate[: end - THROUGHPUT_WINDOW]))
        if recent[k] < THROUGHPUT_COLLAPSE_RATIO * typical:
            return [_throughput_detection(data, steps, rate, end, float(recent[k]), typical)]
    return []


def _throughput_detection(
    data: StageData, steps: np.ndarray, rate: np.ndarray, end: int, recent: float, typical: float
) -> Detection:
    window = rate[end - THROUGHPUT_WINDOW : end]
    slow = np.flatnonzero(window < THROUGHPUT_COLLAPSE_RATIO * typical)
    onset = end - THROUGHPUT_WINDOW + int(slow[0])
    return Detection(
        kind="throughput_collapse",
        severity="warning",
        onset=int(steps[onset]),
        epoch=None,
        message=(
            f"Stage {data.ctx.stage} throughput fell to {recent:.0f} samples/s from "
            f"{typical:.0f} ({recent / typical:.0%})"
        ),
        evidence={
            "samples_per_s": recent,
            "typical_samples_per_s": typical,
            "ratio": recent / typical,
            "detected_at_step": int(steps[end - 1]),
        },
        advice=advice.no_lr_advice(
            "not an LR problem: check data loading (--dataloader-workers), memory "
            "(RSS, swap) and other jobs on the machine"
        ),
        last_step=int(steps[-1]),
    )


def stall_detection(
    stage: int | None, step: int, silent_s: float, typical_s: float | None
) -> Detection:
    """A run with no new step for ``silent_s`` seconds while its trainer lives."""
    return Detection(
        kind="stall",
        severity="warning",
        onset=step,
        epoch=None,
        message=f"no new step for {silent_s:.0f} s (last step {step}) while the trainer runs",
        evidence={
            "silent_s": round(silent_s, 1),
            "typical_step_interval_s": round(typical_s, 3) if typical_s else -1,
            "detected_at_step": step,
        },
        advice=advice.no_lr_advice(
            "check the trainer process and its data loader (maou hangs at 'Training 0%' with "
            "spawn workers); press c to checkpoint if it is alive"
        ),
        last_step=step,
    )


def is_stalled(silent_s: float, typical_s: float | None) -> bool:
    limit = STALL_MIN_SECONDS
    if typical_s:
        limit = max(limit, STALL_INTERVAL_FACTOR * typical_s)
    return silent_s >= limit

"""Detectors over the trainer's ``system`` samples (``RunStore.system``): a GPU left idle."""

from __future__ import annotations

import numpy as np

from maou_tui.diagnose import advice
from maou_tui.diagnose.detectors.base import Detection
from maou_tui.system_history import SystemHistory, gpu_key

# --- gpu_idle ---------------------------------------------------------------------------------
#: Utilisation below this is idle: a GPU fed by its loader runs well above it, while NVML's
#: figure of a GPU waiting for input (samples from disk, a single loader worker) stays near 0.
GPU_IDLE_PERCENT = 10.0
#: Idle samples in a row must span this many seconds: one slow epoch start or a validation
#: pass on the CPU is not a finding.
GPU_IDLE_MIN_SECONDS = 60.0
#: ...and at least this many samples (at the default 5 s interval, 60 s is 13 samples).
GPU_IDLE_MIN_SAMPLES = 3


def gpu_idle(history: SystemHistory) -> list[Detection]:
    """Each episode of a GPU idling while the loop's steps advance, one detection each."""
    found: list[Detection] = []
    if not len(history):
        return found
    times, steps = history.times, history.steps
    for index in history.gpu_indices():
        util = history.column(gpu_key(index, "util_percent"))
        for start, end in _runs(np.isfinite(util) & (util < GPU_IDLE_PERCENT) & (steps >= 0)):
            seconds = float(times[end - 1] - times[start])
            first, last = int(steps[start]), int(steps[end - 1])
            if end - start < GPU_IDLE_MIN_SAMPLES or seconds < GPU_IDLE_MIN_SECONDS:
                continue
            if last <= first:
                continue  # no step advanced: paused, validating or finished, not starved
            found.append(_detection(index, util[start:end], seconds, first, last))
    return found


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) of every run of True in ``mask``."""
    edges = np.flatnonzero(np.diff(np.concatenate(([0], mask.astype(np.int8), [0]))))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True))


def _detection(index: int, util: np.ndarray, seconds: float, first: int, last: int) -> Detection:
    mean = float(np.mean(util))
    return Detection(
        kind="gpu_idle",
        severity="warning",
        onset=first,
        epoch=None,
        message=(
            f"GPU {index} was {mean:.0f}% busy for {seconds:.0f} s while training went on "
            f"(steps {first}-{last}): it is waiting for data"
        ),
        evidence={
            "gpu": index,
            "mean_util_percent": round(mean, 1),
            "idle_seconds": round(seconds, 1),
            "steps_during": last - first,
            "detected_at_step": last,
        },
        advice=advice.no_lr_advice(
            "not an LR problem: feed the GPU faster: more --dataloader-workers, --pin-memory, "
            "a larger --prefetch-factor; check that training runs on the GPU (--gpu)"
        ),
        last_step=last,
    )

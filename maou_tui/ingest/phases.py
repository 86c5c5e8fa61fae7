"""Learning-rate phases (warmup, decay, constant): from what a stage's setup lines said, or
from the LR values a log printed."""

from __future__ import annotations

from typing import Any

import numpy as np

from maou_tui.protocol import Phase, PhaseName


def scheduler_phases(draft: dict[str, Any]) -> list[Phase]:
    """Scheduler phases of a stage from its setup lines, in global steps."""
    start, stage = draft.get("start_step", 0), draft["stage"]
    scheduler, total = draft.get("scheduler"), draft.get("total_steps")
    if not total and draft.get("steps_per_epoch") and draft.get("max_epochs"):
        total = draft["steps_per_epoch"] * draft["max_epochs"]
    if scheduler == "constant":
        if not total:
            return []  # a constant LR for an unknown number of steps: nothing to mark
        return [Phase(stage=stage, phase="constant", start_step=start, end_step=start + total)]
    if not total:
        return []
    warmup = min(draft.get("warmup_steps") or 0, total)
    phases = []
    if warmup:
        phases.append(Phase(stage=stage, phase="warmup", start_step=start, end_step=start + warmup))
    phases.append(
        Phase(stage=stage, phase="decay", start_step=start + warmup, end_step=start + total)
    )
    return phases


def phases_from_lr(steps: np.ndarray, values: np.ndarray) -> list[Phase]:
    """LR phases as the logged LR values show them, for a log that names no scheduler: runs of
    rising LR are warmup, falling decay, flat constant (a flat stretch inside a decay, such as
    a step schedule's plateau, stays part of it). Phases end at the last logged step."""
    keep = np.isfinite(values)
    steps, values = steps[keep], values[keep]
    if steps.size < 3:
        return []
    trend = np.sign(np.diff(values))
    phases: list[Phase] = []
    start, kind = int(steps[0]), _phase_of(trend[0])
    for i, direction in enumerate(trend[1:], start=1):
        nxt = _phase_of(direction)
        if nxt != kind and not (kind == "decay" and nxt == "constant"):
            phases.append(Phase(stage=1, phase=kind, start_step=start, end_step=int(steps[i])))
            start, kind = int(steps[i]), nxt
    phases.append(Phase(stage=1, phase=kind, start_step=start, end_step=int(steps[-1])))
    return phases


def _phase_of(direction: float) -> PhaseName:
    return "warmup" if direction > 0 else "decay" if direction < 0 else "constant"

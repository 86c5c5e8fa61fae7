"""A stage's learning-rate phases (warmup, decay, constant) from what its setup lines said."""

from __future__ import annotations

from typing import Any

from maou_tui.protocol import Phase


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

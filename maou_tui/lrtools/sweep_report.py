"""A range test as its events tell it: the curve so far, the suggestions, and the text shown.

``SweepProgress`` folds ``lr_find_step`` / ``lr_find_finished`` / ``run_finished`` events (from
``events.jsonl``) into arrays; ``format_sweep_result`` is what ``maou-tui lr-find`` prints and
the lr-find screen shows, including how the result compares with the LR guide's table row.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from maou_tui.lrtools.recommend import Recommendation, recommend
from maou_tui.lrtools.scaling import format_lr
from maou_tui.protocol import LrFindFinished, LrFindStep, RunFinished, RunStarted

if TYPE_CHECKING:
    from maou_tui.store import StoreItem


@dataclass
class SweepProgress:
    """Everything one run's range test said so far (fold events in with ``add``)."""

    lrs: list[float] = field(default_factory=list)
    losses: list[float | None] = field(default_factory=list)
    smoothed: list[float | None] = field(default_factory=list)
    stage: int | None = None
    config: dict[str, Any] = field(default_factory=dict)
    finished: LrFindFinished | None = None
    run_finished: RunFinished | None = None

    def add(self, events: Iterable[StoreItem]) -> bool:
        """Fold in events; True when anything about the sweep changed."""
        changed = False
        for event in events:
            if isinstance(event, LrFindStep):
                self.stage = event.stage
                self.lrs.append(event.lr)
                self.losses.append(event.loss)
                self.smoothed.append(event.smoothed_loss)
            elif isinstance(event, LrFindFinished):
                self.finished = event
            elif isinstance(event, RunFinished):
                self.run_finished = event
            elif isinstance(event, RunStarted):
                self.config = dict(event.config)
            else:
                continue
            changed = True
        return changed

    @property
    def done(self) -> bool:
        return self.run_finished is not None

    @property
    def planned_iterations(self) -> int | None:
        value = self.config.get("lr_find_iterations")
        return int(value) if value else None

    def curve(self) -> tuple[list[float], list[float]]:
        """(log10 lr, smoothed loss) of the finite points: what the chart draws."""
        xs, ys = [], []
        for lr, loss in zip(self.lrs, self.smoothed, strict=True):
            if loss is not None and math.isfinite(loss) and lr > 0:
                xs.append(math.log10(lr))
                ys.append(loss)
        return xs, ys

    def status_line(self) -> str:
        total = self.planned_iterations
        done = f"{len(self.lrs)}/{total}" if total else str(len(self.lrs))
        last = ""
        if self.lrs:
            smoothed = self.smoothed[-1]
            shown = "n/a" if smoothed is None else f"{smoothed:.4f}"
            last = f", lr {self.lrs[-1]:.3g}, smoothed loss {shown}"
        stage = f"Stage {self.stage} " if self.stage else ""
        state = self.run_finished.status if self.run_finished else "running"
        return f"LR range test {stage}{state}: iteration {done}{last}"


def guide_recommendation(progress: SweepProgress) -> Recommendation | None:
    """The LR guide's table row for the swept configuration (None when it cannot be known)."""
    finished = progress.finished
    arch = progress.config.get("model_architecture")
    batch = finished.batch_size if finished else None
    if finished is None or not arch or not batch:
        return None
    try:
        return recommend(
            arch,
            finished.stage,
            int(batch),
            progress.config.get("vit_embed_dim"),
            progress.config.get("vit_num_layers"),
        )
    except ValueError:
        return None


def _suggestion_rows(finished: LrFindFinished) -> list[str]:
    scale = finished.lr_scale or 1.0
    header = f"  {'suggestion':<12}{'effective LR':>14}   {finished.option} (÷ {scale:.2f})"
    rows = [header]
    for name, lr in finished.suggestions.items():
        mark = " *" if name == finished.recommended else "  "
        effective = "n/a" if lr is None else format_lr(lr)
        cli = "n/a" if lr is None else format_lr(lr / scale)
        rows.append(f"  {name + mark:<12}{effective:>14}   {cli}")
    return rows


def _guide_lines(progress: SweepProgress, cli_value: float | None) -> list[str]:
    rec = guide_recommendation(progress)
    if rec is None:
        return []
    low, high = rec.cli_search_range
    verdict = ""
    if cli_value is not None:
        inside = low <= cli_value <= high
        verdict = " -> inside the guide's range" if inside else " -> OUTSIDE the guide's range"
    return [
        f"Guide's table ({rec.guide_row}): {rec.option} {format_lr(rec.cli_value)}, "
        f"search {format_lr(low)} - {format_lr(high)}{verdict}"
    ]


def format_sweep_result(progress: SweepProgress) -> str:
    """The suggestions, the recommended one, the option to pass, and the guide's row."""
    finished = progress.finished
    if finished is None:
        ended = progress.run_finished
        if ended is None:
            return "No result yet: still running"
        return f"No result: the run {ended.status} ({ended.reason or 'no reason given'})"
    lines = [
        f"LR range test, Stage {finished.stage}: {len(progress.lrs)} iterations"
        + (f", batch {finished.batch_size}" if finished.batch_size else ""),
        *_suggestion_rows(finished),
    ]
    if finished.recommended and finished.cli_value is not None:
        lines.append(f"Recommended: {finished.recommended} — {finished.reason}")
        lines.append(f"Pass: {finished.option} {format_lr(finished.cli_value)}")
    else:
        lines.append(f"No suggestion: {finished.reason or 'the curve gave none'}")
    lines.extend(_guide_lines(progress, finished.cli_value))
    lines.extend(f"Warning: {w}" for w in finished.warnings)
    return "\n".join(lines)

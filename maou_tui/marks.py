"""Chart marks: what happened at a global step, with a label short enough to draw.

The store makes a ``Mark`` from the event behind it (kept on the mark); widgets only draw
``label`` or, where it does not fit, ``short``. Each kind starts its label with its own glyph,
so marks read apart without colour, and ``LEGEND`` says what the glyphs mean.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from maou_tui.protocol import (
    CheckpointSaved,
    ControlApplied,
    EventBase,
    Paused,
    Phase,
    Resumed,
    StageStarted,
    ThresholdReached,
    TrainerWarning,
)

MarkKind = Literal[
    "stage",
    "epoch",
    "phase",
    "control",
    "paused",
    "resumed",
    "checkpoint",
    "threshold",
    "finding",
    "warning",
]

PHASE_GLYPHS = {"warmup": "↗", "decay": "↘", "constant": "→"}
GLYPHS: dict[str, str] = {
    "paused": "‖",
    "resumed": "▷",
    "checkpoint": "□",
    "threshold": "✓",
    "finding": "!",
    "warning": "✗",
}
#: One line naming every glyph a chart label can start with.
LEGEND = (
    "S2 stage  ↗ warmup  ↘ decay  → constant LR  LR LR set  T threshold set  "
    "✓ threshold reached  ‖ paused  ▷ resumed  □ checkpoint  ! finding  ✗ warning"
)


class Mark(BaseModel):
    """Something to draw as a vertical line at a global step.

    ``label`` is the text to show; ``short`` is what to show where ``label`` does not fit (a
    prefix that still means something: ``S2``, ``↗``, ``LR``); no label is ever cut."""

    kind: MarkKind
    step: int
    label: str
    short: str = ""
    stage: int | None = None
    #: The event the mark was made from (None for marks the app adds, such as findings).
    event: EventBase | None = None


#: Control commands whose own mark says it better (``paused``/``resumed``/``checkpoint``).
SILENT_CONTROLS = frozenset({"pause", "resume", "checkpoint"})


def _value(value: float) -> str:
    """A value with the digits it was given (0.995 stays 0.995, 0.0003 stays 0.0003)."""
    return f"{value:.6g}"


def stage_mark(event: StageStarted) -> Mark:
    short = f"S{event.stage}"
    label = f"{short} {event.name}".strip()
    return Mark(
        kind="stage", step=event.start_step, label=label, short=short, stage=event.stage,
        event=event,
    )  # fmt: skip


def phase_mark(event: Phase) -> Mark:
    glyph = PHASE_GLYPHS.get(event.phase, "·")
    return Mark(
        kind="phase", step=event.start_step, label=f"{glyph}{event.phase}", short=glyph,
        stage=event.stage, event=event,
    )  # fmt: skip


def control_label(event: ControlApplied) -> tuple[str, str] | None:
    """``(label, short)`` of a control action: ``LR ×0.5``, ``LR=0.0003``, ``T S1 0.995``,
    ``■ stop``; None for the commands whose own mark says it."""
    if event.command in SILENT_CONTROLS:
        return None
    before, after = event.before, event.after
    if event.command == "scale_lr" and before.lr_multiplier and after.lr_multiplier:
        return f"LR×{after.lr_multiplier / before.lr_multiplier:.3g}", "LR"
    if event.command == "set_lr" and after.lr:
        return f"LR={_value(after.lr)}", "LR"
    for stage, threshold in after.thresholds().items():
        if threshold is not None:
            stop = " stop" if threshold.action == "stop" else ""
            return f"T S{stage} {_value(threshold.value)}{stop}", "T"
    if event.command == "stop":
        return "■ stop", "■"
    if event.command == "skip_stage":
        return "» skip", "»"
    return event.command.replace("_", " "), event.command[:1]


def control_mark(event: ControlApplied) -> Mark | None:
    labels = control_label(event)
    if labels is None:
        return None
    label, short = labels
    return Mark(kind="control", step=event.applied_at_step, label=label, short=short, event=event)


def pause_mark(event: Paused | Resumed) -> Mark:
    kind: Literal["paused", "resumed"] = event.type
    glyph = GLYPHS[kind]
    return Mark(kind=kind, step=event.step, label=f"{glyph}{kind}", short=glyph, event=event)


def threshold_mark(event: ThresholdReached) -> Mark:
    glyph = GLYPHS["threshold"]
    return Mark(
        kind="threshold", step=event.step, label=f"{glyph}{_value(event.threshold)}",
        short=glyph, stage=event.stage, event=event,
    )  # fmt: skip


def checkpoint_mark(event: CheckpointSaved) -> Mark:
    glyph = GLYPHS["checkpoint"]
    return Mark(
        kind="checkpoint", step=event.step, label=f"{glyph}ckpt", short=glyph, stage=event.stage,
        event=event,
    )  # fmt: skip


def warning_mark(event: TrainerWarning, step: int) -> Mark:
    glyph = GLYPHS["warning"]
    return Mark(
        kind="warning", step=step, label=f"{glyph}{event.kind}", short=glyph, stage=event.stage,
        event=event,
    )  # fmt: skip


def finding_mark(step: int, text: str) -> Mark:
    glyph = GLYPHS["finding"]
    return Mark(kind="finding", step=step, label=f"{glyph}{text}", short=glyph)

"""A run in a few lines: stages, epochs, last values, LR phases (``maou-tui report``'s first half).

``summarize(store)`` gives a JSON-ready dict; ``format_summary(summary)`` renders it as text.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from maou_tui.averaging import MIN_POINTS, Averaging
from maou_tui.ingest.phases import phases_from_lr
from maou_tui.marks import control_label
from maou_tui.protocol import ControlApplied
from maou_tui.store import PhaseSpan, RunStore

_STAGE_FIELDS = (
    "name",
    "metric",
    "max_epochs",
    "threshold",
    "batch_size",
    "scheduler",
    "warmup_steps",
    "total_steps",
    "base_lr",
    "lr_scale",
    "effective_lr",
    "start_step",
)


def _num(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def _last_in_stage(store: RunStore, name: str, stage: int) -> dict[str, Any] | None:
    if name not in store.names():
        return None
    series = store.series(name)
    hits = np.flatnonzero(series.stages == stage)
    finite = hits[np.isfinite(series.values[hits])]
    if not len(finite):
        return None
    i = int(finite[-1])
    return {"step": int(series.steps[i]), "value": float(series.values[i])}


def _stage_summary(store: RunStore, stage: int) -> dict[str, Any]:
    started = store.stages.get(stage)
    info: dict[str, Any] = {"stage": stage}
    if started is not None:
        info.update({field: getattr(started, field) for field in _STAGE_FIELDS})
    metric = store.metric_of(stage)
    info["metric"] = metric
    epochs = [e for e in store.epoch_ends if e.stage == stage]
    info["epochs"] = [
        {
            "epoch": e.epoch,
            "step": e.global_step,
            "train_loss": _num(e.train_loss),
            "train_metric": _num(e.train_metric),
            "val_loss": _num(e.val_loss),
            "val_metric": _num(e.val_metric),
            "lr": _num(e.lr),
        }
        for e in epochs
    ]
    names = ["loss", f"{metric}_cum", metric, "lr", "train_loss", f"train_{metric}"]
    names += ["val_loss", f"val_{metric}"]
    last = {name: _last_in_stage(store, name, stage) for name in names}
    info["last"] = {name: value for name, value in last.items() if value is not None}
    done = store.completed.get(stage)
    info["completed"] = (
        None
        if done is None
        else {"reason": done.reason, "epochs": done.epochs, "step": done.step, "value": done.value}
    )
    reached = [t for t in store.thresholds if t.stage == stage]
    info["threshold_reached"] = (
        None if not reached else {"epoch": reached[-1].epoch, "value": reached[-1].value}
    )
    return info


def _phase_lr(
    store: RunStore, stage: int, start: int, end: int
) -> tuple[float | None, float | None]:
    """The first and last LR logged inside a phase (a stage stopped early ends it sooner)."""
    if "lr" not in store.names():
        return None, None
    lr = store.series("lr")
    in_range = (lr.steps >= start) & (lr.steps < max(end, start + 1))
    inside = np.flatnonzero(in_range & (lr.stages == stage))
    if not len(inside):
        return None, None
    return float(lr.values[inside[0]]), float(lr.values[inside[-1]])


def _control_text(event: ControlApplied) -> str:
    labels = control_label(event)
    return "" if labels is None else labels[0]


def _phase_spans(store: RunStore) -> list[PhaseSpan]:
    """The phases as they ran; for a log that names no scheduler, as its logged LR shows them."""
    if store.phases:
        return store.phase_spans()
    lr = store.series("lr")
    inferred = phases_from_lr(lr.steps, lr.values)
    return [
        PhaseSpan(p.stage, p.phase, p.start_step, p.end_step - 1, p.end_step - 1) for p in inferred
    ]


def summarize(store: RunStore) -> dict[str, Any]:
    """Everything a person asks first about a run, as plain JSON-ready data."""
    stage_numbers = sorted(set(store.stages) | {e.stage for e in store.epoch_ends})
    phases = []
    for span in _phase_spans(store):
        first, last = _phase_lr(store, span.stage, span.first, span.last + 1)
        phases.append(
            {
                "stage": span.stage,
                "phase": span.phase,
                "start_step": span.first,
                "end_step": span.last + 1,
                "planned_end_step": span.planned_last + 1,
                "lr_first": first,
                "lr_last": last,
            }
        )
    warnings: dict[str, int] = {}
    for warning in store.warnings:
        warnings[warning.kind] = warnings.get(warning.kind, 0) + 1
    run = store.run
    return {
        "status": store.status,
        "run": None if run is None else {"pid": run.pid, "host": run.host, "device": run.device},
        "last_step": store.last_step,
        "current": {
            "stage": store.current_stage,
            "epoch": store.current_epoch,
            "batch": store.current_batch,
        },
        "stages": [_stage_summary(store, stage) for stage in stage_numbers],
        "phases": phases,
        "warnings": warnings,
        "controls": [
            {
                "command": c.command,
                "step": c.applied_at_step,
                "after": c.after.changed(),
                "label": _control_text(c),
            }
            for c in store.controls
        ],
        "finished": None
        if store.finished is None
        else {"status": store.finished.status, "reason": store.finished.reason},
        "series": {name: len(store.series(name)) for name in store.names()},
        "averaging": _averaging(store),
        "skipped_lines": store.skipped_lines,
    }


def _averaging(store: RunStore) -> dict[str, dict[str, str]]:
    """How each series with enough points was averaged, and why that was decided."""
    found = {}
    for name in store.names():
        series = store.series(name)
        if len(series) >= MIN_POINTS:
            averaging = series.averaging
            found[name] = {
                "kind": averaging.kind,
                "basis": averaging.basis,
                "evidence": averaging.evidence,
            }
    return found


def _fmt(value: Any, digits: int = 4) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return str(value)


def _stage_lines(stage: dict[str, Any]) -> list[str]:
    head = f"Stage {stage['stage']} {stage.get('name') or ''}".rstrip()
    setup = [
        f"metric {stage['metric']}",
        f"threshold {_fmt(stage.get('threshold'))}",
        f"max epochs {_fmt(stage.get('max_epochs'))}",
        f"batch {_fmt(stage.get('batch_size'))}",
        f"scheduler {_fmt(stage.get('scheduler'))}",
    ]
    if stage.get("effective_lr") is not None:
        setup.append(
            f"lr {_fmt(stage.get('base_lr'))} x {_fmt(stage.get('lr_scale'))} "
            f"= {_fmt(stage.get('effective_lr'))}"
        )
    lines = [head, "  " + ", ".join(setup)]
    for e in stage["epochs"]:
        parts = [f"epoch {e['epoch']:>3} @ step {e['step']}", f"train loss {_fmt(e['train_loss'])}"]
        if e["train_metric"] is not None:
            parts.append(f"train {stage['metric']} {_fmt(e['train_metric'])}")
        if e["val_loss"] is not None:
            parts.append(f"val loss {_fmt(e['val_loss'])}")
        if e["val_metric"] is not None:
            parts.append(f"val {stage['metric']} {_fmt(e['val_metric'])}")
        if e["lr"] is not None:
            parts.append(f"lr {_fmt(e['lr'])}")
        lines.append("  " + ", ".join(parts))
    if stage["last"]:
        last = ", ".join(f"{k} {_fmt(v['value'])}" for k, v in stage["last"].items())
        lines.append(f"  last: {last}")
    done = stage.get("completed")
    if done is not None:
        lines.append(
            f"  completed ({done['reason']}) after {done['epochs']} epochs at step {done['step']}"
        )
    return lines


def format_summary(summary: dict[str, Any]) -> str:
    """The summary as text for a terminal or a job log."""
    current = summary["current"]
    lines = [
        f"status: {summary['status']}, last step {summary['last_step']}, "
        f"stage {_fmt(current['stage'])} epoch {_fmt(current['epoch'])}"
    ]
    if summary["finished"] is not None:
        status, reason = summary["finished"]["status"], summary["finished"]["reason"]
        said = not reason or status in reason
        lines.append(f"finished: {reason or status}" if said else f"finished: {status}: {reason}")
    for stage in summary["stages"]:
        lines += _stage_lines(stage)
    if summary["phases"]:
        lines.append("LR phases:")
        for p in summary["phases"]:
            lr = ""
            if p["lr_first"] is not None:
                lr = f", lr {_fmt(p['lr_first'])} -> {_fmt(p['lr_last'])}"
            last, planned = p["end_step"] - 1, p["planned_end_step"] - 1
            cut = f" (stage ended; planned to {planned})" if last < planned else ""
            lines.append(
                f"  stage {p['stage']} {p['phase']:<8} steps {p['start_step']}-{last}{cut}{lr}"
            )
    for control in summary["controls"]:
        what = f": {control['label']}" if control["label"] else ""
        lines.append(f"control: {control['command']} at step {control['step']}{what}")
    if summary["warnings"]:
        counts = ", ".join(f"{kind} x{n}" for kind, n in summary["warnings"].items())
        lines.append(f"warnings: {counts}")
    if summary["averaging"]:
        lines.append("How the printed values were averaged:")
        for name, found in summary["averaging"].items():
            lines.append(f"  {name}: {Averaging(**found).describe()}")
    if summary["skipped_lines"]:
        lines.append(f"skipped {summary['skipped_lines']} unreadable lines")
    return "\n".join(lines)

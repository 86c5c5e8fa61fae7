"""The status panel: where the run is, how fast it goes, which LR it uses and why.

``build_status`` is a pure function of the store and a few app-side facts, so it is testable
without a terminal; the widget only re-renders it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from textual.markup import escape
from textual.widgets import Static

from maou_tui.app.widgets.repaint import show_text
from maou_tui.protocol import StageStarted
from maou_tui.store import RunStore

STATE_STYLES = {
    "running": "bold $success",
    "paused": "bold $warning",
    "finished": "bold $primary",
    "stopped": "bold $warning",
    "failed": "bold $error",
    "unknown": "$foreground-muted",
}


#: States in which nothing is left to wait for: no ETA is shown.
ENDED_STATES = frozenset({"finished", "stopped", "failed"})


@dataclass
class StatusFacts:
    """What the app knows besides the store: control and process state."""

    control: str = ""
    process_gone: bool = False
    failure: str = ""  # why the process ended (its last output line) when it is gone
    history: str = ""  # how much of a big history is read, until all of it is


def format_lr(value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return "–"
    if value == 0:
        return "0"
    return f"{value:.6f}" if value >= 1e-6 else f"{value:.2e}"


def format_duration(seconds: float | None) -> str:
    if seconds is None or not math.isfinite(seconds) or seconds < 0:
        return "–"
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def last_value(store: RunStore, name: str) -> float | None:
    if name not in store.names():
        return None
    last = store.series(name).last()
    return None if last is None else last[1]


def run_state(store: RunStore, facts: StatusFacts) -> str:
    if facts.process_gone and store.finished is None:
        return "failed"
    if store.paused and store.status not in ("finished", "stopped", "failed"):
        return "paused"
    return store.status


def lr_origin(stage: StageStarted, multiplier: float | None) -> str:
    """``base 0.000100 × √(4096/256)=4.00 → 0.000400 × m 0.5 = 0.000200``."""
    if stage.base_lr is None:
        return ""
    scale = stage.lr_scale or 1.0
    effective = stage.effective_lr or stage.base_lr * scale
    text = f"base {format_lr(stage.base_lr)}"
    if stage.batch_size and scale != 1.0:
        text += f" × √({stage.batch_size}/256)={scale:.2f} → {format_lr(effective)}"
    m = 1.0 if multiplier is None else multiplier
    if m != 1.0:
        text += f" × m {m:g} = {format_lr(effective * m)}"
    return text


def _steps_per_second(store: RunStore, stage: StageStarted | None) -> float | None:
    rate = last_value(store, "samples_per_s")
    if rate is None or not stage or not stage.batch_size or rate <= 0:
        return None
    return rate / stage.batch_size


def progress_bar(done: int, total: int, width: int = 10) -> str:
    """A text bar; a widget per bar would not fit the panel's one-line rows."""
    filled = round(width * min(max(done / total, 0.0), 1.0)) if total else 0
    return f"[$primary]{'━' * filled}[/][$foreground-muted]{'─' * (width - filled)}[/]"


def progress_lines(store: RunStore, stage: StageStarted | None, running: bool) -> list[str]:
    """Epoch and stage bars; while the run goes on, ETAs from samples/s (which excludes
    paused time). A stage with a threshold may end sooner than its last epoch: its ETA is an
    upper bound (``≤``)."""
    if stage is None:
        return []
    per_s = _steps_per_second(store, stage) if running else None
    lines = []
    batch, per_epoch = store.current_batch, stage.steps_per_epoch
    span = store.stage_span(stage.stage)
    ended = span is not None and span.ended
    if batch is not None and per_epoch and not ended:
        eta = (per_epoch - batch) / per_s if per_s else None
        lines.append(_bar_line("epoch", batch, per_epoch, eta, ""))
    if stage.total_steps:
        ran = span.last - span.first + 1 if span is not None else 0
        done = min(max(0, ran), stage.total_steps)
        eta = (stage.total_steps - done) / per_s if per_s and not ended else None
        bound = "≤" if stage.stage in store.thresholds_in_force else ""
        lines.append(_bar_line("stage", done, stage.total_steps, eta, bound))
    return lines


def _bar_line(label: str, done: int, total: int, eta: float | None, bound: str) -> str:
    percent = 100 * done / total
    line = f"{label:<5} {progress_bar(done, total)} {percent:3.0f}%"
    return line if eta is None else f"{line} ETA {bound}{format_duration(eta)}"


def stage_lines(store: RunStore, stage: StageStarted | None) -> list[str]:
    if stage is None:
        return ["stage –"]
    epoch = store.current_epoch if store.current_epoch is not None else "–"
    batch = store.current_batch if store.current_batch is not None else "–"
    where = f"epoch {epoch}/{stage.max_epochs or '?'}  batch {batch}/{stage.steps_per_epoch or '?'}"
    return [f"stage {stage.stage} {escape(stage.name)}", where]


def lr_lines(store: RunStore, stage: StageStarted | None) -> list[str]:
    lr = last_value(store, "lr")
    phase = store.phase_at(store.last_step)
    lines = [f"LR [b]{format_lr(lr)}[/b]" + (f" ({escape(phase)})" if phase else "")]
    if stage is not None:
        origin = lr_origin(stage, last_value(store, "lr_multiplier"))
        if origin:
            lines.append(f"[$foreground-muted]{origin}[/]")
    return lines


def threshold_lines(store: RunStore, stage: StageStarted | None, running: bool) -> list[str]:
    """The threshold in force (all its digits), how far the running mean is from it, and the
    epochs left before the stage fails fast."""
    if stage is None:
        return []
    threshold = store.thresholds_in_force.get(stage.stage)
    if threshold is None:
        return []
    action = "" if threshold.action == "advance" else f" → {threshold.action}"
    lines = [f"threshold {stage.metric} {threshold.value:.6g}{action}"]
    current = last_value(store, f"{stage.metric}_cum")
    if current is not None:
        short = threshold.value - current
        where = "reached" if short <= 0 else f"{short:.3f} below"
        lines.append(f"mean {current:.4f}: {where}")
    if running and stage.max_epochs and store.current_epoch is not None:
        left = max(0, stage.max_epochs - store.current_epoch)
        lines.append(f"fail-fast after {left} more epoch{'s' if left != 1 else ''}")
    return lines


def recommendation_line(store: RunStore, stage: StageStarted | None) -> str | None:
    """The LR guide's value for this architecture, stage and batch size, compactly."""
    if stage is None or not stage.batch_size:
        return None
    config = store.run.config if store.run else {}
    arch = stage.architecture or config.get("model_architecture") or config.get("architecture")
    if not arch:
        return None
    # Imported on first use: the LR tables are not needed before a stage has started.
    from maou_tui.lrtools import format_lr as format_lr_short
    from maou_tui.lrtools import recommend

    # Under DDP stage_started carries the per-process batch; the guide's rows are global batches.
    world_size = store.run.world_size if store.run else 1
    try:
        rec = recommend(str(arch), stage.stage, stage.batch_size * max(1, world_size))
    except ValueError:
        return None
    effective = format_lr_short(rec.recommended_effective_lr)
    line = f"guide {rec.option} {format_lr_short(rec.cli_value)} (eff {effective})"
    if stage.base_lr and rec.cli_value and not 0.5 <= stage.base_lr / rec.cli_value <= 2:
        # The guide's tables are for maou's full-size networks; a small preset trains at its
        # own, measured LR, so a big ratio is expected there: say so instead of alarming.
        ratio = stage.base_lr / rec.cli_value
        times = f"{ratio:.0f}×" if ratio >= 1 else f"1/{1 / ratio:.0f}"
        line += f"; this run {format_lr_short(stage.base_lr)} ({times}"
        line += ", its preset's own)" if config.get("preset") == "tiny" else ")"
    return line


def build_status(store: RunStore, facts: StatusFacts, label: str) -> str:
    """The whole panel as Textual markup."""
    stage = store.stages.get(store.current_stage) if store.current_stage else None
    state = run_state(store, facts)
    run = store.run
    where = ""
    if run is not None:
        processes = f" ×{run.world_size}" if run.world_size > 1 else ""
        where = f"{run.device}{processes}".strip()  # a hooked program's device is not known
    head = f"[{STATE_STYLES.get(state, '')}]● {state.upper()}[/]"
    lines = [" ".join(part for part in (head, escape(where), escape(facts.control)) if part)]
    lines.append(f"[b]{escape(label)}[/b]")
    if facts.history:
        lines.append(f"[$warning]{escape(facts.history)}[/]")
    if store.finished is not None and store.finished.reason:
        style = "$error" if store.finished.status == "failed" else "$foreground-muted"
        lines.append(f"[{style}]{escape(store.finished.reason)}[/]")
    elif facts.process_gone and store.finished is None:
        lines.append("[$error]trainer process gone without run_finished (crashed?)[/]")
        if facts.failure:
            lines.append(f"[$error]{escape(facts.failure)}[/]")
    running = state not in ENDED_STATES
    lines += stage_lines(store, stage)
    lines += progress_lines(store, stage, running)
    rate = last_value(store, "samples_per_s")
    if rate is not None:
        lines.append(f"samples/s {rate:,.0f}")
    lines += lr_lines(store, stage)
    lines += threshold_lines(store, stage, running)
    rec = recommendation_line(store, stage)
    if rec:
        lines.append(f"[$foreground-muted]{escape(rec)}[/]")
    if store.skipped_lines:
        lines.append(f"[$warning]skipped {store.skipped_lines} corrupt line(s)[/]")
    return "\n".join(lines)


class StatusPanel(Static):
    """Renders ``build_status``; the app calls ``show`` when the store changed."""

    _shown = ""

    def show(self, store: RunStore, facts: StatusFacts, label: str) -> None:
        """Repaint when the text changed (see ``repaint.show_text``)."""
        markup = build_status(store, facts, label)
        if markup == self._shown:
            return
        self._shown = markup
        show_text(self, markup)

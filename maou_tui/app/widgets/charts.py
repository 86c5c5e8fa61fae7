"""The three charts (loss, the stage's metric, LR); x is the global step.

Each chart is a ``PlotextPlot`` (its own ``self.plt``) that reads the store's series, decimates
them to the widget's width before plotting (plotext costs ~2-3 µs a point, even with the numpy
helpers of ``plotext_speedups``) and draws the store's marks as vertical lines. Colours come from
the current Textual theme, so they follow ``T``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from textual.app import RenderResult
from textual.color import Color
from textual_plotext import PlotextPlot

from maou_tui import stages
from maou_tui.app.smoothing import DEFAULT_SMOOTHING, SmoothedCache, sample_at
from maou_tui.app.widgets import plotext_speedups
from maou_tui.app.widgets.plotext_speedups import figure_text
from maou_tui.protocol import ControlApplied
from maou_tui.store import Mark, RunStore

#: Per-stage metric series names, in stage order.
STAGE_METRICS = tuple(stages.STAGE_METRICS.values())
#: Mark kinds drawn on every chart; the rest only on the loss chart.
STRUCTURAL_MARKS = frozenset({"stage", "control", "phase"})
#: Everything: the loss chart carries every mark, with labels.
ALL_MARKS = frozenset(
    {"stage", "epoch", "phase", "control", "paused", "resumed", "checkpoint", "threshold",
     "finding", "warning"}
)  # fmt: skip
LABEL_WIDTH = 12
Y_AXIS_COLUMNS = 10
#: Blank columns at least between two x tick labels.
TICK_GAP_COLUMNS = 5
#: More x ticks than this on a wide chart read as clutter.
MAX_X_TICKS = 8


@dataclass
class ChartView:
    """What the user chose to see: zoom, smoothing weight, LR log scale."""

    zoom_stage: bool = False
    smoothing: float = DEFAULT_SMOOTHING
    log_lr: bool = True


def x_range(store: RunStore, zoom_stage: bool) -> tuple[float, float]:
    """The steps to show: the whole run, or the current stage only."""
    last = max(store.last_step, 1)
    first = 0.0
    if zoom_stage and store.current_stage in store.stages:
        first = float(store.stages[store.current_stage].start_step)
    return first, float(max(last, first + 1))


def step_ticks(x_min: float, x_max: float, width: int) -> list[int]:
    """Round global steps (multiples of 1, 2 or 5 × 10^k) spaced for ``width`` columns:
    plotext's own ticks split the range evenly and label steps like ``61.8``."""
    span = x_max - x_min
    if span <= 0:
        return [round(x_min)]
    label_columns = len(str(int(x_max))) + TICK_GAP_COLUMNS
    raw = max(span * label_columns / max(width, label_columns), span / MAX_X_TICKS)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    step = max(1, round(step))
    first = math.ceil(x_min / step) * step
    return list(range(first, math.floor(x_max) + 1, step))


def theme_rgb(app, name: str) -> tuple[int, int, int]:
    """A theme colour as RGB, with any transparency blended onto the surface colour."""
    variables = app.theme_variables
    background = Color.parse(variables.get("surface", "#000000"))
    return (background + Color.parse(variables.get(name, "#888888"))).rgb


plotext_speedups.install()


class RunChart(PlotextPlot):
    """Base chart: owns the plot, the store it reads and how marks are drawn."""

    chart_title = ""
    mark_kinds: frozenset[str] = STRUCTURAL_MARKS
    show_labels = False
    #: Step numbers under the x axis; the screen turns them off on charts above the last one
    #: when space is short (all three charts share the same x axis).
    show_x_ticks = True

    def __init__(self, store: RunStore, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.store = store
        self._last_replot: tuple[ChartView, list[Mark]] | None = None
        #: How long plotext took to build this chart last time (the app paces redraws by it).
        self.render_seconds = 0.0

    def set_store(self, store: RunStore) -> None:
        self.store = store

    def render(self) -> RenderResult:
        """``PlotextPlot.render`` (the same three set-up calls), with plotext's matrix turned into
        text by ``figure_text`` instead of printed as ANSI and parsed back."""
        started = time.perf_counter()
        width, height = self.size.width, self.size.height
        self.plt.plotsize(width, height)
        self.plt._set_size(width, height)  # textual-plotext does this too (its issue #5)
        self.plt.theme(self._get_plotext_theme_name(self.app.theme))
        rendered = figure_text(self.plt)
        self.render_seconds = time.perf_counter() - started
        return rendered

    def on_resize(self) -> None:
        # Decimation width, tick settings and label spacing depend on the size: draw again.
        if self._last_replot is not None:
            self.replot(*self._last_replot)

    def replot(self, view: ChartView, extra_marks: Iterable[Mark] = ()) -> None:
        """Redraw from the store (call when ``store.version`` changed or the view did)."""
        extra_marks = list(extra_marks)
        self._last_replot = (view, extra_marks)
        plt = self.plt
        plt.clear_figure()
        plt.title(self.chart_title)
        x_min, x_max = x_range(self.store, view.zoom_stage)
        width = max(20, self.size.width - Y_AXIS_COLUMNS)
        drawn = self.draw_series(view, x_min, x_max, width)
        plt.xlim(x_min, x_max)
        ticks = step_ticks(x_min, x_max, width) if self.show_x_ticks else []
        plt.xticks([float(tick) for tick in ticks], [str(tick) for tick in ticks])
        y_lo, y_hi = self._y_limits(drawn, view)
        marks = [*self.store.marks, *extra_marks]
        self._draw_marks(marks, x_min, x_max, y_hi, width)
        plt.ylim(y_lo, y_hi)
        self.refresh()

    def draw_series(self, view: ChartView, x_min: float, x_max: float, width: int) -> list:
        """Plot this chart's series; return the plotted value arrays (for the y range)."""
        raise NotImplementedError

    # ---------------------------------------------------------------------------- helpers

    def colour(self, name: str) -> tuple[int, int, int]:
        return theme_rgb(self.app, name)

    def plot_decimated(self, name: str, x_min, x_max, width, colour, *, points=False):
        """Plot a store series as a line (or as separate points, for per-epoch values)."""
        series = self.store.series(name)
        if not len(series):
            return None
        xs, ys = series.decimate(x_min, x_max, width)
        if len(xs):
            draw = self.plt.scatter if points else self.plt.plot
            marker = "◆" if points else "braille"
            draw(xs.tolist(), ys.tolist(), color=self.colour(colour), marker=marker)
        return ys

    def _y_limits(self, arrays: list, view: ChartView) -> tuple[float, float]:
        """The plotted values' range, with headroom for the mark labels."""
        lo, hi = value_range(arrays)
        headroom = (hi - lo) * (0.22 if self.show_labels else 0.05)
        return lo - (hi - lo) * 0.03, hi + headroom

    def _draw_marks(self, marks: list[Mark], x_min, x_max, y_top, width) -> None:
        plt = self.plt
        span = max(x_max - x_min, 1.0)
        labels = mark_labels(self.store, marks)
        visible = [m for m in labels if x_min <= m.step <= x_max]
        background = self.colour("surface")
        # Epoch lines only while they stay apart; labels only where the previous one ended.
        draw_epochs = sum(m.kind == "epoch" for m in visible) <= width // 6
        label_end = -math.inf
        for mark in sorted(visible, key=lambda m: m.step):
            if mark.kind not in self.mark_kinds or (mark.kind == "epoch" and not draw_epochs):
                continue
            colour = self.colour(MARK_COLOURS.get(mark.kind, "foreground-muted"))
            plt.vline(mark.step, colour)
            if not self.show_labels or mark.kind == "epoch":
                continue
            column = (mark.step - x_min) / span * width
            if column <= label_end:
                continue
            label = mark.label[:LABEL_WIDTH]
            plt.text(label, mark.step, y_top, color=colour, background=background, alignment="left")
            label_end = column + len(label) + 1


#: Control commands whose own mark says it better (``paused``/``resumed`` marks).
UNLABELLED_CONTROLS = frozenset({"pause", "resume"})


def control_label(event: ControlApplied) -> str:
    """A short chart label for a control action: ``LR ×0.5``, ``threshold 0.90``, ``stop``."""
    before, after = event.before, event.after
    if event.command == "scale_lr" and before.lr_multiplier:
        return f"LR ×{(after.lr_multiplier or 0) / before.lr_multiplier:.3g}"
    if event.command == "set_lr" and after.lr:
        return f"LR→{after.lr:.2g}"
    if event.command == "set_threshold":
        for threshold in after.thresholds().values():
            if threshold is not None:
                return f"threshold {threshold.value:.2f}"
    return event.command.replace("_", " ")


def mark_labels(store: RunStore, marks: list[Mark]) -> list[Mark]:
    """The marks with short labels; control marks get theirs from the store's control events."""
    controls = iter(store.controls)
    out = []
    for mark in marks:
        if mark.kind == "control":
            event = next(controls, None)
            if event is None or event.command in UNLABELLED_CONTROLS:
                continue
            mark = mark.model_copy(update={"label": control_label(event)})
        elif mark.kind == "threshold":
            reached = mark.label.split(">=")[-1].strip()
            mark = mark.model_copy(update={"label": f"reached {reached}"})
        elif mark.kind == "stage":
            mark = mark.model_copy(update={"label": mark.label.replace("Stage ", "S")})
        out.append(mark)
    return out


MARK_COLOURS = {
    "stage": "secondary",
    "epoch": "foreground-muted",
    "phase": "success",
    "control": "accent",
    "paused": "warning",
    "resumed": "warning",
    "checkpoint": "success",
    "threshold": "accent",
    "finding": "error",
    "warning": "error",
}


class LossChart(RunChart):
    """Per-batch loss (muted), its debiased EMA (primary) and validation loss (accent)."""

    mark_kinds = ALL_MARKS
    show_labels = True

    def __init__(self, store: RunStore, *, id: str | None = None) -> None:
        super().__init__(store, id=id)
        self._smoothed = SmoothedCache()

    def set_store(self, store: RunStore) -> None:
        super().set_store(store)
        self._smoothed.reset()

    def draw_series(self, view, x_min, x_max, width):
        if view.smoothing != self._smoothed.weight:
            self._smoothed.reset(view.smoothing)
        self.chart_title = f"loss (batch, EMA {view.smoothing:g}, ◆ val)"
        self.plt.title(self.chart_title)
        raw = self.plot_decimated("loss", x_min, x_max, width, "foreground-muted")
        drawn = [raw]
        loss = self.store.series("loss")
        if len(loss) and view.smoothing > 0:
            smooth = self._smoothed.update(loss.values)
            xs, ys = sample_at(loss.steps, smooth, x_min, x_max, width)
            self.plt.plot(xs.tolist(), ys.tolist(), color=self.colour("primary"), marker="braille")
        drawn.append(self.plot_decimated("val_loss", x_min, x_max, width, "accent", points=True))
        return drawn


class MetricChart(RunChart):
    """Each stage's metric: per batch (muted), running mean (primary), validation (accent)."""

    mark_kinds = STRUCTURAL_MARKS | {"epoch", "threshold"}

    chart_title = "metric (batch, mean, ◆ val)"

    def draw_series(self, view, x_min, x_max, width):
        drawn = []
        names = set(self.store.names())
        for metric in STAGE_METRICS:
            drawn.append(self.plot_decimated(metric, x_min, x_max, width, "foreground-muted"))
            drawn.append(self.plot_decimated(f"{metric}_cum", x_min, x_max, width, "primary"))
            if f"val_{metric}" in names:
                drawn.append(
                    self.plot_decimated(f"val_{metric}", x_min, x_max, width, "accent", points=True)
                )
        self.chart_title = self._title()
        self.plt.title(self.chart_title)
        return drawn

    def _title(self) -> str:
        stage = self.store.stages.get(self.store.current_stage or 0)
        metric = stage.metric if stage else "metric"
        return f"{metric} (batch, mean, ◆ val)"


def value_range(arrays: list) -> tuple[float, float]:
    """Finite min and max over the arrays (0..1 when there is nothing to show)."""
    values = [a[np.isfinite(a)] for a in arrays if a is not None and len(a)]
    values = [v for v in values if len(v)]
    if not values:
        return 0.0, 1.0
    lo = float(min(v.min() for v in values))
    hi = float(max(v.max() for v in values))
    if hi <= lo:
        hi = lo + (abs(lo) * 0.1 or 1.0)
    return lo, hi


class LrChart(RunChart):
    """The LR actually used (multiplier included); ``g`` toggles a log scale.

    The log scale plots log10(LR) on a linear axis with ``1e-4``-style tick labels: plotext's
    own log axis takes its limits in another unit, which breaks the mark labels' placement.
    """

    def draw_series(self, view, x_min, x_max, width):
        self.chart_title = "LR (log)" if view.log_lr else "LR"
        self.plt.title(self.chart_title)
        series = self.store.series("lr")
        if not len(series):
            self.plt.title(f"{self.chart_title}: none recorded yet")
            return []
        xs, ys = series.decimate(x_min, x_max, width)
        if view.log_lr:
            keep = ys > 0
            xs, ys = xs[keep], np.log10(ys[keep])
        if len(xs):
            self.plt.plot(xs.tolist(), ys.tolist(), color=self.colour("primary"), marker="braille")
        if view.log_lr and len(ys):
            self._log_ticks(*value_range([ys]))
        return [ys]

    def _log_ticks(self, lo: float, hi: float) -> None:
        """Ticks at whole (or half) decades, never more than one per two rows (plotext drops
        one of two labels that land on the same row)."""
        rows = max(2, self.size.height - 4)
        step = 0.5
        while (hi - lo) / step + 1 > rows / 2:
            step *= 2
        ticks = np.arange(math.floor(lo / step) * step, hi + step, step)
        self.plt.yticks(ticks.tolist(), [f"{10**t:.0e}" for t in ticks])

    def _y_limits(self, arrays: list, view: ChartView) -> tuple[float, float]:
        lo, hi = value_range(arrays)
        if view.log_lr:
            return lo - 0.1, hi + 0.1
        return min(0.0, lo), hi * 1.05

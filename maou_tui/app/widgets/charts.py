"""The three charts (loss, the stage's metric, LR); x is the global step.

Each chart is a ``PlotextPlot`` (its own ``self.plt``) that reads the store's series, decimates
them to the widget's width before plotting (plotext costs ~5 µs a point) and draws the store's
marks as vertical lines. Colours come from the current Textual theme, so they follow ``T``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from textual.color import Color
from textual_plotext import PlotextPlot

from maou_tui.app.smoothing import DEFAULT_SMOOTHING, SmoothedCache, sample_at
from maou_tui.store import Mark, RunStore

#: Per-stage metric series names, in stage order.
STAGE_METRICS = ("accuracy", "f1", "policy_accuracy")
#: Mark kinds drawn on every chart; the rest only on the loss chart.
STRUCTURAL_MARKS = frozenset({"stage", "control", "phase"})
LABEL_WIDTH = 12
Y_AXIS_COLUMNS = 10


@dataclass
class ChartView:
    """What the user chose to see: zoom, smoothing weight, LR log scale."""

    zoom_stage: bool = False
    smoothing: float = DEFAULT_SMOOTHING
    log_lr: bool = False


def x_range(store: RunStore, zoom_stage: bool) -> tuple[float, float]:
    """The steps to show: the whole run, or the current stage only."""
    last = max(store.last_step, 1)
    first = 0.0
    if zoom_stage and store.current_stage in store.stages:
        first = float(store.stages[store.current_stage].start_step)
    return first, float(max(last, first + 1))


def theme_rgb(app, name: str) -> tuple[int, int, int]:
    """A theme colour as RGB, with any transparency blended onto the surface colour."""
    variables = app.theme_variables
    background = Color.parse(variables.get("surface", "#000000"))
    return (background + Color.parse(variables.get(name, "#888888"))).rgb


class RunChart(PlotextPlot):
    """Base chart: owns the plot, the store it reads and how marks are drawn."""

    chart_title = ""
    mark_kinds: frozenset[str] = STRUCTURAL_MARKS
    show_labels = False

    def __init__(self, store: RunStore, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.store = store
        self._marks: list[Mark] = []

    def set_store(self, store: RunStore) -> None:
        self.store = store

    def replot(self, view: ChartView, extra_marks: Iterable[Mark] = ()) -> None:
        """Redraw from the store (call when ``store.version`` changed or the view did)."""
        plt = self.plt
        plt.clear_figure()
        plt.title(self.chart_title)
        x_min, x_max = x_range(self.store, view.zoom_stage)
        width = max(20, self.size.width - Y_AXIS_COLUMNS)
        lows_highs = self.draw_series(view, x_min, x_max, width)
        plt.xlim(x_min, x_max)
        y_lo, y_hi = self._y_limits(lows_highs, view)
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

    def plot_decimated(self, name: str, x_min, x_max, width, colour, marker="braille"):
        series = self.store.series(name)
        if not len(series):
            return None
        xs, ys = series.decimate(x_min, x_max, width)
        if len(xs):
            self.plt.plot(xs.tolist(), ys.tolist(), color=self.colour(colour), marker=marker)
        return ys

    def _y_limits(self, arrays: list, view: ChartView) -> tuple[float, float]:
        values = [a[np.isfinite(a)] for a in arrays if a is not None and len(a)]
        values = [v for v in values if len(v)]
        if not values:
            return 0.0, 1.0
        lo = float(min(v.min() for v in values))
        hi = float(max(v.max() for v in values))
        if hi <= lo:
            hi = lo + (abs(lo) * 0.1 or 1.0)
        headroom = (hi - lo) * (0.22 if self.show_labels else 0.05)
        return lo - (hi - lo) * 0.03, hi + headroom

    def _draw_marks(self, marks: list[Mark], x_min, x_max, y_top, width) -> None:
        plt = self.plt
        span = max(x_max - x_min, 1.0)
        visible = [m for m in marks if x_min <= m.step <= x_max]
        epochs = [m for m in visible if m.kind == "epoch"]
        draw_epochs = self.show_labels and len(epochs) <= width // 6
        label_end = -math.inf
        for mark in sorted(visible, key=lambda m: m.step):
            if mark.kind == "epoch" and not draw_epochs:
                continue
            if mark.kind not in self.mark_kinds and mark.kind != "epoch":
                continue
            colour = self.colour(MARK_COLOURS.get(mark.kind, "foreground-muted"))
            plt.vline(mark.step, colour)
            if not self.show_labels or mark.kind == "epoch":
                continue
            column = (mark.step - x_min) / span * width
            if column <= label_end:
                continue
            label = mark.label[:LABEL_WIDTH]
            plt.text(label, mark.step, y_top, color=colour, alignment="left")
            label_end = column + len(label) + 1


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

    mark_kinds = frozenset(MARK_COLOURS)
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
        self.chart_title = f"loss · batch · EMA {view.smoothing:g} · val"
        self.plt.title(self.chart_title)
        raw = self.plot_decimated("loss", x_min, x_max, width, "foreground-muted")
        drawn = [raw]
        loss = self.store.series("loss")
        if len(loss) and view.smoothing > 0:
            smooth = self._smoothed.update(loss.values)
            xs, ys = sample_at(loss.steps, smooth, x_min, x_max, width)
            self.plt.plot(xs.tolist(), ys.tolist(), color=self.colour("primary"), marker="braille")
        drawn.append(self.plot_decimated("val_loss", x_min, x_max, width, "accent", marker="◆"))
        return drawn


class MetricChart(RunChart):
    """Each stage's metric: per batch (muted), running mean (primary), validation (accent)."""

    chart_title = "metric · batch · running mean · val"

    def draw_series(self, view, x_min, x_max, width):
        drawn = []
        names = set(self.store.names())
        for metric in STAGE_METRICS:
            drawn.append(self.plot_decimated(metric, x_min, x_max, width, "foreground-muted"))
            drawn.append(self.plot_decimated(f"{metric}_cum", x_min, x_max, width, "primary"))
            if f"val_{metric}" in names:
                drawn.append(
                    self.plot_decimated(f"val_{metric}", x_min, x_max, width, "accent", "◆")
                )
        self.chart_title = self._title()
        self.plt.title(self.chart_title)
        return drawn

    def _title(self) -> str:
        stage = self.store.stages.get(self.store.current_stage or 0)
        metric = stage.metric if stage else "metric"
        return f"{metric} · batch · running mean · val"


class LrChart(RunChart):
    """The LR actually used (multiplier included); ``g`` toggles a log scale."""

    def draw_series(self, view, x_min, x_max, width):
        self.chart_title = "LR (log)" if view.log_lr else "LR"
        self.plt.title(self.chart_title)
        series = self.store.series("lr")
        if not len(series):
            return []
        xs, ys = series.decimate(x_min, x_max, width)
        if view.log_lr:
            keep = ys > 0
            xs, ys = xs[keep], ys[keep]
            self.plt.yscale("log")
        if len(xs):
            self.plt.plot(xs.tolist(), ys.tolist(), color=self.colour("primary"), marker="braille")
        return [ys]

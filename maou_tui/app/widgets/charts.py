"""The three charts (loss, the stage's metric, LR); x is the global step.

Each chart is a ``PlotextPlot`` (its own ``self.plt``) that reads the store's series, decimates
them to the widget's width before plotting (plotext costs ~2-3 µs a point, even with the numpy
helpers of ``plotext_speedups``) and draws the store's marks as vertical lines. Colours come from
the current Textual theme, so they follow ``T``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from operator import attrgetter

import numpy as np
from plotext._figure import _figure_class as Plot
from rich.segment import Segment
from rich.style import Style as RichStyle
from rich.text import Text
from textual.app import RenderResult
from textual.color import Color
from textual.events import MouseScrollDown, MouseScrollUp
from textual.message import Message
from textual.strip import Strip
from textual.style import Style as TextualStyle
from textual.visual import Visual, visualize
from textual_plotext import PlotextPlot

from maou_tui import stages
from maou_tui.app.chart_view import ZOOM_FACTOR, ChartView, x_range
from maou_tui.app.smoothing import SmoothedCache, sample_at
from maou_tui.app.widgets import plotext_speedups
from maou_tui.app.widgets.plotext_speedups import built_matrix, figure_text, matrix_rows
from maou_tui.series import Series, step_index
from maou_tui.store import Mark, RunStore
from maou_tui.x_axis import EpochAxis, StepAxis

XAxis = StepAxis | EpochAxis

#: Per-stage metric series names, in stage order.
STAGE_METRICS = tuple(stages.STAGE_METRICS.values())
#: Mark kinds drawn on every chart; the rest only on the loss chart.
STRUCTURAL_MARKS = frozenset({"stage", "control", "phase"})
#: Everything: the loss chart carries every mark, with labels.
ALL_MARKS = frozenset(
    {"stage", "epoch", "phase", "control", "paused", "resumed", "checkpoint", "threshold",
     "finding", "warning"}
)  # fmt: skip
Y_AXIS_COLUMNS = 10
#: Blank columns at least between two x tick labels.
TICK_GAP_COLUMNS = 5
#: More x ticks than this on a wide chart read as clutter.
MAX_X_TICKS = 8


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

    #: A panel the vim keys and arrows move to (``panel_nav``).
    can_focus = True
    chart_title = ""
    mark_kinds: frozenset[str] = STRUCTURAL_MARKS
    show_labels = False
    #: Where this chart's values can lie; the y axis never goes past it.
    valid_range: tuple[float, float] = (-math.inf, math.inf)
    #: Step numbers under the x axis; the screen turns them off on charts above the last one
    #: when space is short (all three charts share the same x axis).
    show_x_ticks = True

    def __init__(self, store: RunStore, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.store = store
        self._last_replot: tuple[ChartView, list[Mark], XAxis] | None = None
        #: How the last replot placed steps on screen (for the mouse wheel).
        self._x_span: tuple[float, float] = (0.0, 1.0)
        self._axis_columns = Y_AXIS_COLUMNS
        self.axis: XAxis = StepAxis()
        #: The x axis' ends in its unit (steps or epochs) at the last replot.
        self.x_limits = (0.0, 1.0)
        #: How long plotext took to build this chart last time (the app paces redraws by it).
        self.render_seconds = 0.0
        #: Replots so far: the drawn rows (``render_line``) are built again after each.
        self._replots = 0
        self._strips: tuple[tuple[object, ...], list[Strip]] | None = None

    @dataclass
    class Zoom(Message):
        """The mouse wheel turned over the chart: zoom x by ``factor`` around ``step``."""

        chart: RunChart
        step: float
        factor: float

        @property
        def control(self) -> RunChart:
            return self.chart

    def set_store(self, store: RunStore) -> None:
        self.store = store

    def render(self) -> RenderResult:
        """The chart as Rich ``Text`` (``figure_text``): what ``str()`` and the tests read.
        The screen draws it through ``render_line``."""
        return figure_text(self._sized_plot())

    def render_line(self, y: int) -> Strip:
        """Row ``y`` of the chart, built once per replot, size and style.

        Why not Textual's path from ``render``: turning the figure's ``Text`` into strips
        (``Content``, wrapping, a style combined per span) cost as much as plotext's build,
        once a second per chart while a run streams in (issue 20). Here each run of cells of
        the same colours becomes one segment, styled as Textual styles a span: the widget's
        style with the run's on top."""
        key = (self._replots, self.size, self.visual_style, self.app.theme)
        if self._strips is None or self._strips[0] != key:
            self._strips = (key, self._build_strips())
        strips = self._strips[1]
        if y < len(strips):
            return strips[y]
        return Strip.blank(self.size.width, self.visual_style.rich_style)

    def _sized_plot(self) -> Plot:
        """The plot, sized to the widget and in the app's theme (as ``PlotextPlot.render``)."""
        width, height = self.size.width, self.size.height
        self.plt.plotsize(width, height)
        self.plt._set_size(width, height)  # textual-plotext does this too (its issue #5)
        self.plt.theme(self._get_plotext_theme_name(self.app.theme))
        return self.plt

    def _build_strips(self) -> list[Strip]:
        started = time.perf_counter()
        matrix = built_matrix(self._sized_plot())
        width, base = self.size.width, self.visual_style
        if matrix is None:  # a figure plotext draws only as ANSI: Textual's own path
            text = Text.from_ansi(self.plt.build())
            strips = Visual.to_strips(self, visualize(self, text), width, self.size.height, base)
        else:
            strips = [_row_strip(row, y, base, width) for y, row in enumerate(matrix_rows(matrix))]
        self.render_seconds = time.perf_counter() - started
        return strips

    def on_resize(self) -> None:
        # Decimation width, tick settings and label spacing depend on the size: draw again.
        if self._last_replot is not None:
            self.replot(*self._last_replot)

    def on_mouse_scroll_up(self, event: MouseScrollUp) -> None:
        event.stop()  # the chart takes the wheel: nothing behind it scrolls
        self._wheel(event.x, 1 / ZOOM_FACTOR)

    def on_mouse_scroll_down(self, event: MouseScrollDown) -> None:
        event.stop()
        self._wheel(event.x, ZOOM_FACTOR)

    def _wheel(self, column: int, factor: float) -> None:
        x_min, x_max = self._x_span
        plot_width = max(1, self.size.width - self._axis_columns - 3)
        share = min(max((column - self._axis_columns - 2) / plot_width, 0.0), 1.0)
        self.post_message(self.Zoom(self, x_min + share * (x_max - x_min), factor))

    def replot(
        self, view: ChartView, extra_marks: Iterable[Mark] = (), axis: XAxis | None = None
    ) -> None:
        """Redraw from the store (call when ``store.version`` changed or the view did).
        ``axis`` maps steps to the x unit (default: the step itself)."""
        extra_marks = list(extra_marks)
        self.axis = axis = axis or StepAxis()
        self._last_replot = (view, extra_marks, axis)
        plt = self.plt
        plt.clear_figure()
        x_min, x_max = x_range(self.store, view)
        self._x_span = (x_min, x_max)
        width = max(20, self.size.width - Y_AXIS_COLUMNS)
        drawn = self.draw_series(view, x_min, x_max, width)
        # The chart with the x numbers under it says what they count.
        plt.title(f"{self.chart_title} · x: {axis.unit}" if self.show_x_ticks else self.chart_title)
        x_lo, x_hi = (float(v) for v in axis.x(np.array([x_min, x_max])))
        self.x_limits = (x_lo, x_hi if x_hi > x_lo else x_lo + 1)
        plt.xlim(*self.x_limits)
        if self.show_x_ticks:
            origin = axis.origin(self.store.current_stage if view.zoom_stage else None)
            plt.xticks(*x_ticks(axis.unit, x_lo, x_hi, width, origin))
        else:
            plt.xticks([], [])
        y_lo, y_hi = self._y_limits(drawn, view)
        self._axis_columns = self._set_y_ticks(y_lo, y_hi, view)
        plot_width = max(10, self.size.width - self._axis_columns - 3)  # the frame, the tick
        marks = [*self.store.marks, *extra_marks]
        self._draw_marks(marks, x_min, x_max, y_lo, y_hi, plot_width)
        if view.cursor is not None and x_min <= view.cursor <= x_max:
            # A line in the foreground colour, and a ▼ on the top row so it reads apart
            # from the marks without colour.
            cursor_x, colour = self._x_of(view.cursor), self.colour("foreground")
            plt.vline(cursor_x, colour)
            plt.text("▼", cursor_x, y_hi, color=colour, alignment="center")
        plt.ylim(y_lo, y_hi)
        self._replots += 1
        self.refresh()

    def readout(self, step: int) -> list[tuple[str, float]]:
        """``(name, value)`` of each series this chart shows, at ``step``: its last point at or
        before it, of the same stage (a stage's validation is not the next one's)."""
        stage = stage_at(self.store, step)
        return [
            (name, value)
            for name in self.shown_series()
            if (value := value_at(self.store.series(name), step, stage)) is not None
        ]

    def shown_series(self) -> list[str]:
        """The store series this chart draws, as the readout names them."""
        return []

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
            xs = self.axis.x(xs)
            draw = self.plt.scatter if points else self.plt.plot
            marker = "◆" if points else "braille"
            draw(xs.tolist(), ys.tolist(), color=self.colour(colour), marker=marker)
        return ys

    def _y_limits(self, arrays: list, view: ChartView) -> tuple[float, float]:
        """The plotted values' range, kept inside the series' valid range (``valid_range``),
        with a row at the top for the mark labels."""
        lo, hi = value_range(arrays)
        pad = (hi - lo) * 0.04
        rows = max(1, self.size.height - 4)
        headroom = (hi - lo) * (self.label_rows + 0.5) / rows if self.show_labels else 0
        valid_lo, valid_hi = self.valid_range
        return max(valid_lo, lo - pad), min(valid_hi, hi + pad) + headroom

    @property
    def label_rows(self) -> int:
        """Rows of mark labels: two on a tall chart, one on a short one (the curve needs rows)."""
        return LABEL_ROWS if self.size.height >= 12 else 1

    def _set_y_ticks(self, lo: float, hi: float, view: ChartView) -> int:
        """Round ticks inside ``lo..hi`` with the digits their spacing needs; returns the
        width of the longest label (the y axis' columns)."""
        ticks, labels = value_ticks(lo, hi, max(2, self.size.height - 4))
        self.plt.yticks(ticks, labels)
        return max(map(len, labels), default=1)

    def _x_of(self, step: float) -> float:
        return float(self.axis.x(np.array([step]))[0])

    def _draw_marks(
        self, marks: list[Mark], x_min: float, x_max: float, y_bottom: float, y_top: float,
        width: int,
    ) -> None:  # fmt: skip
        plt = self.plt
        visible = [m for m in marks if x_min <= m.step <= x_max and m.kind in self.mark_kinds]
        visible.sort(key=lambda m: m.step)
        where = dict(
            zip(map(id, visible), self.axis.x(np.array([m.step for m in visible])), strict=True)
        )
        for mark in visible:
            if mark.kind == "epoch":
                continue
            plt.vline(where[id(mark)], self.colour(MARK_COLOURS.get(mark.kind, "foreground-muted")))
        epochs = [m for m in visible if m.kind == "epoch"]
        every = max(1, math.ceil(len(epochs) * MIN_EPOCH_GAP_COLUMNS / max(width, 1)))
        for mark in epochs[every - 1 :: every]:
            plt.vline(where[id(mark)], self.colour(MARK_COLOURS["epoch"]))
        if not self.show_labels:
            return
        background = self.colour("surface")
        row_height = (y_top - y_bottom) / max(1, self.size.height - 4)
        x_lo, x_hi = self._x_of(x_min), self._x_of(x_max)
        span = max(x_hi - x_lo, 1e-9)
        placed = place_labels(
            visible, x_lo, span, width, self.label_rows, position=lambda m: where[id(m)]
        )
        for mark, text, column, row in placed:
            colour = self.colour(MARK_COLOURS.get(mark.kind, "foreground-muted"))
            x = x_lo + column / max(width - 1, 1) * span
            y = y_top - row * row_height
            plt.text(text, x, y, color=colour, background=background, alignment="left")


def _row_strip(
    row: list[tuple[str, RichStyle | None]], y: int, base: TextualStyle, width: int
) -> Strip:
    """One chart row as Textual draws a line of ``Content``: each run styled as the widget's
    style with the run's on top, its cell offset in the style's meta (text selection reads
    it)."""
    segments = []
    x = 0
    for chunk, run in row:
        segments.append(Segment(chunk, _offset_style(_run_style(base, run), x, y)))
        x += len(chunk)
    return Strip(segments).adjust_cell_length(width, base.rich_style)


@lru_cache(maxsize=256)
def _run_style(base: TextualStyle, run: RichStyle | None) -> RichStyle:
    """A run's style as ``Content`` gives it: the widget's style with the run's on top."""
    return (base + TextualStyle.from_rich_style(run) if run else base).rich_style


@lru_cache(maxsize=16384)
def _offset_style(style: RichStyle, x: int, y: int) -> RichStyle:
    """``style`` with the cell offset ``(x, y)`` in its meta, as
    ``textual.style.Style.rich_style_with_offset`` puts it (the same cells recur redraw after
    redraw: cached)."""
    return style + RichStyle.from_meta({"offset": (x, y)})


#: Which mark labels get the room first: the stages always, then what the user did or
#: should look at, then the schedule.
LABEL_PRIORITY = {
    "stage": 0, "threshold": 1, "control": 2, "finding": 3, "warning": 3, "paused": 4,
    "resumed": 4, "phase": 5, "checkpoint": 6,
}  # fmt: skip
#: Epoch lines closer than this many columns are thinned to every k-th epoch.
MIN_EPOCH_GAP_COLUMNS = 6
#: Rows at the top of a tall loss chart that hold mark labels.
LABEL_ROWS = 2


def place_labels(
    marks: list[Mark],
    x_min: float,
    span: float,
    width: int,
    rows: int = LABEL_ROWS,
    position: Callable[[Mark], float] = attrgetter("step"),
) -> list[tuple[Mark, str, int, int]]:
    """``(mark, text, first column, row)`` for each label that fits, never cut: its
    ``label``, else its ``short``; starting at its line (or ending there at the right edge),
    on the first of ``rows`` rows with room; one blank column between labels. ``position``
    gives a mark's x (its step, or its epoch on the epoch axis).

    The stages' short forms (``S2``) are reserved first, so every stage keeps one; then each
    mark in ``LABEL_PRIORITY`` order takes its full label where it fits, else its short."""
    taken: list[list[tuple[int, int]]] = [[] for _ in range(rows)]

    def column_of(mark: Mark) -> int:
        return round((position(mark) - x_min) / span * (width - 1))

    def take(mark: Mark, texts: list[str]) -> tuple[Mark, str, int, int] | None:
        for text in texts:
            spot = _free_spot(text, column_of(mark), width, taken)
            if spot is not None:
                taken[spot[1]].append((spot[0], spot[0] + len(text)))
                return mark, text, *spot
        return None

    ranked = sorted(
        (m for m in marks if m.kind in LABEL_PRIORITY),
        key=lambda m: (LABEL_PRIORITY[m.kind], m.step),
    )
    reserved = {id(m): take(m, [m.short or m.label]) for m in ranked if m.kind == "stage"}
    placed = []
    for mark in ranked:
        held = reserved.get(id(mark))
        if held is not None:
            _, text, first, row = held
            taken[row].remove((first, first + len(text)))
        label = take(mark, list(dict.fromkeys(t for t in (mark.label, mark.short) if t)))
        if label is None and held is not None:  # its reserved place is still free
            taken[held[3]].append((held[2], held[2] + len(held[1])))
            label = held
        if label is not None:
            placed.append(label)
    return placed


def _free_spot(
    text: str, column: int, width: int, taken: list[list[tuple[int, int]]]
) -> tuple[int, int] | None:
    """``(first column, row)`` for ``text`` at the mark's ``column``: after the line (it reads
    "from here on"), or ending at it at the right edge; None when every row is taken there."""
    first = column if column + len(text) <= width else column - len(text) + 1
    last = first + len(text)
    if first < 0:
        return None
    for row, used in enumerate(taken):
        if not any(first <= end and start <= last for start, end in used):
            return first, row
    return None


def nice_step(span: float, count: int) -> float:
    """The smallest 1, 2 or 5 × 10^k at least ``span / count``."""
    raw = span / max(count, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    return next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw * (1 - 1e-9))


def value_ticks(lo: float, hi: float, rows: int) -> tuple[list[float], list[str]]:
    """Round y ticks inside ``lo..hi``, about one per two rows (plotext drops a label that
    lands on a row already labelled) but at least two, each with the decimals its spacing
    needs."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [], []
    count = max(2, rows // 2)
    while True:  # at least two ticks, so the axis has a scale
        step = nice_step(hi - lo, count)
        first = math.ceil(lo / step - 1e-9)
        ticks = [k * step for k in range(first, math.floor(hi / step + 1e-9) + 1)]
        if len(ticks) >= 2 or count > 8:
            break
        count *= 2
    # Never two on one row (plotext would show either label): thin to every k-th tick.
    most = max(2, (rows + 1) // 2)
    ticks = ticks[:: math.ceil(len(ticks) / most)] if len(ticks) > most else ticks
    decimals = max(0, -math.floor(math.log10(step) + 1e-9))
    return ticks, [f"{t:.{decimals}f}" for t in ticks]


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
    valid_range = (0.0, math.inf)

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
        raw = self.plot_decimated("loss", x_min, x_max, width, "foreground-muted")
        drawn = [raw]
        loss = self.store.series("loss")
        if len(loss) and view.smoothing > 0:
            smooth = self._smoothed.update(loss.values)
            xs, ys = sample_at(loss.steps, smooth, x_min, x_max, width)
            xs = self.axis.x(xs)
            self.plt.plot(xs.tolist(), ys.tolist(), color=self.colour("primary"), marker="braille")
        drawn.append(self.plot_decimated("val_loss", x_min, x_max, width, "accent", points=True))
        return drawn

    def shown_series(self) -> list[str]:
        return ["loss", "val_loss"]

    def readout(self, step: int) -> list[tuple[str, float]]:
        values = super().readout(step)
        loss = self.store.series("loss")
        smoothed = self._smoothed.update(loss.values) if len(loss) else None
        index = step_index(loss.steps, step, "right") - 1
        if smoothed is not None and index >= 0 and self._smoothed.weight > 0:
            values.insert(1, ("EMA", float(smoothed[index])))
        return values


class MetricChart(RunChart):
    """Each stage's metric: per batch (muted), running mean (primary), validation (accent)."""

    mark_kinds = STRUCTURAL_MARKS | {"epoch", "threshold"}
    valid_range = (0.0, 1.0)

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
        return drawn

    def readout(self, step: int) -> list[tuple[str, float]]:
        """The metric of the stage that ran ``step`` (the others' lines end before it)."""
        stage = stage_at(self.store, step)
        metric = self.store.metric_of(stage)
        names = (metric, f"{metric}_cum", f"val_{metric}")
        return [
            (name, value)
            for name in names
            if (value := value_at(self.store.series(name), step, stage)) is not None
        ]

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
    """The LR actually used (multiplier included), drawn as steps (an LR holds until the next
    one is known); ``g`` toggles a log scale.

    The log scale plots log10(LR) on a linear axis with ``0.0003``-style tick labels: plotext's
    own log axis takes its limits in another unit, which breaks the mark labels' placement. It
    shows at most ``LOG_DECADES`` decades below the highest LR (warmup starts near 0).
    """

    valid_range = (0.0, math.inf)

    def draw_series(self, view, x_min, x_max, width):
        self.chart_title = "LR (log)" if view.log_lr else "LR"
        series = self.store.series("lr")
        if not len(series):
            self.chart_title += ": none recorded yet"
            return []
        xs, ys = series.decimate(x_min, x_max, width)
        if view.log_lr:
            keep = ys > 0
            xs, ys = xs[keep], np.log10(ys[keep])
            if len(ys):
                ys = np.maximum(ys, ys.max() - LOG_DECADES)
        if len(xs):
            xs, ys = as_steps(self.axis.x(xs), ys)
            self.plt.plot(xs.tolist(), ys.tolist(), color=self.colour("primary"), marker="braille")
        return [ys]

    def _set_y_ticks(self, lo: float, hi: float, view: ChartView) -> int:
        if not view.log_lr:
            return super()._set_y_ticks(lo, hi, view)
        ticks = log_ticks(lo, hi, max(2, self.size.height - 4))
        labels = [f"{10**t:.2g}" for t in ticks]
        self.plt.yticks(ticks, labels)
        return max(map(len, labels), default=1)

    def _y_limits(self, arrays: list, view: ChartView) -> tuple[float, float]:
        lo, hi = value_range(arrays)
        if view.log_lr:
            return lo - 0.1, hi + 0.1
        return 0.0, hi * 1.05


#: The log LR axis shows this many decades below the highest LR at most.
LOG_DECADES = 3.0


def as_steps(xs: np.ndarray, ys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A line that holds each value until the next point (a staircase, not a ramp)."""
    return np.repeat(xs, 2)[1:], np.repeat(ys, 2)[:-1]


def log_ticks(lo: float, hi: float, rows: int) -> list[float]:
    """log10 of round LRs (1, 2 or 5 × 10^k, or whole decades when many) inside ``lo..hi``,
    at most one per two rows."""
    for mantissas in ((1, 2, 5), (1, 3), (1,)):
        ticks = [
            math.log10(m) + k
            for k in range(math.floor(lo) - 1, math.ceil(hi) + 1)
            for m in mantissas
            if lo <= math.log10(m) + k <= hi
        ]
        if len(ticks) <= max(2, rows // 2):
            return ticks
    every = math.ceil(len(ticks) / max(2, rows // 2))
    return ticks[::every]


#: A series with at most one point per this many columns is drawn as points, not a line
#: (one value an epoch, an evaluation every N steps): a line would invent the values between.
SPARSE_COLUMNS_PER_POINT = 4


class SeriesChart(RunChart):
    """Any one series of the store, by name (the chart grid's pages): a line, or points where
    the series is sparse (``val_*``, epoch-end metrics, periodic evaluations)."""

    def __init__(self, store: RunStore, *, id: str | None = None) -> None:
        super().__init__(store, id=id)
        #: The series shown ("" for none: the chart is hidden then).
        self.series_name = ""
        #: Said after the name in the title (``page 2/4``).
        self.title_note = ""

    def draw_series(self, view, x_min, x_max, width):
        name = self.series_name
        series = self.store.series(name)
        self.chart_title = f"{name} · {self.title_note}" if self.title_note else name
        lo, hi = step_index(series.steps, x_min, "left"), step_index(series.steps, x_max, "right")
        sparse = hi - lo <= width // SPARSE_COLUMNS_PER_POINT
        return [self.plot_decimated(name, x_min, x_max, width, "primary", points=sparse)]

    def shown_series(self) -> list[str]:
        return [self.series_name] if self.series_name else []


def value_at(series: Series, step: int, stage: int | None = None) -> float | None:
    """The value of the last point at or before ``step`` (None before the first, or when that
    point is of another stage than ``stage``)."""
    index = step_index(series.steps, step, "right") - 1
    if index < 0 or (stage is not None and int(series.stages[index]) != stage):
        return None
    return float(series.values[index])


def stage_at(store: RunStore, step: int) -> int | None:
    """The stage of the training step at ``step`` (or the next one), None where unknown."""
    loss = store.series("loss")
    index = step_index(loss.steps, step, "left")
    if index >= len(loss):
        index = len(loss) - 1
    stage = int(loss.stages[index]) if index >= 0 else -1
    return stage if stage >= 1 else None


def x_ticks(unit: str, lo: float, hi: float, width: int, origin: float) -> tuple[list, list]:
    """Tick positions and labels under the x axis: round steps, or round epochs counted from
    ``origin`` (a zoomed stage shows its own epochs)."""
    if unit == "step":
        ticks = step_ticks(lo, hi, width)
        return [float(t) for t in ticks], [str(t) for t in ticks]
    if hi <= lo:
        return [lo], [f"{lo - origin:g}"]
    label_columns = 4 + TICK_GAP_COLUMNS
    step = nice_step(hi - lo, min(MAX_X_TICKS, max(1, width // label_columns)))
    decimals = max(0, -math.floor(math.log10(step) + 1e-9))
    first = math.ceil((lo - origin) / step - 1e-9)
    last = math.floor((hi - origin) / step + 1e-9)
    epochs = [k * step for k in range(first, last + 1)]
    return [origin + e for e in epochs], [f"{e:.{decimals}f}" for e in epochs]

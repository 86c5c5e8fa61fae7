"""One series of several runs on one chart, each run in its own theme colour, x the global step
or the epoch. A cursor (``,`` ``.``; ``b`` ``w`` in bigger jumps) marks an x whose values the
legend below reads; it follows the runs' end until moved (``e`` follows again)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from textual.app import RenderResult
from textual.binding import BindingType
from textual.message import Message
from textual_plotext import PlotextPlot

from maou_tui.app.keys import OVERLAY_BINDINGS
from maou_tui.app.widgets.charts import Y_AXIS_COLUMNS, step_ticks, theme_rgb, value_ticks
from maou_tui.app.widgets.plotext_speedups import figure_text
from maou_tui.compare import Align

#: Theme colours given to the runs in order (a seventh run takes the first again).
RUN_COLOURS = ("primary", "accent", "success", "warning", "error", "secondary")
#: The cursor moves this share of the x range per key (and ten times more with shift).
CURSOR_STEP = 1 / 80


@dataclass
class OverlayLine:
    """One run's points of the series on show."""

    label: str
    xs: np.ndarray
    ys: np.ndarray


def run_colour(index: int) -> str:
    return RUN_COLOURS[index % len(RUN_COLOURS)]


def thin(xs: np.ndarray, ys: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
    """At most about ``count`` points, evenly spaced by index (the last one always kept)."""
    if len(xs) <= count:
        return xs, ys
    index = np.unique(np.linspace(0, len(xs) - 1, count).astype(np.int64))
    return xs[index], ys[index]


class OverlayChart(PlotextPlot):
    """Draws ``lines`` (set by ``show``); says where its cursor is with ``CursorMoved``."""

    BINDINGS: ClassVar[list[BindingType]] = OVERLAY_BINDINGS
    can_focus = True

    DEFAULT_CSS = """
    OverlayChart {
        height: 1fr;
        min-height: 8;
    }
    OverlayChart:focus {
        background-tint: $foreground 4%;
    }
    """

    @dataclass
    class CursorMoved(Message):
        """The cursor's x (None: following the end)."""

        chart: OverlayChart
        x: float | None

        @property
        def control(self) -> OverlayChart:
            return self.chart

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.lines: list[OverlayLine] = []
        self.series_name = ""
        self.align: Align = "step"
        self.cursor_x: float | None = None

    def show(self, lines: list[OverlayLine], series_name: str, align: Align) -> None:
        if align != self.align or series_name != self.series_name:
            self.cursor_x = None
        self.lines, self.series_name, self.align = lines, series_name, align
        self.replot()

    @property
    def x_span(self) -> tuple[float, float]:
        ends = [(float(line.xs[0]), float(line.xs[-1])) for line in self.lines if len(line.xs)]
        if not ends:
            return 0.0, 1.0
        lo, hi = min(e[0] for e in ends), max(e[1] for e in ends)
        return (0.0 if self.align == "step" else math.floor(lo)), max(hi, lo + 1)

    @property
    def reading_x(self) -> float:
        """Where the legend reads the values: the cursor, else the end of the x range."""
        return self.x_span[1] if self.cursor_x is None else self.cursor_x

    def render(self) -> RenderResult:
        self.plt.plotsize(self.size.width, self.size.height)
        self.plt._set_size(self.size.width, self.size.height)
        self.plt.theme(self._get_plotext_theme_name(self.app.theme))
        return figure_text(self.plt)

    def on_resize(self) -> None:
        self.replot()

    def replot(self) -> None:
        plt = self.plt
        plt.clear_figure()
        x_min, x_max = self.x_span
        width = max(20, self.size.width - Y_AXIS_COLUMNS)
        drawn = []
        for index, line in enumerate(self.lines):
            xs, ys = thin(line.xs, line.ys, 2 * width)
            if len(xs):
                colour = theme_rgb(self.app, run_colour(index))
                plt.plot(xs.tolist(), ys.tolist(), color=colour, marker="braille")
                drawn.append(ys[np.isfinite(ys)])
        values = np.concatenate(drawn) if drawn else np.array([0.0, 1.0])
        lo, hi = (float(values.min()), float(values.max())) if len(values) else (0.0, 1.0)
        if hi <= lo:
            hi = lo + (abs(lo) * 0.1 or 1.0)
        pad = (hi - lo) * 0.04
        plt.ylim(lo - pad, hi + pad)
        ticks, labels = value_ticks(lo - pad, hi + pad, max(2, self.size.height - 4))
        plt.yticks(ticks, labels)
        plt.xlim(x_min, x_max)
        x_ticks = step_ticks(x_min, x_max, width)
        plt.xticks([float(t) for t in x_ticks], [str(t) for t in x_ticks])
        if self.cursor_x is not None:
            plt.vline(self.cursor_x, theme_rgb(self.app, "foreground-muted"))
        plt.title(f"{self.series_name or 'no series'} · x: {self.align}")
        self.refresh()

    def action_move_cursor(self, columns: int) -> None:
        x_min, x_max = self.x_span
        step = (x_max - x_min) * CURSOR_STEP * columns
        if self.align == "step":
            step = math.copysign(max(1.0, round(abs(step))), step)
        self.cursor_x = min(x_max, max(x_min, self.reading_x + step))
        self.replot()
        self.post_message(self.CursorMoved(self, self.cursor_x))

    def action_follow_end(self) -> None:
        self.cursor_x = None
        self.replot()
        self.post_message(self.CursorMoved(self, None))

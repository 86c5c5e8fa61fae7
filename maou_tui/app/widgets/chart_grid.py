"""The chart area: pages of charts and the cursor's readout line.

Page 1 is the overview (loss, the stage's metric, LR); every page after it shows up to
``PER_PAGE`` of the series the user chose (``m``), one chart each, in the order chosen. The
screen hands the choice and the view down (``show``); the grid only decides what is visible.
"""

from __future__ import annotations

import math

from textual.app import ComposeResult
from textual.containers import Vertical

from maou_tui.app.chart_view import ChartView
from maou_tui.app.widgets.charts import (
    LossChart,
    LrChart,
    MetricChart,
    RunChart,
    SeriesChart,
    XAxis,
)
from maou_tui.app.widgets.readout import Readout
from maou_tui.store import Mark, RunStore
from maou_tui.x_axis import EpochAxis

#: Charts on one page of chosen series (the overview has three too).
PER_PAGE = 3


def page_count(chosen: list[str]) -> int:
    return 1 + math.ceil(len(chosen) / PER_PAGE)


class ChartGrid(Vertical):
    """The overview charts, ``PER_PAGE`` series charts and the readout; one page visible."""

    DEFAULT_CSS = """
    ChartGrid {
        width: 1fr;
    }
    ChartGrid > RunChart {
        height: 1fr;
        min-height: 5;
    }
    ChartGrid > SeriesChart {
        display: none;
    }
    ChartGrid.-series-page > LossChart, ChartGrid.-series-page > MetricChart,
    ChartGrid.-series-page > LrChart {
        display: none;
    }
    """

    def __init__(self, store: RunStore, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.store = store
        #: The series the pages after the overview show, in order.
        self.chosen: list[str] = []
        self.page = 0
        #: Step numbers under every chart (False: only under the last one, when space is short).
        self.all_x_ticks = True
        # Kept, not queried: the redraw tick asks for the visible charts several times a
        # second, and a DOM query matches selectors against every node each time.
        self._overview: list[RunChart] = [
            LossChart(store, id="loss-chart"),
            MetricChart(store, id="metric-chart"),
            LrChart(store, id="lr-chart"),
        ]
        self._series = [SeriesChart(store, id=f"series-chart-{slot}") for slot in range(PER_PAGE)]

    def compose(self) -> ComposeResult:
        yield Readout(id="readout")
        yield from self._overview
        yield from self._series

    @property
    def visible_charts(self) -> list[RunChart]:
        """The charts of the page on screen, top to bottom."""
        if self.page == 0:
            return list(self._overview)
        return [chart for chart in self._series if chart.series_name]

    def show_page(self, page: int, chosen: list[str]) -> int:
        """Show ``page`` (clamped to the pages there are) of ``chosen``; returns the page shown."""
        self.chosen = chosen
        self.page = page = max(0, min(page, page_count(chosen) - 1))
        self.set_class(page > 0, "-series-page")
        names = chosen[(page - 1) * PER_PAGE : page * PER_PAGE] if page else []
        for slot, series_chart in enumerate(self._series):
            series_chart.series_name = names[slot] if slot < len(names) else ""
            note = f"page {page + 1}/{page_count(chosen)}" if slot == 0 else ""
            series_chart.title_note = note
            series_chart.display = bool(series_chart.series_name)
        visible = self.visible_charts
        for chart in visible:
            chart.show_x_ticks = self.all_x_ticks or chart is visible[-1]
        return page

    def set_store(self, store: RunStore) -> None:
        self.store = store
        for chart in [*self._overview, *self._series]:
            chart.set_store(store)

    def replot(self, view: ChartView, marks: list[Mark], axis: XAxis) -> None:
        """Draw the visible charts, and the readout while the cursor is on."""
        visible = self.visible_charts
        for chart in visible:
            chart.replot(view, marks, axis)
        readout = self.query_one(Readout)
        readout.display = view.cursor is not None
        if view.cursor is not None:
            epochs = axis if isinstance(axis, EpochAxis) else EpochAxis.of(self.store)
            readout.show(self.store, view.cursor, epochs, visible)

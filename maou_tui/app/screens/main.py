"""The main screen: three charts, the status and findings panels, the log pane, the footer.

Below 120×36 the screen takes the ``-compact`` class (a narrower side panel, a shorter log, step
numbers only under the last chart); below 30 rows ``-short`` hides the log pane, so 80×24 still
shows every chart with room to read it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.events import Resize
from textual.screen import Screen
from textual.widgets import Footer, Log

from maou_tui.app.log_lines import pane_line
from maou_tui.app.widgets.charts import ChartView, LossChart, LrChart, MetricChart, RunChart
from maou_tui.app.widgets.findings import FindingsPanel
from maou_tui.app.widgets.status import StatusFacts, StatusPanel
from maou_tui.layout import LOG_FILE
from maou_tui.marks import finding_mark
from maou_tui.store import RunStore

if TYPE_CHECKING:  # the diagnose package is imported with the first finding, not at start-up
    from maou_tui.diagnose.models import Finding

COMPACT_WIDTH = 120
COMPACT_HEIGHT = 36
#: Below this height the log pane is hidden so the charts keep enough rows.
SHORT_HEIGHT = 30


#: Short chart labels of the diagnoser's finding kinds (the findings panel has the full text).
FINDING_LABELS = {
    "divergence": "diverging",
    "nan": "NaN loss",
    "stagnation": "stagnant",
    "oscillation": "oscillating",
    "epoch_boundary_reset": "epoch reset",
    "warmup_lr_too_high": "warmup LR",
    "overfitting": "overfitting",
}


def finding_label(finding: Finding) -> str:
    return FINDING_LABELS.get(finding.kind, finding.kind.replace("_", " "))


class MainScreen(Screen):
    """Composes the panels and redraws them from one store."""

    def __init__(self, store: RunStore, label: str) -> None:
        super().__init__()
        self.store = store
        self.label = label

    def compose(self) -> ComposeResult:
        with Horizontal(id="body"):
            with Vertical(id="charts"):
                yield LossChart(self.store, id="loss-chart")
                yield MetricChart(self.store, id="metric-chart")
                yield LrChart(self.store, id="lr-chart")
            with Vertical(id="side"):
                yield StatusPanel(id="status")
                yield FindingsPanel(id="findings")
        yield Log(id="log", max_lines=500, auto_scroll=True)
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.query_one("#status").border_title = "status"
        self.query_one("#log").border_title = LOG_FILE

    def on_resize(self, event: Resize) -> None:
        compact = event.size.width < COMPACT_WIDTH or event.size.height < COMPACT_HEIGHT
        self.set_class(compact, "-compact")
        self.set_class(event.size.height < SHORT_HEIGHT, "-short")
        for chart in self.charts[:-1]:
            chart.show_x_ticks = not compact

    @property
    def charts(self) -> list[RunChart]:
        return list(self.query(RunChart))

    def set_store(self, store: RunStore, label: str) -> None:
        """Show another run (``r``): every widget reads the new store from now on."""
        self.label = label
        self.show_store(store)
        self.query_one(Log).clear()

    def show_store(self, store: RunStore) -> None:
        """Read ``store`` from now on: the same run's data read anew (a history's preview,
        then the whole of it), or another run's."""
        self.store = store
        for chart in self.charts:
            chart.set_store(store)

    def redraw(
        self,
        view: ChartView,
        findings: Iterable[Finding],
        facts: StatusFacts,
        *,
        charts: bool = True,
    ) -> None:
        """Show the store again: the status always, the charts and findings when ``charts``."""
        if not self.query(StatusPanel):  # the app is closing: the widgets are gone
            return
        findings = list(findings)
        if charts:
            marks = [finding_mark(f.step, finding_label(f)) for f in findings]
            for chart in self.charts:
                chart.replot(view, marks)
            # At the charts' pace: a finding's evidence changes with every diagnosis, and
            # wrapping the panel's text again is as costly as a chart.
            self.query_one(FindingsPanel).show(findings)
        self.query_one(StatusPanel).show(self.store, facts, self.label)

    def last_log_line(self) -> str:
        lines = [line for log in self.query(Log) for line in log.lines if line.strip()]
        return lines[-1] if lines else ""

    def write_log(self, lines: list[str], title: str = LOG_FILE) -> None:
        """Append ``lines`` to the log pane, titled with the file they come from."""
        if not lines:
            return
        lines = [pane_line(line) for line in lines]
        # The log tail may deliver while the app is closing: no log widget, nothing to show.
        for log in self.query(Log):
            log.border_title = title
            log.write_lines(lines)
            # Log scrolls before its new size is known on a first big write: scroll after.
            log.call_after_refresh(log.scroll_end, animate=False)

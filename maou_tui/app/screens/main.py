"""The main screen: three charts, the status and findings panels, the log pane, the footer.

Below 120×36 the screen takes the ``-compact`` class (a narrower side panel, a shorter log, step
numbers only under the last chart); below 30 rows ``-short`` hides the log pane, so 80×24 still
shows every chart with room to read it (``L`` shows the whole log full screen at any size).
The log pane is a ``LogViewer`` that follows the end; it does not take focus, so the app's keys
keep their meaning here; its own keys work in the full-screen log.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.events import Resize
from textual.screen import Screen
from textual.widgets import Footer

from maou_tui.app.widgets.charts import ChartView, LossChart, LrChart, MetricChart, RunChart
from maou_tui.app.widgets.findings import FindingsPanel
from maou_tui.app.widgets.log_viewer import LogViewer
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
        pane = LogViewer(id="log")
        pane.can_focus = False
        yield pane
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.query_one("#status").border_title = "status"
        self.log_pane.show(None, LOG_FILE)

    @property
    def log_pane(self) -> LogViewer:
        return self.query_one("#log", LogViewer)

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
        self.store, self.label = store, label
        for chart in self.charts:
            chart.set_store(store)
        self.log_pane.show(None, LOG_FILE)

    def redraw(
        self,
        view: ChartView,
        findings: Iterable[Finding],
        facts: StatusFacts,
        *,
        charts: bool = True,
    ) -> None:
        """Show the store again: the panels always, the charts when ``charts``."""
        if not self.query(StatusPanel):  # the app is closing: the widgets are gone
            return
        findings = list(findings)
        if charts:
            marks = [finding_mark(f.step, finding_label(f)) for f in findings]
            for chart in self.charts:
                chart.replot(view, marks)
        self.query_one(StatusPanel).show(self.store, facts, self.label)
        self.query_one(FindingsPanel).show(findings)

    def last_log_line(self) -> str:
        return self.log_pane.last_text() if self.query("#log") else ""

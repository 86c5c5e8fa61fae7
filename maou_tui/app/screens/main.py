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

from maou_tui.app.chart_view import ChartView
from maou_tui.app.widgets.chart_grid import ChartGrid
from maou_tui.app.widgets.charts import STAGE_METRICS, RunChart, XAxis
from maou_tui.app.widgets.findings import FindingsPanel
from maou_tui.app.widgets.log_viewer import LogViewer
from maou_tui.app.widgets.status import StatusFacts, StatusPanel
from maou_tui.app.widgets.system import SystemPanel
from maou_tui.layout import LOG_FILE
from maou_tui.marks import finding_mark
from maou_tui.store import RunStore
from maou_tui.x_axis import EpochAxis, StepAxis

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


def overview_series(store: RunStore) -> set[str]:
    """What the overview page (loss, metric, LR) already draws."""
    metrics = {f"{prefix}{m}{suffix}" for m in STAGE_METRICS for prefix in ("", "val_")
               for suffix in ("", "_cum")}  # fmt: skip
    return {"loss", "val_loss", "lr", *metrics}


def finding_label(finding: Finding) -> str:
    return FINDING_LABELS.get(finding.kind, finding.kind.replace("_", " "))


class MainScreen(Screen):
    """Composes the panels and redraws them from one store."""

    def __init__(self, store: RunStore, label: str) -> None:
        super().__init__()
        self.store = store
        self.label = label
        # Kept, not queried: ``redraw`` runs several times a second while a run streams in,
        # and a DOM query matches selectors against every node each time.
        self._grid = ChartGrid(store, id="charts")
        self._status = StatusPanel(id="status")
        self._findings = FindingsPanel(id="findings")
        self._system = SystemPanel(id="system")

    def compose(self) -> ComposeResult:
        with Horizontal(id="body"):
            yield self._grid
            with Vertical(id="side"):
                yield self._status
                yield self._findings
                yield self._system
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
        grid = self.query_one(ChartGrid)
        grid.all_x_ticks = not compact
        grid.show_page(grid.page, grid.chosen)

    @property
    def charts(self) -> list[RunChart]:
        """The charts on screen (the page shown; none while the app closes)."""
        return self._grid.visible_charts if self._grid.is_attached else []

    def set_store(self, store: RunStore, label: str) -> None:
        """Show another run (``r``): every widget reads the new store from now on."""
        self.label = label
        self.show_store(store)
        self.log_pane.show(None, LOG_FILE)

    def show_store(self, store: RunStore) -> None:
        """Read ``store`` from now on: the same run's data read anew (a history's preview,
        then the whole of it), or another run's."""
        self.store = store
        self.query_one(ChartGrid).set_store(store)

    def redraw(
        self,
        view: ChartView,
        findings: Iterable[Finding],
        facts: StatusFacts,
        *,
        charts: bool = True,
        chosen: list[str] | None = None,
    ) -> None:
        """Show the store again: the status and system panels always, the charts and findings
        when ``charts``. ``chosen``: the series of the chart pages (None: every one the
        overview does not show)."""
        if not self._status.is_attached:  # the app is closing: the widgets are gone
            return
        findings = list(findings)
        if charts:
            marks = [finding_mark(f.step, finding_label(f)) for f in findings]
            view.page = self._grid.show_page(view.page, self.chart_series(chosen))
            self._grid.replot(view, marks, self.x_axis(view))
            # At the charts' pace: a finding's evidence changes with every diagnosis, and
            # wrapping the panel's text again is as costly as a chart.
            self._findings.show(findings)
        self._status.show(self.store, facts, self.label)
        self._system.show(self.store.system)

    def toggle_system(self) -> None:
        """Show or hide the system panel (``y``), drawn from the store at once."""
        panel = self.query_one(SystemPanel)
        if panel.toggle():
            panel.show(self.store.system)

    def chart_series(self, chosen: list[str] | None) -> list[str]:
        """The series of the chart pages that this run has, in order."""
        names = self.store.names()
        if chosen is None:
            return [name for name in names if name not in overview_series(self.store)]
        present = set(names)
        return [name for name in chosen if name in present]

    def x_axis(self, view: ChartView) -> XAxis:
        """The epoch axis when chosen and the run has epoch/batch columns, else steps."""
        if view.x_unit == "epoch":
            axis = EpochAxis.of(self.store)
            if axis is not None:
                return axis
        return StepAxis()

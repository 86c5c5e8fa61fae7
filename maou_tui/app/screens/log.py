"""The full-screen log (``L``): the log viewer with every key, a search box, the footer.

Reachable at every terminal size (the main screen's log pane is hidden below 30 rows). The
viewer shows the run's one index; the app refreshes it as the index grows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Footer, Input

from maou_tui.app.widgets.log_viewer import LogViewer

if TYPE_CHECKING:
    from maou_tui.ingest.line_index import LineIndex


class LogScreen(Screen):
    """One ``LogViewer`` over the whole screen; Escape (or ``L``) goes back."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "close", "Back")]
    DEFAULT_CSS = """
    LogScreen LogViewer {
        height: 1fr;
    }
    LogScreen #log-search {
        dock: bottom;
        display: none;
    }
    LogScreen.-searching #log-search {
        display: block;
    }
    """

    def __init__(self, index: LineIndex | None, title: str) -> None:
        super().__init__()
        self._index, self._title = index, title

    def compose(self) -> ComposeResult:
        yield LogViewer(id="log-full")
        yield Input(placeholder="search the log (Enter finds, Esc cancels)", id="log-search")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        viewer = self.query_one(LogViewer)
        viewer.show(self._index, self._title)
        viewer.focus()

    @property
    def viewer(self) -> LogViewer:
        return self.query_one(LogViewer)

    @on(LogViewer.SearchRequested)
    def _ask_for_search(self) -> None:
        self.add_class("-searching")
        box = self.query_one("#log-search", Input)
        box.value = ""
        box.focus()

    @on(Input.Submitted, "#log-search")
    def _search(self, event: Input.Submitted) -> None:
        self._end_search()
        self.viewer.search(event.value)

    def action_close(self) -> None:
        if self.has_class("-searching"):
            self._end_search()
        else:
            self.dismiss()

    def _end_search(self) -> None:
        self.remove_class("-searching")
        self.viewer.focus()

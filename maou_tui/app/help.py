"""The ``?`` help screen: every key of the key map, generated from it so it cannot drift."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.markup import escape
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label

from maou_tui.app.keys import KEY_MAP, LOG_KEY_MAP, key_label
from maou_tui.marks import LEGEND


class HelpScreen(ModalScreen):
    """A table of keys; Escape, ``?`` or ``q`` closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark,q", "close", "Close"),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog help"):
            yield Label("[b]maou-tui keys[/b]  (ctrl+p: command palette · Esc closes)")
            yield Label(f"[b]chart marks[/b]  {escape(LEGEND)}")
            table: DataTable[str] = DataTable(show_cursor=False, zebra_stripes=True)
            table.add_columns("key", "what it does")
            for binding, text in KEY_MAP + LOG_KEY_MAP:
                table.add_row(key_label(binding), text)
            table.add_row("ctrl+p", "Command palette: every command by name, themes")
            yield table

    def action_close(self) -> None:
        self.dismiss()

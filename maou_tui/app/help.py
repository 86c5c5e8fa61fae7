"""The ``?`` help screen: every key of the key tables, generated from them so it cannot drift;
with the settings file's keymap overrides applied."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.markup import escape
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label

from maou_tui.app.keys import (
    KEY_MAP,
    LOG_KEY_MAP,
    NAV_KEYS,
    OVERLAY_KEYS,
    RUN_LIST_KEYS,
    RUNS_KEYS,
    key_label,
)
from maou_tui.marks import LEGEND


class HelpScreen(ModalScreen):
    """A table of keys; Escape, ``?`` or ``q`` closes it."""

    SECTIONS = (
        ("", KEY_MAP),
        ("move", NAV_KEYS),
        ("log (L: the whole log)", LOG_KEY_MAP),
        ("runs (r)", RUN_LIST_KEYS + RUNS_KEYS),
        ("overlay", OVERLAY_KEYS),
    )

    def __init__(self, keymap: dict[str, str] | None = None) -> None:
        super().__init__()
        self.keymap = keymap or {}

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j,down", "scroll('down')", show=False),
        Binding("k,up", "scroll('up')", show=False),
        Binding("escape,question_mark,q", "close", "Close"),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog help"):
            yield Label("[b]maou-tui keys[/b]  (ctrl+p: command palette · Esc closes)")
            yield Label(f"[b]chart marks[/b]  {escape(LEGEND)}")
            table: DataTable[str | Text] = DataTable(show_cursor=False, zebra_stripes=True)
            table.add_columns("key", "what it does")
            for section, keys in self.SECTIONS:
                if section:
                    table.add_row("", Text(section, style="bold"))
                for binding, text in keys:
                    table.add_row(key_label(binding, self.keymap), text)
            table.add_row("ctrl+p", "Command palette: every command by name, themes")
            yield table

    def action_scroll(self, where: str) -> None:
        table = self.query_one(DataTable)
        table.scroll_relative(y=1 if where == "down" else -1, animate=False)

    def action_close(self) -> None:
        self.dismiss()

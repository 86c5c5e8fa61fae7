"""``r``: pick another run directory to show (newest first)."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option


class RunPicker(ModalScreen[Path | None]):
    """A list of runs; Enter shows the chosen one, Escape keeps the current one."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, runs: list[Path], current: Path | None) -> None:
        super().__init__()
        self.runs = runs
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog runs"):
            yield Label("Switch run (Enter: show · Esc: cancel)")
            options = [
                Option(f"{'▶ ' if run == self.current else '  '}{run.name}", id=str(i))
                for i, run in enumerate(self.runs)
            ]
            yield OptionList(*options, id="run-list")

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.runs[int(event.option.id or 0)])

    def action_cancel(self) -> None:
        self.dismiss(None)

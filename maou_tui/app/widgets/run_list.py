"""The runs of a runs directory, one row each: selected for the overlay, name, status, stage,
last metric and age. ``space`` selects (the overlay shows the selected runs), ``enter`` asks to
show the run under the cursor on the main screen; both are said upwards as messages."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from textual.binding import BindingType
from textual.message import Message
from textual.widgets import DataTable

from maou_tui.app.keys import RUN_LIST_BINDINGS
from maou_tui.compare import RunRow, format_age

COLUMNS = ("", "run", "status", "stage", "age", "last metric")
SELECTED = "●"


class RunList(DataTable[str]):
    """Rows keyed by the run's path; the cursor moves by row."""

    BINDINGS: ClassVar[list[BindingType]] = RUN_LIST_BINDINGS

    DEFAULT_CSS = """
    RunList {
        height: auto;
        max-height: 50%;
        overflow-x: hidden;
        border: round $primary 50%;
    }
    RunList:focus {
        border: round $primary;
    }
    """

    @dataclass
    class SelectionChanged(Message):
        """The runs selected for the overlay, in list order."""

        run_list: RunList
        selected: list[Path]

        @property
        def control(self) -> RunList:
            return self.run_list

    @dataclass
    class ShowRun(Message):
        """The user asked to see this run on the main screen."""

        run_list: RunList
        path: Path

        @property
        def control(self) -> RunList:
            return self.run_list

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.selected: list[Path] = []
        self.border_title = "runs"

    def on_mount(self) -> None:
        self.add_column(COLUMNS[0], width=1)
        self.add_columns(*COLUMNS[1:])

    def show_rows(self, rows: list[RunRow]) -> None:
        """Add new runs and update the lines of known ones (the cursor stays where it is)."""
        for row in rows:
            key = str(row.path)
            cells = self._cells(row)
            if key in self.rows:
                for column, value in zip(self.ordered_columns, cells, strict=True):
                    self.update_cell(key, column.key, value, update_width=True)
            else:
                self.add_row(*cells, key=key)

    def _cells(self, row: RunRow) -> list[str]:
        mark = SELECTED if row.path in self.selected else ""
        status = row.error if row.error else row.status
        return [mark, row.name, status, row.stage, format_age(row.age_s), row.metric]

    def select(self, paths: list[Path]) -> None:
        """Select exactly ``paths`` (those in the list), then say so."""
        known = [Path(str(key.value)) for key in self.rows]
        self.selected = [p for p in known if p in paths]
        self._show_marks()
        self.post_message(self.SelectionChanged(self, list(self.selected)))

    def action_toggle_selected(self) -> None:
        path = self._path_under_cursor()
        if path is None:
            return
        chosen = set(self.selected) ^ {path}
        self.select([p for p in (Path(str(k.value)) for k in self.rows) if p in chosen])

    def action_show_run(self) -> None:
        path = self._path_under_cursor()
        if path is not None:
            self.post_message(self.ShowRun(self, path))

    def _path_under_cursor(self) -> Path | None:
        if not self.row_count:
            return None
        key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key
        return Path(str(key.value))

    def _show_marks(self) -> None:
        first = self.ordered_columns[0].key
        for key in self.rows:
            self.update_cell(key, first, SELECTED if Path(str(key.value)) in self.selected else "")

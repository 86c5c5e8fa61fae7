"""``r``: the runs of the runs directory. The list shows each run's status, stage, last metric
and age; the selected runs' series are overlaid on one chart (aligned by step or by epoch) with
a legend, and their configurations are compared (what differs). ``enter`` shows a run on the
main screen (the screen is dismissed with its path).

Each run is read whole with ``maou_tui.ingest.load_store`` in a thread worker that posts one
``RunRead`` per run, so the list appears at once and fills in as the runs are read.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.events import Resize
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Footer

from maou_tui import compare
from maou_tui.app import panel_nav
from maou_tui.app.keys import RUNS_BINDINGS
from maou_tui.app.widgets.config_diff import ConfigDiff
from maou_tui.app.widgets.overlay import OverlayChart, OverlayLine, run_colour
from maou_tui.app.widgets.overlay_legend import LegendEntry, OverlayLegend
from maou_tui.app.widgets.run_list import RunList
from maou_tui.store import RunStore

#: Narrower than this, the config table goes under the chart instead of beside it.
WIDE_WIDTH = 120


@dataclass
class RunRead(Message):
    """A run was read (``store``) or could not be (``error``)."""

    path: Path
    store: RunStore | None
    error: str | None


class RunsScreen(ModalScreen[Path | None]):
    """The run list, the overlay and its legend, the config differences."""

    BINDINGS: ClassVar[list[BindingType]] = RUNS_BINDINGS

    DEFAULT_CSS = """
    RunsScreen {
        background: $background;
    }
    RunsScreen #compare {
        height: 1fr;
    }
    RunsScreen #overlay-column {
        width: 2fr;
    }
    RunsScreen ConfigDiff {
        width: 1fr;
    }
    RunsScreen.-narrow #compare {
        layout: vertical;
    }
    RunsScreen.-narrow ConfigDiff {
        width: 100%;
        height: auto;
        max-height: 8;
    }
    RunsScreen.-narrow #overlay-column {
        width: 100%;
    }
    """

    def __init__(self, runs: list[Path], current: Path | None) -> None:
        super().__init__()
        # Resolved, so the run on show is found whichever way its path was given.
        self.runs = [run.resolve() for run in runs]
        self.current = current.resolve() if current is not None else None
        self.stores: dict[Path, RunStore] = {}
        self.errors: dict[Path, str] = {}
        self.selected: list[Path] = [self.current] if self.current in self.runs else self.runs[:1]
        self.series_name: str | None = None
        self.align: compare.Align = "step"

    def compose(self) -> ComposeResult:
        yield RunList(id="run-list")
        with Horizontal(id="compare"):
            with Vertical(id="overlay-column"):
                yield OverlayChart(id="overlay")
                yield OverlayLegend(id="legend")
            yield ConfigDiff(id="config-diff")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        run_list = self.query_one(RunList)
        run_list.show_rows([compare.run_row(p, None, time.time()) for p in self.runs])
        run_list.select(self.selected)
        if self.current in self.runs:
            run_list.move_cursor(row=self.runs.index(self.current))
        run_list.focus()
        self._read_runs(list(self.runs))

    def on_resize(self, event: Resize) -> None:
        self.set_class(event.size.width < WIDE_WIDTH, "-narrow")

    @work(thread=True, exclusive=True, group="runs-read", exit_on_error=False)
    def _read_runs(self, runs: list[Path]) -> None:
        from maou_tui.ingest import load_store

        for path in runs:
            try:
                store, error = load_store(path), None
            except (OSError, ValueError) as exc:  # IngestError is a ValueError
                store, error = None, str(exc).splitlines()[0]
            self.post_message(RunRead(path, store, error))

    @on(RunRead)
    def _run_read(self, message: RunRead) -> None:
        if message.store is not None:
            self.stores[message.path] = message.store
        else:
            self.errors[message.path] = message.error or "unreadable"
        row = compare.run_row(message.path, message.store, time.time(), message.error)
        self.query_one(RunList).show_rows([row])
        if message.path in self.selected:
            self._show_comparison()

    @on(RunList.SelectionChanged)
    def _selection_changed(self, message: RunList.SelectionChanged) -> None:
        self.selected = message.selected
        self._show_comparison()

    @on(RunList.ShowRun)
    def _show_run(self, message: RunList.ShowRun) -> None:
        self.dismiss(message.path)

    @on(OverlayChart.CursorMoved)
    def _cursor_moved(self) -> None:
        self._show_legend()

    # ---------------------------------------------------------------------------- showing

    def _selected_stores(self) -> list[tuple[Path, RunStore]]:
        return [(p, self.stores[p]) for p in self.selected if p in self.stores]

    def _show_comparison(self) -> None:
        names = compare.overlay_names(store for _, store in self._selected_stores())
        if self.series_name not in names:
            self.series_name = names[0] if names else None
        self._show_overlay()
        self._show_config()

    def _show_overlay(self) -> None:
        name = self.series_name or ""
        lines = [
            OverlayLine(path.name, *compare.aligned(store, name, self.align))
            for path, store in self._selected_stores()
            if name
        ]
        self.query_one(OverlayChart).show(lines, name, self.align)
        self._show_legend()

    def _show_legend(self) -> None:
        chart = self.query_one(OverlayChart)
        x = chart.reading_x
        where = "end" if chart.cursor_x is None else "cursor"
        x_text = f"{x:.0f}" if self.align == "step" else f"{x:.2f}"
        heading = f"{self.series_name or '-'} at {self.align} {x_text} ({where})"
        entries = []
        for index, line in enumerate(chart.lines):
            value = compare.value_at(line.xs, line.ys, x) if len(line.xs) else None
            if not len(line.xs):
                note = f"no {self.series_name} by {self.align}"
            elif x > line.xs[-1]:
                end = f"{line.xs[-1]:.0f}" if self.align == "step" else f"{line.xs[-1]:.2f}"
                note = f"its last, at {self.align} {end}"
            else:
                note = ""
            entries.append(LegendEntry(line.label, run_colour(index), value, note))
        for path in self.selected:
            if path not in self.stores:
                note = self.errors.get(path, "reading…")
                entries.append(LegendEntry(path.name, "foreground-muted", None, note))
        self.query_one(OverlayLegend).show(heading, entries)

    def _show_config(self) -> None:
        chosen = [(p, self.stores.get(p)) for p in self.selected]
        found = [compare.run_config(path, store) for path, store in chosen]
        configs = [config for config, _ in found]
        self.query_one(ConfigDiff).show(
            [path.name for path, _ in chosen],
            [source for _, source in found],
            compare.differences(configs),
        )

    # ---------------------------------------------------------------------------- keys

    def action_next_series(self, direction: int) -> None:
        names = compare.overlay_names(store for _, store in self._selected_stores())
        if not names:
            return
        index = names.index(self.series_name) if self.series_name in names else -direction
        self.series_name = names[(index + direction) % len(names)]
        self._show_overlay()

    def action_toggle_align(self) -> None:
        self.align = "epoch" if self.align == "step" else "step"
        self._show_overlay()

    def action_reload(self) -> None:
        from maou_tui.ingest import find_runs

        root = self.runs[0].parent if self.runs else None
        if root is not None and root.is_dir():
            new = [p for p in find_runs(root) if p not in self.runs]
            self.runs = [*new, *self.runs]
        self.stores.clear()
        self.errors.clear()
        self.query_one(RunList).show_rows(
            [compare.run_row(p, None, time.time()) for p in self.runs]
        )
        self._read_runs(list(self.runs))

    def action_close(self) -> None:
        self.dismiss(None)

    def action_focus_panel(self, direction: panel_nav.Direction) -> None:
        panel_nav.focus_panel(self, direction)

    def action_move(self, where: panel_nav.Where) -> None:
        panel_nav.move(self, where)

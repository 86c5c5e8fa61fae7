"""The overlay's legend: one line per run in its chart colour, with the series' value where the
overlay's cursor is (or at the runs' end)."""

from __future__ import annotations

from dataclasses import dataclass

from textual.markup import escape
from textual.widgets import Static


@dataclass(frozen=True)
class LegendEntry:
    label: str
    colour: str
    """A theme variable name (``primary``...), the run's line colour on the chart."""
    value: float | None
    note: str = ""


class OverlayLegend(Static):
    """Shows ``LegendEntry`` lines under a heading saying where they are read."""

    DEFAULT_CSS = """
    OverlayLegend {
        height: auto;
        max-height: 8;
        padding: 0 1;
    }
    """

    def show(self, heading: str, entries: list[LegendEntry]) -> None:
        lines = [f"[b]{escape(heading)}[/b]"]
        for entry in entries:
            value = "-" if entry.value is None else f"{entry.value:.5g}"
            note = f"  [$foreground-muted]{escape(entry.note)}[/]" if entry.note else ""
            lines.append(f"[${entry.colour}]━━[/] {escape(entry.label)}  {value}{note}")
        if not entries:
            lines.append("[$foreground-muted]select runs with space[/]")
        self.update("\n".join(lines))

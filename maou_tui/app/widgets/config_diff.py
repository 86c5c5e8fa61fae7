"""The selected runs' configurations side by side: only the keys whose values differ."""

from __future__ import annotations

from textual.widgets import DataTable


class ConfigDiff(DataTable[str]):
    """One row per differing key, one column per run; the title says where each came from."""

    DEFAULT_CSS = """
    ConfigDiff {
        height: 1fr;
        border: round $secondary 50%;
    }
    ConfigDiff:focus {
        border: round $secondary;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.border_title = "config: what differs"

    def show(self, names: list[str], sources: list[str], rows: list[tuple[str, list[str]]]) -> None:
        """``rows``: (key, one value per run) of the keys that differ."""
        self.clear(columns=True)
        if len(names) < 2:
            self.border_title = "config: select two runs or more"
            self.border_subtitle = ""
            return
        self.add_columns("key", *names)
        for key, values in rows:
            self.add_row(key, *values)
        self.border_title = f"config: {len(rows)} differ"
        self.border_subtitle = "from " + " · ".join(dict.fromkeys(sources))

"""``m``: choose the series the chart pages show. Typing filters the list (a substring, or a
glob such as ``val_*`` or ``*accuracy``, as W&B LEET's filter); Space or Enter ticks the
highlighted series, ``ctrl+a`` ticks or unticks every series the filter shows; ``ctrl+s``
applies, Escape cancels."""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, SelectionList

GLOB_CHARACTERS = frozenset("*?[")


def matches(pattern: str, name: str) -> bool:
    """Case-insensitive: a glob when the pattern has ``*?[``, else a substring."""
    pattern, name = pattern.strip().lower(), name.lower()
    if not pattern:
        return True
    if GLOB_CHARACTERS & set(pattern):
        return fnmatchcase(name, pattern)
    return pattern in name


class SeriesPicker(ModalScreen[list[str] | None]):
    """Every series of the run with a tick box; dismisses with the ticked names in the run's
    order (or None when cancelled)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "apply", "Apply", priority=True),
        Binding("ctrl+a", "toggle_shown", "All shown", priority=True),
        Binding("down", "to_list", "List", show=False),
    ]
    DEFAULT_CSS = """
    SeriesPicker {
        align: center middle;
    }
    SeriesPicker > Vertical {
        width: 64;
        height: auto;
        max-height: 90%;
        border: thick $primary 60%;
        background: $surface;
        padding: 0 1;
    }
    SeriesPicker Label {
        width: 100%;
    }
    SeriesPicker SelectionList {
        height: auto;
        max-height: 24;
    }
    """

    def __init__(self, names: list[str], chosen: list[str]) -> None:
        super().__init__()
        self.names = names
        self.chosen = set(chosen)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(
                "Series on the chart pages: type to filter (val_*, *accuracy) · Space ticks · "
                "ctrl+a all shown · ctrl+s apply · Esc cancel"
            )
            field = Input(placeholder="filter", id="series-filter")
            field.cursor_blink = False  # a blink re-renders the dimmed screen behind
            yield field
            yield SelectionList[str](*self._options(""), id="series-list")

    def _options(self, pattern: str) -> list[tuple[str, str, bool]]:
        return [(name, name, name in self.chosen) for name in self.names if matches(pattern, name)]

    @on(Input.Changed, "#series-filter")
    def _filter(self, event: Input.Changed) -> None:
        listing = self.query_one(SelectionList)
        listing.clear_options()
        listing.add_options(self._options(event.value))

    @on(Input.Submitted, "#series-filter")
    def _submitted(self) -> None:
        self.action_apply()

    @on(SelectionList.SelectionToggled)
    def _toggled(self, event: SelectionList.SelectionToggled) -> None:
        self.chosen ^= {event.selection.value}

    def action_toggle_shown(self) -> None:
        listing: SelectionList[str] = self.query_one(SelectionList)
        shown = {listing.get_option_at_index(i).value for i in range(listing.option_count)}
        if shown <= self.chosen:
            self.chosen -= shown
            listing.deselect_all()
        else:
            self.chosen |= shown
            listing.select_all()

    def action_to_list(self) -> None:
        self.query_one(SelectionList).focus()

    def action_apply(self) -> None:
        self.dismiss([name for name in self.names if name in self.chosen])

    def action_cancel(self) -> None:
        self.dismiss(None)

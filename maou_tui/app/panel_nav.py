"""Moving the focus with the vim keys and the arrows, on any screen.

``focus_panel`` finds the focusable widget nearest to the focused one in a direction from their
places on screen, so it needs no list of panels and keeps working when a screen's layout
changes. ``move`` sends up/down/top/bottom to the focused list (a cursor list moves its
cursor, a scrolling panel scrolls); past a list's end it moves to the panel below or above.
"""

from __future__ import annotations

from typing import Literal

from textual.geometry import Region
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import DataTable, OptionList

Direction = Literal["left", "right", "up", "down"]
Where = Literal["up", "down", "top", "bottom"]

#: The action a scrolling panel takes for each move.
SCROLL_ACTIONS = {"up": "scroll_up", "down": "scroll_down", "top": "scroll_home",
                  "bottom": "scroll_end"}  # fmt: skip


def nearest(current: Region, candidates: list[tuple[Widget, Region]], direction: Direction):
    """The candidate wholly past ``current``'s edge on the ``direction`` side, nearest first;
    among equals, the one overlapping ``current`` most across the direction. None when none."""

    def beyond(region: Region) -> bool:
        if direction == "left":
            return region.right <= current.x
        if direction == "right":
            return region.x >= current.right
        if direction == "up":
            return region.bottom <= current.y
        return region.y >= current.bottom

    def rank(region: Region) -> tuple[int, int, int]:
        if direction in ("left", "right"):
            gap = current.x - region.right if direction == "left" else region.x - current.right
            overlap = min(current.bottom, region.bottom) - max(current.y, region.y)
        else:
            gap = current.y - region.bottom if direction == "up" else region.y - current.bottom
            overlap = min(current.right, region.right) - max(current.x, region.x)
        if overlap > 0:
            return (0, gap, -overlap)
        return (1, gap - overlap, 0)

    found = sorted((rank(region), i) for i, (_, region) in enumerate(candidates) if beyond(region))
    return candidates[found[0][1]][0] if found else None


def focus_panel(screen: Screen, direction: Direction) -> Widget | None:
    """Focus the panel next to the focused one (the first panel when none has the focus)."""
    panels = [(w, w.region) for w in screen.focus_chain if w.region.area]
    focused = screen.focused
    if focused is None or not focused.region.area:
        target = panels[0][0] if panels else None
    else:
        target = nearest(focused.region, [p for p in panels if p[0] is not focused], direction)
    if target is not None:
        target.focus()
    return target


def move(screen: Screen, where: Where) -> None:
    """Up/down/top/bottom inside the focused list; past its end, the next panel that way."""
    widget = screen.focused
    if widget is None:
        focus_panel(screen, "down")
        return
    if isinstance(widget, (DataTable, OptionList)):
        moved = _move_cursor(widget, where)
    elif widget.allow_vertical_scroll and not _at_end(widget, where):
        getattr(widget, f"action_{SCROLL_ACTIONS[where]}")()
        moved = True
    else:
        moved = False
    if not moved and where in ("up", "down"):
        focus_panel(screen, where)


def _at_end(widget: Widget, where: Where) -> bool:
    if where == "down":
        return widget.is_vertical_scroll_end
    if where == "up":
        return widget.scroll_y <= 0
    return False


def _move_cursor(widget: DataTable | OptionList, where: Where) -> bool:
    """Move the list's cursor; False when it is already at that end."""
    if isinstance(widget, DataTable):
        last, index = widget.row_count - 1, widget.cursor_row
    else:
        last, index = widget.option_count - 1, widget.highlighted or 0
    if where == "top":
        target = 0
    elif where == "bottom":
        target = last
    else:
        target = max(0, min(last, index + (1 if where == "down" else -1)))
    if target == index and where in ("up", "down"):
        return False
    if isinstance(widget, DataTable):
        widget.move_cursor(row=target)
    else:
        widget.highlighted = target
    return True

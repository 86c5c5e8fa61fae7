"""What the user chose to see on the charts, and how the view keys change it (no terminal here).

The x window is ``None`` while the charts follow the tail: the whole run (or the current stage,
``z``) as it grows. Zooming, panning or placing the cursor fixes a window; ``Esc`` follows again.
Positions are global steps whatever the x axis shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from maou_tui.app.smoothing import DEFAULT_SMOOTHING
from maou_tui.store import RunStore

XUnit = Literal["step", "epoch"]
#: The narrowest window zooming goes to, in steps.
MIN_SPAN = 4.0
ZOOM_FACTOR = 2.0
#: A pan moves the window by this share of its width.
PAN_SHARE = 0.25


@dataclass
class ChartView:
    """Zoom, smoothing weight, LR log scale, x unit, the x window, the cursor, the page."""

    zoom_stage: bool = False
    smoothing: float = DEFAULT_SMOOTHING
    log_lr: bool = True
    x_unit: XUnit = "step"
    #: (first, last) step shown; None: follow the tail.
    window: tuple[float, float] | None = None
    #: The step the cursor reads; None: no cursor.
    cursor: int | None = None
    #: 0: loss / metric / LR; 1..: the chosen series, a few per page.
    page: int = 0

    @property
    def following(self) -> bool:
        return self.window is None and self.cursor is None

    def follow(self) -> None:
        self.window, self.cursor = None, None


def x_range(store: RunStore, view: ChartView) -> tuple[float, float]:
    """The steps to show: the window, else the whole run or the current stage."""
    if view.window is not None:
        return view.window
    last = max(store.last_step, 1)
    first = 0.0
    if view.zoom_stage and store.current_stage in store.stages:
        first = float(store.stages[store.current_stage].start_step)
    return first, float(max(last, first + 1))


def zoom(store: RunStore, view: ChartView, factor: float, anchor: float | None = None) -> None:
    """Narrow (factor < 1) or widen the window around ``anchor`` (default: the cursor, else the
    right edge), keeping the anchor where it is on screen. Widening to the whole range follows
    the tail again (when no cursor is set)."""
    lo, hi = x_range(store, view)
    full_lo, full_hi = x_range(store, ChartView(zoom_stage=view.zoom_stage))
    if anchor is None:
        anchor = float(view.cursor) if view.cursor is not None else hi
    span = max(MIN_SPAN, (hi - lo) * factor)
    if span >= full_hi - full_lo:
        view.window = None
        return
    share = (anchor - lo) / (hi - lo) if hi > lo else 1.0
    new_lo = anchor - share * span
    view.window = _inside(new_lo, span, full_lo, full_hi)


def pan(store: RunStore, view: ChartView, direction: int) -> None:
    """Move the window left (-1) or right (+1) by a quarter of its width."""
    lo, hi = x_range(store, view)
    full_lo, full_hi = x_range(store, ChartView(zoom_stage=view.zoom_stage))
    span = hi - lo
    view.window = _inside(lo + direction * PAN_SHARE * span, span, full_lo, full_hi)


def move_cursor(store: RunStore, view: ChartView, columns: int, plot_columns: int) -> None:
    """Move the cursor by ``columns`` chart columns; the first press places it at the right
    edge. The window follows the cursor when it leaves."""
    lo, hi = x_range(store, view)
    view.window = (lo, hi)  # the cursor stops following the tail
    if view.cursor is None:
        view.cursor = round(hi)
        return
    per_column = max(1, round((hi - lo) / max(plot_columns, 1)))
    full_lo, full_hi = x_range(store, ChartView(zoom_stage=view.zoom_stage))
    cursor = min(max(view.cursor + columns * per_column, round(full_lo)), round(full_hi))
    view.cursor = cursor
    span = hi - lo
    if cursor < lo:
        view.window = _inside(cursor - PAN_SHARE * span, span, full_lo, full_hi)
    elif cursor > hi:
        view.window = _inside(cursor - (1 - PAN_SHARE) * span, span, full_lo, full_hi)


def _inside(lo: float, span: float, full_lo: float, full_hi: float) -> tuple[float, float]:
    """A window of ``span`` starting near ``lo``, kept inside ``full_lo..full_hi``."""
    lo = min(max(lo, full_lo), max(full_lo, full_hi - span))
    return lo, min(full_hi, lo + span)

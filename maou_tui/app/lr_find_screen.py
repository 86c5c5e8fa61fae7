"""``LrFindApp``: the live loss-vs-LR plot of ``maou-tui lr-find`` and its suggestions.

A tail thread (``maou_tui.ingest.Tailer``) reads the run's events and posts them; the app folds
them into a ``SweepProgress`` and redraws the chart at most every 0.25 s. x is log10(LR) with
ticks written as LRs (plotext 5 has no log axis that textual-plotext draws well); the named
suggestions are vertical lines once the sweep has finished.

Keys:

| key | action |
|-----|--------|
| s | stop the sweep (control ``stop``; the suggestions come from what was swept) |
| q | quit the screen (the sweep goes on in the background) |
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import Footer, Header, Static
from textual_plotext import PlotextPlot

from maou_tui.app.themes import DEFAULT_THEME, load_themes
from maou_tui.ingest import Tailer
from maou_tui.lrtools import format_lr
from maou_tui.lrtools.sweep_report import SweepProgress, format_sweep_result

if TYPE_CHECKING:
    from maou_tui.store import StoreItem

REDRAW_INTERVAL_S = 0.25
#: Suggestion lines, in the order they are drawn (the recommended one is labelled with *).
SUGGESTION_COLOURS = {"valley": "green", "steepest": "orange", "minimum": "cyan"}


class SweepEvents(Message):
    """A batch of events read by the tail thread."""

    def __init__(self, events: Sequence[StoreItem]) -> None:
        super().__init__()
        self.events = events


def _x_limits(progress: SweepProgress, xs: list[float]) -> tuple[float, float]:
    """The swept LR range (log10) when the run's config says it, else the data's, never empty."""
    start = progress.config.get("lr_find_start_lr")
    end = progress.config.get("lr_find_end_lr")
    if start and end and 0 < start < end:
        return math.log10(start), math.log10(end)
    return math.floor(min(xs)), max(math.ceil(max(xs)), math.floor(min(xs)) + 1)


def _y_limits(ys: list[float]) -> tuple[float, float]:
    """Loss range; the blow-up at the end is capped at 1.5× the first loss so the descent shows.

    Never empty: plotext divides by the range (one point or a flat curve would crash it).
    """
    bottom, top = min(ys), min(max(ys), 1.5 * ys[0])
    if top - bottom < 1e-9:
        pad = max(abs(bottom) * 0.05, 1e-6)
        bottom, top = bottom - pad, bottom + pad
    return bottom, top


class LrCurve(PlotextPlot):
    """Smoothed loss against log10(LR), with the suggestions as vertical lines."""

    def replot(self, progress: SweepProgress) -> None:
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title("LR range test: smoothed loss vs learning rate")
        plt.xlabel("learning rate (log scale)")
        xs, ys = progress.curve()
        if not xs:
            self.refresh()
            return
        plt.plot(xs, ys, marker="braille")
        left, right = _x_limits(progress, xs)
        ticks = list(range(math.ceil(left), math.floor(right) + 1))
        plt.xlim(left, right)
        plt.xticks([float(t) for t in ticks], [f"1e{t}" for t in ticks])
        bottom, top = _y_limits(ys)
        plt.ylim(bottom, top)
        if progress.finished is not None:
            self._suggestion_lines(progress, bottom, top)
        self.refresh()

    def _suggestion_lines(self, progress: SweepProgress, bottom: float, top: float) -> None:
        """One vertical line per suggestion, labels stacked so they never overlap."""
        finished = progress.finished
        assert finished is not None
        named = [(n, lr) for n, lr in finished.suggestions.items() if lr is not None and lr > 0]
        for row, (name, lr) in enumerate(named):
            colour = SUGGESTION_COLOURS.get(name, "white")
            star = " *" if name == finished.recommended else ""
            self.plt.vline(math.log10(lr), colour)
            y = top - (row + 0.5) * (top - bottom) / 8
            self.plt.text(
                f" {name}{star} {format_lr(lr)}", math.log10(lr), y, color=colour, alignment="left"
            )


class LrFindApp(App):
    """Follows one lr-find run directory until the user quits."""

    TITLE = "maou-tui lr-find"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "stop_sweep", "Stop sweep", id="lr_find.stop"),
        Binding("q", "quit", "Quit", id="lr_find.quit"),
    ]
    DEFAULT_CSS = """
    LrCurve { height: 1fr; }
    #status { height: auto; padding: 0 1; background: $panel; }  /* wraps at 80 columns */
    #result { height: auto; max-height: 12; padding: 0 1; }
    """

    def __init__(self, run_dir: Path, theme: str | None = None) -> None:
        super().__init__()
        self.run_dir = Path(run_dir)
        self.requested_theme = theme or DEFAULT_THEME
        self.progress = SweepProgress()
        self._dirty = True
        self._tailer: Tailer | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield LrCurve()
        yield Static("waiting for the trainer…", id="status")
        yield Static("", id="result")
        yield Footer()

    def on_mount(self) -> None:
        for theme in load_themes().themes.values():
            self.register_theme(theme)
        if self.requested_theme in self.available_themes:
            self.theme = self.requested_theme
        self.sub_title = str(self.run_dir)
        self._tailer = Tailer(self.run_dir, lambda events: self.post_message(SweepEvents(events)))
        self._tailer.start()
        self.set_interval(REDRAW_INTERVAL_S, self._redraw)

    def on_unmount(self) -> None:
        if self._tailer is not None:
            self._tailer.stop()

    def on_sweep_events(self, message: SweepEvents) -> None:
        if self.progress.add(message.events):
            self._dirty = True

    def _redraw(self) -> None:
        if not self._dirty:
            return
        self._dirty = False
        self.query_one(LrCurve).replot(self.progress)
        status = self.progress.status_line()
        ended = self.progress.run_finished
        if ended is not None and self.progress.finished is None:
            status += f" ({ended.reason})"
        self.query_one("#status", Static).update(status)
        if self.progress.finished is not None:
            self.query_one("#result", Static).update(format_sweep_result(self.progress))

    @work(exclusive=True, group="lr-find-control", exit_on_error=False)
    async def action_stop_sweep(self) -> None:
        from maou_tui.control import ControlClient, ControlError

        client = ControlClient(self.run_dir)
        try:
            reply = await client.request("stop")
            message = "stopping the sweep" if reply.ok else f"stop refused: {reply.error}"
        except ControlError as exc:
            message = str(exc)
        finally:
            await client.close()
        self.notify(message)

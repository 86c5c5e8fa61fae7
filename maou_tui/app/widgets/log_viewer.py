"""The log viewer: the whole log, however big, drawn a screen at a time from a ``LineIndex``.

Only the lines on screen are read and decoded (Textual's Line API: ``render_line``). It follows
the end by default; scrolling up stops that, ``F``/``G``/End or scrolling back down to the last
line resume it. ``/`` asks its screen for a search text (a message up); the search runs through
the file's bytes on a worker thread, ``n`` and ``N`` go to the next and previous match, and
matches on screen are highlighted. The prefix columns are folded (``P`` shows them) and colours
kept (``A`` strips them): see ``log_display``.
The app hands it the run's index (``show``) and says when the index grew (``refresh_index``).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, ClassVar

from rich.style import Style
from textual.binding import BindingType
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.worker import get_current_worker

from maou_tui.app.keys import LOG_BINDINGS
from maou_tui.app.log_display import LogLine, display_line

if TYPE_CHECKING:  # the ingest package loads after the first frame (see app/data.py)
    from maou_tui.ingest.line_index import LineIndex

#: Rendered lines kept (a few screens' worth: scrolling back and forth reads nothing twice).
CACHE_LINES = 2000
_LEVEL_CLASSES = {
    "WARNING": "log-viewer--warning",
    "WARN": "log-viewer--warning",
    "ERROR": "log-viewer--error",
    "CRITICAL": "log-viewer--error",
    "FATAL": "log-viewer--error",
}


class SearchPatterns:
    """One query as the two patterns it is used as: bytes for the file, text for the screen.
    Smart case: a query without capitals matches any case. The query is literal text."""

    def __init__(self, query: str) -> None:
        self.query = query
        flags = 0 if any(ch.isupper() for ch in query) else re.IGNORECASE
        self.text = re.compile(re.escape(query), flags)
        self.bytes = re.compile(re.escape(query.encode("utf-8")), flags)


class LogViewer(ScrollView, can_focus=True):
    """Scrolls through one log file; see the module docstring."""

    BINDINGS: ClassVar[list[BindingType]] = LOG_BINDINGS
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "log-viewer--match",
        "log-viewer--found",
        "log-viewer--warning",
        "log-viewer--error",
    }
    DEFAULT_CSS = """
    LogViewer {
        background: $surface;
        border: round $foreground 30%;
        border-subtitle-color: $text-muted;
        scrollbar-size-horizontal: 0;
    }
    LogViewer:focus {
        border: round $accent;
    }
    LogViewer > .log-viewer--match {
        background: $warning 70%;
        color: $background;
    }
    LogViewer > .log-viewer--found {
        background: $accent 25%;
    }
    LogViewer > .log-viewer--warning {
        color: $warning;
    }
    LogViewer > .log-viewer--error {
        color: $error;
    }
    """

    follow: reactive[bool] = reactive(True, init=False)
    show_prefix: reactive[bool] = reactive(False, init=False)
    colours: reactive[bool] = reactive(True, init=False)

    class SearchRequested(Message):
        """The user pressed ``/``: the screen asks for the text and calls ``search``."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.index: LineIndex | None = None
        self.title = ""
        self.patterns: SearchPatterns | None = None
        #: The line the last search landed on (drawn marked); None before a search.
        self.found_line: int | None = None
        self._cache: dict[int, Strip] = {}
        self._prepended_seen = 0
        self._widest = 0

    # ------------------------------------------------------------------ data in

    def show(self, index: LineIndex | None, title: str) -> None:
        """Show another log (a new run, a rotated file): from its end, following."""
        self.index, self.title = index, title
        self._prepended_seen = index.lines_prepended if index is not None else 0
        self.found_line, self._widest = None, 0
        self._cache.clear()
        self.follow = True
        self.virtual_size = Size(0, 0)
        self.refresh_index()

    def refresh_index(self) -> None:
        """The index grew (or moved on): size the view again and, following, go to the end."""
        index = self.index
        count, prepended_total = index.snapshot() if index is not None else (0, 0)
        prepended = prepended_total - self._prepended_seen
        if prepended:
            # Lines found above the ones known: keep the same text on screen.
            self._prepended_seen += prepended
            self._cache.clear()
            if self.found_line is not None:
                self.found_line += prepended
        # The last line may have been drawn half written (a tqdm bar without its \n yet).
        self._cache.pop(self.virtual_size.height - 1, None)
        self._cache.pop(count - 1, None)
        width = max(self._widest, self.scrollable_content_region.width)
        if Size(width, count) != self.virtual_size:
            self._resize_content(Size(width, count))
            if prepended and not self.follow:
                self.scroll_to(y=self.scroll_y + prepended, animate=False, immediate=True)
        if self.follow:
            self.scroll_to(y=self.max_scroll_y, animate=False, immediate=True)
        self._show_state()
        self.refresh()

    def _resize_content(self, size: Size) -> None:
        """Take the log's new size. ``virtual_size`` is a layout reactive: setting it lays the
        whole screen out again (and redraws the footer), the main cost of the app while it
        tails a busy log (issue 20). The pane's own height is fixed by CSS, so only a change
        that shows or hides a scroll bar needs a layout; a log growing past the pane only
        moves the vertical bar, and a wider line changes nothing where no horizontal bar is
        drawn (the main screen's pane)."""
        old = self.virtual_size
        viewport = self.scrollable_content_region.height
        styles = self.styles
        no_horizontal_bar = styles.overflow_x == "hidden" or styles.scrollbar_size_horizontal == 0
        bars_unchanged = (
            (no_horizontal_bar or size.width == old.width)
            and old.height > viewport
            and size.height > viewport > 0
        )
        if not bars_unchanged:
            self.virtual_size = size
            return
        self.set_reactive(LogViewer.virtual_size, size)
        if self.show_vertical_scrollbar:
            self.vertical_scrollbar.window_virtual_size = size.height

    @property
    def line_count(self) -> int:
        """Lines this view knows (the index may hold more until ``refresh_index``)."""
        return self.virtual_size.height

    def _unseen_above(self) -> int:
        """Lines the index found above the first one since this view last sized itself: view
        line k is index line k + this (the worker thread may prepend at any moment)."""
        return self.index.lines_prepended - self._prepended_seen if self.index is not None else 0

    def texts(self, start: int = 0, stop: int | None = None) -> list[str]:
        """Lines ``start`` to ``stop`` as shown (prefix folded or not, the last ``\r`` render)."""
        stop = self.line_count if stop is None else min(stop, self.line_count)
        return [self._line(line).text.plain for line in range(start, stop)]

    # ------------------------------------------------------------------ drawing

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        line = scroll_y + y
        width = self.scrollable_content_region.width
        if self.index is None or line >= self.line_count:
            return Strip.blank(width, self.rich_style)
        strip = self._cache.get(line)
        if strip is None:
            strip = self._draw_line(line)
            if len(self._cache) >= CACHE_LINES:
                self._cache.clear()
            self._cache[line] = strip
        return strip.crop_extend(scroll_x, scroll_x + width, self.rich_style)

    def _draw_line(self, line: int) -> Strip:
        shown = self._line(line)
        text = shown.text
        level_class = _LEVEL_CLASSES.get(shown.level)
        if level_class is not None:
            text.stylize(self._style(level_class))
        if self.patterns is not None:
            text.highlight_regex(self.patterns.text, self._style("log-viewer--match"))
        if line == self.found_line:
            text.stylize(self._style("log-viewer--found"))
        strip = Strip(list(text.render(self.app.console)), text.cell_len)
        if strip.cell_length > self._widest:
            self._widest = strip.cell_length
            self.call_later(self.refresh_index)  # wider: the right arrow can reach it
        return strip.apply_style(self.rich_style)

    def _line(self, line: int) -> LogLine:
        assert self.index is not None
        return display_line(
            self.index.line_bytes(line + self._unseen_above()),
            show_prefix=self.show_prefix,
            colours=self.colours,
        )

    def _style(self, component: str) -> Style:
        return self.get_component_rich_style(component, partial=True)

    def _show_state(self) -> None:
        index = self.index
        self.border_title = self.title or "log"
        parts = ["following" if self.follow else "paused · F follows"]
        if index is not None and not index.complete:
            parts.append(f"indexing {index.indexed_fraction:.0%}")
        if self.patterns is not None:
            parts.append(f"/{self.patterns.query}")
        if not self.show_prefix:
            parts.append("prefix folded")
        self.border_subtitle = " · ".join(parts)

    def _redraw_all(self) -> None:
        self._cache.clear()
        self._show_state()
        self.refresh()

    # ------------------------------------------------------------------ following

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        # Up by the user (not a clamp after a resize, which lands on the bottom): stop following;
        # down to the last line again (the wheel in the pane, which has no keys): follow again.
        if new_value < old_value and new_value < self.max_scroll_y:
            self.follow = False
        elif new_value > old_value and new_value >= self.max_scroll_y:
            self.follow = True

    def watch_follow(self) -> None:
        self._show_state()

    def watch_show_prefix(self) -> None:
        self._widest = 0
        self._redraw_all()

    def watch_colours(self) -> None:
        self._redraw_all()

    def action_follow(self) -> None:
        self.follow = True
        self.scroll_to(y=self.max_scroll_y, animate=False, immediate=True)

    def action_toggle_prefix(self) -> None:
        self.show_prefix = not self.show_prefix

    def action_toggle_colours(self) -> None:
        self.colours = not self.colours

    # ------------------------------------------------------------------ search

    def action_search(self) -> None:
        self.post_message(self.SearchRequested())

    def search(self, query: str) -> None:
        """Find ``query`` from the top line on screen down; an empty query clears the search."""
        self.patterns = SearchPatterns(query) if query else None
        self.found_line = None
        self._redraw_all()
        if self.patterns is not None:
            self._find(int(self.scroll_y) - 1, backwards=False)

    def action_next_match(self) -> None:
        if self.patterns is not None:
            start = self.found_line if self.found_line is not None else int(self.scroll_y) - 1
            self._find(start, backwards=False)

    def action_previous_match(self) -> None:
        if self.patterns is not None:
            bottom = int(self.scroll_y) + self.scrollable_content_region.height
            self._find(self.found_line if self.found_line is not None else bottom, backwards=True)

    def _find(self, line: int, *, backwards: bool) -> None:
        index, patterns = self.index, self.patterns
        if index is None or patterns is None:
            return

        start = line + self._unseen_above() if 0 <= line < self.line_count else line

        def find() -> None:  # on a worker thread: a 1 GB log takes a while
            found = index.find(patterns.bytes, start, backwards=backwards)
            wrapped = found is None
            if wrapped:  # on from the other end, as less and vim do
                found = index.find(
                    patterns.bytes, index.line_count if backwards else -1, backwards=backwards
                )
            if not get_current_worker().is_cancelled:
                self.app.call_from_thread(self._found, index, patterns, found, wrapped)

        # A log closed under the search (a run switch) ends it; the error is not the user's.
        self.run_worker(find, thread=True, group="log-search", exclusive=True, exit_on_error=False)

    def _found(
        self, index: LineIndex, patterns: SearchPatterns, line: int | None, wrapped: bool
    ) -> None:
        if index is not self.index or patterns is not self.patterns:
            return  # another log or another search since
        if line is None or line - self._unseen_above() < 0:
            self.notify(f"{patterns.query!r} is not in the log", severity="warning", timeout=3)
            return
        if wrapped:
            self.notify("search went on from the other end", timeout=2)
        self.found_line = line - self._unseen_above()
        self.follow = False
        height = self.scrollable_content_region.height
        self.scroll_to(y=max(0, line - height // 2), animate=False, immediate=True)
        self._redraw_all()

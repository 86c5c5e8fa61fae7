"""Messages the data threads post to the app (``post_message`` is thread-safe).

High-rate notifications set ``can_replace`` so a flood collapses into one: the data itself waits
in a thread-safe buffer that the handler drains, so coalescing never loses an event.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from maou_tui.app.session import RunSession
    from maou_tui.ingest.log_watch import LogGrowth


class EventsPending(Message):
    """New events are waiting in the feed's buffer."""

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, EventsPending)


class LogGrown(Message):
    """The run's log grew (or is a new file): ``session`` says whose, a switch may be under way.
    Not coalesced: a restart (a new file) must never be replaced by a later plain growth."""

    def __init__(self, growth: LogGrowth, session: RunSession) -> None:
        super().__init__()
        self.growth = growth
        self.session = session


class LogIndexed(Message):
    """The log's index holds more lines: the viewers on screen size themselves again."""

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, LogIndexed)

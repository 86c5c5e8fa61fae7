"""Messages the data threads post to the app (``post_message`` is thread-safe).

High-rate notifications set ``can_replace`` so a flood collapses into one: the data itself waits
in a thread-safe buffer that the handler drains, so coalescing never loses an event.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from maou_tui.app.history import HistoryReader
    from maou_tui.app.session import RunSession
    from maou_tui.diagnose import Diagnoser
    from maou_tui.ingest import Source
    from maou_tui.ingest.log_watch import LogGrowth
    from maou_tui.store import RunStore


class EventsPending(Message):
    """New events are waiting in the feed's buffer."""

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, EventsPending)


class LogGrown(Message):
    """The run's log grew (or is a new file): ``session`` says whose, a switch may be under way.
    A plain growth is replaced by the same session's next one (a busy log grows ~100 times a
    second); a restart (a new file) is never replaced."""

    def __init__(self, growth: LogGrowth, session: RunSession) -> None:
        super().__init__()
        self.growth = growth
        self.session = session

    def can_replace(self, message: Message) -> bool:
        return (
            isinstance(message, LogGrown)
            and message.session is self.session
            and not self.growth.restarted
        )


class LogIndexed(Message):
    """The log's index holds more lines: the viewers on screen size themselves again."""

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, LogIndexed)


class HistoryPreview(Message):
    """The tail of a big history is read: show ``store`` until the whole history is."""

    def __init__(self, reader: HistoryReader, store: RunStore, note: str) -> None:
        super().__init__()
        self.reader, self.store, self.note = reader, store, note


class HistoryProgressed(Message):
    """More of a big history is read (the status panel's progress line)."""

    def __init__(self, reader: HistoryReader, line: str) -> None:
        super().__init__()
        self.reader, self.line = reader, line

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, HistoryProgressed)


class HistoryRead(Message):
    """The whole history is in ``store`` (diagnosed by ``diagnoser``); ``source`` goes on from
    where it stopped."""

    def __init__(
        self, reader: HistoryReader, store: RunStore, diagnoser: Diagnoser, source: Source
    ) -> None:
        super().__init__()
        self.reader, self.store, self.diagnoser, self.source = reader, store, diagnoser, source

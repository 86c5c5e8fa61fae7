"""Messages the data threads post to the app (``post_message`` is thread-safe).

High-rate notifications set ``can_replace`` so a flood collapses into one: the data itself waits
in a thread-safe buffer that the handler drains, so coalescing never loses an event.
"""

from __future__ import annotations

from textual.message import Message


class EventsPending(Message):
    """New events are waiting in the feed's buffer."""

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, EventsPending)


class LogLinesPending(Message):
    """New lines of the run's log are waiting in the log tailer's buffer."""

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, LogLinesPending)

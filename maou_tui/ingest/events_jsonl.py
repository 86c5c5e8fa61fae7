"""events.jsonl lines to protocol events (the contract in ``maou_tui.protocol``)."""

from __future__ import annotations

import functools
from typing import Any

from pydantic import TypeAdapter, ValidationError

from maou_tui.protocol import KnownEvent, ProtocolError, UnknownEvent, decode_event
from maou_tui.store import StoreItem


@functools.cache
def _fast() -> TypeAdapter[Any]:
    """Rust-side JSON parsing and validation in one call; decode_event (json.loads, then
    validation) is the fallback for the lines it rejects, to tell an unknown event type from a
    broken line. Built on first use: building it is ~20 ms that reading a log never needs."""
    return TypeAdapter(KnownEvent)


class EventsParser:
    """Decodes complete lines; a corrupt or invalid line is counted and skipped, never fatal."""

    def __init__(self) -> None:
        self.skipped_lines = 0

    def feed(self, block: bytes, *, columns: bool = False) -> list[StoreItem]:
        """Complete lines in, events out (``columns`` is for the log parser's interface:
        events.jsonl steps are objects already)."""
        events: list[StoreItem] = []
        fast = _fast()
        for line in block.replace(b"\r", b"\n").split(b"\n"):
            if not line.strip():
                continue
            try:
                events.append(fast.validate_json(line))
                continue
            except (ValidationError, RecursionError):
                pass
            try:
                event = decode_event(line)
            except (ProtocolError, RecursionError):  # RecursionError: JSON nested too deep
                self.skipped_lines += 1
                continue
            if not isinstance(event, UnknownEvent):
                events.append(event)
        return events

    def finish(self, *, columns: bool = False) -> list[StoreItem]:
        return []

"""events.jsonl text to protocol events (the contract in ``maou_tui.protocol``)."""

from __future__ import annotations

from pydantic import BaseModel

from maou_tui.protocol import ProtocolError, UnknownEvent, decode_event


class EventsParser:
    """Decodes complete lines; a corrupt or invalid line is counted and skipped, never fatal."""

    def __init__(self) -> None:
        self.skipped_lines = 0
        self.last_error = ""

    def feed(self, text: str) -> list[BaseModel]:
        events: list[BaseModel] = []
        for line in text.replace("\r", "\n").split("\n"):
            if not line.strip():
                continue
            try:
                event = decode_event(line)
            except ProtocolError as exc:
                self.skipped_lines += 1
                self.last_error = str(exc)
                continue
            if not isinstance(event, UnknownEvent):
                events.append(event)
        return events

    def finish(self) -> list[BaseModel]:
        return []

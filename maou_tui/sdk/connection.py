"""Per-connection state of the control server: buffers, rate limit, lifecycle flags."""

from __future__ import annotations

import json
import selectors
import socket
import time
from dataclasses import dataclass, field

from maou_tui.strict_json import StrictJsonError, check_depth, decode_utf8


class TokenBucket:
    """``rate`` requests per second on average, bursts of up to ``burst``."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = float(burst)
        self.tokens = float(burst)
        self.stamp = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens < 1.0:
            return False
        self.tokens -= 1.0
        return True


@dataclass
class Connection:
    """One client's socket and what the server thread keeps for it."""

    id: int
    sock: socket.socket
    bucket: TokenBucket
    inbox: bytearray = field(default_factory=bytearray)
    outbox: bytearray = field(default_factory=bytearray)
    partial_since: float | None = None
    discarding: bool = False
    interest: int = selectors.EVENT_READ
    hung_up: bool = False  # the client shut its sending side (e.g. socat after stdin's end)
    awaiting: int = 0  # its commands queued for the loop, not answered yet


def guess_id(line: bytes) -> str | None:
    """The request's ``id``, to label a rejection, if the line is a JSON object with a string one.

    Lenient (NaN allowed, the last of equal keys wins) but safe: valid UTF-8, bounded depth.
    """
    try:
        text = decode_utf8(line)
        check_depth(text)
        data = json.loads(text)
    except (StrictJsonError, ValueError):
        return None
    value = data.get("id") if isinstance(data, dict) else None
    return value if isinstance(value, str) and len(value) <= 64 else None

"""Step marks: where in the program's output each optimizer step ended, exactly.

After step N, before the program's next output, the hook (rank 0, output on the supervisor's
terminal; ``mark_writer``) writes an OSC escape sequence ``ESC ] 7770 ; N BEL`` to its stdout:
terminals ignore it, and the log readers drop escape sequences as they drop colours. It travels
in order with what the program prints, so the supervisor, which sees both in one stream, takes
it out of ``train.log`` and records where it was (``train.log.times``: ``OFFSET step N``); what
follows mark N, up to the next mark, was printed after step N ended and belongs to N.
Plain standard library: the hook and the supervisor both use it.
"""

from __future__ import annotations

import re

MARK = b"\x1b]7770;%d\x07"
MARK_PATTERN = re.compile(rb"\x1b]7770;(\d+)\x07")
#: The start of a mark cut off at the end of a write (held back until the rest arrives).
_MARK_PREFIX = re.compile(rb"\x1b(?:\](?:7(?:7(?:7(?:0(?:;\d*)?)?)?)?)?)?")


class MarkStripper:
    """Takes the marks out of the program's output as it streams in pieces; says where each
    one was in the output without them: (offset just after the output of step N, N)."""

    def __init__(self, start_offset: int) -> None:
        self._held = b""
        self.offset = start_offset  # bytes of output (without marks) so far

    def feed(self, data: bytes) -> tuple[bytes, list[tuple[int, int]]]:
        window, self._held = self._held + data, b""
        cut = window.rfind(b"\x1b", max(0, len(window) - 16))
        if cut >= 0 and _MARK_PREFIX.fullmatch(window, cut):
            window, self._held = window[:cut], window[cut:]
        pieces, marks, position = [], [], 0
        for match in MARK_PATTERN.finditer(window):
            pieces.append(window[position : match.start()])
            self.offset += match.start() - position
            marks.append((self.offset, int(match.group(1))))
            position = match.end()
        pieces.append(window[position:])
        self.offset += len(window) - position
        return b"".join(pieces), marks

    def flush(self) -> bytes:
        """What is held back (the output ended inside something that looked like a mark)."""
        held, self._held = self._held, b""
        self.offset += len(held)
        return held

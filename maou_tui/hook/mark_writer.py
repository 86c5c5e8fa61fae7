"""Step marks written into the program's output only where output follows a step.

A mark (``step_marks.MARK``) says "what follows was printed after step N ended". Writing one at
every optimizer step costs a terminal write, ~50 µs of the program's CPU a step (the kernel's
pty path and waking the supervisor). Only output needs placing, so the mark of the latest step
is written just before the first output after it: ``sys.stdout``'s and ``sys.stderr``'s
``write`` are wrapped (``print``, ``logging``, tqdm, rich and ``warnings`` all call it), and a
step costs one attribute store. The result in ``train.log.times`` is the same as with a mark
at every step, less the marks no output followed.

Output that bypasses those two objects (a C library writing to fd 1 or 2, ``os.write``, a child
process that is not a torchrun rank) cannot be seen before it is written; a mark at a step end
at most every ``FALLBACK_S`` covers it: such output lands at most that much time's steps early.

Standard library only, and never raises into the program's ``print``: a failure switches the
marks off (the reading side then places output by time).
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

from maou_tui.hook.step_marks import MARK

#: The longest time without a mark while steps go on (output written past Python's streams).
FALLBACK_S = 0.05


class MarkWriter:
    """Writes step marks to ``fd`` (the program's terminal) ahead of the output that follows a
    step. At the end of each step the hook sets ``step`` and, when ``written_at`` is
    ``FALLBACK_S`` old, calls ``mark`` (inline: it runs at every step)."""

    def __init__(self, fd: int = 1) -> None:
        self.step = 0  # the last completed step
        self.marked = 0  # the step of the last mark (output before step 1 is at step 0)
        self.written_at = 0.0
        self.on = True
        self._fd = fd
        self._wrapped: list[tuple[Any, Callable[[str], int]]] = []
        os.register_at_fork(after_in_child=self.switch_off)  # a forked worker marks nothing

    def install(self, streams: Sequence[Any] | None = None) -> None:
        """Wrap ``write`` of ``streams`` (default ``sys.stdout`` and ``sys.stderr``), each
        object once."""
        candidates: Sequence[Any] = (sys.stdout, sys.stderr) if streams is None else streams
        self.on = True
        for stream in candidates:
            if stream is None or any(stream is done for done, _ in self._wrapped):
                continue
            original = stream.write
            try:
                stream.write = self._wrap(original)
            except (AttributeError, TypeError):  # a stream object that takes no attributes
                continue
            self._wrapped.append((stream, original))

    def uninstall(self) -> None:
        """Marks off and the streams' own ``write`` back (a wrapper kept elsewhere, as tqdm
        keeps one, passes through)."""
        self.on = False
        for stream, _ in self._wrapped:
            with contextlib.suppress(AttributeError):
                del stream.write
        self._wrapped = []

    def switch_off(self) -> None:
        self.on = False

    def mark(self) -> None:
        """Write the mark of ``step``, after what the wrapped streams still buffer."""
        if not self.on:
            return
        step = self.step
        self.marked = step
        self.written_at = time.time()
        try:
            for stream, _ in self._wrapped:
                stream.flush()
            os.write(self._fd, MARK % step)
        except Exception:  # never into the program's print: output is then placed by time
            self.on = False

    def _wrap(self, original: Callable[[str], int]) -> Callable[[str], int]:
        def write(text: str) -> int:
            if self.step != self.marked:
                self.mark()
            return original(text)

        return write

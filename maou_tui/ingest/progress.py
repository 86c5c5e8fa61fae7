"""tqdm progress bars in a log: ``Training:  45%|████▌     | 450/1000 [00:12<00:15, 36.5it/s,
acc=95.1%, loss=0.1234]``, rewritten in place with ``\\r``.

The ``n`` of ``n/total`` is the batch, ``total`` the epoch's length. maou refreshes the postfix on
batch 1 and every 50 batches while tqdm redraws about ten times a second, so most segments repeat
the previous postfix: a point is emitted only where the postfix changes, at the first segment
that shows it. ``Validation`` bars are not training steps. A Training bar whose ``n`` goes back
starts the next epoch.

Speed: a 1 GB maou log is mostly such segments. After a segment with postfix P, the whole run of
following segments that repeat P is skipped with C-speed ``str.count``/``str.find`` (checked:
every segment in the skipped range carries P), so Python touches about one segment per change.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from maou_tui.ingest.maou_log import MaouLogParser

_BAR = re.compile(r"(Training|Validation)[^|\r\n]*\|[^|\r\n]*\|\s*(\d+)/(\d+)\s*\[([^\]\r\n]*)\]")
_POSTFIX_ITEM = re.compile(r"(\w+)=([-+]?[\d.]+(?:[eE][-+]?\d+)?|nan|inf|-inf)(%?)")
_LABEL_KEYS = {"acc": "accuracy", "accuracy": "accuracy", "f1": "f1"}


class BarTracker:
    """Turns bar segments into steps through the parser (which owns stages and the clock)."""

    def __init__(self) -> None:
        self.last_n: int | None = None
        self.last_postfix = ""
        self.segments_skipped = 0

    def reset(self) -> None:
        """A new epoch was opened by a log line (Stage 3's ``EPOCH n:``)."""
        self.last_n = None
        self.last_postfix = ""

    def scan(self, line: str, parser: MaouLogParser) -> None:
        """A line holding ``\\r`` segments: bars, and possibly log messages glued to them."""
        pos, length = 0, len(line)
        while pos <= length:
            end = line.find("\r", pos)
            if end < 0:
                end = length
            segment = line[pos:end]
            pos = end + 1
            if not segment:
                continue
            if not self.try_bar(segment, parser):
                parser.line(segment)
            elif self.last_postfix:
                pos = self._skip_repeats(line, pos)

    def _skip_repeats(self, line: str, pos: int) -> int:
        """Start of the first segment from ``pos`` on that does not repeat the last postfix.

        Galloping search over whole ``\r``-terminated segments: a range is skipped when the
        number of segments in it equals the number of ``, <postfix>]\r`` in it, i.e. every one
        is a bar showing the same postfix with nothing glued after it."""
        token = ", " + self.last_postfix + "]\r"
        good, step = pos, 2048
        while step >= 64:
            stop = line.find("\r", good + step)
            if stop < 0:
                stop = line.rfind("\r", good)
                if stop < good:
                    break
            end = stop + 1
            segments = line.count("\r", good, end)
            if line.count(token, good, end) == segments:
                self.segments_skipped += segments
                good, step = end, step * 2
            else:
                step //= 2
        return good

    def try_bar(self, segment: str, parser: MaouLogParser) -> bool:
        """Handle ``segment`` if it is a bar; False if it is something else."""
        m = _BAR.search(segment)
        if m is None:
            return False
        desc, n_text, total_text, info = m.groups()
        rest = segment[m.end() :].strip()
        if desc == "Training":
            self._training(int(n_text), int(total_text), info, parser)
        if rest:
            parser.line(rest)
        return True

    def _training(self, n: int, total: int, info: str, parser: MaouLogParser) -> None:
        new_epoch = not parser.clock.is_open or (self.last_n is not None and n < self.last_n)
        if new_epoch:
            self.reset()
        parts = info.split(", ", 2)
        postfix = parts[2] if len(parts) == 3 else ""
        fresh = bool(postfix) and postfix != self.last_postfix and n > 0
        values, label = _parse_postfix(postfix) if fresh else ({}, None)
        if parser.stage is None and not values:
            return  # nothing tells the stage yet: wait for a postfix or a stage line
        stage = parser.stage_for(None, label)
        if new_epoch:
            parser.clock.open(None, total)
        elif parser.clock.length is None:
            parser.clock.length = total
        self.last_n = n
        if values:
            self.last_postfix = postfix
            cum = values.get("acc", values.get("accuracy", values.get("f1")))
            parser.step(stage, parser.clock.epoch, n, values.get("loss"), metric_cum=cum)


def _parse_postfix(postfix: str) -> tuple[dict[str, float], str | None]:
    """``acc=95.1%, loss=0.1234`` -> ({"acc": 0.951, "loss": 0.1234}, "accuracy")."""
    values: dict[str, float] = {}
    label = None
    for key, number, percent in _POSTFIX_ITEM.findall(postfix):
        name = key.lower()
        values[name] = float(number) / 100 if percent else float(number)
        label = label or _LABEL_KEYS.get(name)
    return values, label

"""tqdm progress bars in a log: ``Training:  45%|████▌     | 450/1000 [00:12<00:15, 36.5it/s,
acc=95.1%, loss=0.1234]``, rewritten in place with ``\\r``.

The ``n`` of ``n/total`` is the batch, ``total`` the epoch's length. maou refreshes the postfix on
batch 1 and every 50 batches while tqdm redraws about ten times a second, so most segments repeat
the previous postfix: a point is emitted only where the postfix changes, at the first segment
that shows it. ``Validation`` bars are not training steps. A Training bar whose ``n`` goes back
starts the next epoch.

Speed: a 1 GB maou log is mostly such segments (~10 M). They stay bytes and are never split
one by one: a run of segments that end with the last postfix seen (``, acc=95.1%, loss=0.1234]``)
is stepped over with a few C-level searches (``_skip_repeats``), so Python works about once per
postfix change. A plain ``Validation`` bar is skipped without decoding.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, NamedTuple

from maou_tui.ingest.bar_columns import read_renders
from maou_tui.ingest.lines import decode

if TYPE_CHECKING:
    from maou_tui.ingest.lanes import LineSink

_BAR = re.compile(rb"(Training|Validation)[^|\r\n]*\|[^|\r\n]*\|\s*(\d+)/(\d+)\s*\[([^\]\r\n]*)\]")
_POSTFIX_ITEM = re.compile(rb"(\w+)=([-+]?[\d.]+(?:[eE][-+]?\d+)?|nan|inf|-inf)(%?)")
_PLAIN_NUMBER = rb"(\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)"
_MAOU_ITEMS = rb"(acc|accuracy|f1)=" + _PLAIN_NUMBER + rb"(%?), loss=" + _PLAIN_NUMBER
_MAOU_POSTFIX = re.compile(_MAOU_ITEMS)  # "acc=95.1%, loss=0.1234", "f1=0.9512, loss=0.0123"
# A whole Training bar with that postfix (groups n, total, postfix, then _MAOU_POSTFIX's): the
# same reading as _BAR + _parse_postfix, in one match.
_MAOU_BAR = re.compile(
    rb"Training[^|\r\n]*\|[^|\r\n]*\|\s*(\d+)/(\d+)\s*\[[^\],\r\n]*, [^\],\r\n]*, ("
    + _MAOU_ITEMS
    + rb")\]"
)
# _MAOU_BAR after its second "|" (the fast lane splits there): the same reading, on fewer bytes.
_MAOU_TAIL = re.compile(rb"\s*(\d+)/(\d+)\s*\[[^\],\r\n]*, [^\],\r\n]*, (" + _MAOU_ITEMS + rb")\]")
_NO_REPEAT = b"\n"  # segments never hold a line break: matches nothing
_RUN_SLACK = 256  # bytes a run's window reaches past the last run's length
# A line of at least this many bytes is read as columns while the last such line brought at
# least this many steps a KiB (a render is ~100 bytes; measured: the column path costs about
# as much a render as the one-by-one path a step, so maou's own logs, a new postfix every 50
# batches or ~0.6 steps a KiB, stay one by one).
_COLUMN_BYTES = 8 << 10
_COLUMN_DENSITY = 2.0
_LABEL_KEYS = {b"acc": "accuracy", b"accuracy": "accuracy", b"f1": "f1"}


class BarTracker:
    """Turns bar segments into steps through the parser (which owns stages and the clock)."""

    def __init__(self) -> None:
        self.last_n: int | None = None
        self.last_postfix = b""
        self.repeat_suffix = _NO_REPEAT
        self._val_postfix = _NO_REPEAT  # the last Validation postfix read, as a segment ends
        self._run_bytes = _RUN_SLACK  # first window of _skip_repeats: the last run's length
        self.steps = 0  # steps read from bars so far
        self._steps_per_kib = float(_COLUMN_DENSITY)  # steps a KiB in the last long line

    def reset(self) -> None:
        """A new epoch was opened by a log line (Stage 3's ``EPOCH n:``)."""
        self.last_n = None
        self.last_postfix = b""
        self.repeat_suffix = _NO_REPEAT

    def scan(self, line: bytes, parser: LineSink) -> None:
        """A line holding ``\\r`` segments: bars, and possibly log messages glued to them. The
        same as handling each ``line.split(b"\\r")`` piece, minus the repeats. A long line of
        renders is read as columns (``bar_columns``) while the last one brought a step every
        few renders; where postfixes change rarely, stepping over repeats is cheaper."""
        size, before = len(line), self.steps
        if size < _COLUMN_BYTES or self._steps_per_kib < _COLUMN_DENSITY:
            self.scan_segments(line, parser)
        else:
            read_renders(self, line, parser)
        if size >= _COLUMN_BYTES:
            self._steps_per_kib = (self.steps - before) * 1024 / size

    def took(self, n: int, postfix: bytes, steps: int = 1) -> None:
        """``steps`` steps were read up to batch ``n``, the last with ``postfix``."""
        self.last_n, self.last_postfix = n, postfix
        self.repeat_suffix = _repeat_suffix(postfix)
        self.steps += steps

    def scan_segments(self, line: bytes, parser: LineSink) -> None:
        """``scan`` one segment at a time."""
        pos, size = 0, len(line)
        while pos <= size:
            pos = self._skip_repeats(line, pos)
            cut = line.find(b"\r", pos)
            if cut < 0:
                cut = size
            segment = line[pos:cut]
            pos = cut + 1
            if not segment or segment.endswith(self.repeat_suffix):
                continue
            if segment.startswith(b"Validation") and segment.endswith(b"]"):
                if b"loss=" in segment and not segment.endswith(self._val_postfix):
                    self._validation(segment, parser)
                continue
            if not (self._next_point(segment, parser) or self.try_bar(segment, parser)):
                parser.line(decode(segment))

    def _validation(self, segment: bytes, parser: LineSink) -> None:
        """A Validation bar whose postfix holds ``loss=``: ``val_loss_bar`` at the training
        epoch's end, batch = the validation batch. All of an epoch's renders share that step,
        so the last one drawn holds (what the bar shows when validation ends)."""
        m = _BAR.search(segment)
        if m is None:
            return
        postfix = m.group(4).split(b", ", 2)[-1]
        loss = _parse_postfix(postfix)
        if loss is None or loss.loss is None:
            return
        self._val_postfix = b", " + postfix + b"]"
        clock = parser.clock
        end = clock.offset + max(clock.length or 0, clock.max_batch)
        parser.point("val_loss_bar", loss.loss, end, clock.epoch, int(m.group(2)))

    def _next_point(self, segment: bytes, parser: LineSink) -> bool:
        """The common case in few steps: maou's bar with a new postfix, later in the open epoch
        of a known stage. The same as ``try_bar``; False leaves the segment to it."""
        head, _fill, tail = segment.split(b"|", 2) if segment.count(b"|") >= 2 else (b"", b"", b"")
        m = _MAOU_TAIL.fullmatch(tail) if head.startswith(b"Training") else None
        last_n, clock = self.last_n, parser.clock
        if m is None or last_n is None or parser.stage is None or clock.length is None:
            return False
        n_text, _total, postfix, _key, metric, percent, loss = m.groups()
        n = int(n_text)
        if n < last_n or n == 0 or postfix == self.last_postfix or not clock.is_open:
            return False
        self.took(n, postfix)
        cum = float(metric) / 100 if percent else float(metric)
        parser.step(parser.stage, clock.epoch, n, float(loss), metric_cum=cum)
        return True

    def _skip_repeats(self, line: bytes, pos: int) -> int:
        """Where the run of segments from ``pos`` that each end with the last postfix ends.

        Hand-written galloping: the last ``postfix]\\r`` within a window (``rfind``) bounds the
        run, and two counts confirm that every segment up to it is such a repeat (else the
        segments are taken one by one). Windows start at the last run's length and double."""
        mark = self.repeat_suffix + b"\r"
        first_end = line.find(b"\r", pos) + 1 - len(mark)
        if first_end < pos or not line.startswith(mark, first_end):
            return pos  # the next segment is not a repeat
        start, span = pos, self._run_bytes
        while True:
            limit = pos + span
            found = line.rfind(mark, pos, limit)
            if found < 0:
                break
            end = found + len(mark)
            if line.count(mark, pos, end) != line.count(b"\r", pos, end):
                break  # something else in between: segment by segment
            pos = end
            if limit >= len(line) or line.find(b"\r", end, limit) >= 0:
                break  # the segment after the run lies inside the window: the run ended
            span *= 2
        self._run_bytes = pos - start + _RUN_SLACK
        return pos

    def try_bar(self, segment: bytes, parser: LineSink) -> bool:
        """Handle ``segment`` if it is a bar; False if it is something else."""
        fast = _MAOU_BAR.fullmatch(segment)
        if fast is not None:  # maou's own bar: everything in one match (once per data point)
            n_text, total_text, postfix, key, metric, percent, loss = fast.groups()
            point = _PostfixPoint(float(loss), _as_float(metric, percent), _LABEL_KEYS[key])
            self._training(int(n_text), int(total_text), postfix, parser, point)
            return True
        m = _BAR.search(segment)
        if m is None:
            return False
        desc, n_text, total_text, info = m.groups()
        if desc == b"Training":
            parts = info.split(b", ", 2)
            postfix = parts[2] if len(parts) == 3 else b""
            self._training(int(n_text), int(total_text), postfix, parser)
        rest = segment[m.end() :].strip()
        if rest:
            parser.line(decode(rest))
        return True

    def _training(
        self,
        n: int,
        total: int,
        postfix: bytes,
        parser: LineSink,
        parsed: _PostfixPoint | None = None,
    ) -> None:
        """Batch ``n`` of ``total``; a step where the postfix changed (``parsed``: its values
        when the caller has them already)."""
        new_epoch = not parser.clock.is_open or (self.last_n is not None and n < self.last_n)
        if new_epoch:
            self.reset()
        # A NaN never changes again (a running mean of a NaN): each later render keeps its batch.
        again = b"nan" in postfix and n != self.last_n
        fresh = bool(postfix) and (postfix != self.last_postfix or again)
        point = (parsed or _parse_postfix(postfix)) if fresh else None
        # maou sets the postfix after batch 1, and tqdm may draw it first on the ``0/N`` render
        # (skipping ``1/N``): those values are batch 1's.
        n = max(n, 1) if point is not None else n
        if parser.stage is None and point is None:
            return  # nothing tells the stage yet: wait for a postfix or a stage line
        stage = parser.stage_for(None, point.label if point else None)
        if new_epoch:
            parser.clock.open(None, total)
        else:
            parser.clock.learn_length(total)
        self.last_n = n
        if point is not None:
            self.took(n, postfix)
            parser.step(stage, parser.clock.epoch, n, point.loss, metric_cum=point.metric_cum)


def _repeat_suffix(postfix: bytes) -> bytes:
    """How segments that repeat ``postfix`` end (skipped unread); none after a NaN."""
    return _NO_REPEAT if b"nan" in postfix else b", " + postfix + b"]"


class _PostfixPoint(NamedTuple):
    loss: float | None
    metric_cum: float | None  # acc= (or accuracy=, else f1=): maou's running mean
    label: str | None  # the stage's metric as the first metric key names it


def _parse_postfix(postfix: bytes) -> _PostfixPoint | None:
    """``acc=95.1%, loss=0.1234`` -> (0.1234, 0.951, "accuracy"); None without any value.
    Only the values a step carries are converted (this runs once per data point); maou's own
    two-item postfix takes one regex match."""
    m = _MAOU_POSTFIX.fullmatch(postfix)
    if m is not None:
        key, metric, percent, loss = m.groups()
        return _PostfixPoint(float(loss), _as_float(metric, percent), _LABEL_KEYS[key])
    found = {}
    for key, number, percent in _POSTFIX_ITEM.findall(postfix):
        try:
            found[key.lower()] = _as_float(number, percent)
        except ValueError:  # "1.2.3" looks like a number to the pattern
            continue
    if not found:
        return None
    label = next((_LABEL_KEYS[key] for key in found if key in _LABEL_KEYS), None)
    metric = next((found[key] for key in (b"acc", b"accuracy", b"f1") if key in found), None)
    return _PostfixPoint(found.get(b"loss"), metric, label)


def _as_float(number: bytes, percent: bytes) -> float:
    return float(number) / 100 if percent else float(number)

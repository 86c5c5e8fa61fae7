"""One log line's bytes as the log viewer shows it: what a terminal would show, prefix folded.

- a ``\\r`` rewrites the line (tqdm bars): only the text after the last one is shown, as a
  terminal leaves it; a ``\\r\\n`` line end is no rewrite; backspaces (Keras) are dropped;
- ANSI colours are kept (``Text.from_ansi``, which drops cursor moves and other sequences) or
  stripped with the ingest's cleaner;
- the prefix columns loggers put before the message (timestamp, ``INFO |``, maou's
  ``file.py | fn | line |``, loguru's ``module:fn:line -``, glog, ``[rank0]:``) are folded
  unless asked for, to the time of day in the viewer's own time zone (the zone checkpoint names
  use) and the level when it is not INFO; the level also colours the line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from rich.text import Text

_TIMESTAMP = r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)?"
_LEVEL = r"(?:TRACE|DEBUG|INFO|SUCCESS|WARNING|WARN|ERROR|CRITICAL|FATAL)\b"
_RANK = re.compile(r"\[rank\s?:?\s?\d+\]:?\s*")  # torchrun's [rank0]:, Lightning's [rank: 0]
_GLOG = re.compile(r"([IWEF])\d{4} \d\d:\d\d:\d\d\.\d+\s+\d+ [^\]\s]+\]\s?")
_LOGGING_DEFAULT = re.compile(rf"({_LEVEL}):[\w.]+:")  # logging's INFO:root:
#: A prefix starts with a timestamp or a level (the timestamp may be followed by the level).
_HEAD = re.compile(rf"{_TIMESTAMP}(?:\s*[|\-]?\s*{_LEVEL})?|{_LEVEL}")
#: Then logging's `` - name - LEVEL - `` or up to five one-word columns after ``|`` (file.py, a
#: function, a line number, loguru's module:fn:line) and the ``|`` or ``-`` before the message;
#: greedy, so maou's five columns fit.
_COLUMNS = re.compile(
    rf"(?:\s+-\s+[\w.]+)?\s+-\s+{_LEVEL}\s+-\s|(?:\s*\|\s*[\w<>.:\-\[\]]+){{0,5}}\s*[|\-]\s"
)
_LEVEL_WORD = re.compile(_LEVEL)
_STAMP = re.compile(_TIMESTAMP)
_GLOG_LEVELS = {"I": "INFO", "W": "WARNING", "E": "ERROR", "F": "FATAL"}
_CONTROLS = dict.fromkeys(i for i in range(32) if i not in (9, 27))  # C0 but tab and ESC


@dataclass(frozen=True)
class LogLine:
    """A line ready to draw: its text (prefix folded or not) and its level ("" when unknown)."""

    text: Text
    level: str


def terminal_render(raw: bytes) -> bytes:
    """What a terminal shows of a line written with ``\\r`` rewrites: the last render."""
    raw = raw.rstrip(b"\r\n")
    cut = raw.rfind(b"\r")
    raw = raw[cut + 1 :] if cut >= 0 else raw
    return raw.replace(b"\x08", b"") if b"\x08" in raw else raw


def prefix_end(line: str) -> tuple[int, str]:
    """``(where the message starts, the prefix's level word)``; ``(0, "")`` without a prefix."""
    rank = _RANK.match(line)
    start = rank.end() if rank else 0
    glog = _GLOG.match(line, start)
    if glog is not None:
        return glog.end(), _GLOG_LEVELS[glog.group(1)]
    default = _LOGGING_DEFAULT.match(line, start)
    if default is not None:
        return default.end(), default.group(1)
    head = _HEAD.match(line, start)
    if head is None:
        return start, ""
    columns = _COLUMNS.match(line, head.end())
    end = columns.end() if columns is not None else head.end()
    while end < len(line) and line[end] == " ":
        end += 1
    level = _LEVEL_WORD.search(line, start, end)
    return end, level.group() if level else ""


def display_line(raw: bytes, *, show_prefix: bool, colours: bool) -> LogLine:
    """The line as the viewer draws it (see the module docstring)."""
    raw = terminal_render(raw)
    if not colours and b"\x1b" in raw:
        from maou_tui.ingest.lines import clean  # the ingest package loads after the first frame

        raw = clean(raw)
    text_str = raw.decode("utf-8", "replace").translate(_CONTROLS)
    text = Text.from_ansi(text_str) if "\x1b" in text_str else Text(text_str)
    end, level = prefix_end(text.plain)
    if end and not show_prefix:
        text = _folded(text.plain[:end], level) + text[end:]
    text.expand_tabs()
    return LogLine(text, level)


def _folded(prefix: str, level: str) -> Text:
    """What a folded prefix leaves: ``HH:MM:SS`` (local) and a level other than INFO."""
    parts = []
    stamp = _STAMP.search(prefix)
    if stamp is not None:
        try:
            when = datetime.fromisoformat(stamp.group().replace(",", "."))
        except ValueError:
            when = None
        if when is not None:
            local = when.astimezone() if when.tzinfo is not None else when
            parts.append(f"{local:%H:%M:%S}")
    if level and level != "INFO":
        parts.append(level)
    return Text(" ".join(parts) + " " if parts else "")

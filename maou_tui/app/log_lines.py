"""Log lines as the log pane shows them: maou's 80-column logger prefix
(``2026-12-03T19:34:52+09:00 | INFO  |    train_log.py |  batch_progress | 115 | ...``) becomes
the time in the viewer's own time zone (the zone checkpoint names use) and the level when it
is not INFO, so the message gets the width."""

from __future__ import annotations

from datetime import datetime

from maou_tui.ingest.maou_patterns import split_prefix


def pane_line(line: str) -> str:
    """``19:34:52+09:00 | INFO | ... | msg`` → ``10:34:52 msg`` (in local time); other lines
    as they are."""
    level, message = split_prefix(line)
    if not level:
        return line
    stamp = line.split(" | ", 1)[0].strip()
    try:
        when = datetime.fromisoformat(stamp)
    except ValueError:
        return line
    local = when.astimezone() if when.tzinfo is not None else when
    shown_level = "" if level == "INFO" else f"{level} "
    return f"{local:%H:%M:%S} {shown_level}{message}"

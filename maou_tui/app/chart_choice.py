"""Which series the chart pages show, remembered per kind of run in
``$XDG_CONFIG_HOME/maou-tui/charts.json`` (``~/.config/maou-tui/charts.json``).

The app writes this file itself (each time the picker applies), so it is a file of its own:
the settings file people edit (keymap, smoothing, theme; TOML or JSON, with comments) is only
ever read, and rewriting it would lose what its author wrote there.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ValidationError

RunKind = Literal["trainer", "maou_log", "other"]
CHOICES_FILE = "charts.json"


class ChartChoices(BaseModel):
    """The series on the chart pages, by kind of run; None: every series the overview does
    not show."""

    trainer: list[str] | None = None
    """Runs of our trainer (events.jsonl)."""
    maou_log: list[str] | None = None
    """maou's logs (and our train.log read as a log)."""
    other: list[str] | None = None
    """Other trainers' logs, TensorBoard and CSV files."""


def choices_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "maou-tui" / CHOICES_FILE


def _read(path: Path) -> ChartChoices:
    if not path.exists():
        return ChartChoices()
    return ChartChoices.model_validate(json.loads(path.read_text(encoding="utf-8")))


def load_chart_choices() -> tuple[ChartChoices, str | None]:
    """The saved choices, and what was wrong with the file (None when nothing was)."""
    path = choices_path()
    try:
        return _read(path), None
    except (OSError, ValueError, ValidationError) as error:
        return ChartChoices(), f"{path}: {_first_line(error)}; chart choices not loaded"


def save_chart_choice(kind: RunKind, names: list[str]) -> str | None:
    """Remember ``names`` for ``kind``; returns what went wrong (a file that does not parse is
    left untouched rather than overwritten)."""
    path = choices_path()
    try:
        choices = _read(path).model_copy(update={kind: names})
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        temporary.write_text(choices.model_dump_json(indent=2) + "\n", encoding="utf-8")
        temporary.replace(path)
    except (OSError, ValueError, ValidationError) as error:
        return f"{path}: {_first_line(error)}; chart choice not saved"
    return None


def _first_line(error: Exception) -> str:
    return str(error).splitlines()[0] if str(error) else type(error).__name__

"""Which series the chart pages show, remembered per kind of run in the user's settings file
(``$XDG_CONFIG_HOME/maou-tui/settings.json``, key ``charts``).

Kept apart until the shared settings module (keymaps, view settings) lands: only ``charts`` is
read and written here, every other key of the file is left as it is.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ValidationError

RunKind = Literal["trainer", "maou_log", "other"]
SETTINGS_FILE = "settings.json"


class ChartChoices(BaseModel):
    """The series on the chart pages, by kind of run; None: every series the overview does
    not show."""

    trainer: list[str] | None = None
    """Runs of our trainer (events.jsonl)."""
    maou_log: list[str] | None = None
    """maou's logs (and our train.log read as a log)."""
    other: list[str] | None = None
    """Other trainers' logs, TensorBoard and CSV files."""


def settings_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "maou-tui" / SETTINGS_FILE


def _read_settings(path: Path) -> dict:
    if not path.exists():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    return data


def load_chart_choices() -> tuple[ChartChoices, str | None]:
    """The saved choices, and what was wrong with the file (None when nothing was)."""
    path = settings_path()
    try:
        return ChartChoices.model_validate(_read_settings(path).get("charts") or {}), None
    except (OSError, ValueError, ValidationError) as error:
        return ChartChoices(), f"{path}: {_first_line(error)}; chart choices not loaded"


def save_chart_choice(kind: RunKind, names: list[str]) -> str | None:
    """Remember ``names`` for ``kind``; returns what went wrong (a file that does not parse is
    left untouched rather than overwritten)."""
    path = settings_path()
    try:
        data = _read_settings(path)
        choices = ChartChoices.model_validate(data.get("charts") or {})
        data["charts"] = choices.model_copy(update={kind: names}).model_dump()
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        temporary.replace(path)
    except (OSError, ValueError, ValidationError) as error:
        return f"{path}: {_first_line(error)}; chart choice not saved"
    return None


def _first_line(error: Exception) -> str:
    return str(error).splitlines()[0] if str(error) else type(error).__name__

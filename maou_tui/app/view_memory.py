"""The view each run was last shown with (smoothing, zoom, LR scale), so ``attach`` opens a run
the way the user left it, even from another SSH session.

Kept in ``$XDG_STATE_HOME/maou-tui/views.json`` (``~/.local/state``), one entry per run path,
the most recent ``KEEP`` runs; written whole to a temporary file and renamed, so a crash never
leaves half a file. A file that cannot be read or written costs only the memory, never the app.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

KEEP = 200


class RememberedView(BaseModel):
    """What the user chose for one run."""

    model_config = ConfigDict(extra="ignore")

    smoothing: float = Field(ge=0.0, le=0.999)
    zoom_stage: bool
    log_lr: bool


def state_file() -> Path:
    state_home = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state_home) / "maou-tui" / "views.json"


def _read_all(path: Path) -> dict[str, dict]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def recall(run: Path, path: Path | None = None) -> RememberedView | None:
    """The view ``run`` was last shown with, if it was."""
    entry = _read_all(path or state_file()).get(str(Path(run).resolve()))
    try:
        return RememberedView.model_validate(entry) if entry is not None else None
    except ValidationError:
        return None


def remember(run: Path, view: RememberedView, path: Path | None = None) -> bool:
    """Store ``view`` for ``run``; False when the state file cannot be written."""
    path = path or state_file()
    views = _read_all(path)
    key = str(Path(run).resolve())
    views.pop(key, None)
    views[key] = view.model_dump()  # insertion order = recency
    views = dict(list(views.items())[-KEEP:])
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(json.dumps(views, indent=1), encoding="utf-8")
        os.replace(partial, path)
    except OSError:
        return False
    return True

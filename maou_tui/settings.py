"""The user's settings file: keymap overrides and the view the app opens with.

``$MAOU_TUI_SETTINGS`` names the file; else ``$XDG_CONFIG_HOME/maou-tui/settings.toml`` (or
``settings.json``; ``XDG_CONFIG_HOME`` defaults to ``~/.config``). A missing file means the
defaults. A bad value costs only that value: ``load_settings`` keeps the rest and returns one
line per problem naming the file, the key and what is wrong, so the app still starts.

Example (TOML)::

    smoothing = 0.95          # the loss EMA weight, 0 (raw) .. 0.999
    zoom = "stage"            # "run" or "stage"
    log_lr = false            # the LR chart on a linear scale
    theme = "high-contrast"
    [keymap]                  # binding id = key(s), as the ? screen lists them
    halve_lr = "H"
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

SETTINGS_NAMES = ("settings.toml", "settings.json")


class Settings(BaseModel):
    """What a settings file may say; every field has a default."""

    model_config = ConfigDict(extra="forbid")

    keymap: dict[str, str] = {}
    """Binding id → key(s) (Textual key names, comma-separated), e.g. ``{"halve_lr": "H"}``."""
    smoothing: float = Field(default=0.9, ge=0.0, le=0.999)
    """The loss EMA weight the charts open with (``+``/``-`` change it)."""
    zoom: Literal["run", "stage"] = "run"
    """Open on the whole run or on the current stage (``z`` switches)."""
    log_lr: bool = True
    """The LR chart on a log scale."""
    theme: str | None = None
    """The colour theme when ``--theme`` is not given."""


@dataclass
class LoadedSettings:
    """The settings in force, where they came from and the problems met reading them."""

    settings: Settings
    path: Path | None
    problems: list[str] = field(default_factory=list)


def config_dir() -> Path:
    """``$XDG_CONFIG_HOME/maou-tui`` (``~/.config/maou-tui``)."""
    config_home = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config_home) / "maou-tui"


def settings_path() -> Path | None:
    """The settings file to read: ``$MAOU_TUI_SETTINGS``, else the first of settings.toml /
    settings.json in the config directory that exists (None when neither does)."""
    override = os.environ.get("MAOU_TUI_SETTINGS")
    if override:
        return Path(override)
    return next((p for p in (config_dir() / n for n in SETTINGS_NAMES) if p.exists()), None)


def load_settings(path: Path | None = None, binding_ids: Collection[str] = ()) -> LoadedSettings:
    """Read ``path`` (default: ``settings_path()``). With ``binding_ids``, keymap entries
    naming another id are problems too. Never raises for a bad file."""
    path = path if path is not None else settings_path()
    if path is None or not path.exists():
        return LoadedSettings(Settings(), None)
    try:
        data = _parse(path)
    except (OSError, ValueError) as exc:
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        problem = f"settings file {path}: {detail}; using the defaults"
        return LoadedSettings(Settings(), path, [problem])
    problems: list[str] = []
    settings = _validate(data, path, problems)
    if binding_ids:
        settings.keymap = _known_keys(settings.keymap, binding_ids, path, problems)
    return LoadedSettings(settings, path, problems)


def _parse(path: Path) -> dict[str, Any]:
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"not valid JSON: {exc}") from None
    else:
        if sys.version_info >= (3, 11):
            import tomllib
        else:  # tomllib is new in 3.11; tomli is the same parser
            import tomli as tomllib
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ValueError(f"not valid TOML: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError("expected a table of settings (key = value lines)")
    return data


def _validate(data: dict[str, Any], path: Path, problems: list[str]) -> Settings:
    """The settings of ``data``, each bad top-level key replaced by its default."""
    data = dict(data)
    while True:
        try:
            return Settings.model_validate(data)
        except ValidationError as exc:
            error = exc.errors()[0]
            key = str(error["loc"][0]) if error["loc"] else "?"
            where = ".".join(str(part) for part in error["loc"])
            if error["type"] == "extra_forbidden":
                known = ", ".join(Settings.model_fields)
                what = f"unknown setting (known: {known})"
            else:
                what = f"{error['msg']} (got {error.get('input')!r})"
            default = Settings.model_fields[key].default if key in Settings.model_fields else None
            tail = "" if error["type"] == "extra_forbidden" else f"; using {default!r}"
            problems.append(f"settings file {path}: {where}: {what}{tail}")
            data.pop(key, None)


def _known_keys(
    keymap: dict[str, str], binding_ids: Collection[str], path: Path, problems: list[str]
) -> dict[str, str]:
    kept = {}
    for binding_id, key in keymap.items():
        if binding_id in binding_ids and key.strip():
            kept[binding_id] = key
        elif binding_id not in binding_ids:
            problems.append(
                f"settings file {path}: keymap.{binding_id}: no key has this id "
                f"(ids: {', '.join(sorted(binding_ids))})"
            )
        else:
            problems.append(f"settings file {path}: keymap.{binding_id}: empty key")
    return kept

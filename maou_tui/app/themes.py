"""Theme files: the shipped ``themes/`` package and the user's theme directory.

A theme file is JSON (or TOML) holding Textual ``Theme`` fields; it is validated with pydantic
so a bad colour or a typo is reported with the file name instead of breaking the app.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator
from textual.color import Color, ColorParseError
from textual.theme import Theme

DEFAULT_THEME = "dark"
#: Shipped themes are JSON (any Python >= 3.10); users may also write TOML on Python >= 3.11.
THEME_SUFFIXES = (".json", ".toml") if sys.version_info >= (3, 11) else (".json",)


class ThemeFile(BaseModel):
    """The contents of one theme file (Textual ``Theme`` fields)."""

    model_config = ConfigDict(extra="forbid")

    name: str
    primary: str
    secondary: str | None = None
    accent: str | None = None
    warning: str | None = None
    error: str | None = None
    success: str | None = None
    foreground: str | None = None
    background: str | None = None
    surface: str | None = None
    panel: str | None = None
    boost: str | None = None
    dark: bool = True
    variables: dict[str, str] = {}

    @field_validator(
        "primary",
        "secondary",
        "accent",
        "warning",
        "error",
        "success",
        "foreground",
        "background",
        "surface",
        "panel",
        "boost",
    )
    @classmethod
    def _is_colour(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                Color.parse(value)
            except ColorParseError:
                raise ValueError(f"{value!r} is not a colour (use e.g. '#4FA3FF')") from None
        return value

    def to_theme(self) -> Theme:
        return Theme(**self.model_dump())


@dataclass
class ThemeCatalogue:
    """Themes found in the shipped and user directories, and the problems met reading them."""

    themes: dict[str, Theme] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


def shipped_theme_dir() -> Path:
    """``maou_tui.themes`` when installed; the repository's ``themes/`` in a source checkout."""
    try:
        return Path(str(resources.files("maou_tui.themes")))
    except ModuleNotFoundError:
        return Path(__file__).resolve().parents[2] / "themes"


def user_theme_dir() -> Path:
    """``$MAOU_TUI_THEME_DIR``, else ``$XDG_CONFIG_HOME/maou-tui/themes`` (``~/.config``)."""
    override = os.environ.get("MAOU_TUI_THEME_DIR")
    if override:
        return Path(override)
    config_home = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config_home) / "maou-tui" / "themes"


def read_theme_file(path: Path) -> Theme:
    """Parse and validate one theme file; raises ValueError with a one-line message."""
    try:
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".toml":
            if sys.version_info >= (3, 11):
                import tomllib
            else:  # tomllib is new in 3.11; tomli is the same parser
                import tomli as tomllib

            data = tomllib.loads(text)
        else:
            data = json.loads(text)
        return ThemeFile.model_validate(data).to_theme()
    except (OSError, ValueError) as exc:
        if isinstance(exc, ValidationError):
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"])
            detail = f"{where}: {err['msg'].removeprefix('Value error, ')}"
        else:
            detail = str(exc).splitlines()[0]
        raise ValueError(f"theme file {path}: {detail}") from None


def load_themes(directories: list[Path] | None = None) -> ThemeCatalogue:
    """Read every theme file; later directories override earlier ones by theme name."""
    catalogue = ThemeCatalogue()
    for directory in directories or [shipped_theme_dir(), user_theme_dir()]:
        if not directory.is_dir():
            continue
        for path in sorted(directory.iterdir()):
            if path.suffix not in THEME_SUFFIXES:
                continue
            try:
                theme = read_theme_file(path)
            except ValueError as exc:
                catalogue.errors.append(str(exc))
                continue
            catalogue.themes[theme.name] = theme
    return catalogue


def theme_names() -> list[str]:
    """Every theme ``--theme`` accepts: ours (shipped and the user's), then Textual's own."""
    from textual.theme import BUILTIN_THEMES

    ours = list(load_themes().themes)
    return ours + sorted(set(BUILTIN_THEMES) - set(ours))

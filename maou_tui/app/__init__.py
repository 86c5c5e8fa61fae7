"""The Textual app (the only part of maou_tui that imports textual or plotext)."""

from maou_tui.app.maou_app import MaouApp

__all__ = ["MaouApp"]

"""The Textual app (the only part of maou_tui that imports textual or plotext).

``MaouApp`` is imported on first use (PEP 562): ``maou-tui report`` reads the key map in
``maou_tui.app.keys`` for its advice, and importing the whole app with it cost ~0.9 s of CPU.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from maou_tui.app.maou_app import MaouApp

__all__ = ["MaouApp"]


def __getattr__(name: str) -> Any:
    if name == "MaouApp":
        from maou_tui.app.maou_app import MaouApp

        return MaouApp
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

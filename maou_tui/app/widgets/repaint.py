"""Repainting a text panel without laying the whole screen out again.

``Static.update`` lays out the screen by default: every widget is measured and placed again and
the footer redrawn, the main cost of the app while it tails a busy log. A panel whose text
changed but whose height did not (new step numbers, a finding's newer evidence) only needs its
own region repainted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual.widgets import Static

if TYPE_CHECKING:
    from textual.css.styles import RulesMap


def show_text(panel: Static, markup: str) -> None:
    """Show ``markup`` in ``panel``; a screen layout only when the panel's height changes."""
    width, height = panel.content_size  # as the last layout placed it
    panel.update(markup, layout=False)
    if not width or _height(panel, width) != height:
        panel.refresh(layout=True)


def _height(panel: Static, width: int) -> int:
    # As Widget.get_content_height measures it (uncached here: the text just changed); the
    # styles object stands in for the rules mapping the annotation names.
    return panel.visual.get_height(cast("RulesMap", panel.styles), width)

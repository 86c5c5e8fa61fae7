"""A bug in the app's event feed is shown to the user, not swallowed (issue 11)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pilot import has_note, wait_for

from maou_tui.app import MaouApp
from maou_tui.app.data import EventFeed


async def test_an_exception_in_the_feed_is_shown(
    demo_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: EventFeed, events: list) -> None:
        raise KeyError("lost_field")

    monkeypatch.setattr(EventFeed, "_receive", broken)
    app = MaouApp(demo_dir, mode="attach", theme="dark")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: has_note(app, "on_events failed: KeyError"), "the error")
        assert has_note(app, "reading ")

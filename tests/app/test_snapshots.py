"""Snapshots of the main screen from the fixed demo run at several moments (update with
--snapshot-update after looking at the report). Theme set explicitly; the run has no
clock-dependent values and log times are shown in UTC (conftest's ``_utc``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from demo_run import write_demo_run
from pilot import loaded, wait_for

from maou_tui.app import MaouApp

#: The last step of each demo moment (what "loaded" waits for).
LAST_STEPS = {"start": 6, "threshold": 34, "mid": 170, "finished": 170}


def _settle(moment: str):
    async def settled(pilot) -> None:
        app = pilot.app
        await loaded(pilot, app, min_steps=LAST_STEPS[moment])
        await wait_for(pilot, lambda: app.up_to_date, "findings and charts of every event")
        await wait_for(pilot, lambda: app.main.log_pane.line_count == 3, "the log tail")
        app.clear_notifications()
        await pilot.pause()

    return settled


@pytest.mark.parametrize(
    ("moment", "size", "theme"),
    [
        ("mid", (80, 24), "dark"),
        ("mid", (160, 50), "dark"),
        ("mid", (120, 40), "light"),
        ("mid", (80, 24), "high-contrast"),
        ("start", (80, 24), "dark"),
        ("start", (160, 50), "dark"),
        ("threshold", (80, 24), "dark"),
        ("threshold", (160, 50), "dark"),
        ("finished", (80, 24), "dark"),
        ("finished", (160, 50), "dark"),
    ],
)
def test_main_screen(snap_compare, tmp_path: Path, moment, size, theme) -> None:
    # A fixed name: the status panel shows the run directory's name.
    run = write_demo_run(tmp_path / "demo-run", moment=moment)
    app = MaouApp(run, mode="attach", theme=theme)
    assert snap_compare(app, terminal_size=size, run_before=_settle(moment))

"""Snapshots of the main screen from the fixed demo run (update with --snapshot-update after
looking at the report). Theme set explicitly; the run has no clock-dependent values."""

from __future__ import annotations

from pathlib import Path

import pytest
from demo_run import write_demo_run
from pilot import loaded, wait_for

from maou_tui.app import MaouApp


@pytest.fixture
def snapshot_run(tmp_path: Path) -> Path:
    # A fixed name: the status panel shows the run directory's name.
    return write_demo_run(tmp_path / "demo-run")


async def _settled(pilot) -> None:
    app = pilot.app
    await loaded(pilot, app, min_steps=170)
    await wait_for(pilot, lambda: app.up_to_date, "findings and charts of every event")
    await wait_for(pilot, lambda: app.main.log_pane.line_count == 3, "the log tail")
    app.clear_notifications()
    await pilot.pause()


@pytest.mark.parametrize(
    ("size", "theme"),
    [((80, 24), "dark"), ((160, 50), "dark"), ((120, 40), "light"), ((80, 24), "high-contrast")],
)
def test_main_screen(snap_compare, snapshot_run: Path, size, theme) -> None:
    app = MaouApp(snapshot_run, mode="attach", theme=theme)
    assert snap_compare(app, terminal_size=size, run_before=_settled)

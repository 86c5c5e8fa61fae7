"""Helpers for pilot tests: wait for a condition on the app's loop, read its notifications."""

from __future__ import annotations

import time
from collections.abc import Callable

from textual.pilot import Pilot

from maou_tui.app import MaouApp
from maou_tui.layout import LOG_FILE


async def wait_for(pilot: Pilot, predicate: Callable[[], object], what: str, timeout=15.0):
    """Let the app run until ``predicate()`` holds (fails the test after ``timeout`` s)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await pilot.pause(0.05)


def notes(app: MaouApp) -> list[str]:
    """Messages of the notifications shown so far (toasts)."""
    return [n.message for n in app._notifications]


def has_note(app: MaouApp, text: str) -> bool:
    return any(text in message for message in notes(app))


async def loaded(pilot: Pilot, app: MaouApp, min_steps: int = 1) -> None:
    """Wait until the run has reached ``min_steps`` and that much is drawn; for a run whose
    events end with ``run_finished``, until its toast is out too (the event can come in a read
    after the last step's: a toast shown after a test cleared them would cover its snapshot);
    for a run with a log, until the app has found it."""
    await wait_for(pilot, lambda: app.store.last_step >= min_steps, f"step {min_steps}")
    version = app.store.version
    await wait_for(pilot, lambda: app.drawn_version >= version, "a redraw")
    run_dir = app.target.run_dir
    if run_dir is None:
        return
    events = run_dir / "events.jsonl"
    if events.is_file() and '"run_finished"' in events.read_text():
        await wait_for(pilot, lambda: app.session.finish_reported, "the run's finish reported")
    if (run_dir / LOG_FILE).is_file():
        # up_to_date then also covers the log pane (index whole, pane refreshed); before the
        # log is found it cannot, and a snapshot showed the pane empty, "indexing 0%".
        await wait_for(pilot, lambda: app.session.log_index is not None, "the run's log found")


def status_text(app: MaouApp) -> str:
    from maou_tui.app.widgets.status import StatusPanel

    return app.main.query_one(StatusPanel).render().plain

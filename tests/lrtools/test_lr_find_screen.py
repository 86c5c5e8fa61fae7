"""The lr-find screen follows a run directory live and shows the suggestions when it ends."""

from __future__ import annotations

import asyncio
from pathlib import Path

from textual.widgets import Static

from maou_tui.app.lr_find_screen import LrCurve, LrFindApp
from tests.lrtools.sweep_fixture import write_sweep


async def wait_for(condition, pilot, timeout: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "timed out"
        await pilot.pause(0.05)


async def test_live_sweep_then_result(tmp_path: Path) -> None:
    # The trainer has written part of the sweep; the rest arrives while the screen is open.
    lines = write_sweep(tmp_path, finished=True)
    events = tmp_path / "events.jsonl"
    events.write_text("\n".join(lines[:40]) + "\n")
    app = LrFindApp(tmp_path)
    async with app.run_test(size=(100, 32)) as pilot:
        await wait_for(lambda: len(app.progress.lrs) == 39, pilot)
        await pilot.pause(0.4)
        status = str(app.query_one("#status", Static).content)
        assert "running: iteration 39/100" in status
        assert app.query_one("#result", Static).content == ""
        with events.open("a") as handle:
            handle.write("\n".join(lines[40:]) + "\n")
        await wait_for(lambda: app.progress.finished is not None, pilot)
        await pilot.pause(0.4)
        result = str(app.query_one("#result", Static).content)
        assert "Recommended: valley" in result
        assert "Pass: --stage1-learning-rate" in result
        assert "completed: iteration" in str(app.query_one("#status", Static).content)
        drawn = app.query_one(LrCurve).render().plain  # the chart as the terminal shows it
        assert "1e-3" in drawn and "valley *" in drawn
        await pilot.press("q")


async def test_stop_without_a_trainer_says_why(tmp_path: Path) -> None:
    write_sweep(tmp_path, finished=False)
    app = LrFindApp(tmp_path)
    notes: list[str] = []
    async with app.run_test(size=(100, 32)) as pilot:
        app.notify = lambda message, **_: notes.append(str(message))  # type: ignore[method-assign]
        await pilot.press("s")
        await wait_for(lambda: bool(notes), pilot)
        assert "no control socket" in notes[0]


async def test_first_point_and_flat_curve_draw_without_error(tmp_path: Path) -> None:
    """One point (or a flat curve) has an empty y range; plotext would divide by it."""
    lines = write_sweep(tmp_path, finished=False)
    events = tmp_path / "events.jsonl"
    events.write_text("\n".join(lines[:2]) + "\n")  # run_started + the first step
    app = LrFindApp(tmp_path)
    async with app.run_test(size=(100, 32)) as pilot:
        await wait_for(lambda: len(app.progress.lrs) == 1, pilot)
        await pilot.pause(0.4)
        assert "1e-7" in app.query_one(LrCurve).render().plain
        app.progress.smoothed = [0.5]
        app.progress.add([])
        app._dirty = True
        await pilot.pause(0.4)
        assert "iteration 1/100" in str(app.query_one("#status", Static).content)

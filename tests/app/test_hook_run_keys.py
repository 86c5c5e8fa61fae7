"""The control keys on a run of ``maou-tui run -- CMD`` say what really happens to a program
the hook steers: stop is Ctrl-C, not a checkpoint; checkpoint, thresholds and skip cannot be
done from outside the program's code and are not offered."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

from pilot import has_note, wait_for

from maou_tui.app import MaouApp
from maou_tui.app.dialogs import ConfirmDialog, SetThresholdDialog
from maou_tui.processes import read_pid
from tests.hook.conftest import start_run

SIZE = (120, 40)


async def test_keys_on_a_hooked_program_promise_only_what_the_hook_does(tmp_path: Path):
    run_dir = tmp_path / "run"
    # A real supervised program (no torch: it starts in a fraction of a second).
    start_run(run_dir, sys.executable, "-c", "import time; print('training'); time.sleep(60)")
    try:
        await _press_control_keys(run_dir)
    finally:
        supervisor = read_pid(run_dir)
        if supervisor is not None:
            os.kill(supervisor, signal.SIGTERM)  # passed on to the program


async def _press_control_keys(run_dir: Path) -> None:
    app = MaouApp(run_dir, mode="attach", theme="dark")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.store.run is not None, "run_started")
        await pilot.press("s")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog), "confirm dialog")
        question = app.screen.question
        assert "Ctrl-C" in question and "saves nothing" in question
        assert "checkpoint" not in question and "--resume" not in question
        await pilot.press("n")
        await pilot.press("c")
        await wait_for(pilot, lambda: has_note(app, "checkpoint: not possible"), "checkpoint note")
        await pilot.press("t")
        await wait_for(pilot, lambda: has_note(app, "set threshold: not possible"), "note")
        assert not isinstance(app.screen, SetThresholdDialog)
        await pilot.press("n")
        await wait_for(pilot, lambda: has_note(app, "skip stage: not possible"), "skip note")
        assert not isinstance(app.screen, ConfirmDialog)

"""Every control key against a live loop over the real control socket (maou_tui.sdk)."""

from __future__ import annotations

import json
import time

from pilot import has_note, loaded, notes, status_text, wait_for

from maou_tui.app import MaouApp
from maou_tui.app.dialogs import ConfirmDialog, SetLrDialog, SetThresholdDialog

SIZE = (120, 40)


def control_events(loop) -> list[dict]:
    lines = loop.events_text().splitlines()
    return [e for e in map(json.loads, lines) if e["type"] == "control"]


async def test_pause_and_resume_with_p(live_loop):
    loop = live_loop()
    app = MaouApp(loop.run_dir, mode="attach", theme="dark")
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, app)
        await pilot.press("p")
        await wait_for(pilot, lambda: has_note(app, "pause: applied at step"), "pause ack")
        await wait_for(pilot, lambda: app.store.paused, "the paused event")
        await wait_for(pilot, lambda: "PAUSED" in status_text(app), "PAUSED in status")
        paused_at = app.store.last_step
        await pilot.pause(0.3)
        assert app.store.last_step == paused_at  # no steps while paused
        await pilot.press("p")
        await wait_for(pilot, lambda: has_note(app, "resume: applied at step"), "resume ack")
        await wait_for(pilot, lambda: app.store.last_step > paused_at, "steps after resume")
    assert '"type":"paused"' in loop.events_text().replace(" ", "")
    assert loop.process.poll() is None  # quitting the app left the loop running


async def test_p_pressed_again_before_the_reply_resumes(live_loop):
    """p, h, p in one go (no reply has arrived yet): pause, halve, then resume, in order."""
    loop = live_loop("--step-s", "0.2")  # a slow step: each reply takes up to 0.2 s
    app = MaouApp(loop.run_dir, mode="attach", theme="dark")
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, app)
        # Pilot key presses wait for the app to go idle (the replies may arrive in between):
        # run the key actions back to back, as a fast typist on a slow machine does.
        app.action_toggle_pause()
        app.action_scale_lr(0.5)
        app.action_toggle_pause()
        await wait_for(pilot, lambda: len(control_events(loop)) >= 3, "three control events")
        await wait_for(pilot, lambda: has_note(app, "resume: applied at step"), "resume ack")
    assert [e["command"] for e in control_events(loop)] == ["pause", "scale_lr", "resume"]
    assert not any("rejected" in n for n in notes(app))


async def test_halve_and_double_lr_with_h_and_u(live_loop):
    loop = live_loop()
    app = MaouApp(loop.run_dir, mode="attach", theme="dark")
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, app)
        await pilot.press("h")
        await wait_for(pilot, lambda: has_note(app, "LR ×0.5: applied at step"), "halve ack")
        await pilot.press("u")
        await pilot.press("u")
        await wait_for(pilot, lambda: has_note(app, "LR ×2: applied at step"), "double ack")
        await wait_for(pilot, lambda: len(app.store.controls) == 3, "three control events")
        await wait_for(pilot, lambda: "m 2 =" in status_text(app), "multiplier 2 in status")
    multipliers = [e["after"]["lr_multiplier"] for e in control_events(loop)]
    assert multipliers == [0.5, 1.0, 2.0]


async def test_set_lr_dialog_validates_and_applies(live_loop):
    loop = live_loop()
    app = MaouApp(loop.run_dir, mode="attach", theme="dark")
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, app, min_steps=12)  # past warmup start: the schedule LR is > 0
        await pilot.press("l")
        await wait_for(pilot, lambda: isinstance(app.screen, SetLrDialog), "the LR dialog")
        # Typing is Textual's Input (and slow to simulate while data streams): set the text.
        field = app.screen.query_one("#lr-value")
        field.value = "2"
        await pilot.press("enter")
        assert isinstance(app.screen, SetLrDialog)  # 2 > 1: refused, dialog stays open
        assert has_note(app, "LR must be a number > 0 and ≤ 1")
        field.value = "0.0005"
        await pilot.pause()
        preview = str(app.screen.query_one("#lr-preview").render())
        assert "multiplier" in preview and "0.0005" in preview
        await pilot.press("enter")
        await wait_for(pilot, lambda: has_note(app, "LR → 0.0005: applied at step"), "set_lr ack")
        await pilot.press("l")  # Escape cancels: nothing is sent
        app.screen.query_one("#lr-value").value = "0.1"
        await pilot.press("escape")
        assert not isinstance(app.screen, SetLrDialog)
        await pilot.pause(0.3)
    (event,) = control_events(loop)
    assert event["command"] == "set_lr"
    assert abs(event["after"]["lr"] - 0.0005) < 1e-12


async def test_set_threshold_dialog(live_loop):
    loop = live_loop()
    app = MaouApp(loop.run_dir, mode="attach", theme="dark")
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, app)
        await pilot.press("t")
        await wait_for(pilot, lambda: isinstance(app.screen, SetThresholdDialog), "dialog")
        dialog = app.screen
        field = dialog.query_one("#th-value")
        dialog.query_one("#th-action").value = "stop"
        field.focus()
        field.value = "1.5"
        await pilot.press("enter")
        assert has_note(app, "threshold must be a number in [0, 1]")
        field.value = "0.5"
        await pilot.press("enter")
        ack = "threshold stage 1 0.5 (stop): applied"
        await wait_for(pilot, lambda: has_note(app, ack), "ack")
        shown = "threshold accuracy 0.5 → stop"
        await wait_for(pilot, lambda: shown in status_text(app), "status")
    (event,) = control_events(loop)
    assert event["after"] == {"threshold_stage1": {"value": 0.5, "action": "stop"}}


async def test_checkpoint_now_with_c(live_loop):
    loop = live_loop()
    app = MaouApp(loop.run_dir, mode="attach", theme="dark")
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, app)
        await pilot.press("c")
        await wait_for(pilot, lambda: has_note(app, "checkpoint: applied at step"), "ack")
        await wait_for(
            pilot, lambda: any(m.kind == "checkpoint" for m in app.store.marks), "checkpoint mark"
        )


async def test_stop_asks_first_and_then_stops(live_loop):
    loop = live_loop()
    app = MaouApp(loop.run_dir, mode="attach", theme="dark")
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, app)
        await pilot.press("s")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog), "confirm dialog")
        await pilot.press("n")  # answered no: nothing is sent
        await pilot.pause(0.3)
        assert control_events(loop) == []
        await pilot.press("s", "y")
        await wait_for(pilot, lambda: has_note(app, "stop: applied at step"), "stop ack")
        await wait_for(pilot, lambda: app.store.finished is not None, "run_finished")
        await wait_for(pilot, lambda: "STOPPED" in status_text(app), "STOPPED in status")
    loop.process.wait(10)
    assert app.store.finished.status == "stopped"


async def test_skip_stage_with_n(live_loop):
    loop = live_loop()
    app = MaouApp(loop.run_dir, mode="attach", theme="dark")
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, app)
        assert app.store.current_stage == 1
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog), "confirm dialog")
        await pilot.press("y")
        await wait_for(pilot, lambda: has_note(app, "skip stage: applied at step"), "skip ack")
        await wait_for(pilot, lambda: app.store.current_stage == 2, "Stage 2 to start")
        await wait_for(pilot, lambda: "LEGAL_MOVES" in status_text(app), "Stage 2 in status")


async def test_quit_leaves_training_running(live_loop):
    loop = live_loop()
    app = MaouApp(loop.run_dir, mode="attach", theme="dark")
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, app)
        await pilot.press("q")
        await wait_for(pilot, lambda: not app.is_running, "the app to exit")
    assert loop.process.poll() is None
    steps_before = loop.events_text().count('"type":"step"')
    time.sleep(0.5)
    assert loop.events_text().count('"type":"step"') > steps_before


async def test_lost_connection_is_reported_once(live_loop):
    loop = live_loop()
    app = MaouApp(loop.run_dir, mode="attach", theme="dark")
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, app)
        await pilot.press("h")
        await wait_for(pilot, lambda: has_note(app, "LR ×0.5: applied"), "first ack")
        loop.kill()

        def halve_notes() -> list[str]:
            return [n for n in notes(app) if n.startswith("LR ×0.5:")]

        await pilot.press("h")
        await wait_for(pilot, lambda: len(halve_notes()) >= 2, "an error")
        await pilot.press("h")
        await wait_for(pilot, lambda: len(halve_notes()) >= 3, "a second error")
        first_error, second_error = halve_notes()[1:]
        assert "Will reconnect on the next command" in first_error
        assert second_error == "LR ×0.5: trainer not reachable"


async def test_trainer_crash_shows_failure_and_log(live_loop):
    loop = live_loop("--crash-at", "30")
    app = MaouApp(loop.run_dir, mode="attach", theme="dark")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: loop.process.poll() is not None, "the crash", timeout=20)
        await wait_for(pilot, lambda: "FAILED" in status_text(app), "FAILED", timeout=10)
        assert "exited without" in status_text(app) or "gone" in status_text(app)
        assert has_note(app, "exited without finishing the run: RuntimeError: simulated crash")
        assert "simulated crash" in status_text(app)
        pane = app.main.log_pane  # it repaints at its pace: the crash may be a repaint away
        await wait_for(pilot, lambda: "simulated crash" in "\n".join(pane.texts()), "the log")


async def test_run_mode_waits_for_a_trainer_that_starts_late(tmp_path, live_loop):
    run_dir = tmp_path / "run0"  # the directory live_loop() will use
    run_dir.mkdir()
    app = MaouApp(run_dir, mode="run", theme="dark")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.3)
        assert app.store.last_step == 0
        loop = live_loop()
        assert loop.run_dir == run_dir
        await loaded(pilot, app, min_steps=3)
        await pilot.press("h")
        await wait_for(pilot, lambda: has_note(app, "LR ×0.5: applied at step"), "halve ack")

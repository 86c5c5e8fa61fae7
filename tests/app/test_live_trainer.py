"""The app against the real trainer (tiny preset, small data): keys reach the training loop and
come back as events. Slow (torch start-up and real steps): run with ``-m slow``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from pilot import has_note, loaded, status_text, wait_for
from processes import child_env, wait_until

from maou_tui.app import MaouApp
from maou_tui.sdk import find_socket

pytestmark = pytest.mark.slow

TRAINER_OPTIONS = [
    "--stage2-positions", "500", "--stage3-games", "4", "--stage1-max-epochs", "30",
    "--num-threads", "1",
]  # fmt: skip


@pytest.fixture
def trainer_run(tmp_path: Path):
    run_dir = tmp_path / "run"
    process = subprocess.Popen(
        [sys.executable, "-m", "trainer", *TRAINER_OPTIONS, "--run-dir", str(run_dir)],
        env=child_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_until(lambda: find_socket(run_dir) is not None, 90, "the trainer's control socket")
        yield run_dir, process
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(30)


def events_of(run_dir: Path, kind: str) -> list[dict]:
    lines = (run_dir / "events.jsonl").read_text().splitlines()
    return [e for e in map(json.loads, lines) if e.get("type") == kind]


async def test_keys_steer_the_real_trainer(trainer_run):
    run_dir, process = trainer_run
    app = MaouApp(run_dir, mode="attach", theme="dark")
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot, app, min_steps=2)
        assert "REACHABLE" in status_text(app)
        await pilot.press("p")
        await wait_for(pilot, lambda: "PAUSED" in status_text(app), "PAUSED", timeout=60)
        await pilot.press("h")
        await wait_for(pilot, lambda: has_note(app, "LR ×0.5: applied"), "halve ack", timeout=30)
        await pilot.press("p")
        await wait_for(pilot, lambda: has_note(app, "resume: applied"), "resume ack", timeout=30)
        await pilot.press("c")
        await wait_for(
            pilot, lambda: events_of(run_dir, "checkpoint_saved"), "a checkpoint", timeout=60
        )
        await pilot.press("s", "y")
        await wait_for(pilot, lambda: app.store.finished is not None, "run_finished", timeout=60)
        # the status panel repaints at its pace (STATUS_INTERVAL_S), not on every event
        await wait_for(pilot, lambda: "STOPPED" in status_text(app), "STOPPED", timeout=5)
    process.wait(30)
    (halve,) = [e for e in events_of(run_dir, "control") if e["command"] == "scale_lr"]
    assert halve["after"]["lr_multiplier"] == 0.5
    assert events_of(run_dir, "paused") and events_of(run_dir, "resumed")
    assert events_of(run_dir, "run_finished")[0]["status"] == "stopped"

"""What the app tells with time rather than data: a stall while the trainer lives, a death
before it wrote anything but trainer.out, findings that come after their data was drawn."""

from __future__ import annotations

import os
import sys

import pytest
from pilot import loaded, notes, status_text, wait_for

from maou_tui.app import MaouApp, maou_app
from maou_tui.app.widgets.findings import FindingsPanel
from maou_tui.launch import start_detached
from maou_tui.layout import PID_FILE

SIZE = (120, 40)


@pytest.fixture(autouse=True)
def _fast_liveness_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(maou_app, "LIVENESS_INTERVAL_S", 0.2)


async def test_a_live_trainer_without_new_steps_is_reported_as_stalled(demo_dir):
    (demo_dir / PID_FILE).write_text(f"{os.getpid()}\n")  # a live process "trains" the demo
    now = [1000.0]
    app = MaouApp(demo_dir, mode="attach", theme="dark", clock=lambda: now[0])
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, app, min_steps=100)
        await wait_for(pilot, lambda: app.up_to_date, "the demo run on screen")
        assert not [f for f in app.diagnoser.findings if f.kind == "stall"]
        now[0] += 600  # ten minutes pass; no event arrives
        await wait_for(
            pilot, lambda: any(f.kind == "stall" for f in app.diagnoser.findings), "a stall"
        )
        body = app.main.query_one(FindingsPanel).query_one("#findings-body")
        await wait_for(pilot, lambda: "no new step" in str(body.render()), "stall shown")


async def test_a_trainer_dying_before_train_log_shows_its_error(tmp_path):
    run_dir = tmp_path / "run"
    error = "ValueError: no positions in data/empty.hcpe; generate data first"
    script = f"import sys; print('loading data', flush=True); sys.exit({error!r})"
    launched = start_detached([sys.executable, "-c", script], run_dir, wait_s=0)
    app = MaouApp(run_dir, mode="run", theme="dark", trainer_pid=launched.pid)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: "FAILED" in status_text(app), "FAILED", timeout=20)
            assert "no positions in data/empty.hcpe" in status_text(app)
            assert any("no positions" in note for note in notes(app))
            log = app.main.log_pane
            await wait_for(pilot, lambda: "loading data" in "\n".join(log.texts()), "trainer.out")
            assert log.border_title == "trainer.out"
    finally:
        launched.process.wait(10)


async def test_a_finding_diagnosed_after_the_charts_were_drawn_is_shown(diverged_log, monkeypatch):
    # A slow diagnosis pace: the charts of the whole history are drawn before it is diagnosed.
    monkeypatch.setattr(maou_app, "DIAGNOSE_INTERVAL_S", 1.0)
    app = MaouApp(diverged_log, mode="watch", theme="dark")
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, app, min_steps=100)
        await wait_for(pilot, lambda: app.up_to_date, "the log diagnosed")
        assert "divergence" in [f.kind for f in app.diagnoser.findings]
        body = app.main.query_one(FindingsPanel).query_one("#findings-body")
        await wait_for(pilot, lambda: "divergence" in str(body.render()), "divergence shown")

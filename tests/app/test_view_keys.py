"""View keys, help, palette, run switching and read-only watch mode, on a fixed run."""

from __future__ import annotations

from pathlib import Path

from demo_run import write_demo_run
from pilot import has_note, loaded, status_text, wait_for

from maou_tui.app import MaouApp
from maou_tui.app.chart_view import x_range
from maou_tui.app.help import HelpScreen
from maou_tui.app.keys import (
    KEY_MAP,
    LOG_KEY_MAP,
    NAV_KEYS,
    OVERLAY_KEYS,
    RUN_LIST_KEYS,
    RUNS_KEYS,
)
from maou_tui.app.screens.runs import RunsScreen
from maou_tui.app.widgets.charts import LossChart, LrChart

SIZE = (120, 40)


def chart(app: MaouApp, kind: type):
    return app.main.query_one(kind)


async def test_smoothing_keys_change_the_loss_curve(demo_dir: Path):
    app = MaouApp(demo_dir, mode="attach", theme="dark")
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, app, min_steps=170)
        assert "EMA 0.9" in chart(app, LossChart).chart_title
        await pilot.press("plus")
        await wait_for(pilot, lambda: "EMA 0.95" in chart(app, LossChart).chart_title, "0.95")
        await pilot.press("minus", "minus")
        await wait_for(pilot, lambda: "EMA 0.8," in chart(app, LossChart).chart_title, "0.8")


async def test_g_toggles_the_lr_log_scale(demo_dir: Path):
    app = MaouApp(demo_dir, mode="attach", theme="dark")
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, app, min_steps=170)
        assert chart(app, LrChart).chart_title == "LR (log)"
        await pilot.press("g")
        await wait_for(pilot, lambda: chart(app, LrChart).chart_title == "LR", "linear LR")


async def test_z_zooms_to_the_current_stage_and_back(demo_dir: Path):
    app = MaouApp(demo_dir, mode="attach", theme="dark")
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, app, min_steps=170)
        assert x_range(app.store, app.view) == (0.0, 170.0)
        await pilot.press("z")
        assert x_range(app.store, app.view) == (130.0, 170.0)  # Stage 3 only
        assert has_note(app, "zoom: current stage")
        await pilot.press("z")
        assert has_note(app, "zoom: whole run")


async def test_T_cycles_themes(demo_dir: Path):
    app = MaouApp(demo_dir, mode="attach", theme="dark")
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, app, min_steps=170)
        seen = {app.theme}
        for _ in range(3):
            await pilot.press("T")
            seen.add(app.theme)
        assert {"dark", "light", "high-contrast"} <= seen


async def test_help_screen_lists_every_key(demo_dir: Path):
    app = MaouApp(demo_dir, mode="attach", theme="dark")
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, app, min_steps=170)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        table = app.screen.query_one("DataTable")
        rows = [table.get_row_at(i) for i in range(table.row_count)]
        keys = {key for key, _ in rows}
        main = {"p", "h", "u", "l", "t", "c", "s", "n", "+ =", "-", "g", "z", "r", "T", "L", "?"}
        main |= {"q", "y", "m", "]", "[", ",", ".", "i", "o", "<", ">", "Esc", "x"}
        moves = {"←", "→", "j ↓", "k ↑", "Home", "G End"}
        runs = {"space", "enter", "m", "M", "x", "R", "Esc q r", ",", ".", "b", "w", "e"}
        log = {"/", "n", "N", "F", "P"}  # the log's, in the full-screen log
        assert main | moves | runs | log | {"ctrl+p"} <= keys
        every = KEY_MAP + NAV_KEYS + LOG_KEY_MAP + RUN_LIST_KEYS + RUNS_KEYS + OVERLAY_KEYS
        sections = 4
        assert len(rows) == len(every) + sections + 1  # + ctrl+p
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_command_palette_runs_a_command(demo_dir: Path):
    app = MaouApp(demo_dir, mode="attach", theme="dark")
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, app, min_steps=170)
        await pilot.press("ctrl+p")
        options = app.screen.query("OptionList").first()
        await wait_for(pilot, lambda: options.option_count > 20, "the palette's entries")
        prompts = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        # One line per command (issue 17: a help line repeating the title read as each twice).
        zoom = [p for p in prompts if p.startswith("Zoom")]
        assert zoom == ["Zoom: current stage / whole run (z)"], zoom
        assert not any(p.endswith("(+) (+)") for p in prompts)
        await pilot.press(*"zoom")
        await wait_for(
            pilot,
            lambda: (
                "Zoom" in str(app.screen.query("OptionList").first().get_option_at_index(0).prompt)
            ),
            "a hit",
        )
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.view.zoom_stage, "zoom from the palette")


async def test_r_switches_to_another_run(tmp_path: Path):
    root = tmp_path / "runs"
    first = write_demo_run(root / "20260101-000000-resnet-tiny")
    second = write_demo_run(root / "20260102-000000-resnet-tiny", finished="failed")
    app = MaouApp(first, mode="attach", theme="dark", runs_root=root)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, app, min_steps=170)
        await pilot.press("r")
        assert isinstance(app.screen, RunsScreen)
        assert app.screen.runs == [second, first]  # newest first
        await pilot.press("k", "enter")  # from the run on show up to the newer run
        await wait_for(pilot, lambda: app.target.run_dir == second, "the switch")
        await wait_for(pilot, lambda: app.store.finished is not None, "the new run's events")
        await wait_for(pilot, lambda: "FAILED" in status_text(app), "its failure in the status")
        assert "RuntimeError: boom" in status_text(app)


async def test_watch_without_socket_is_read_only(demo_dir: Path):
    app = MaouApp(demo_dir / "train.log", mode="watch", theme="dark")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.3)
        for key in ("p", "h", "u", "l", "t", "c", "s", "n"):
            app.clear_notifications()
            await pilot.press(key)
            assert has_note(app, "read-only: no control socket for this log"), key
            assert app.screen is app.main  # no dialog opened


async def test_failed_run_shows_the_failure(tmp_path: Path):
    run = write_demo_run(tmp_path / "failed-run", finished="failed")
    app = MaouApp(run, mode="attach", theme="dark")
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, app, min_steps=170)
        await wait_for(pilot, lambda: has_note(app, "training failed: RuntimeError: boom"), "note")
        assert "FAILED" in status_text(app)


async def test_corrupt_line_is_skipped_and_counted(demo_dir: Path):
    app = MaouApp(demo_dir, mode="attach", theme="dark")
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, app, min_steps=170)
        assert app.store.last_step == 170  # everything after the corrupt line still arrived
        assert "skipped 1 corrupt line(s)" in status_text(app)


MAOU_LOG = """\
2026-11-22T09:24:13+09:00 | INFO  |    train_log.py |         stage_banner |  70 | STAGE 1: REACHABLE SQUARES LEARNING
2026-11-22T09:24:13+09:00 | INFO  |    train_log.py |             starting |  74 | Starting REACHABLE_SQUARES (TrainingLoop): max_epochs=3, threshold=99.0%
2026-11-22T09:24:39+09:00 | INFO  |    train_log.py |       batch_progress | 101 | Epoch 1 Batch 3/35: Loss=0.5833, Accuracy=70.29%
2026-11-22T09:24:52+09:00 | INFO  |    train_log.py |       batch_progress | 101 | Epoch 1 Batch 6/35: Loss=0.4646, Accuracy=80.24%
2026-11-22T09:25:01+09:00 | INFO  |    train_log.py |       batch_progress | 101 | Epoch 1 Batch 9/35: Loss=0.4058, Accuracy=83.83%
"""  # noqa: E501


async def test_watching_a_maou_log(tmp_path: Path):
    log = tmp_path / "maou.log"
    log.write_text(MAOU_LOG)
    app = MaouApp(log, mode="watch", theme="dark")
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, app, min_steps=9)
        assert list(app.store.series("loss").values) == [0.5833, 0.4646, 0.4058]
        text = status_text(app)
        assert "read-only" in text and "REACHABLE_SQUARES" in text and "FAILED" not in text
        log_pane = app.main.query_one("#log")
        await wait_for(pilot, lambda: log_pane.line_count == 5, "the log pane")
        with log.open("a") as handle:  # the run goes on: the new line shows up
            handle.write(MAOU_LOG.splitlines()[-1].replace("Batch 9/35", "Batch 12/35") + "\n")
        await wait_for(pilot, lambda: app.store.last_step == 12, "the appended batch")
        await wait_for(pilot, lambda: log_pane.line_count == 6, "the appended log line")


async def test_f_gives_the_findings_the_arrow_keys(diverged_log: Path):
    app = MaouApp(diverged_log, mode="watch", theme="dark")
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot, app, min_steps=100)
        await wait_for(pilot, lambda: app.up_to_date, "the findings")
        panel = app.main.query_one("#findings")
        app.set_focus(None)
        await pilot.press("f", "pagedown")
        await wait_for(pilot, lambda: panel.scroll_y > 0, "the findings scrolled")

"""Any series on screen (picker, pages, the saved choice), the cursor's readout, x zoom / pan
/ follow and the epoch axis, with the app on the fixed demo run."""

from __future__ import annotations

import re
from pathlib import Path

from pilot import has_note, loaded, wait_for
from textual.events import MouseScrollUp

from maou_tui.app import MaouApp
from maou_tui.app.chart_choice import load_chart_choices
from maou_tui.app.chart_view import x_range
from maou_tui.app.screens.series_picker import SeriesPicker
from maou_tui.app.widgets.charts import LrChart, SeriesChart
from maou_tui.app.widgets.readout import Readout

SIZE = (120, 40)


def readout(app: MaouApp) -> str:
    widget = app.main.query_one(Readout)
    return str(widget.render()) if widget.display else ""


def first_chart(app: MaouApp) -> str:
    """The series of the first chart on screen ("" on the overview page)."""
    charts = app.main.charts
    return getattr(charts[0], "series_name", "") if charts else ""


def value_in(text: str, name: str) -> float:
    found = re.search(rf"(?:^|[ │·]){re.escape(name)} (-?[\d.,e+-]+)", text)
    assert found, f"{name} not in {text!r}"
    return float(found.group(1).replace(",", ""))


async def test_cursor_reads_the_stores_values_at_a_chosen_step(demo_dir: Path):
    app = MaouApp(demo_dir, mode="attach", theme="dark")
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, app, min_steps=170)
        assert readout(app) == ""  # following the tail: no cursor, no readout
        await pilot.press("comma")  # the cursor appears at the newest step
        assert app.view.cursor == 170 and not app.view.following
        while app.view.cursor > 85:  # walk left into Stage 2's second epoch
            await pilot.press("comma")
        step = app.view.cursor
        await wait_for(pilot, lambda: readout(app).startswith(f"step {step} "), "the readout")
        text = readout(app)
        store = app.store
        loss = store.series("loss")
        i = int((loss.steps <= step).sum()) - 1
        assert loss.steps[i] == step
        assert value_in(text, "loss") == float(f"{loss.values[i]:.4g}")
        f1 = store.series("f1_cum")
        j = int((f1.steps <= step).sum()) - 1
        assert value_in(text, "f1_cum") == float(f"{f1.values[j]:.4g}")
        lr = store.series("lr")
        k = int((lr.steps <= step).sum()) - 1
        assert value_in(text, "LR") == float(f"{lr.values[k]:.4g}")
        # Stage 2 starts after step 40 with 30 batches an epoch.
        assert f"S2 epoch {(step - 40) / 30:.2f}" in text
        # Stage 1's accuracy lines end before this step: not read here.
        assert "accuracy" not in text
        await pilot.press("escape")
        await wait_for(pilot, lambda: readout(app) == "", "the readout to go")
        assert app.view.following


async def test_zoom_pan_and_the_wheel_then_follow_the_tail(demo_dir: Path):
    app = MaouApp(demo_dir, mode="attach", theme="dark")
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, app, min_steps=170)
        await pilot.press("i")
        assert x_range(app.store, app.view) == (85.0, 170.0)
        await pilot.press("less_than_sign")
        assert x_range(app.store, app.view) == (63.75, 148.75)
        await pilot.press("o")
        assert app.view.following  # widened to the whole run: following again
        lr = app.main.query_one(LrChart)
        # A wheel turn up over the middle of the plot (as the terminal reports it).
        middle = lr._axis_columns + 2 + (lr.size.width - lr._axis_columns - 3) // 2
        lr.post_message(MouseScrollUp(lr, middle, 5, 0, -1, 0, False, False, False))
        await wait_for(pilot, lambda: app.view.window is not None, "the wheel zoom")
        lo, hi = app.view.window
        assert hi - lo == 85.0 and lo < 85 < hi  # around the step under the pointer
        await pilot.press("escape")
        assert app.view.following and x_range(app.store, app.view) == (0.0, 170.0)


async def test_x_switches_between_step_and_epoch(demo_dir: Path):
    app = MaouApp(demo_dir, mode="attach", theme="dark")
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, app, min_steps=170)
        lr = app.main.query_one(LrChart)
        assert "x: step" in lr.render().plain and lr.x_limits == (0.0, 170.0)
        await pilot.press("x")
        await wait_for(pilot, lambda: lr.axis.unit == "epoch", "the epoch axis")
        await pilot.pause()
        assert "x: epoch" in lr.render().plain
        # The x axis ends at the run's 6th epoch (2 + 3 + 1).
        assert lr.x_limits == (0.0, 6.0)
        await pilot.press("x")
        await wait_for(pilot, lambda: lr.x_limits == (0.0, 170.0), "the step axis")


async def test_picker_chooses_series_pages_show_them_and_the_choice_is_kept(demo_dir: Path):
    app = MaouApp(demo_dir, mode="attach", theme="dark")
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, app, min_steps=170)
        # By default the pages after the overview hold every series it does not show.
        await pilot.press("right_square_bracket")
        await wait_for(pilot, lambda: first_chart(app) == "samples_per_s", "p. 2")
        shown = [c.series_name for c in app.main.query(SeriesChart) if c.display]
        assert shown == ["samples_per_s", "lr_multiplier", "train_loss"]
        await pilot.press("m")
        await wait_for(pilot, lambda: isinstance(app.screen, SeriesPicker), "the picker")
        # Some unticked: ctrl+a ticks all; all ticked: it unticks them.
        await pilot.press("ctrl+a", "ctrl+a")
        assert app.screen.chosen == set()
        await pilot.press(*"val_*")
        await pilot.press("ctrl+a")  # tick the four val_* series
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: not isinstance(app.screen, SeriesPicker), "closing")
        expected = ["val_loss", "val_accuracy", "val_f1", "val_policy_accuracy"]
        await wait_for(pilot, lambda: first_chart(app) == "val_loss", "page 2")
        assert [c.series_name for c in app.main.charts] == expected[:3]
        assert "page 2/3" in app.main.charts[0].chart_title
        await pilot.press("right_square_bracket", "right_square_bracket")  # stops at the last
        await wait_for(pilot, lambda: first_chart(app) == "val_policy_accuracy", "3")
        assert app.view.page == 2
        assert [c.series_name for c in app.main.charts] == expected[3:]
        choices, error = load_chart_choices()
        assert error is None and choices.trainer == expected
        assert has_note(app, "4 series on 2 page(s)")
    again = MaouApp(demo_dir, mode="attach", theme="dark")
    async with again.run_test(size=SIZE) as pilot:
        await loaded(pilot, again, min_steps=170)
        await pilot.press("right_square_bracket")
        await wait_for(pilot, lambda: first_chart(again) == "val_loss", "kept")

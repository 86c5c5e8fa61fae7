"""The runs screen (``r``): the run list, the overlay of selected runs read at a chosen step,
by step and by epoch, the config differences; and the vim keys moving between panels."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import numpy as np
import pytest
from demo_run import write_demo_run
from pilot import loaded, wait_for

from maou_tui import compare
from maou_tui.app import MaouApp
from maou_tui.app.screens.runs import RunsScreen
from maou_tui.app.widgets.config_diff import ConfigDiff
from maou_tui.app.widgets.overlay import OverlayChart
from maou_tui.app.widgets.overlay_legend import OverlayLegend
from maou_tui.app.widgets.run_list import RunList
from maou_tui.ingest import load_store

SIZE = (160, 50)
GOLDEN = Path(__file__).resolve().parents[1] / "ingest" / "golden"


def _age(run: Path, seconds: float) -> None:
    """Make every file of ``run`` ``seconds`` old (the list's age and order come from it)."""
    stamp = time.time() - seconds
    for path in [*run.iterdir(), run]:
        os.utime(path, (stamp, stamp))


def write_two_runs(root: Path) -> tuple[Path, Path]:
    """An older run in Stage 3 and a newer one in Stage 1 with another Stage 1 LR."""
    older = write_demo_run(root / "20260101-000000-lr1e-3", moment="mid")
    newer = write_demo_run(root / "20260102-000000-lr2e-3", moment="threshold")
    for run, lr in ((older, 0.001), (newer, 0.002)):
        config = {"model_architecture": "resnet", "stage1_learning_rate": lr, "batch_size": 32}
        (run / "config.json").write_text(json.dumps(config))
    _age(older, 3 * 86400 + 7200)
    _age(newer, 3 * 86400 + 3600)
    return older, newer


async def open_runs(pilot, app: MaouApp) -> RunsScreen:
    await loaded(pilot, app, min_steps=1)
    await pilot.press("r")
    screen = app.screen
    assert isinstance(screen, RunsScreen)
    await wait_for(pilot, lambda: len(screen.stores) == len(screen.runs), "every run read")
    await pilot.pause()
    return screen


def legend_text(screen: RunsScreen) -> str:
    return str(screen.query_one(OverlayLegend).render())


async def test_compare_two_runs(tmp_path: Path):
    """One session through the screen (each app start costs seconds on a busy machine)."""
    older, newer = write_two_runs(tmp_path / "runs")
    app = MaouApp(older, mode="attach", theme="dark", runs_root=tmp_path / "runs")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_runs(pilot, app)
        # The list: status, stage, age, last metric; the run on show is selected at first.
        table = screen.query_one(RunList)
        rows = [table.get_row_at(i) for i in range(table.row_count)]
        assert rows[0] == ["", "20260102-000000-lr2e-3", "running", "1 REACHABLE_SQUARES",
                           "3d", "0.7609 val_accuracy"]  # fmt: skip
        assert rows[1][:5] == ["●", "20260101-000000-lr1e-3", "running", "3 POLICY_VALUE", "3d"]
        assert rows[1][5].endswith(" val_policy_accuracy")
        assert screen.selected == [older]
        diff = screen.query_one(ConfigDiff)
        assert diff.border_title == "config: select two runs or more"

        await pilot.press("k", "space")  # the newer run too
        assert screen.selected == [newer, older]
        chart = screen.query_one(OverlayChart)
        assert [line.label for line in chart.lines] == [newer.name, older.name]
        # What differs in their configs, and where that came from.
        assert [diff.get_row_at(i) for i in range(diff.row_count)] == [
            ["stage1_learning_rate", "0.002", "0.001"]
        ]
        assert diff.border_title == "config: 1 differ"
        assert diff.border_subtitle == "from config.json"

        # Each run's value at a chosen step, read by the legend.
        await pilot.press("G", "j")  # the list's end, then past it: the overlay
        assert app.focused is chart
        await pilot.press(*"bbbbbb", *["comma"] * 6)  # 170 - 6×21 - 6×2
        step = chart.cursor_x
        assert step == 32  # inside the newer run's 34 steps
        legend = legend_text(screen)
        assert f"loss at step {step:.0f} (cursor)" in legend
        for run in (newer, older):
            loss = load_store(run).series("loss")
            expected = compare.value_at(loss.steps.astype(float), loss.values, step)
            assert f"{run.name}  {expected:.5g}" in legend
        await pilot.press("m")  # the next series
        assert screen.series_name == "val_loss" and chart.series_name == "val_loss"

        # By epoch: 2 + 3 epochs of Stages 1 and 2, then the first of Stage 3.
        await pilot.press("M", "x")
        assert chart.align == "epoch" and "loss at epoch 6.00 (end)" in legend_text(screen)
        xs = chart.lines[1].xs
        assert len(xs) == 170 and np.all(np.diff(xs) > 0) and xs[-1] == 6.0


def test_epoch_axis_counts_epochs_across_stages(tmp_path: Path):
    store = load_store(write_demo_run(tmp_path / "run"))
    xs, _ = compare.aligned(store, "val_loss", "epoch")
    assert xs.tolist() == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]  # each epoch's end
    steps, values = compare.aligned(store, "loss", "step")
    assert steps[0] == 1 and len(values) == 170


def test_foreign_log_config_is_what_it_printed():
    log = GOLDEN / "maou_stage12.log"
    config, source = compare.run_config(log, load_store(log))
    assert source == "the log's stage lines"
    assert config["stage2.lr_scale"] == "4" and config["stage1.scheduler"] == "Warmup+CosineDecay"


@pytest.mark.parametrize("size", [(80, 24), (160, 50)])
def test_runs_screen_snapshot(snap_compare, tmp_path: Path, size):
    older, _ = write_two_runs(tmp_path / "runs")

    async def compare_both(pilot) -> None:
        await open_runs(pilot, pilot.app)
        await pilot.press("k", "space")
        await pilot.app.workers.wait_for_complete()
        pilot.app.clear_notifications()
        await pilot.pause()

    app = MaouApp(older, mode="attach", theme="dark", runs_root=tmp_path / "runs")
    assert snap_compare(app, terminal_size=size, run_before=compare_both)


async def test_vim_keys_move_between_panels(demo_dir: Path):
    app = MaouApp(demo_dir, mode="attach", theme="dark")
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, app, min_steps=170)
        assert app.focused is not None and app.focused.id == "loss-chart"
        await pilot.press("j")
        assert app.focused.id == "metric-chart"
        await pilot.press("down")
        assert app.focused.id == "lr-chart"
        await pilot.press("right")
        assert app.focused.id == "findings"
        await pilot.press("left")
        assert app.focused.id in {"loss-chart", "metric-chart", "lr-chart"}
        await pilot.press("j", "j", "j")  # the lowest chart: nothing below (the log pane is
        assert app.focused.id == "lr-chart"  # read full screen with L, not focused here)
        await pilot.press("k")
        assert app.focused.id == "metric-chart"


def test_nearest_panel_prefers_the_one_most_in_line():
    from textual.geometry import Region

    from maou_tui.app.panel_nav import nearest

    current = Region(0, 0, 120, 5)  # a full-width list
    chart, table, log = object(), object(), object()
    below = [(table, Region(80, 5, 40, 20)), (chart, Region(0, 5, 80, 20)),
             (log, Region(0, 25, 120, 5))]  # fmt: skip
    assert nearest(current, below, "down") is chart  # overlaps it most
    assert nearest(Region(0, 5, 80, 20), below[:1] + below[2:], "right") is table
    assert nearest(Region(0, 5, 80, 20), below[:1] + below[2:], "down") is log
    assert nearest(current, below, "up") is None

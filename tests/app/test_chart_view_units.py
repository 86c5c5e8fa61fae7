"""The x axis (steps and epochs), the view's zoom / pan / cursor arithmetic, the picker's filter
and the saved chart choice, on the fixed demo run's store."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from demo_run import write_demo_run

from maou_tui.app.chart_choice import choices_path, load_chart_choices, save_chart_choice
from maou_tui.app.chart_view import ChartView, move_cursor, pan, x_range, zoom
from maou_tui.app.screens.series_picker import matches
from maou_tui.app.widgets.charts import x_ticks
from maou_tui.ingest import load_store
from maou_tui.store import RunStore
from maou_tui.x_axis import EpochAxis


@pytest.fixture
def store(tmp_path: Path) -> RunStore:
    """Stage 1: steps 1-40 (20 a epoch), Stage 2: 41-130 (30), Stage 3: 131-170 (40)."""
    run = write_demo_run(tmp_path / "demo")
    return load_store(run)


def test_epoch_axis_counts_epochs_across_stages(store: RunStore):
    axis = EpochAxis.of(store)
    assert axis is not None
    x = axis.x(np.array([10, 20, 40, 55, 130, 150, 170]))
    # Stage 1 ran 2 epochs, Stage 2 three more; step 55 is batch 15 of Stage 2's first epoch.
    assert x.tolist() == pytest.approx([0.5, 1.0, 2.0, 2.5, 5.0, 5.5, 6.0])
    assert axis.stage_epoch(55) == (2, pytest.approx(0.5))
    assert axis.stage_epoch(150) == (3, pytest.approx(0.5))
    assert axis.origin(3) == pytest.approx(5.0)
    # A zoomed Stage 3 labels its own epochs.
    positions, labels = x_ticks("epoch", 5.0, 6.0, 60, axis.origin(3))
    assert labels[0] == "0.0" and labels[-1] == "1.0"
    assert positions[0] == pytest.approx(5.0)


def test_no_epoch_axis_without_epoch_columns():
    assert EpochAxis.of(RunStore()) is None


def test_zoom_pan_and_cursor_keep_inside_the_run(store: RunStore):
    view = ChartView()
    assert view.following and x_range(store, view) == (0.0, 170.0)
    zoom(store, view, 0.5)  # around the right edge: the newest half
    assert view.window == (85.0, 170.0) and not view.following
    pan(store, view, -1)
    assert view.window == pytest.approx((63.75, 148.75))
    pan(store, view, 1)
    pan(store, view, 1)  # never past the last step
    assert view.window == (85.0, 170.0)
    zoom(store, view, 4.0)  # wider than the run: follow the tail again
    assert view.window is None and view.following
    move_cursor(store, view, -1, 85)  # the first press: the right edge
    assert view.cursor == 170
    move_cursor(store, view, -10, 85)  # 2 steps a column
    assert view.cursor == 150 and view.window == (0.0, 170.0)
    zoom(store, view, 0.25)  # around the cursor, which keeps its place on screen
    lo, hi = view.window
    assert lo < 150 < hi and (150 - lo) / (hi - lo) == pytest.approx(150 / 170)
    view.follow()
    assert view.following


def test_picker_filter_is_a_substring_or_a_glob():
    assert matches("acc", "val_policy_accuracy")
    assert matches("VAL_*", "val_loss") and not matches("val_*", "train_val_loss")
    assert matches("*accuracy", "policy_top5_accuracy") and not matches("*acc", "accuracy_cum")
    assert matches("", "anything")


def test_chart_choice_is_saved_per_kind():
    assert save_chart_choice("maou_log", ["val_loss", "samples_per_s"]) is None
    assert save_chart_choice("trainer", []) is None
    choices, error = load_chart_choices()
    assert error is None
    assert choices.maou_log == ["val_loss", "samples_per_s"] and choices.trainer == []
    assert choices.other is None
    assert choices_path().name == "charts.json"  # not the settings file people edit


def test_a_broken_choices_file_is_reported_and_left_alone():
    path = choices_path()
    path.parent.mkdir(parents=True)
    path.write_text('{"trainer": "loss"}')  # not a list
    choices, error = load_chart_choices()
    assert choices.trainer is None and error is not None and str(path) in error
    assert save_chart_choice("trainer", ["loss"]) is not None
    assert path.read_text() == '{"trainer": "loss"}'

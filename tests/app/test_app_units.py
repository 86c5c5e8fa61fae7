"""The app's pure parts: smoothing, labels, status lines, finding text, targets."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from demo_run import write_demo_run
from textual.markup import to_content

from maou_tui.app.data import resolve_target
from maou_tui.app.smoothing import SMOOTHING_LEVELS, SmoothedCache, sample_at, step_level
from maou_tui.app.widgets.charts import step_ticks
from maou_tui.app.widgets.findings import format_finding
from maou_tui.app.widgets.status import format_duration, lr_origin
from maou_tui.diagnose.models import Advice, Finding
from maou_tui.marks import control_label
from maou_tui.protocol import ControlApplied, StageStarted


def reference_ema(values: list[float], w: float) -> list[float]:
    last, count, out = 0.0, 0, []
    for x in values:
        if math.isnan(x):
            out.append(math.nan)
            continue
        last, count = last * w + (1 - w) * x, count + 1
        out.append(last / (1 - w**count))
    return out


def test_smoothing_is_debiased_and_incremental() -> None:
    values = np.array([1.0, 2.0, math.nan, 4.0, 3.0, 5.0])
    cache = SmoothedCache(0.9)
    first = cache.update(values[:3]).copy()
    full = cache.update(values)
    expected = reference_ema(values.tolist(), 0.9)
    np.testing.assert_allclose(full, expected, equal_nan=True)
    np.testing.assert_allclose(first, expected[:3], equal_nan=True)
    assert full[0] == 1.0  # debiased: the first value is not pulled towards 0


def test_smoothing_starts_over_for_a_new_run() -> None:
    cache = SmoothedCache(0.6)
    cache.update(np.array([10.0, 10.0, 10.0]))
    assert cache.update(np.array([1.0]))[0] == 1.0


def test_smoothing_levels_stop_at_the_ends() -> None:
    assert step_level(0.9, +1) == 0.95
    assert step_level(SMOOTHING_LEVELS[-1], +1) == SMOOTHING_LEVELS[-1]
    assert step_level(0.0, -1) == 0.0


def test_sample_at_keeps_the_range_and_the_last_point() -> None:
    steps = np.arange(1, 100_001)
    values = steps * 2.0
    xs, ys = sample_at(steps, values, 1, 100_000, 50)
    assert len(xs) <= 50 and xs[0] == 1 and xs[-1] == 100_000
    np.testing.assert_array_equal(ys, xs * 2.0)


def test_lr_origin_reads_like_the_sqrt_scaling_rule() -> None:
    stage = StageStarted(
        stage=2, name="LEGAL_MOVES", metric="f1", base_lr=0.0001, lr_scale=4.0,
        effective_lr=0.0004, batch_size=4096,
    )  # fmt: skip
    assert lr_origin(stage, 0.5) == "base 0.000100 × √(4096/256)=4.00 → 0.000400 × m 0.5 = 0.000200"
    assert lr_origin(stage, 1.0) == "base 0.000100 × √(4096/256)=4.00 → 0.000400"


def test_x_ticks_are_round_steps_that_fit_the_width() -> None:
    assert step_ticks(0, 247, 37) == [0, 100, 200]  # plotext alone labels 0, 61.8, 123.5 ...
    assert step_ticks(0, 247, 140) == [0, 50, 100, 150, 200]
    assert step_ticks(1000, 1347, 37) == [1000, 1100, 1200, 1300]  # a zoomed stage
    assert step_ticks(0, 3, 37) == [0, 1, 2, 3]  # never a fractional step
    for x_max, width in [(10**6, 37), (10**6, 160), (55_555, 60)]:
        ticks = step_ticks(0, x_max, width)
        label_columns = len(str(x_max)) + 1
        assert len(ticks) * label_columns <= width, (x_max, width, ticks)


def test_durations() -> None:
    assert format_duration(42) == "0:42"
    assert format_duration(3725) == "1:02:05"
    assert format_duration(None) == "–"


def test_control_labels() -> None:
    halve = ControlApplied(
        command="scale_lr", id="a", applied_at_step=5,
        before={"lr_multiplier": 1.0}, after={"lr_multiplier": 0.5},
    )  # fmt: skip
    threshold = ControlApplied(
        command="set_threshold", id="b", applied_at_step=5,
        after={"threshold_stage2": {"value": 0.995, "action": "advance"}},
    )  # fmt: skip
    assert control_label(halve) == ("LR×0.5", "LR")
    # All the digits the user typed: 0.995 never reads as 0.99 (issue 17 item 1).
    assert control_label(threshold) == ("T S2 0.995", "T")


def test_finding_text_names_option_value_and_key() -> None:
    finding = Finding(
        id="x", kind="oscillation", severity="warning", stage=2, step=812, last_step=900,
        message="loss goes up and down", evidence={"amplitude": 0.12345},
        advice=Advice(
            option="--stage2-learning-rate", current=0.0004, suggested=0.0002, action="halve_lr"
        ),
    )  # fmt: skip
    text = format_finding(finding)
    assert "--stage2-learning-rate 0.0002[/b] (now 0.0004)" in text
    assert "amplitude=0.1235" in text
    assert "press [b $accent]h[/] halve LR" in text
    assert "press h halve LR" in to_content(text).plain


def test_targets(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    old = write_demo_run(runs / "20260101-000000-resnet-tiny")
    new = write_demo_run(runs / "20260102-000000-resnet-tiny")
    assert resolve_target(runs).run_dir == new  # a directory of runs: the newest
    assert resolve_target(old).log_path == old / "train.log"
    events = resolve_target(old / "events.jsonl")
    assert (events.source, events.run_dir) == (old / "events.jsonl", old)
    empty = tmp_path / "starting"
    empty.mkdir()  # a run whose trainer has not written yet
    assert resolve_target(empty).run_dir == empty
    foreign = tmp_path / "maou.log"
    foreign.write_text("x\n")
    teed = tmp_path / "tb-run"  # a run folder (its config, event files) with a tee'd log
    teed.mkdir()
    (teed / "config.json").write_text("{}")
    (teed / "maou.log").write_text("x\n")
    assert resolve_target(teed).log_path == teed / "maou.log"
    log = resolve_target(foreign)
    assert (log.source, log.run_dir, log.log_path) == (foreign, None, foreign)

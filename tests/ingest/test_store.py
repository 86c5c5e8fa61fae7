"""RunStore: series from events, marks, status; decimation keeps extremes and is stable."""

from __future__ import annotations

import math

import numpy as np
import pytest

from maou_tui.protocol import (
    EpochEnd,
    Paused,
    Phase,
    Resumed,
    RunFinished,
    RunStarted,
    StageStarted,
    Step,
)
from maou_tui.store import RunStore, Series


def _step(g: int, **kw) -> Step:
    fields = {"stage": 2, "epoch": 1, "batch": g, "global_step": g, "loss": 1.0 / g}
    return Step(**(fields | kw))


def test_events_fill_named_series_with_their_stage_epoch_and_batch() -> None:
    store = RunStore()
    store.apply(RunStarted(pid=1))
    store.apply(StageStarted(stage=2, name="legal_moves", metric="f1", start_step=0))
    store.apply(Phase(stage=2, phase="warmup", start_step=0, end_step=10))
    store.apply(_step(1, metric=0.5, metric_cum=0.4, lr=1e-4, lr_multiplier=0.5))
    store.apply(_step(2, loss=None, lr=2e-4))
    store.apply(
        EpochEnd(
            stage=2,
            epoch=1,
            global_step=2,
            train_loss=0.7,
            val_loss=0.8,
            val_metric=0.6,
            lr=2e-4,
            metrics={"policy_f1_score": 0.3},
        )
    )
    assert set(store.names()) >= {
        "loss",
        "f1",
        "f1_cum",
        "lr",
        "lr_multiplier",
        "train_loss",
        "val_loss",
        "val_f1",
        "policy_f1_score",
    }
    loss = store.series("loss")
    assert loss.steps.tolist() == [1, 2] and np.isnan(loss.values[1])
    assert (loss.stages.tolist(), loss.epochs.tolist(), loss.batches.tolist()) == (
        [2, 2],
        [1, 1],
        [1, 2],
    )
    assert store.series("lr").steps.tolist() == [1, 2]  # the epoch's LR at step 2 is not doubled
    assert store.series("lr_multiplier").values.tolist() == [0.5, 1.0]
    assert [m.kind for m in store.marks] == ["stage", "phase", "epoch"]
    assert (store.last_step, store.current_stage, store.current_epoch) == (2, 2, 1)


@pytest.mark.parametrize("many", [False, True], ids=["apply", "apply_all"])
def test_a_program_s_loss_is_the_loss_whatever_it_calls_its_metric(many: bool) -> None:
    """A stage metric named ``loss`` or a ``metrics`` key ``loss`` never replaces the loss;
    it fills the loss where the step has none, one point per step."""
    store = RunStore()
    store.apply(StageStarted(stage=1, name="TRAINING", metric="loss", start_step=0))
    steps = [
        _step(1, stage=1, loss=2.0, metric=9.0),
        _step(2, stage=1, loss=None, metric=1.5),
        _step(3, stage=1, loss=None, metrics={"loss": 1.25, "grad_norm": 0.5}),
        _step(4, stage=1, loss=1.0, metrics={"loss": 7.0}),
    ]
    if many:
        store.apply_all(steps)
    else:
        for step in steps:
            store.apply(step)
    loss = store.series("loss")
    assert loss.steps.tolist() == [1, 2, 3, 4]
    assert loss.values.tolist() == [2.0, 1.5, 1.25, 1.0]
    assert store.series("grad_norm").values.tolist() == [0.5]


def test_status_follows_pause_resume_and_finish() -> None:
    store = RunStore()
    assert store.status == "unknown"
    store.apply(RunStarted(pid=1))
    store.apply(Paused(step=5))
    assert (store.status, store.paused) == ("paused", True)
    store.apply(Resumed(step=5))
    assert store.status == "running"
    version = store.version
    store.apply(RunFinished(status="stopped", reason="user", step=9))
    assert (store.status, store.last_step, store.version) == ("stopped", 9, version + 1)


def _filled(n: int, seed: int = 0) -> Series:
    rng = np.random.default_rng(seed)
    series = Series("loss")
    for step, value in enumerate(rng.normal(size=n), 1):
        series.append(step, float(value))
    return series


def test_decimation_keeps_each_buckets_min_max_and_the_last_point() -> None:
    series = _filled(1_000_000)
    x, y = series.decimate(1, 1_000_000, 200)
    assert len(x) <= 2 * 201 + 1
    values = series.values
    assert y.min() == values.min() and y.max() == values.max()
    assert (x[-1], y[-1]) == (1_000_000, values[-1])
    assert np.all(np.diff(x) > 0)
    stride = 8192  # power of two >= 1e6 / 200
    for bucket in np.unique(x[:-1].astype(np.int64) // stride)[:-1]:
        inside = values[(series.steps // stride) == bucket]
        got = y[(x.astype(np.int64) // stride) == bucket]
        assert got.min() == inside.min() and got.max() == inside.max()


def test_decimated_points_already_drawn_do_not_move_as_data_grows() -> None:
    series = _filled(50_000, seed=1)
    before = dict(zip(*series.decimate(0, 65_536, 100), strict=True))
    rng = np.random.default_rng(2)
    for step in range(50_001, 60_001):
        series.append(step, float(rng.normal()))
    after = dict(zip(*series.decimate(0, 65_536, 100), strict=True))
    stride = 1024
    last_bucket = 50_000 // stride
    kept = {x: y for x, y in before.items() if int(x) // stride < last_bucket}
    assert kept and all(after[x] == y for x, y in kept.items())


def test_decimation_of_a_short_series_returns_every_point_and_skips_nan_buckets() -> None:
    series = Series("f1")
    for step, value in [(1, 0.1), (2, float("nan")), (3, 0.3)]:
        series.append(step, value)
    x, y = series.decimate(0, 10, 100)
    assert x.tolist() == [1, 2, 3] and np.isnan(y[1])
    assert series.last() == (3, 0.3) and len(series) == 3


@pytest.mark.parametrize("width", [1, 7, 200])
def test_decimation_never_exceeds_about_two_points_per_column(width: int) -> None:
    series = _filled(20_000, seed=width)
    x, _ = series.decimate(1, 20_000, width)
    assert len(x) <= 2 * (width + 1) + 1


def test_a_phase_said_again_replaces_the_first_one() -> None:
    store = RunStore()
    store.apply(Phase(stage=1, phase="warmup", start_step=1, end_step=10))
    store.apply(Phase(stage=1, phase="warmup", start_step=1, end_step=20))
    assert [(p.phase, p.end_step) for p in store.phases] == [("warmup", 20)]
    assert [m.kind for m in store.marks] == ["phase"]


def _one_pass(series: Series, x_min: float, x_max: float, width: int):
    """What decimation picks from a single pass over the range (no cache)."""
    from maou_tui.series import _bucket_stride, _extremes

    steps, values = series.steps, series.values
    lo, hi = np.searchsorted(steps, x_min, "left"), np.searchsorted(steps, x_max, "right")
    if hi - lo <= 2 * max(width, 1):
        return steps[lo:hi].tolist(), values[lo:hi].tolist()
    stride = _bucket_stride(x_max - x_min, width)
    keep = np.unique(np.append(_extremes(steps[lo:hi] // stride, values[lo:hi]) + lo, hi - 1))
    return steps[keep].tolist(), values[keep].tolist()


def test_cached_decimation_picks_what_a_fresh_pass_picks_as_the_series_grows() -> None:
    rng = np.random.default_rng(5)
    series = Series("loss")
    step = 0
    for _ in range(40):
        for _ in range(int(rng.integers(1, 3000))):
            step += int(rng.integers(0, 3))  # repeated steps and gaps, as epoch ends give
            value = math.nan if rng.random() < 0.05 else float(rng.normal())
            series.append(step, value)
        for x_min in (0, step // 3, step - 100):
            x_min, width = max(0, x_min), int(rng.integers(5, 200))
            x, y = series.decimate(x_min, step, width)
            ref_x, ref_y = _one_pass(series, x_min, step, width)
            assert x.tolist() == ref_x
            np.testing.assert_array_equal(y, ref_y)


def test_columns_widen_instead_of_wrapping_large_steps_and_epochs() -> None:
    series = Series("loss")
    series.append(1, 0.5, 1, 2, 3)
    series.append(3_000_000_000, 0.25, 200, 70_000, 5_000_000_000)
    assert series.steps.tolist() == [1, 3_000_000_000]
    assert series.stages.tolist() == [1, 200]
    assert series.epochs.tolist() == [2, 70_000]
    assert series.batches.tolist() == [3, 5_000_000_000]

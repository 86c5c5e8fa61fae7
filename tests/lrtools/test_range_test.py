"""The range test's smoothing, stop rule, trimming and suggestion algorithms on known curves."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from maou_tui.lrtools.range_test import (
    LossSmoother,
    analyse,
    exponential_lrs,
    minimum,
    smooth_losses,
    steepest,
    trim,
    valley,
)


def fastai_valley_reference(lrs: list[float], losses: list[float]) -> float:
    """fastai/callback/schedule.py ``valley``, line for line (the published O(n²) loop)."""
    n = len(losses)
    max_start, max_end = 0, 0
    lds = [1] * n
    for i in range(1, n):
        for j in range(0, i):
            if (losses[i] < losses[j]) and (lds[i] < lds[j] + 1):
                lds[i] = lds[j] + 1
            if lds[max_end] < lds[i]:
                max_end = i
                max_start = max_end - lds[max_end]
    sections = (max_end - max_start) / 3
    idx = max_start + int(sections) + int(sections / 2)
    return float(lrs[idx])


def valley_curve(lrs: np.ndarray) -> np.ndarray:
    """A textbook range-test curve: flat, falls around 1e-3 (log-slope steepest there), then
    explodes above 1e-1."""
    x = np.log10(lrs)
    return 2.0 - np.tanh(2 * (x + 3)) + np.exp(3 * (x + 1))


def test_exponential_schedule_spans_start_to_end() -> None:
    lrs = exponential_lrs(1e-7, 10, 100)
    assert len(lrs) == 100
    assert lrs[0] == pytest.approx(1e-7)
    assert lrs[-1] == pytest.approx(10)
    ratios = lrs[1:] / lrs[:-1]
    assert np.allclose(ratios, ratios[0])


@pytest.mark.parametrize(("start", "end", "n"), [(1e-3, 1e-4, 100), (0, 1, 100), (1e-7, 1, 1)])
def test_bad_sweep_settings_are_rejected(start: float, end: float, n: int) -> None:
    with pytest.raises(ValueError):
        exponential_lrs(start, end, n)


def test_debiased_ema_starts_at_the_first_loss_and_tracks_a_constant() -> None:
    smoothed = smooth_losses([3.0] * 20)
    assert np.allclose(smoothed, 3.0)


def test_debiased_ema_matches_seed_formula() -> None:
    losses = [5.0, 4.0, 3.5, 3.0]
    avg, expected = 0.0, []
    for i, loss in enumerate(losses):
        avg = 0.98 * avg + 0.02 * loss
        expected.append(avg / (1 - 0.98 ** (i + 1)))
    assert np.allclose(smooth_losses(losses), expected)


def test_stop_rule_fires_above_four_times_the_best() -> None:
    smoother = LossSmoother()
    for _ in range(50):
        assert not smoother.diverged(smoother.update(1.0))
    history = []
    while not smoother.diverged(value := smoother.update(6.0)):
        history.append(value)
        assert len(history) < 500
    # The rule is on the smoothed loss: it climbs for a while before crossing 4 × best (1.0).
    assert len(history) > 10
    assert history[-1] <= 4.0 < value


def test_non_finite_loss_stops_the_sweep() -> None:
    smoother = LossSmoother()
    smoother.update(1.0)
    assert smoother.diverged(smoother.update(math.nan))
    assert smoother.diverged(smoother.update(None))


def test_trim_skips_first_tenth_and_last_five_and_cuts_at_nan() -> None:
    lrs = np.arange(100.0)
    losses = np.ones(100)
    x, y = trim(lrs, losses, 100)
    assert x[0] == 10 and x[-1] == 94 and len(y) == 85
    losses[50] = np.nan
    x, _ = trim(lrs, losses, 100)
    assert x[-1] == 49


def test_steepest_is_where_loss_falls_fastest_per_log_lr() -> None:
    lrs = exponential_lrs(1e-6, 1e-0, 61)
    lr = steepest(lrs, 2.0 - np.tanh(2 * (np.log10(lrs) + 3)))
    assert lr is not None
    assert 10**-3.2 <= lr <= 10**-2.9


def test_minimum_is_the_lowest_loss_lr_divided_by_ten() -> None:
    lrs = np.array([1e-4, 1e-3, 1e-2, 1e-1])
    assert minimum(lrs, np.array([3.0, 2.0, 1.0, 5.0])) == pytest.approx(1e-3)


@given(st.lists(st.floats(0.0, 10.0), min_size=3, max_size=60))
def test_valley_equals_fastai_code(losses: list[float]) -> None:
    lrs = np.geomspace(1e-5, 1, len(losses))
    ours = valley(lrs, np.array(losses))
    reference = fastai_valley_reference(list(lrs), losses)
    if ours is None:  # fastai returns lrs[0] for a curve that never decreases
        assert reference == lrs[0]
    elif reference == lrs[-1]:  # fastai's index -1 wraps to the last LR; we clamp it to 0
        assert ours == lrs[0]
    else:
        assert ours == reference


def test_valley_is_the_middle_of_a_single_decreasing_run() -> None:
    lrs = np.geomspace(1e-5, 1, 12)
    losses = np.array([5, 5, 5, 4, 3, 2, 1, 0.5, 0.4, 0.3, 2, 6], dtype=float)
    # lds peaks at index 9 (length 8: from the last 5 down to 0.3), start = 9 - 8 = 1,
    # L = 8 → 1 + 2 + 1 = index 4.
    assert valley(lrs, losses) == pytest.approx(lrs[4])


def test_analyse_a_textbook_curve_recommends_valley_inside_the_descent() -> None:
    lrs = exponential_lrs(1e-7, 10, 100)
    raw = valley_curve(lrs)
    smoother = LossSmoother()
    smoothed = []
    for loss in raw:
        value = smoother.update(loss)
        smoothed.append(value)
        if smoother.diverged(value):
            break
    result = analyse(lrs[: len(smoothed)], smoothed, num_iter=100)
    assert result.diverged
    assert result.recommended == "valley"
    assert set(result.suggestions) == {"valley", "steepest", "minimum"}
    for name, lr in result.suggestions.items():
        assert lr is not None and 1e-5 < lr < 1e-1, name
    assert result.recommended_lr == result.suggestions["valley"]
    assert not result.warnings


def test_analyse_warns_when_the_sweep_never_diverged() -> None:
    lrs = exponential_lrs(1e-7, 1e-3, 100)
    smoothed = smooth_losses(2.0 - np.tanh(2 * (np.log10(lrs) + 5)))
    result = analyse(lrs, smoothed, num_iter=100, end_lr=1e-3)
    assert not result.diverged
    assert any("never diverged" in w for w in result.warnings)


def test_analyse_a_flat_curve_falls_back_and_says_no_valley() -> None:
    lrs = exponential_lrs(1e-7, 10, 100)
    result = analyse(lrs, np.linspace(1.0, 1.5, 100), num_iter=100)
    assert result.suggestions["valley"] is None
    assert result.recommended == "steepest"
    assert any("no clear valley" in w for w in result.warnings)


def test_analyse_too_short_a_sweep_recommends_nothing() -> None:
    result = analyse([1e-3, 1e-2], [1.0, 0.9], num_iter=100)
    assert result.recommended == ""
    assert result.recommended_lr is None


def test_analyse_a_stopped_sweep_says_where_it_ended() -> None:
    lrs = exponential_lrs(1e-7, 10, 100)[:60]
    smoothed = smooth_losses(2.0 - np.tanh(2 * (np.log10(lrs) + 5)))
    result = analyse(lrs, smoothed, num_iter=100, stopped=True)
    assert not result.diverged
    assert result.warnings[0].startswith(f"the sweep was stopped at LR {lrs[-1]:.3g}")
    assert not any("never diverged" in w for w in result.warnings)

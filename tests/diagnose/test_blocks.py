"""Loss blocks (``signals.Blocks``): the same blocks however the points arrive, each block the
plain mean, spread, maximum and count of its points."""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np
import pytest

from maou_tui.diagnose.signals import Blocks


def _points(rng: np.random.Generator, n: int) -> tuple[np.ndarray, ...]:
    steps = np.cumsum(rng.integers(1, 4, n)) + 100  # gaps, as a sparse log has
    values = rng.normal(1.0, 0.2, n)
    values[rng.choice(n, 5, replace=False)] = np.nan  # counted, never averaged
    epochs = steps // 200 + 1
    lrs = np.where(rng.random(n) < 0.1, np.nan, 1e-3)
    return steps, values, epochs, lrs


def _fed(points: tuple[np.ndarray, ...], cuts: list[int]) -> Blocks:
    blocks = Blocks(origin=100, steps_per_epoch=400)
    for lo, hi in zip([0, *cuts], [*cuts, len(points[0])], strict=True):
        blocks.add(*(column[lo:hi] for column in points))
    blocks.flush()
    return blocks


@pytest.mark.parametrize("seed", [0, 1])
def test_blocks_are_the_same_in_one_call_or_many(seed: int) -> None:
    rng = np.random.default_rng(seed)
    points = _points(rng, 3000)
    whole = _fed(points, []).arrays()
    chunked = _fed(points, sorted(rng.choice(np.arange(1, 3000), 40, replace=False))).arrays()
    for key in whole:
        np.testing.assert_array_equal(whole[key], chunked[key])


def test_each_block_summarises_its_own_points() -> None:
    steps, values, epochs, lrs = _points(np.random.default_rng(2), 2000)
    blocks = _fed((steps, values, epochs, lrs), [700])
    table = blocks.arrays()
    finite = np.flatnonzero(np.isfinite(values))
    first = finite[0]
    assert (table["start"][0], table["count"][0]) == (steps[first], 1)  # the untrained loss
    groups: dict[int, list[float]] = defaultdict(list)
    for i in finite[1:]:
        groups[int((steps[i] - 100) // blocks.span)].append(float(values[i]))
    assert len(table["mean"]) == len(groups) + 1
    for k, key in enumerate(sorted(groups), start=1):
        mine = groups[key]
        mean = sum(mine) / len(mine)
        assert table["count"][k] == len(mine)
        assert math.isclose(table["mean"][k], mean, rel_tol=1e-12)
        spread = math.sqrt(sum((v - mean) ** 2 for v in mine) / len(mine))
        assert math.isclose(table["std"][k], spread, rel_tol=1e-9, abs_tol=1e-12)
        assert table["max"][k] == max(mine)
    assert blocks.nonfinite_count == 5

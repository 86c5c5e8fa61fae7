"""Live use: findings appear once and are then updated; live and offline agree; stalls."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from maou_tui.diagnose import Diagnoser, diagnose
from maou_tui.diagnose.signals import per_batch_from_cumulative
from maou_tui.store import RunStore
from tests.diagnose.conftest import decaying


def _diverging(curves, rng):
    loss = np.concatenate([decaying(600, rng, end=0.03), 0.03 * np.geomspace(1, 8, 300)])
    return curves.stage(2, loss, 100, base_lr=1e-4)


def test_each_finding_appears_once_then_updates(curves, rng):
    events = _diverging(curves, rng).events
    store = RunStore()
    diagnoser = Diagnoser(store)
    seen_new: list[str] = []
    updates = 0
    for i in range(0, len(events), 20):
        store.apply_all(events[i : i + 20])
        for finding in diagnoser.update():
            if finding.id in seen_new:
                updates += 1
            else:
                seen_new.append(finding.id)
    ids = [f.id for f in diagnoser.findings]
    assert len(ids) == len(set(ids))
    assert any(i.startswith("divergence:2:") for i in ids)
    assert updates > 0  # the divergence kept growing and its finding was updated, not repeated
    assert diagnoser.update() == []  # nothing new arrived: nothing to report, and cheap


def test_live_and_offline_agree(curves, rng):
    events = _diverging(curves, rng).events
    store = RunStore()
    live = Diagnoser(store)
    for i in range(0, len(events), 7):
        store.apply_all(events[i : i + 7])
        live.update()
    live.finish()
    offline = diagnose(curves.store())
    assert {f.id for f in live.findings} == {f.id for f in offline}


def test_stall_while_the_trainer_runs(curves, rng):
    curves.stage(1, decaying(200, rng), 50, complete=False)
    now = [0.0]
    store = curves.store()
    diagnoser = Diagnoser(store, clock=lambda: now[0])
    diagnoser.update()
    now[0] = 30.0
    assert not [f for f in diagnoser.update() if f.kind == "stall"]
    now[0] = 130.0
    stalls = [f for f in diagnoser.update() if f.kind == "stall"]
    assert stalls and stalls[0].evidence["silent_s"] >= 60


def test_no_stall_while_paused(curves, rng):
    from maou_tui.protocol import Paused

    curves.stage(1, decaying(200, rng), 50, complete=False)
    store = curves.store()
    store.apply(Paused(step=200))
    now = [0.0]
    diagnoser = Diagnoser(store, clock=lambda: now[0])
    diagnoser.update()
    now[0] = 1000.0
    assert not [f for f in diagnoser.update() if f.kind == "stall"]


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.floats(0.0, 10.0), min_size=2, max_size=60),
    st.integers(1, 5),
)
def test_inverting_a_running_mean_gives_the_batches_back(values, every):
    """b_t = t·m_t − (t−1)·m_{t−1}, and over gaps the mean of the batches in between."""
    per_batch = np.asarray(values)
    t = np.arange(1, per_batch.size + 1)
    cum = np.cumsum(per_batch) / t
    keep = np.unique(np.append(np.arange(0, per_batch.size, every), per_batch.size - 1))
    inverted = per_batch_from_cumulative(t[keep], np.ones(keep.size, int), cum[keep])
    prev = np.concatenate(([0], keep[:-1] + 1))
    expected = [per_batch[a : b + 1].mean() for a, b in zip(prev, keep, strict=True)]
    np.testing.assert_allclose(inverted, expected, rtol=1e-6, atol=1e-6)

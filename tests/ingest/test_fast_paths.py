"""The speed paths give exactly what the general ones give: the parser's fast lanes (maou's
tqdm bar, the guide's batch line), steps as columns (StepBatch) and the store's column path."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from maou_tui.ingest import load_store, maou_log, progress
from maou_tui.ingest.maou_log import MaouLogParser
from maou_tui.ingest.trusted import trusted_steps
from maou_tui.protocol import EpochEnd, StageStarted, Step
from maou_tui.store import RunStore, StepBatch
from tests.ingest.conftest import GOLDEN, parse_pieces

LOGS = ["maou_stage12", "maou_stage3", "guide_lines", "maou_misc"]
NEVER = re.compile(rb"(?!)")


def _both_ways(data: bytes, monkeypatch: pytest.MonkeyPatch) -> tuple[list, list]:
    fast = parse_pieces([data])
    with monkeypatch.context() as patch:
        patch.setattr(MaouLogParser, "_batch_line", lambda self, line: False)
        patch.setattr(maou_log, "feed_runs", lambda parser, block: parser.feed_lines(block))
        patch.setattr(progress, "_MAOU_BAR", NEVER)
        general = parse_pieces([data])
    return fast, general


@pytest.mark.parametrize("name", LOGS)
@pytest.mark.parametrize("form", ["", ".bare"])
def test_fast_lanes_give_the_events_of_the_general_path(
    name: str, form: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast, general = _both_ways((GOLDEN / f"{name}{form}.log").read_bytes(), monkeypatch)
    assert fast == general and any(e["type"] == "step" for e in fast)


LINE_PIECES = [
    b"2026-08-22T10:15:00+09:00 | INFO  | m.py | f | 1 | ",
    b"12 |  | a | b | c | ",
    b"   ",
    b"Epoch 2 ",
    b"Batch 7/10: Loss=0.25",
    b"Batch 3:  Loss=nan",
    b", F1=75.5%",
    b", Accuracy=0.5",
    b", Pr\xc3\xa9cision=50%",
    b" extra",
    b"STAGE 1: X LEARNING",
    b"METRICS",
    b"  policy_f1_score: 0.5",
    b"\rTraining:  5%|#| 5/100 [00:01<00:09, 9.1it/s, acc=95.1%, loss=0.1234]",
    b"\rTraining:  6%|#| 6/100 [00:01<00:09, 9.1it/s, f1=0.5, loss=1e-3]",
    b"\rTraining:  7%|#| 7/100 [00:01<00:09, 9.1it/s, acc=95.1%, loss=0.1234] tail",
    b"\rTraining:  1%|#| 1/100 [00:01<00:09, 9.1it/s, loss=0.5, acc=9%]",
    b"\n",
]


@settings(max_examples=150, deadline=None)
@given(pieces=st.lists(st.sampled_from(LINE_PIECES), max_size=40))
def test_fast_lanes_agree_on_near_miss_lines(pieces: list[bytes]) -> None:
    monkeypatch = pytest.MonkeyPatch()
    try:
        fast, general = _both_ways(b"".join(pieces), monkeypatch)
    finally:
        monkeypatch.undo()
    assert fast == general


@pytest.mark.parametrize("name", LOGS)
def test_steps_as_columns_stand_for_the_same_events(name: str) -> None:
    data = (GOLDEN / f"{name}.log").read_bytes()
    parser = MaouLogParser()
    batched = parser.feed(data, columns=True) + parser.finish(columns=True)
    expanded = [
        e for item in batched for e in (trusted_steps(item) if type(item) is StepBatch else [item])
    ]
    parser = MaouLogParser()
    assert expanded == parser.feed(data) + parser.finish()


def _store_by_single_events(events: list) -> RunStore:
    store = RunStore()
    for event in events:
        if type(event) is StepBatch:
            for step in trusted_steps(event):
                store.apply(step)
        else:
            store.apply(event)
    return store


def _same_store(a: RunStore, b: RunStore) -> None:
    assert a.names() == b.names()
    for name in a.names():
        for column in ("steps", "values", "stages", "epochs", "batches"):
            np.testing.assert_array_equal(
                getattr(a.series(name), column), getattr(b.series(name), column)
            )
    assert a.marks == b.marks and a.epoch_ends == b.epoch_ends
    state = ("last_step", "current_stage", "current_epoch", "current_batch", "version")
    assert [getattr(a, k) for k in state] == [getattr(b, k) for k in state]


@pytest.mark.parametrize("name", ["maou_stage12", "guide_lines", "maou_stage3"])
def test_a_store_fed_columns_equals_one_fed_event_by_event(name: str) -> None:
    data = (GOLDEN / f"{name}.log").read_bytes()
    parser = MaouLogParser()
    batched = parser.feed(data, columns=True) + parser.finish(columns=True)
    store = RunStore()
    store.apply_all(batched)
    _same_store(store, _store_by_single_events(batched))


def _step(g: int, **kw) -> Step:
    return Step(**({"stage": 2, "epoch": 1, "batch": g, "global_step": g, "loss": 0.5} | kw))


def test_apply_all_of_rich_steps_equals_apply_one_by_one() -> None:
    events = [
        StageStarted(stage=2, name="LEGAL_MOVES", metric="f1", start_step=1),
        _step(1, metric=0.5, metric_cum=0.4, lr=1e-4, lr_multiplier=0.5, samples_per_s=9.0),
        _step(2, loss=None, lr=2e-4, metrics={"policy_top5_accuracy": 0.7}),
        _step(3, loss_cum=0.45, metrics={"lr": 3e-4}),  # named like a fixed series: stays in order
        EpochEnd(stage=2, epoch=1, global_step=3, train_loss=0.4, lr=1e-3),
        _step(4, stage=3, epoch=1, batch=1, metric=0.2),
    ]
    store = RunStore()
    store.apply_all(events)
    _same_store(store, _store_by_single_events(events))
    assert store.series("lr").steps.tolist() == [1, 2, 3]


def test_a_maou_log_loads_the_same_through_columns_and_events(tmp_path) -> None:
    path = tmp_path / "maou.log"
    path.write_bytes((GOLDEN / "maou_stage12.log").read_bytes())
    parser = MaouLogParser()
    events = parser.feed(path.read_bytes()) + parser.finish()
    _same_store(load_store(path), _store_by_single_events(events))

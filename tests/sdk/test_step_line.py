"""Step events written without pydantic decode to the very Step pydantic would have written."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from maou_tui.protocol import Step, decode_event, encode
from maou_tui.sdk import EventWriter
from maou_tui.sdk.step_line import encode_step

BASE = {"stage": 1, "epoch": 2, "batch": 3, "global_step": 40, "loss": 0.6931471805599453}

VALID = {
    "required only": {},
    "what Monitor.step writes": {
        "metric": 0.25,
        "lr": 1.2345678901234567e-05,
        "lr_multiplier": 0.5,
        "samples_per_s": 23910.123,
    },
    "all fields": {
        "stage": 3,
        "loss_cum": 1.5,
        "metric": 0.0,
        "metric_cum": 1.0,
        "lr": 0.001,
        "lr_multiplier": 10.0,
        "samples_per_s": None,
        "metrics": {"policy_top5_accuracy": 0.5, "value_brier_score": None, "é": 1e300},
    },
    "ints for floats": {"loss": 2, "lr": 0, "metrics": {"n": 7}},
    "no loss": {"loss": None},
}


@pytest.mark.parametrize("extra", VALID.values(), ids=VALID.keys())
def test_the_line_decodes_to_the_equal_step(extra: dict) -> None:
    fields = {**BASE, **extra}
    line = encode_step(17, 1795316017.342341, fields)
    assert line is not None
    expected = Step(seq=17, t=1795316017.342341, **fields)
    assert decode_event(line) == expected
    assert decode_event(line) == decode_event(encode(expected))
    # Same fields in the same order as pydantic's line: readers see no difference.
    assert list(json.loads(line)) == list(json.loads(encode(expected)))


def test_non_finite_values_become_null_as_pydantic_writes_them() -> None:
    fields = {**BASE, "loss": float("nan"), "metric": float("inf"), "metrics": {"x": -1e999}}
    line = encode_step(0, 1.0, fields)
    assert line is not None
    step = decode_event(line)
    assert step == decode_event(encode(Step(seq=0, t=1.0, **fields)))
    assert (step.loss, step.metric, step.metrics) == (None, None, {"x": None})


INVALID = {
    "stage out of range": {"stage": 7},
    "stage as text": {"stage": "1"},
    "loss as text": {"loss": "lots"},
    "bool epoch": {"epoch": True},
    "float batch": {"batch": 3.0},
    "int too large for a float": {"lr": 10**400},
    "unknown field": {"note": "x"},
    "metrics not a dict": {"metrics": [0.5]},
    "metric name not text": {"metrics": {1: 0.5}},
    "metric value as text": {"metrics": {"a": "0.5"}},
}


@pytest.mark.parametrize("extra", INVALID.values(), ids=INVALID.keys())
def test_anything_unusual_is_left_to_pydantic(extra: dict) -> None:
    assert encode_step(0, 1.0, {**BASE, **extra}) is None


def test_a_missing_field_is_left_to_pydantic() -> None:
    fields = dict(BASE)
    del fields["global_step"]
    assert encode_step(0, 1.0, fields) is None


def test_the_writer_uses_pydantic_where_the_fast_line_declines(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import numpy as np

    path = tmp_path / "events.jsonl"
    writer = EventWriter(path)
    with caplog.at_level(logging.ERROR):
        writer.emit_later(Step, {**BASE, "loss": np.float32(0.5)}, t=5.0)  # validated, kept
        writer.emit_later(Step, {**BASE, "stage": 4})  # invalid: dropped, logged
        writer.emit_later(Step, {**BASE, "metric": 0.75}, t=6.0)
        writer.close()
    events = [decode_event(line) for line in path.read_text().splitlines()]
    assert [(e.seq, e.t, e.loss, e.metric) for e in events] == [
        (0, 5.0, 0.5, None),
        (2, 6.0, BASE["loss"], 0.75),
    ]
    assert "dropped an invalid Step event (seq 1)" in caplog.text

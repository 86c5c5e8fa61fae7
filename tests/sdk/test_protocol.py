"""The contract: every event and command round-trips; bad lines give one clear error."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from maou_tui.protocol import (
    COMMAND_TYPES,
    EVENT_TYPES,
    MAX_LR_FACTOR,
    MAX_SET_LR,
    MIN_LR_FACTOR,
    MIN_SET_LR,
    ControlApplied,
    ProtocolError,
    Reply,
    RunState,
    SetThresholdCommand,
    Step,
    Threshold,
    UnknownEvent,
    decode_command,
    decode_event,
    decode_reply,
    encode,
)

ROOT = Path(__file__).parents[2]

EXAMPLE_EVENTS = [
    {"type": "run_started", "pid": 12, "config": {"stage": "all"}, "device": "cpu"},
    {
        "type": "stage_started",
        "stage": 1,
        "name": "REACHABLE_SQUARES",
        "metric": "accuracy",
        "max_epochs": 5,
        "warmup_steps": 10,
        "base_lr": 1e-3,
        "lr_scale": 2.0,
    },
    {
        "type": "step",
        "stage": 2,
        "epoch": 1,
        "batch": 3,
        "global_step": 40,
        "loss": 0.5,
        "metric": 0.8,
        "metric_cum": 0.7,
        "lr": 1e-4,
        "lr_multiplier": 0.5,
    },
    {
        "type": "epoch_end",
        "stage": 2,
        "epoch": 1,
        "global_step": 40,
        "train_loss": 0.4,
        "val_loss": 0.6,
        "val_metric": 0.7,
    },
    {"type": "phase", "stage": 1, "phase": "warmup", "start_step": 0, "end_step": 10},
    {
        "type": "control",
        "command": "scale_lr",
        "id": "a1",
        "applied_at_step": 7,
        "before": {"lr_multiplier": 1.0},
        "after": {"lr_multiplier": 0.5},
    },
    {"type": "paused", "step": 7},
    {"type": "resumed", "step": 7, "paused_s": 3.5},
    {
        "type": "threshold_reached",
        "stage": 1,
        "epoch": 3,
        "step": 90,
        "metric": "accuracy",
        "value": 0.995,
        "threshold": 0.99,
    },
    {"type": "checkpoint_saved", "path": "/r/checkpoints/s1.pt", "step": 90},
    {"type": "warning", "kind": "nan", "message": "loss is not finite", "step": 3},
    {"type": "stage_completed", "stage": 1, "epochs": 3, "step": 90, "reason": "threshold"},
    {"type": "run_finished", "status": "stopped", "reason": "stop command"},
    {"type": "lr_find_step", "stage": 3, "iteration": 4, "lr": 1e-5, "loss": 2.0},
    {"type": "lr_find_finished", "stage": 3, "suggestions": {"valley": 3e-4}},
    {
        "type": "system",
        "step": 120,
        "processes": [{"pid": 41, "rank": 0, "cpu_percent": 98.5, "rss_bytes": 2 << 30}],
        "gpus": [
            {
                "index": 0,
                "name": "NVIDIA H200",
                "util_percent": 87.0,
                "memory_used_bytes": 40 << 30,
                "memory_total_bytes": 141 << 30,
                "temperature_c": 61.0,
                "power_w": 402.5,
            }
        ],
    },
]


def test_examples_cover_every_event_type():
    assert {e["type"] for e in EXAMPLE_EVENTS} == EVENT_TYPES


@pytest.mark.parametrize("data", EXAMPLE_EVENTS, ids=lambda d: d["type"])
def test_every_event_round_trips(data: dict):
    event = decode_event(json.dumps({"v": 1, "seq": 3, "t": 1.5, **data}))
    assert event.type == data["type"] and event.seq == 3
    again = decode_event(encode(event))
    assert again == event


def test_unknown_fields_from_a_newer_writer_are_kept():
    line = json.dumps({"v": 1, "type": "paused", "step": 4, "reason": "thermal"})
    event = decode_event(line)
    assert event.model_extra == {"reason": "thermal"}
    assert json.loads(encode(event))["reason"] == "thermal"


def test_unknown_event_type_is_skippable_not_fatal():
    event = decode_event('{"v": 2, "seq": 9, "type": "gpu_temperature", "celsius": 71}')
    assert isinstance(event, UnknownEvent)
    assert event.type == "gpu_temperature" and event.model_extra == {"celsius": 71}


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{", "event is not valid JSON"),
        ("42", "must be a JSON object"),
        ('{"seq": 1}', "no 'type' field"),
        ('{"type": "step", "stage": 1}', "bad step event"),
        (
            '{"type": "step", "stage": 9, "epoch": 1, "batch": 1, "global_step": 1, "loss": 1}',
            "stage",
        ),
        (b'{"type": "paused", "step": "\xff"}', "bad paused event"),
    ],
)
def test_bad_event_lines_raise_one_line_protocol_errors(line, message):
    with pytest.raises(ProtocolError, match=message) as info:
        decode_event(line)
    assert "\n" not in str(info.value)


def test_non_finite_values_encode_as_null():
    step = Step(stage=1, epoch=1, batch=1, global_step=1, loss=math.inf, lr=math.nan)
    data = json.loads(encode(step))
    assert data["loss"] is None and data["lr"] is None


@pytest.mark.parametrize("kind", sorted(COMMAND_TYPES))
def test_every_command_type_decodes(kind: str):
    extra = {
        "scale_lr": {"factor": 0.5},
        "set_lr": {"value": 1e-4},
        "set_threshold": {"stage": 2, "value": 0.85},
    }.get(kind, {})
    command = decode_command(json.dumps({"v": 1, "id": "c1", "type": kind, **extra}))
    assert command.type == kind and command.id == "c1"
    assert decode_command(encode(command)) == command


def test_threshold_action_defaults_to_advance():
    command = decode_command('{"id": "t", "type": "set_threshold", "stage": 1, "value": 0.99}')
    assert isinstance(command, SetThresholdCommand) and command.action == "advance"


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_scale_factor_accepted_exactly_when_finite_in_its_range(factor: float):
    line = json.dumps({"id": "f", "type": "scale_lr", "factor": factor})
    if math.isfinite(factor) and MIN_LR_FACTOR <= factor <= MAX_LR_FACTOR:
        assert decode_command(line).factor == factor
    else:
        with pytest.raises(ProtocolError, match=r"factor|finite"):
            decode_command(line)


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_set_lr_accepted_exactly_when_in_its_range(value: float):
    line = json.dumps({"id": "f", "type": "set_lr", "value": value})
    if math.isfinite(value) and MIN_SET_LR <= value <= MAX_SET_LR:
        assert decode_command(line).value == value
    else:
        with pytest.raises(ProtocolError, match=r"value|finite"):
            decode_command(line)


@given(st.floats(allow_nan=True, allow_infinity=True), st.integers(-2, 5))
def test_threshold_accepted_exactly_in_range(value: float, stage: int):
    line = json.dumps({"id": "f", "type": "set_threshold", "stage": stage, "value": value})
    if math.isfinite(value) and 0 <= value <= 1 and 1 <= stage <= 3:
        assert decode_command(line).value == value
    else:
        with pytest.raises(ProtocolError):
            decode_command(line)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"type": "pause", "id": ""}, "id"),
        ({"type": "pause", "id": "x" * 65}, "id"),
        ({"type": "pause", "id": 5}, "id"),
        ({"type": "pause", "id": "a", "pickle": "gASV"}, "pickle"),
        ({"type": None, "id": "a"}, "unknown command type None"),
    ],
)
def test_commands_are_strict(payload: dict, message: str):
    with pytest.raises(ProtocolError, match=message):
        decode_command(json.dumps(payload))


def test_reply_round_trip_and_errors():
    state = RunState(
        stage=2, step=40, lr=1e-4, lr_multiplier=0.5, thresholds={"2": Threshold(value=0.85)}
    )
    reply = Reply(id="a", ok=True, status="applied", step=40, state=state)
    assert decode_reply(encode(reply)) == reply
    with pytest.raises(ProtocolError, match="bad reply"):
        decode_reply('{"id": "a", "ok": true, "status": "maybe"}')


def test_control_event_keeps_before_and_after():
    event = ControlApplied(
        command="set_lr", id="z", applied_at_step=5, before={"lr": 1e-3}, after={"lr": 1e-4}
    )
    assert decode_event(encode(event)).after.changed() == {"lr": 1e-4}


def test_schema_command_prints_event_command_and_reply_schemas():
    result = subprocess.run(
        [sys.executable, "-m", "maou_tui", "schema"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=True,
    )
    schemas = json.loads(result.stdout)
    assert schemas["protocol_version"] == 1
    assert set(schemas) >= {"event", "command", "reply"}
    event_tags = set(schemas["event"]["discriminator"]["mapping"])
    command_tags = set(schemas["command"]["discriminator"]["mapping"])
    assert event_tags == EVENT_TYPES and command_tags == COMMAND_TYPES

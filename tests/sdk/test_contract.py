"""What the project's own producers write is fully declared in protocol.py (issue 11).

The real-run halves live beside the runs they check: ``tests/trainer/test_control.py`` (every
command, events and replies) and ``tests/lrtools/test_trainer_lr_find.py`` (a sweep)."""

from __future__ import annotations

import json
import subprocess
import sys

from maou_tui.protocol import decode_event, decode_reply, undeclared_fields


def test_an_undeclared_field_is_found_at_any_depth() -> None:
    control = decode_event(
        '{"type": "control", "command": "scale_lr", "id": "a", "applied_at_step": 3,'
        ' "before": {"lr_multiplier": 1.0}, "after": {"lr_multiplier": 0.5, "gpu": 1},'
        ' "host": "x"}'
    )
    assert sorted(undeclared_fields(control)) == ["after.gpu", "host"]
    reply = decode_reply(
        '{"id": "a", "ok": true, "status": "applied", "state": {"step": 4, "mood": "ok"}}'
    )
    assert undeclared_fields(reply) == ["state.mood"]
    assert undeclared_fields(decode_event('{"type": "paused", "step": 3}')) == []


def test_schema_shows_the_payloads_producers_write() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "maou_tui", "schema", "event"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    defs = json.loads(out)["$defs"]
    assert {"threshold_stage2", "lr_multiplier", "paused"} <= set(
        defs["ControlChange"]["properties"]
    )
    assert {"batch_size", "reason", "warnings", "diverged"} <= set(
        defs["LrFindFinished"]["properties"]
    )
    assert {"batches_per_epoch", "train_samples", "resumed"} <= set(
        defs["StageStarted"]["properties"]
    )
    assert "run_dir" in defs["RunStarted"]["properties"]

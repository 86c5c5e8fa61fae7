"""The hook's step lines, formatted without the model, are the events the model would write."""

from __future__ import annotations

import json
import math
from pathlib import Path

from maou_tui.hook.step_events import HookEventWriter
from maou_tui.protocol import Paused, Step


def test_formatted_step_lines_read_back_as_the_model_writes_them(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    writer = HookEventWriter(path)
    cases = [
        {"loss": 0.6931471805599453, "lr": 1e-05, "lr_multiplier": 1.0},
        {"loss": None, "lr": 0.1, "lr_multiplier": 0.5},
        {"loss": math.nan, "lr": math.inf, "lr_multiplier": 2.0},  # non-finite: null
        {"loss": 3.0, "lr": None, "lr_multiplier": 1e-4},
    ]
    stamps = [1_700_000_000.123456 + n for n in range(len(cases))]
    for n, (case, t) in enumerate(zip(cases, stamps, strict=True), start=1):
        fields = {"stage": 1, "epoch": 0, "batch": n, "global_step": n} | case
        writer.emit_later(Step, fields, t)
    writer.emit(Paused(step=4))
    writer.close()
    lines = path.read_text().splitlines()
    steps = [Step.model_validate_json(line) for line in lines[:4]]
    for n, (event, case, t) in enumerate(zip(steps, cases, stamps, strict=True), start=1):
        finite = {k: v if v is None or math.isfinite(v) else None for k, v in case.items()}
        expected = Step(seq=n - 1, t=t, stage=1, epoch=0, batch=n, global_step=n, **finite)
        assert event == expected
        # The same keys and values as the model's own line, less the fields left at defaults.
        assert json.loads(lines[n - 1]).items() <= json.loads(expected.model_dump_json()).items()
    assert json.loads(lines[4])["type"] == "paused"  # other events: through the model

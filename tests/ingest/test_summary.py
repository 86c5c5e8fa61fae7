"""summarize / format_summary: what `maou-tui report` prints before its findings."""

from __future__ import annotations

import json

from maou_tui.ingest import load_store
from maou_tui.ingest.summary import format_summary, summarize
from tests.ingest.conftest import GOLDEN


def test_summary_of_a_maou_log_has_stages_epochs_last_values_and_phases() -> None:
    summary = summarize(load_store(GOLDEN / "maou_stage12.log"))
    json.dumps(summary)  # JSON-ready for `report --format json`
    assert summary["status"] == "failed" and summary["last_step"] == 440
    stage1, stage2 = summary["stages"]
    assert (stage1["threshold"], stage1["max_epochs"], stage1["scheduler"]) == (
        0.99,
        10,
        "Warmup+CosineDecay",
    )
    assert [e["train_metric"] for e in stage1["epochs"]] == [0.934, 0.992]
    assert stage1["completed"]["reason"] == "threshold"
    assert stage2["effective_lr"] == 0.0004 and stage2["lr_scale"] == 4.0
    assert stage2["last"]["f1_cum"] == {"step": 440, "value": 0.71}
    assert [
        (p["stage"], p["phase"], p["start_step"], p["end_step"]) for p in summary["phases"]
    ] == [
        # As they ran (issue 17): Stage 1 ended at step 240, the run failed at step 440,
        # before Stage 2's planned decay.
        (1, "warmup", 1, 121),
        (1, "decay", 121, 241),
        (2, "warmup", 241, 441),
    ]
    assert [p["planned_end_step"] for p in summary["phases"]] == [121, 1201, 441]
    assert summary["finished"]["reason"] == "Stage 2 failed to meet accuracy threshold"
    assert summary["warnings"] == {"nan": 1}


def test_formatted_summary_reads_as_a_report() -> None:
    text = format_summary(summarize(load_store(GOLDEN / "maou_stage3.log")))
    assert "Stage 3 POLICY_VALUE" in text
    assert "epoch   2 @ step 100, train loss 4.2, val loss 4.3, lr 0.0007" in text
    assert "completed (stopped) after 2 epochs" in text
    assert "stage 3 decay    steps 11-100, lr 0.0008 -> 0.0007" in text  # last step inclusive

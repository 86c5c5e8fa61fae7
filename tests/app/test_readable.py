"""Issue 17: numbers on screen are true and readable — tick values, mark labels never cut,
status lines that say which way and stop counting when the run ended, short log lines."""

from __future__ import annotations

import itertools
import math
import time
from pathlib import Path

import numpy as np
import pytest
from demo_run import write_demo_run

from maou_tui.app.log_display import display_line
from maou_tui.app.widgets.charts import as_steps, log_ticks, place_labels, value_ticks
from maou_tui.app.widgets.status import StatusFacts, build_status
from maou_tui.ingest import load_store
from maou_tui.marks import Mark


@pytest.mark.parametrize(
    ("lo", "hi", "rows"),
    [(0.02, 0.05, 10), (0.0, 1.0, 6), (0.0312, 0.0316, 20), (0.0, 7.3, 3), (120.0, 4000.0, 9)],
)
def test_y_ticks_lie_inside_the_axis_with_the_digits_they_need(lo, hi, rows) -> None:
    ticks, labels = value_ticks(lo, hi, rows)
    assert len(ticks) >= 2 and all(lo <= t <= hi for t in ticks)
    assert len(ticks) <= max(2, (rows + 1) // 2)  # one label per row at most: none dropped
    assert len(set(labels)) == len(labels)  # never two "0.00"s
    for tick, label in zip(ticks, labels, strict=True):
        assert float(label) == pytest.approx(tick, abs=1e-12)


def test_log_lr_ticks_are_round_and_spaced_for_the_rows() -> None:
    lo, hi = math.log10(2e-4), math.log10(3e-3)
    ticks = log_ticks(lo, hi, rows=10)
    assert 2 <= len(ticks) <= 5 and all(lo <= t <= hi for t in ticks)
    assert [f"{10**t:.2g}" for t in ticks] == ["0.0002", "0.0005", "0.001", "0.002"]


def test_an_lr_change_is_drawn_as_a_step_not_a_ramp() -> None:
    xs, ys = as_steps(np.array([10, 20, 30]), np.array([1e-3, 1e-3, 3e-4]))
    assert xs.tolist() == [10, 20, 20, 30, 30]
    assert ys.tolist() == [1e-3, 1e-3, 1e-3, 1e-3, 3e-4]  # holds 1e-3 until step 30


def _mark(kind: str, step: int, label: str, short: str) -> Mark:
    return Mark(kind=kind, step=step, label=label, short=short)  # type: ignore[arg-type]


def test_labels_are_whole_or_their_short_form_never_cut_and_every_stage_keeps_one() -> None:
    marks = [
        _mark("stage", 0, "S1 REACHABLE_SQUARES", "S1"),
        _mark("phase", 1, "→constant", "→"),
        _mark("threshold", 58, "✓0.995", "✓"),
        _mark("stage", 59, "S2 LEGAL_MOVES", "S2"),
        _mark("control", 61, "LR=0.0003", "LR"),
        _mark("stage", 97, "S3 POLICY_VALUE", "S3"),
        _mark("finding", 99, "!stagnant", "!"),
    ]
    width = 40
    placed = place_labels(marks, 0.0, 100.0, width, rows=1)
    by_mark = {id(mark): text for mark, text, _, _ in placed}
    for mark, text, first, _row in placed:
        assert text in (mark.label, mark.short)
        assert first >= 0 and first + len(text) <= width
    spans = sorted((first, first + len(text)) for _, text, first, _ in placed)
    assert all(a_end < b_start for (_, a_end), (b_start, _) in itertools.pairwise(spans))
    assert all(id(m) in by_mark for m in marks if m.kind == "stage")


def _status(run: Path) -> str:
    return build_status(load_store(run), StatusFacts(), run.name)


def test_status_after_a_threshold_change_shows_it_whole_and_which_way(tmp_path: Path) -> None:
    text = _status(write_demo_run(tmp_path / "run", moment="threshold"))
    assert "threshold accuracy 0.995" in text and "0.99 " not in text
    assert "below" in text and "gap" not in text
    assert "ETA ≤" in text  # the threshold may end the stage before its last epoch


def test_an_ended_run_shows_no_eta(tmp_path: Path) -> None:
    text = _status(write_demo_run(tmp_path / "run", moment="finished"))
    assert "FINISHED" in text and "ETA" not in text and "fail-fast" not in text
    assert "×1" not in text  # one process: no lone "×1"


def pane_line(line: str) -> str:
    return display_line(line.encode(), show_prefix=False, colours=True).text.plain


def test_the_log_pane_drops_maous_prefix_and_shows_local_time(monkeypatch) -> None:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    try:
        line = (
            "2026-12-03T19:34:52+09:00 | INFO  |    train_log.py |       batch_progress | 115 | "
            "Epoch 4 Batch 1/35: Loss=0.2250, Accuracy=90.39%"
        )
        assert pane_line(line) == "10:34:52 Epoch 4 Batch 1/35: Loss=0.2250, Accuracy=90.39%"
        warning = line.replace("INFO ", "WARNING")
        assert pane_line(warning).startswith("10:34:52 WARNING Epoch 4")
        assert pane_line("  value_std: 0.358053") == "  value_std: 0.358053"
    finally:
        monkeypatch.undo()
        time.tzset()

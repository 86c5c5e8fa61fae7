"""What the store works out for the widgets (issue 11 item 3, issue 17): thresholds in force,
marks with their events and labels, the steps each stage and phase really ran."""

from __future__ import annotations

from maou_tui.ingest.maou_log import MaouLogParser
from maou_tui.ingest.summary import format_summary, summarize
from maou_tui.protocol import (
    ControlApplied,
    Phase,
    RunFinished,
    StageCompleted,
    StageStarted,
    Step,
    Threshold,
    ThresholdReached,
)
from maou_tui.store import RunStore


def _stage(stage: int, start: int, threshold: float | None = None) -> StageStarted:
    return StageStarted(
        stage=stage, name=f"S{stage}", metric="accuracy", start_step=start, threshold=threshold
    )


def _set_threshold(stage: int, value: float, step: int) -> ControlApplied:
    key = f"threshold_stage{stage}"
    return ControlApplied(
        command="set_threshold", id="t", applied_at_step=step,
        before={key: {"value": 0.99, "action": "advance"}},
        after={key: {"value": value, "action": "advance"}},
    )  # fmt: skip


def test_a_threshold_set_from_the_tui_is_the_one_in_force_with_all_its_digits() -> None:
    store = RunStore()
    store.apply(_stage(1, 1, threshold=0.99))
    assert store.thresholds_in_force == {1: Threshold(value=0.99)}
    event = _set_threshold(1, 0.995, 50)
    store.apply(event)
    assert store.thresholds_in_force[1].value == 0.995
    (mark,) = [m for m in store.marks if m.kind == "control"]
    assert (mark.label, mark.short, mark.event) == ("T S1 0.995", "T", event)
    store.apply(
        ThresholdReached(
            stage=1, epoch=3, step=90, metric="accuracy", value=0.9956, threshold=0.995
        )
    )
    (reached,) = [m for m in store.marks if m.kind == "threshold"]
    assert reached.label == "✓0.995"  # not "reached 0.99"


def test_a_threshold_set_for_a_later_stage_survives_that_stages_start() -> None:
    store = RunStore()
    store.apply(_stage(1, 1, threshold=0.99))
    store.apply(_set_threshold(2, 0.7, 10))
    store.apply(_stage(2, 100, threshold=0.7))  # the trainer announces the value in force
    assert store.thresholds_in_force[2].value == 0.7


def test_phases_and_their_marks_are_what_ran_not_the_plan() -> None:
    """The run of the issue: Stage 1 planned to 1051 ended at 595, the run ended at 960."""
    store = RunStore()
    store.apply(_stage(1, 1))
    store.apply(Phase(stage=1, phase="constant", start_step=1, end_step=1051))
    store.apply(StageCompleted(stage=1, epochs=17, step=595))
    store.apply(_stage(2, 596))
    store.apply(Phase(stage=2, phase="warmup", start_step=596, end_step=700))
    store.apply(Phase(stage=2, phase="decay", start_step=700, end_step=1228))
    store.apply(RunFinished(status="stopped", reason="stopped by control", step=960))
    store.apply(Phase(stage=2, phase="constant", start_step=1100, end_step=1228))  # not reached
    spans = [(p.stage, p.phase, p.first, p.last, p.cut) for p in store.phase_spans()]
    assert spans == [
        (1, "constant", 1, 595, True),
        (2, "warmup", 596, 699, False),
        (2, "decay", 700, 960, True),
    ]
    assert [m.step for m in store.marks if m.kind == "phase"] == [1, 596, 700]
    assert store.stage_span(1).last == 595 and store.stage_span(2).last == 960
    text = format_summary(summarize(store))
    assert "stage 1 constant steps 1-595 (stage ended; planned to 1050)" in text
    assert "stage 2 decay    steps 700-960 (stage ended; planned to 1227)" in text


def test_the_phase_in_force_follows_the_last_step() -> None:
    store = RunStore()
    store.apply(_stage(3, 1))
    store.apply(Phase(stage=3, phase="warmup", start_step=1, end_step=11))
    store.apply(Phase(stage=3, phase="decay", start_step=11, end_step=101))
    store.apply(Step(stage=3, epoch=1, batch=5, global_step=5, loss=1.0))
    assert store.phase_at(store.last_step) == "warmup"
    store.apply(Step(stage=3, epoch=1, batch=12, global_step=12, loss=1.0))
    assert store.phase_at(store.last_step) == "decay"


def test_report_says_controls_and_the_end_in_words_not_dicts() -> None:
    store = RunStore()
    store.apply(_stage(1, 1))
    store.apply(ControlApplied(command="pause", id="p", applied_at_step=59,
                               before={"paused": False}, after={"paused": True}))  # fmt: skip
    store.apply(_set_threshold(1, 0.995, 60))
    store.apply(RunFinished(status="completed", reason="all stages completed", step=80))
    text = format_summary(summarize(store))
    assert "control: pause at step 59\n" in text + "\n"
    assert "control: set_threshold at step 60: T S1 0.995" in text
    assert "{" not in text
    assert "finished: all stages completed" in text


def test_a_bare_trainer_log_ends_with_its_run_finished_line() -> None:
    parser = MaouLogParser()
    line = (
        "2026-12-03T19:41:15+09:00 | INFO  |       runner.py |         run_training | 191 | "
        "Run finished: completed (all stages completed)"
    )
    store = RunStore()
    store.apply_all(parser.feed((line + "\n").encode()))
    assert store.status == "finished" and store.finished.reason == "all stages completed"

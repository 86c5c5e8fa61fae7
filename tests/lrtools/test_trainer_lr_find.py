"""The sweep on the real trainer: state restored, events written, and the tiny Stage 1 result."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from maou_tui.lrtools.range_test import RangeTestResult, exponential_lrs  # noqa: E402
from maou_tui.protocol import (  # noqa: E402
    LrFindFinished,
    LrFindStep,
    decode_event,
    undeclared_fields,
)
from maou_tui.sdk import EventWriter  # noqa: E402
from trainer.config import build_config  # noqa: E402
from trainer.context import main_context  # noqa: E402
from trainer.lr_find import build_sweep_setup, finished_event, run_lr_find, sweep  # noqa: E402

CPU = torch.device("cpu")


@pytest.fixture(autouse=True)
def one_thread() -> Iterator[None]:
    """2 shared cores: more threads only thrash (10× slower under load, measured)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    yield
    torch.set_num_threads(before)


def run_events(tmp_path: Path, **options: object) -> tuple[tuple[str, str, int], list]:
    config = build_config({"stage": "1", "lr_find": True, "cpu": True, **options})
    events = EventWriter(tmp_path / "events.jsonl")
    ctx = main_context(config, CPU, events, None, tmp_path, logging.getLogger("test-lr-find"))
    try:
        outcome = run_lr_find(config, ctx)
    finally:
        events.close()
    lines = (tmp_path / "events.jsonl").read_text().splitlines()
    return outcome, [decode_event(line) for line in lines]


def test_sweep_restores_model_optimizer_and_rng() -> None:
    config = build_config({"stage": "1", "cpu": True})
    setup = build_sweep_setup(config, 1, CPU)
    before = {k: v.clone() for k, v in setup.model.state_dict().items()}
    rng = torch.get_rng_state()
    points = sweep(setup, exponential_lrs(1e-4, 1.0, 6), CPU)
    assert len(points) == 6
    after = setup.model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert setup.optimizer.state_dict()["state"] == {}
    assert torch.equal(torch.get_rng_state(), rng)


def test_sweep_really_trains_while_it_runs() -> None:
    config = build_config({"stage": "1", "cpu": True})
    setup = build_sweep_setup(config, 1, CPU)
    seen: list[float] = []

    def record(_point: object) -> None:
        seen.append(float(next(setup.model.parameters()).detach().abs().sum()))

    sweep(setup, exponential_lrs(1e-3, 1e-2, 4), CPU, on_point=record)
    assert len(set(seen)) == 4


def test_short_sweep_writes_step_and_finished_events(tmp_path: Path) -> None:
    (status, line, iterations), events = run_events(tmp_path, lr_find_iterations=15)
    assert status == "completed" and iterations == 15
    steps = [e for e in events if isinstance(e, LrFindStep)]
    assert [s.iteration for s in steps] == list(range(1, 16))
    assert steps[0].lr == pytest.approx(1e-7) and steps[-1].lr == pytest.approx(10)
    finished = [e for e in events if isinstance(e, LrFindFinished)]
    assert len(finished) == 1
    done = finished[0]
    assert set(done.suggestions) == {"valley", "steepest", "minimum"}
    assert done.option == "--stage1-learning-rate"
    assert done.recommended in done.suggestions
    assert done.cli_value == pytest.approx(done.suggestions[done.recommended] / done.lr_scale)
    assert "LR find suggestions" in line
    assert done.batch_size and done.reason and isinstance(done.diverged, bool)
    assert [f"{e.type}.{f}" for e in events for f in undeclared_fields(e)] == []


def test_stop_from_control_ends_the_sweep(tmp_path: Path) -> None:
    config = build_config({"stage": "1", "lr_find": True, "cpu": True})
    events = EventWriter(tmp_path / "events.jsonl")
    ctx = main_context(config, CPU, events, None, tmp_path, logging.getLogger("test-lr-find"))
    ctx.control.stop_requested = True
    status, reason, iterations = run_lr_find(config, ctx)
    events.close()
    assert status == "stopped" and iterations == 0
    assert "stopped" in reason


@pytest.mark.slow
def test_tiny_stage1_resnet_lands_in_the_guides_search_range(tmp_path: Path) -> None:
    (status, _, _), events = run_events(tmp_path)
    done = next(e for e in events if isinstance(e, LrFindFinished))
    assert status == "completed"
    assert done.cli_value is not None
    assert 0.0005 <= done.cli_value <= 0.01


def test_cli_value_is_the_suggestion_over_the_stage2_sqrt_scale() -> None:
    config = build_config({"stage": "2", "stage2_batch_size": 1024, "cpu": True})
    result = RangeTestResult(
        suggestions={"valley": 0.0008, "steepest": 0.002, "minimum": None},
        recommended="valley",
        reason="test",
        points_used=80,
        diverged=True,
        warnings=[],
    )
    event, line = finished_event(config, 2, result)
    assert event.lr_scale == 2.0
    assert event.cli_value == pytest.approx(0.0004)
    assert event.option == "--stage2-learning-rate"
    assert "--stage2-learning-rate 0.0004 (effective 0.0008 / scale 2.00)" in line
    assert "minimum=n/a" in line

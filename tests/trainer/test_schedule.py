"""The LR a user gets: sqrt batch scaling, maou's scheduler choice, warmup/cosine shape, phases."""

import math
from itertools import pairwise

import pytest
import torch

from trainer.schedule import (
    CONSTANT,
    COSINE,
    WARMUP_COSINE,
    SchedulePlan,
    build_scheduler,
    lr_scale,
    resolve_scheduler,
)


@pytest.mark.parametrize(
    ("batch", "scale"), [(256, 1.0), (1024, 2.0), (2048, 2.83), (4096, 4.0), (32, 1.0)]
)
def test_sqrt_scale_matches_the_guides_table(batch: int, scale: float) -> None:
    assert round(lr_scale(2, batch), 2) == scale


def test_guides_example_effective_lr() -> None:
    assert 0.0001 * lr_scale(2, 4096) == pytest.approx(0.0004)


def test_stage3_is_never_scaled() -> None:
    assert lr_scale(3, 4096) == 1.0


def test_auto_scheduler_depends_on_batch_size() -> None:
    assert resolve_scheduler(1, "auto", 256) == CONSTANT
    assert resolve_scheduler(2, "auto", 257) == WARMUP_COSINE
    assert resolve_scheduler(2, "none", 4096) == CONSTANT
    assert resolve_scheduler(1, COSINE, 32) == COSINE
    assert resolve_scheduler(3, WARMUP_COSINE, 32) == WARMUP_COSINE


def _lrs(plan: SchedulePlan, base: float = 0.01) -> list[float]:
    """The LR torch's scheduler gives at every optimizer step of the plan."""
    param = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([param], lr=base)
    scheduler = build_scheduler(optimizer, plan)
    lrs = []
    for _ in range(plan.total_steps):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return lrs


def test_warmup_is_ten_percent_but_at_least_one_epoch() -> None:
    long = SchedulePlan(WARMUP_COSINE, batches_per_epoch=10, accumulation=1, max_epochs=50)
    assert long.total_steps == 500 and long.warmup_steps == 50
    short = SchedulePlan(WARMUP_COSINE, batches_per_epoch=10, accumulation=1, max_epochs=3)
    assert short.warmup_steps == 10  # 10% would be 3: one epoch wins
    single = SchedulePlan(WARMUP_COSINE, batches_per_epoch=10, accumulation=1, max_epochs=1)
    assert single.warmup_steps == single.total_steps == 10


def test_warmup_cosine_shape() -> None:
    plan = SchedulePlan(WARMUP_COSINE, batches_per_epoch=20, accumulation=1, max_epochs=10)
    lrs = _lrs(plan, base=0.01)
    warmup = plan.warmup_steps
    assert lrs[0] == pytest.approx(0.01 / warmup)  # starts at base/warmup, not at 0
    assert all(a < b for a, b in pairwise(lrs[:warmup]))
    assert max(lrs) == pytest.approx(0.01)
    assert lrs.index(max(lrs)) in (warmup - 1, warmup)
    decay = lrs[warmup:]
    assert all(a >= b for a, b in pairwise(decay))
    assert lrs[-1] < 0.01 * 0.001  # ends near 0


def test_cosine_annealing_has_no_warmup() -> None:
    plan = SchedulePlan(COSINE, batches_per_epoch=10, accumulation=1, max_epochs=5)
    lrs = _lrs(plan)
    assert plan.warmup_steps == 0
    assert lrs[0] == pytest.approx(0.01)
    assert lrs[-1] < 0.01 * 0.01


def test_constant_schedule() -> None:
    plan = SchedulePlan(CONSTANT, batches_per_epoch=7, accumulation=1, max_epochs=2)
    assert set(_lrs(plan)) == {0.01}


def test_accumulation_covers_the_whole_curve() -> None:
    """total counts optimizer steps, so with K=4 the cosine still reaches ~0 at the end."""
    plan = SchedulePlan(WARMUP_COSINE, batches_per_epoch=10, accumulation=4, max_epochs=10)
    assert plan.steps_per_epoch == 3  # ceil(10 / 4): the partial group still steps
    assert plan.total_steps == 30
    lrs = _lrs(plan)
    assert len(lrs) == 30 and lrs[-1] < 0.01 * 0.01


def test_multiplier_composes_with_the_schedule() -> None:
    """LR used = m × schedule: overwriting group['lr'] each step keeps warmup/decay's shape."""
    plan = SchedulePlan(WARMUP_COSINE, batches_per_epoch=10, accumulation=1, max_epochs=5)
    param = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([param], lr=0.01)
    scheduler = build_scheduler(optimizer, plan)
    reference = _lrs(plan)
    for step in range(plan.total_steps):
        schedule_lr = scheduler.get_last_lr()[0]
        assert schedule_lr == pytest.approx(reference[step])
        optimizer.param_groups[0]["lr"] = 0.5 * schedule_lr
        optimizer.step()
        scheduler.step()


def test_scheduler_state_round_trips() -> None:
    plan = SchedulePlan(WARMUP_COSINE, batches_per_epoch=10, accumulation=1, max_epochs=5)
    param = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([param], lr=0.01)
    scheduler = build_scheduler(optimizer, plan)
    for _ in range(17):
        optimizer.step()
        scheduler.step()
    state = scheduler.state_dict()
    fresh_optimizer = torch.optim.SGD([param], lr=0.01)
    fresh = build_scheduler(fresh_optimizer, plan)
    fresh.load_state_dict(state)
    assert fresh.get_last_lr() == scheduler.get_last_lr()


def test_phases_in_global_steps() -> None:
    plan = SchedulePlan(WARMUP_COSINE, batches_per_epoch=10, accumulation=1, max_epochs=20)
    assert plan.phases(start_step=101) == [("warmup", 101, 121), ("decay", 121, 301)]
    accumulated = SchedulePlan(WARMUP_COSINE, batches_per_epoch=10, accumulation=4, max_epochs=20)
    # warmup = 6 optimizer steps = 2 epochs of 3 steps = 20 batches
    assert accumulated.warmup_steps == 6
    assert accumulated.phases(start_step=1) == [("warmup", 1, 21), ("decay", 21, 201)]
    constant = SchedulePlan(CONSTANT, batches_per_epoch=10, accumulation=1, max_epochs=2)
    assert constant.phases(start_step=5) == [("constant", 5, 25)]


def test_factor_is_finite_everywhere() -> None:
    plan = SchedulePlan(WARMUP_COSINE, batches_per_epoch=1, accumulation=1, max_epochs=1)
    assert all(math.isfinite(plan.factor(s)) for s in range(5))

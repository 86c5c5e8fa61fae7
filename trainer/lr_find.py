"""LR range test on the trainer's own model, data, loss and optimizer for one stage.

``maou-train --lr-find [--stage N]`` sweeps the LR exponentially (``--lr-find-start-lr`` →
``--lr-find-end-lr`` over ``--lr-find-iterations`` batches), one real optimizer step per batch
(clipping 1.0, AMP on CUDA, as the loop), and stops when the debiased-EMA loss exceeds 4× its best.
Each iteration is an ``lr_find_step`` event; the end is one ``lr_find_finished`` event with the
named suggestions (effective LRs), the recommended one and the CLI value after sqrt scaling.
The model's and optimizer's states (and torch's RNG) are restored afterwards: the sweep does not
change the run. The analysis (smoothing, stop rule, suggestions) is ``maou_tui.lrtools``.
"""

from __future__ import annotations

import contextlib
import copy
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from maou_tui.lrtools import format_lr
from maou_tui.lrtools.range_test import LossSmoother, RangeTestResult, analyse, exponential_lrs
from maou_tui.protocol import LrFindFinished, LrFindStep, RunOutcome
from trainer.config import TrainConfig, stage_settings
from trainer.context import RunContext
from trainer.data import TensorData, batch_count, batch_indices, epoch_order, load_stage_data
from trainer.models import Backbone
from trainer.schedule import lr_scale
from trainer.stages import StageTask, build_optimizer, build_stage_model

#: A log line every this many iterations (and at the first and last).
LOG_EVERY = 10


@dataclass(frozen=True)
class SweepPoint:
    iteration: int
    lr: float
    loss: float | None
    smoothed: float


@dataclass
class SweepSetup:
    """What one sweep trains: the stage's model, optimizer, loss/metric task and data."""

    stage: int
    model: torch.nn.Module
    optimizer: torch.optim.Optimizer
    task: StageTask
    data: TensorData
    batch_size: int
    seed: int


@contextlib.contextmanager
def restored_afterwards(model: torch.nn.Module, optimizer: torch.optim.Optimizer) -> Iterator[None]:
    """Deep copies of the model/optimizer state and torch's RNG, put back on exit."""
    model_state = copy.deepcopy(model.state_dict())
    optimizer_state = copy.deepcopy(optimizer.state_dict())
    rng = torch.get_rng_state()
    cuda_rng = torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None
    try:
        yield
    finally:
        model.load_state_dict(model_state)
        optimizer.load_state_dict(optimizer_state)
        torch.set_rng_state(rng)
        if cuda_rng is not None:
            torch.cuda.set_rng_state_all(cuda_rng)


def training_batches(setup: SweepSetup, device: torch.device) -> Iterator[dict[str, torch.Tensor]]:
    """The stage's training batches in the trainer's shuffled order, epoch after epoch."""
    rows = len(setup.data)
    per_epoch = batch_count(rows, setup.batch_size)
    epoch = 1
    while True:
        order = epoch_order(rows, setup.seed, setup.stage, epoch, device)
        for batch in range(per_epoch):
            yield setup.data.batch(batch_indices(order, batch, setup.batch_size))
        epoch += 1


def train_step(setup: SweepSetup, inputs: dict[str, torch.Tensor], lr: float, scaler: Any) -> float:
    """One optimizer step at ``lr``; returns the batch loss (nan when not finite, no step)."""
    for group in setup.optimizer.param_groups:
        group["lr"] = lr
    autocast = (
        torch.autocast(device_type="cuda", dtype=torch.float16)
        if scaler is not None
        else contextlib.nullcontext()
    )
    with autocast:
        loss = setup.task.compute(setup.model, inputs).loss
    value = float(loss.detach().float())
    if math.isfinite(value):
        (scaler.scale(loss) if scaler is not None else loss).backward()
        if scaler is not None:
            scaler.unscale_(setup.optimizer)
        torch.nn.utils.clip_grad_norm_(setup.model.parameters(), 1.0)
        if scaler is not None:
            scaler.step(setup.optimizer)
            scaler.update()
        else:
            setup.optimizer.step()
    setup.optimizer.zero_grad(set_to_none=True)
    return value


def sweep(
    setup: SweepSetup,
    lrs: np.ndarray,
    device: torch.device,
    on_point: Callable[[SweepPoint], None] | None = None,
    should_stop: Callable[[int], bool] | None = None,
) -> list[SweepPoint]:
    """Train one batch per LR in ``lrs`` until the loss diverges; model/optimizer restored.

    ``should_stop(iterations_done)`` is asked before each iteration (the control channel).
    """
    smoother = LossSmoother()
    points: list[SweepPoint] = []
    scaler = torch.amp.GradScaler("cuda") if device.type == "cuda" else None
    with restored_afterwards(setup.model, setup.optimizer):
        setup.model.train()
        for iteration, (lr, inputs) in enumerate(
            zip(lrs, training_batches(setup, device), strict=False), start=1
        ):
            if should_stop is not None and should_stop(iteration - 1):
                break
            loss = train_step(setup, inputs, float(lr), scaler)
            smoothed = smoother.update(loss)
            point = SweepPoint(
                iteration, float(lr), loss if math.isfinite(loss) else None, smoothed
            )
            points.append(point)
            if on_point is not None:
                on_point(point)
            if smoother.diverged(smoothed):
                break
    return points


def build_sweep_setup(
    config: TrainConfig, stage: int, device: torch.device, backbone: Backbone | None = None
) -> SweepSetup:
    """The stage's data, model (on ``backbone``; fresh when None) and optimizer, as the loop has."""
    settings = stage_settings(config, stage)
    train, _ = load_stage_data(config, stage)
    model = build_stage_model(config, stage, backbone).to(device)
    return SweepSetup(
        stage=stage,
        model=model,
        optimizer=build_optimizer(config, settings, model, config.lr_find_start_lr),
        task=StageTask(config, stage),
        data=TensorData.from_arrays(train, device),
        batch_size=settings.batch_size,
        seed=config.seed,
    )


def finished_event(
    config: TrainConfig, stage: int, result: RangeTestResult
) -> tuple[LrFindFinished, str]:
    """The ``lr_find_finished`` event and its log line (CLI value = suggestion / sqrt scale)."""
    settings = stage_settings(config, stage)
    scale = lr_scale(stage, settings.batch_size)
    best = result.recommended_lr
    cli_value = None if best is None else best / scale
    event = LrFindFinished(
        stage=stage,
        suggestions=result.suggestions,
        recommended=result.recommended,
        option=settings.lr_option,
        cli_value=cli_value,
        lr_scale=scale,
        batch_size=settings.batch_size,
        reason=result.reason,
        warnings=result.warnings,
        diverged=result.diverged,
    )
    named = ", ".join(
        f"{name}={'n/a' if lr is None else format_lr(lr)}"
        for name, lr in result.suggestions.items()
    )
    advice = "no suggestion"
    if best is not None and cli_value is not None:
        advice = f"{settings.lr_option} {format_lr(cli_value)} "
        advice += f"(effective {format_lr(best)} / scale {scale:.2f})"
    line = f"LR find suggestions: {named}; recommended {result.recommended or 'none'} -> {advice}"
    return event, line


def run_lr_find(config: TrainConfig, ctx: RunContext) -> tuple[RunOutcome, str, int]:
    """The range test for the run's first stage; ``(status, reason, iterations)`` like a run."""
    stage = config.stages()[0]
    log = ctx.log.log
    lrs = exponential_lrs(config.lr_find_start_lr, config.lr_find_end_lr, config.lr_find_iterations)
    setup = build_sweep_setup(config, stage, ctx.device)
    log.info(
        "LR range test: stage %d, %s, batch %d, %d iterations, lr %s -> %s",
        stage,
        config.model_architecture,
        setup.batch_size,
        len(lrs),
        format_lr(lrs[0]),
        format_lr(lrs[-1]),
    )

    def on_point(point: SweepPoint) -> None:
        ctx.events.emit(
            LrFindStep(
                stage=stage,
                iteration=point.iteration,
                lr=point.lr,
                loss=point.loss,
                smoothed_loss=point.smoothed if math.isfinite(point.smoothed) else None,
            )
        )
        if point.iteration == 1 or point.iteration % LOG_EVERY == 0:
            log.info(
                "LR find %d/%d: lr=%.3g, loss=%s, smoothed=%.4f",
                point.iteration,
                len(lrs),
                point.lr,
                "nan" if point.loss is None else f"{point.loss:.4f}",
                point.smoothed,
            )

    def should_stop(done: int) -> bool:
        ctx.control.update_state(stage=stage, step=done)
        ctx.control.poll(step=done)
        return ctx.control.stop_requested

    points = sweep(setup, lrs, ctx.device, on_point, should_stop)
    stopped = ctx.control.stop_requested
    result = analyse(
        [p.lr for p in points],
        [p.smoothed for p in points],
        len(lrs),
        config.lr_find_end_lr,
        stopped=stopped,
    )
    event, line = finished_event(config, stage, result)
    ctx.events.emit(event)
    log.info("%s", line)
    for warning in result.warnings:
        log.warning("LR find: %s", warning)
    if stopped:
        return "stopped", f"LR range test stopped after {len(points)} iterations", len(points)
    return "completed", line, len(points)

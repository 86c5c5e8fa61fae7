"""A whole run: run directory, events, control server, signals, Stages 1 → 2 → 3, resume.

Exit status: 0 when the run completed or was stopped (control ``stop``, SIGTERM, SIGINT; the
``latest`` checkpoint is written first), 1 when it failed (maou's fail-fast, or an error).
"""

from __future__ import annotations

import math
import os
import signal
import socket
import sys
import traceback
from pathlib import Path
from typing import Any

import torch

from maou_tui.layout import EVENTS_FILE
from maou_tui.protocol import RunFinished, RunOutcome, RunStarted, StageCompleted, Threshold
from maou_tui.sdk import ControlServer, EventWriter, LoopControl, RunDir, SystemSampler
from trainer import checkpoint, distributed
from trainer.config import TINY_NOTE, TrainConfig
from trainer.context import NullEvents, RunContext, initial_thresholds, main_context, pick_device
from trainer.loop import StageFailed, StageOutcome, StageTrainer
from trainer.models import Backbone
from trainer.train_log import TrainLog, close_logger, setup_logger


class RunError(RuntimeError):
    """A problem that ends the run before training (one line, names what to do)."""


def _install_signal_handlers(ctx: RunContext) -> None:
    """SIGTERM/SIGINT: finish the current step, checkpoint ``latest``, stop (exit 0)."""

    def handle(signum: int, _frame: Any) -> None:
        ctx.request_stop(signal.Signals(signum).name)

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)


def read_resume_checkpoint(config: TrainConfig, checkpoints_dir: Path) -> dict[str, Any] | None:
    """The ``latest.pt`` state to resume from (None for a new run); RunError when unusable."""
    if config.resume is None:
        return None
    try:
        state = checkpoint.load_latest(checkpoints_dir)
    except (checkpoint.CheckpointDamagedError, OSError) as exc:
        raise RunError(f"--resume {config.resume}: {exc}") from None
    if state is None:
        raise RunError(
            f"--resume {config.resume}: no checkpoints/latest.pt to resume from; "
            "start a new run instead"
        )
    return state


def _load_resume_state(ctx: RunContext, state: dict[str, Any] | None) -> dict[str, Any] | None:
    if state is None:
        return None
    assert ctx.checkpoints_dir is not None
    saved_world = state.get("world_size", 1)
    if saved_world != ctx.world_size:
        raise RunError(
            f"--resume {ctx.config.resume}: the checkpoint was written by {saved_world} "
            f"process(es) and this run has {ctx.world_size}; resume with --nproc-per-node "
            f"{saved_world} (another count changes the batches of the epoch in progress)"
        )
    thresholds = {int(k): Threshold.model_validate(v) for k, v in state["thresholds"].items()}
    ctx.control.restore(lr_multiplier=state["lr_multiplier"], thresholds=thresholds)
    ctx.log.log.info(
        "Resuming from %s: stage %d, epoch %d, batch %d (global step %d)",
        ctx.checkpoints_dir / checkpoint.LATEST_NAME,
        state["stage"],
        state["epoch"],
        state["batch"] + 1,
        state["global_step"],
    )
    return state


def train_stages(ctx: RunContext, resume: dict[str, Any] | None) -> tuple[RunOutcome, str, int]:
    """Run the configured stages; returns ``(status, reason, global_step)`` of run_finished."""
    backbone: Backbone | None = None
    global_step = 0
    for stage in ctx.config.stages():
        if resume is not None and stage < resume["stage"]:
            continue
        state = resume if resume is not None and stage == resume["stage"] else None
        if state is None:
            _reset_lr_multiplier(ctx, stage)
        trainer = StageTrainer(ctx, stage, backbone, start_step=global_step + 1, resume=state)
        outcome = trainer.run()
        backbone, global_step = trainer.model.backbone, trainer.global_step
        if outcome.reason == "stopped":
            why = ctx.stop_signal or "control stop"
            return "stopped", f"stopped by {why} at step {global_step}", global_step
        _complete_stage(ctx, trainer, outcome)
        if outcome.stop_run:
            return "stopped", f"stage {stage} threshold reached (action stop)", global_step
    return "completed", "all stages completed", global_step


def _reset_lr_multiplier(ctx: RunContext, stage: int) -> None:
    """An LR set or scaled from the TUI is for the stage it was set in: a new stage starts at
    its own configured LR, and the log says so when a multiplier is dropped."""
    multiplier = ctx.control.lr_multiplier
    if multiplier != 1.0:
        ctx.log.log.info(
            "Stage %d starts at its own LR: the LR multiplier %g set during the previous stage "
            "is reset to 1",
            stage,
            multiplier,
        )
        ctx.control.restore(lr_multiplier=1.0)


def _complete_stage(ctx: RunContext, trainer: StageTrainer, outcome: StageOutcome) -> None:
    stage, settings = trainer.stage, trainer.settings
    trainer.save_stage_outputs(outcome.epochs)
    value = outcome.value if outcome.value is not None else trainer.last_metric
    if outcome.reason == "skipped":
        ctx.log.log.info("Stage %d skipped by control at epoch %d", stage, outcome.epochs)
    elif stage in (1, 2):
        ctx.log.stage_completed(stage, settings.metric, value, outcome.epochs)
    else:
        ctx.log.log.info("Stage 3 completed: epochs=%d", outcome.epochs)
    ctx.events.emit(
        StageCompleted(
            stage=stage,
            epochs=outcome.epochs,
            step=trainer.global_step,
            metric=settings.metric,
            value=None if math.isnan(value) else value,
            reason=outcome.reason,
        )
    )
    ctx.events.flush()


def _open_run_dir(config: TrainConfig) -> RunDir:
    if config.resume is not None:
        return RunDir.open(config.resume)
    assert config.run_dir is not None
    events = Path(config.run_dir) / EVENTS_FILE
    if events.is_file() and events.stat().st_size > 0:
        # Appending a new run to another's history would mix two runs in every chart and report.
        raise RuntimeError(
            f"--run-dir {config.run_dir} already holds a run; continue it with "
            f"--resume {config.run_dir} or choose a new --run-dir"
        )
    return RunDir.create(config.run_dir)


def run_training(config: TrainConfig) -> int:
    """Train in ``config.run_dir`` (or resume ``config.resume``); the process exit status."""
    if config.num_threads:
        torch.set_num_threads(config.num_threads)
    torch.manual_seed(config.seed)
    # --detect-anomaly: autograd names the forward op whose backward made a NaN (slow).
    torch.autograd.set_detect_anomaly(config.detect_anomaly)
    try:
        device = pick_device(config)
        dist = _start_distributed(config, device)
        if dist is not None and not dist.is_main:
            return _run_worker(config, dist)
        run = _open_run_dir(config)
        saved_state = read_resume_checkpoint(config, run.checkpoints_dir)
    except (RuntimeError, OSError) as exc:  # no CUDA, run directory in use, missing or unsafe
        print(f"maou-train: error: {exc}", file=sys.stderr)
        return 2
    to_stderr = config.log_stderr or sys.stderr.isatty()
    logger = setup_logger(run.log_path, to_stderr)
    events = EventWriter(run.events_path)
    server = ControlServer(run.socket_path)
    control_type = LoopControl if dist is None else distributed.RankZeroControl
    ctx = main_context(config, device, events, server, run.checkpoints_dir, logger, control_type)
    if dist is not None:
        ctx.device, ctx.dist, ctx.world_size = dist.device, dist, dist.world_size
    sampler = SystemSampler(events, lambda: ctx.control.step)
    status: RunOutcome = "failed"
    reason, step = "", None
    try:
        if config.resume is None:
            run.write_config(config.to_json_dict())
        server.start()
        _install_signal_handlers(ctx)
        resume = _load_resume_state(ctx, saved_state)
        events.emit(
            RunStarted(
                config=config.to_json_dict(),
                pid=os.getpid(),
                host=socket.gethostname(),
                device=str(device),
                world_size=ctx.world_size,
                resumed=resume is not None,
                run_dir=str(run.path),
            )
        )
        sampler.start()
        if config.preset == "tiny":
            logger.info(TINY_NOTE)
        if config.lr_find:
            from trainer.lr_find import run_lr_find  # the LR range test (lrtools engineer)

            status, reason, step = run_lr_find(config, ctx)
        else:
            status, reason, step = train_stages(ctx, resume)
    except (StageFailed, RunError) as exc:
        reason, step = str(exc), getattr(exc, "step", None)
        logger.error("%s", reason)
        print(f"maou-train: error: {reason}", file=sys.stderr)
    except Exception as exc:
        reason = f"{type(exc).__name__}: {exc}".splitlines()[0]
        if dist is not None:
            reason = dist.failure_reason(exc)
        logger.error("Error occurred\n%s", traceback.format_exc())
        print(f"maou-train: error: {reason}", file=sys.stderr)
    finally:
        sampler.close()
        events.emit(RunFinished(status=status, reason=reason, step=step))
        logger.info("Run finished: %s (%s)", status, reason)
        ctx.control.close()
        events.close()
        close_logger(logger)
        run.close()
        if dist is not None:
            dist.close(clean=status != "failed")
    return 1 if status == "failed" else 0


def _start_distributed(config: TrainConfig, device: torch.device) -> distributed.Distributed | None:
    """Join torchrun's process group when started by it (None otherwise)."""
    if config.lr_find and distributed.launched_by_torchrun():
        raise RuntimeError("--lr-find runs in one process; start it without torchrun")
    return distributed.start(device)


def _run_worker(config: TrainConfig, dist: distributed.Distributed) -> int:
    """A rank other than 0: trains in step with rank 0 and writes nothing; exit status."""
    checkpoints_dir = Path(config.resume) / "checkpoints" if config.resume else None
    ctx = RunContext(
        config=config,
        device=dist.device,
        log=TrainLog(setup_logger(None, to_stderr=False)),
        events=NullEvents(),
        control=LoopControl(None, None, thresholds=initial_thresholds(config)),
        checkpoints_dir=checkpoints_dir,
        is_main=False,
        rank=dist.rank,
        world_size=dist.world_size,
        dist=dist,
    )
    _install_signal_handlers(ctx)
    try:
        saved_state = read_resume_checkpoint(config, checkpoints_dir) if checkpoints_dir else None
        train_stages(ctx, _load_resume_state(ctx, saved_state))
    except (StageFailed, RunError):
        dist.close(clean=True)  # rank 0 says why
        return 1
    except Exception as exc:
        print(f"maou-train: error: rank {dist.rank}: {dist.failure_reason(exc)}", file=sys.stderr)
        dist.close(clean=False)
        return 1
    dist.close(clean=True)
    return 0

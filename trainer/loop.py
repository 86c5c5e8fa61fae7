"""One stage's training loop: batches, optimizer steps, the schedule, control, events and logs.

Per batch: a step boundary (control commands, stop/skip/checkpoint, LR = multiplier × schedule),
then forward/backward, and every ``accumulation`` batches an optimizer step (gradient clipping
1.0, AMP GradScaler on CUDA) followed by one scheduler step. Everything logged per batch is turned
into Python floats with ONE device sync (a stacked ``tolist()``).
"""

from __future__ import annotations

import contextlib
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import torch
from torch import Tensor

from maou_tui.protocol import (
    CheckpointSaved,
    EpochEnd,
    Phase,
    StageStarted,
    Step,
    ThresholdReached,
    TrainerWarning,
)
from maou_tui.stages import STAGE_METRIC_LABELS
from trainer import checkpoint
from trainer.adaptive_batch import AdaptiveBatch
from trainer.config import TrainConfig, stage_settings
from trainer.context import RunContext
from trainer.early_stopping import EarlyStopping
from trainer.freezing import prepare_model
from trainer.maou_tensorboard import MaouSummary, model_tag
from trainer.metrics import finish_validation_metrics
from trainer.models import Backbone, parameter_count
from trainer.progress import EpochTotals, Throughput
from trainer.schedule import SchedulePlan, build_scheduler, lr_scale, resolve_scheduler
from trainer.sources import stage_sources
from trainer.stages import StageTask, build_optimizer, build_stage_model
from trainer.train_log import default_log_every

#: Stage 3 per-batch extras carried in the step event's ``metrics``.
_STEP_EXTRAS = ("policy_top5_accuracy", "value_brier_score")


class StageFailed(RuntimeError):
    """maou's fail-fast: the stage ran out of epochs below its threshold (one-line message)."""

    def __init__(self, message: str, step: int) -> None:
        super().__init__(message)
        self.step = step  #: the last global step trained


@dataclass
class StageOutcome:
    reason: Literal["threshold", "max_epochs", "early_stopped", "skipped", "stopped"]
    epochs: int
    value: float | None
    #: True when the whole run ends here (a stop, or a threshold with action "stop").
    stop_run: bool = False


class StageTrainer:
    """Trains one stage on ``backbone`` (new when None), starting at global step ``start_step``."""

    def __init__(
        self,
        ctx: RunContext,
        stage: int,
        backbone: Backbone | None = None,
        start_step: int = 1,
        resume: dict[str, Any] | None = None,
    ) -> None:
        self.ctx = ctx
        self.cfg = ctx.config
        self.stage = stage
        self.settings = stage_settings(self.cfg, stage)
        self.train_data, self.val_data = stage_sources(self.cfg, stage, ctx.device, ctx.dist)
        self.model = build_stage_model(self.cfg, stage, backbone).to(ctx.device)
        # Freezing, gradient checkpointing, --resume-backbone-from, torch.compile and, under
        # torchrun, DDP on this rank's shard: the module the loop trains through.
        self.net, self.setup_notes = prepare_model(
            self.cfg, stage, self.model, fresh_backbone=backbone is None, dist=ctx.dist
        )
        self.task = StageTask(self.cfg, stage)
        self.batches = self.train_data.batches
        # maou's adaptive batch (Stage 3 only) replaces --gradient-accumulation-steps.
        self.adaptive = _adaptive_batch(self.cfg, self.settings.batch_size, stage)
        self.accumulation = (
            self.adaptive.steps if self.adaptive else self.cfg.gradient_accumulation_steps
        )
        self.micro = 0  #: micro-batches since the last optimizer step
        self.early = EarlyStopping.for_stage(self.cfg, stage)
        self.last_val: dict[str, float | None] | None = None
        self.tag = model_tag(
            self.cfg.model_architecture, parameter_count(self.model), self.cfg.trainable_layers
        )
        self.run_id = checkpoint.timestamp()  # maou's model file id
        self.summary = (
            MaouSummary(self.cfg.log_dir, self.tag, self.batches)
            if self.cfg.log_dir is not None and stage == 3 and ctx.is_main
            else None
        )
        # --batch-size is per process: sqrt scaling and the scheduler choice use the global batch.
        self.global_batch = self.settings.batch_size * ctx.world_size
        self.scale = lr_scale(stage, self.global_batch)
        self.effective_lr = self.settings.base_lr * self.scale
        self.plan = SchedulePlan(
            name=resolve_scheduler(stage, self.settings.scheduler_request, self.global_batch),
            batches_per_epoch=self.batches,
            accumulation=self.accumulation,
            max_epochs=self.settings.max_epochs,
        )
        self.optimizer = build_optimizer(self.cfg, self.settings, self.model, self.effective_lr)
        self.scheduler = build_scheduler(self.optimizer, self.plan)
        self.scaler = torch.amp.GradScaler("cuda") if ctx.use_amp else None
        self.log_every = self.cfg.log_every or default_log_every(self.batches)
        self.label = STAGE_METRIC_LABELS[stage]
        self.start_step = start_step
        self.global_step = start_step - 1
        self.epoch, self.next_batch = 1, 0
        self.totals = EpochTotals()
        self.last_metric = float("nan")
        self.throughput = Throughput()
        self.last_save = time.monotonic()
        self.resumed = resume is not None
        if resume is not None:
            self._load(resume)

    # ---- the stage -----------------------------------------------------------------------------

    def run(self) -> StageOutcome:
        self._announce()
        for epoch in range(self.epoch, self.plan.max_epochs + 1):
            self.epoch = epoch
            if self.stage == 3 and self.next_batch == 0:
                self.ctx.log.stage3_epoch(epoch)  # maou's dl.py opens each epoch with it
            self.model.train()
            self.micro = 0
            batches = self.train_data.epoch_batches(epoch, self.next_batch)
            for batch, inputs in enumerate(batches, start=self.next_batch):
                self.next_batch = batch
                # Commands apply between optimizer steps: at the start of an accumulation group.
                outcome = self._step_boundary() if self.micro == 0 else None
                if outcome is not None:
                    return outcome
                self._train_batch(inputs, batch)
            self.next_batch = 0
            outcome = self._end_epoch(epoch)
            if outcome is not None:
                return outcome
            self.totals = EpochTotals()
            self.epoch = epoch + 1
        return self._out_of_epochs()

    def _announce(self) -> None:
        """Banner, scaling and scheduler lines; stage_started and phase events."""
        log, s = self.ctx.log, self.settings
        threshold = self.ctx.control.thresholds.get(self.stage)
        log.stage_banner(self.stage, s.name)
        log.model(self.cfg.model_architecture, self.cfg.preset, parameter_count(self.model))
        if threshold is not None:  # maou's Stage 3 (dl.py) has no threshold and no such line
            log.starting(s.name, s.max_epochs, threshold.value)
        if self.stage in (1, 2):
            log.sqrt_scaling(s.base_lr, self.scale, self.effective_lr, self._batch_note())
        log.scheduler(self.plan.name, self.plan.warmup_steps, self.plan.total_steps)
        for note in self.setup_notes:
            log.log.info("%s", note)
        if self.summary is not None:  # maou's dl.py line
            log.log.info("TensorBoard log directory: %s (model: %s)", self.summary.path, self.tag)
        self.ctx.events.emit(
            StageStarted(
                stage=self.stage,
                name=s.name,
                metric=s.metric,
                max_epochs=s.max_epochs,
                steps_per_epoch=self.plan.steps_per_epoch,
                total_steps=self.plan.total_steps,
                warmup_steps=self.plan.warmup_steps,
                scheduler=self.plan.name,
                base_lr=s.base_lr,
                lr_scale=self.scale,
                effective_lr=self.effective_lr,
                batch_size=s.batch_size,
                threshold=threshold.value if threshold else None,
                start_step=self.start_step,
                architecture=self.cfg.model_architecture,
                batches_per_epoch=self.batches,
                gradient_accumulation_steps=self.plan.accumulation,
                train_samples=len(self.train_data),
                val_samples=len(self.val_data) if self.val_data is not None else 0,
                resumed=self.resumed,
            )
        )
        for name, start, end in self.plan.phases(self.start_step):
            self.ctx.events.emit(
                Phase(stage=self.stage, phase=name, start_step=start, end_step=end)
            )

    def _batch_note(self) -> str:
        if self.ctx.world_size == 1:
            return ""
        return (
            f" (global batch {self.global_batch} = {self.settings.batch_size} per process"
            f" x {self.ctx.world_size} processes)"
        )

    # ---- step boundary: control --------------------------------------------------------------

    @property
    def schedule_lr(self) -> float:
        return float(self.scheduler.get_last_lr()[0])

    def _step_boundary(self) -> StageOutcome | None:
        """Apply control commands between optimizer steps; returns an outcome to end the stage."""
        control, schedule_lr = self.ctx.control, self.schedule_lr
        control.update_state(
            stage=self.stage,
            stage_name=self.settings.name,
            epoch=self.epoch,
            batch=self.next_batch,
            step=self.global_step,
            lr=control.lr_multiplier * schedule_lr,
        )
        control.poll(step=self.global_step, schedule_lr=schedule_lr)
        if self.ctx.dist is not None:  # every rank applies rank 0's commands at this step
            self.ctx.dist.sync_control(control, self.global_step, schedule_lr)
        if control.stop_requested:
            self.save_latest(self.ctx.stop_signal or "stop")
            if self.summary is not None:  # keep the TensorBoard scalars written so far
                self.summary.close()
            return StageOutcome("stopped", self.epoch, None, stop_run=True)
        if control.skip_requested:
            control.clear_skip()
            return StageOutcome("skipped", self.epoch, self.totals.mean(self.settings.metric))
        if control.checkpoint_requested:
            control.checkpoint_done(str(self.save_latest("control")))
        interval = self.cfg.checkpoint_interval
        if interval and time.monotonic() - self.last_save >= interval:
            self.save_latest("interval")
        multiplier = control.lr_multiplier
        for group, base in zip(
            self.optimizer.param_groups, self.scheduler.get_last_lr(), strict=True
        ):
            group["lr"] = multiplier * base
        return None

    # ---- one batch -----------------------------------------------------------------------------

    def _autocast(self) -> contextlib.AbstractContextManager[Any]:
        if self.ctx.use_amp:
            return torch.autocast(device_type="cuda", dtype=torch.float16)
        return contextlib.nullcontext()

    def _gradient_sync(self, is_step: bool) -> contextlib.AbstractContextManager[Any]:
        """Under DDP, gradients are all-reduced once per optimizer step, not per micro-batch."""
        if self.ctx.dist is None:
            return contextlib.nullcontext()
        return self.ctx.dist.gradient_sync(self.net, sync=is_step)

    def _train_batch(self, inputs: dict[str, Tensor], batch: int) -> None:
        """Forward and backward of batch ``batch`` (0-based) of the epoch; an optimizer step when
        it closes an accumulation group (or the epoch)."""
        samples = int(inputs["board"].shape[0])
        accumulation = self.accumulation
        is_step = self.micro + 1 >= accumulation or batch + 1 == self.batches
        with self._gradient_sync(is_step):
            with self._autocast():
                result = self.task.compute(self.net, inputs)
            loss = result.loss / accumulation
            if self.scaler is not None:
                self.scaler.scale(loss).backward()
            else:
                loss.backward()
        if self.adaptive is not None:
            self.adaptive.estimator.after_backward(self.model, self.micro)
        keys = list(result.sums)
        # One device sync for everything this step logs.
        values = torch.stack(
            [result.loss.detach().float(), *(result.sums[k].float() for k in keys)]
        )
        if self.ctx.dist is not None:  # log the global batch: the same values on every rank
            values, samples = self.ctx.dist.reduce_step(values, samples)
        loss_value, *sum_values = values.tolist()
        sums = dict(zip(keys, sum_values, strict=True))
        lr_used = self.optimizer.param_groups[0]["lr"]
        finite = math.isfinite(loss_value)
        if not finite:
            self._non_finite(batch, loss_value)
        if is_step:
            self._optimizer_step(apply=finite)
            self.micro = 0
        else:
            self.micro += 1
        self.global_step += 1
        if finite:
            self.totals.add(loss_value, samples, sums)
            if self.summary is not None:
                self.summary.batch_loss(self.epoch, batch, loss_value)
        self._emit_step(batch, loss_value if finite else None, samples, sums, lr_used)

    def _optimizer_step(self, apply: bool) -> None:
        """Clip, step, then step the schedule once; a skipped step (non-finite loss, AMP
        overflow) leaves the schedule where it is, as maou does."""
        stepped = apply
        gns = None
        if apply:
            if self.scaler is not None:
                self.scaler.unscale_(self.optimizer)
                if self.adaptive is not None:  # measured before clipping, as maou does
                    gns = self.adaptive.estimator.at_step(self.model)
                torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
                scale_before = self.scaler.get_scale()
                self.scaler.step(self.optimizer)
                self.scaler.update()
                # AMP skipped the step (inf grads): maou skips the scheduler step too.
                stepped = self.scaler.get_scale() >= scale_before
            else:
                if self.adaptive is not None:
                    gns = self.adaptive.estimator.at_step(self.model)
                torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
                self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        if stepped:
            self.scheduler.step()
        if self.adaptive is not None:
            self._adapt_batch(gns)

    def _adapt_batch(self, gns: float | None) -> None:
        assert self.adaptive is not None
        change = self.adaptive.update(gns)
        if change is None:
            return
        old, new = change
        size = self.settings.batch_size
        self.ctx.log.log.info(
            "Adaptive batch: accumulation_steps %d → %d (effective_bs: %d → %d, "
            "smoothed_GNS: %.1f). The LR is not adjusted with it",
            old, new, size * old, size * new, self.adaptive.smoothed_gns or 0.0,
        )  # fmt: skip
        self.accumulation = new

    def _non_finite(self, batch: int, loss_value: float) -> None:
        self.ctx.log.non_finite(self.epoch, batch + 1, loss_value)
        self.optimizer.zero_grad(set_to_none=True)
        self.ctx.events.emit(
            TrainerWarning(
                kind="nan",
                message=f"Non-finite loss {loss_value} at epoch {self.epoch}, batch {batch + 1}; "
                "batch skipped",
                stage=self.stage,
                epoch=self.epoch,
                step=self.global_step + 1,
            )
        )

    def _emit_step(
        self, batch: int, loss: float | None, samples: int, sums: dict[str, float], lr: float
    ) -> None:
        metric_key = self.settings.metric
        batch_metric = sums.get(metric_key, 0.0) / samples if loss is not None else None
        extras: dict[str, float | None] = {}
        if self.stage == 3 and loss is not None:
            extras = {key: sums[key] / samples for key in _STEP_EXTRAS}
            mean = sums["value_sum"] / samples
            extras["value_mean"] = mean
            extras["value_std"] = max(0.0, sums["value_sq_sum"] / samples - mean * mean) ** 0.5
        control = self.ctx.control
        rate = self.throughput.mark(samples, control.paused_seconds_total)
        self.ctx.events.emit(
            Step(
                stage=self.stage,
                epoch=self.epoch,
                batch=batch + 1,
                global_step=self.global_step,
                loss=loss,
                loss_cum=self.totals.mean_loss if self.totals.batches else None,
                metric=batch_metric,
                metric_cum=self.totals.mean(metric_key) if self.totals.samples else None,
                lr=lr,
                lr_multiplier=control.lr_multiplier,
                samples_per_s=rate,
                metrics=extras,
            )
        )
        shown = batch + 1
        if self.totals.batches and (shown in (1, self.batches) or shown % self.log_every == 0):
            self.ctx.log.batch_progress(
                self.epoch, shown, self.batches, self.totals.mean_loss, self.label,
                self.totals.mean(metric_key),
            )  # fmt: skip

    # ---- epoch end -----------------------------------------------------------------------------

    def _end_epoch(self, epoch: int) -> StageOutcome | None:
        """Validation, maou's epoch lines, epoch_end, then the threshold check."""
        log, metric_key = self.ctx.log, self.settings.metric
        train_loss, train_metric = self.totals.mean_loss, self.totals.mean(metric_key)
        self.last_metric = train_metric
        val = self.evaluate() if self.val_data is not None else None
        self.last_val = val
        lr = self.ctx.control.lr_multiplier * self.schedule_lr
        log.stage_epoch(
            self.stage, epoch, self.plan.max_epochs, train_loss, self.label, train_metric
        )
        val_loss = val["loss"] if val is not None else None  # a float whenever val is not None
        if val is not None and val_loss is not None and self.stage == 3:
            log.stage3_loss(train_loss, val_loss)
            log.stage3_metrics({k: v for k, v in val.items() if k != "loss"})
        elif val is not None and val_loss is not None:
            val_metric = val[metric_key]
            assert val_metric is not None  # a mean over the validation rows for stages 1 and 2
            log.validation(epoch, train_loss, val_loss, self.label, val_metric)
        log.epoch_lr(self.stage, epoch, lr)
        if self.summary is not None:
            self.summary.epoch(epoch, train_loss, val, lr)
        self.ctx.events.emit(
            EpochEnd(
                stage=self.stage,
                epoch=epoch,
                global_step=self.global_step,
                train_loss=train_loss,
                train_metric=train_metric,
                val_loss=val["loss"] if val else None,
                val_metric=val[metric_key] if val else None,
                lr=lr,
                metrics={k: v for k, v in (val or {}).items() if k not in ("loss", metric_key)},
            )
        )
        self.ctx.events.flush()
        self.throughput.restart(self.ctx.control.paused_seconds_total)
        if val is not None and self.early is not None:
            return self._watch_validation(epoch, val)
        return self._check_threshold(epoch, train_metric)

    def _watch_validation(self, epoch: int, val: dict[str, float | None]) -> StageOutcome | None:
        """Stage 3: a new best monitored metric saves the model to --model-dir (maou's
        checkpoint rule); ``--early-stopping-patience`` epochs without one end the stage."""
        assert self.early is not None
        improved = self.early.update(val)
        if improved:
            self._save_stage3_model(epoch)
        if not self.early.should_stop:
            return None
        self.ctx.log.log.info("%s", self.early.message(epoch, self.plan.max_epochs))
        return StageOutcome("early_stopped", epoch, self.last_metric)

    def _save_to_model_dir(self, epochs: int) -> None:
        if self.cfg.model_dir is None:
            return
        if self.stage == 3:
            if self.early is None or not self.early.improved_once:  # no validation to watch
                self._save_stage3_model(epochs)
            return
        saved = checkpoint.save_stage_files_to(
            Path(self.cfg.model_dir).expanduser(), self.stage, self.model.backbone, self.model.head
        )
        for part, path in saved:
            self.ctx.log.saved(self.settings.name, part, path)

    def _save_stage3_model(self, epoch: int) -> None:
        if self.cfg.model_dir is None or not self.ctx.is_main:
            return
        paths = checkpoint.save_stage3_model(
            Path(self.cfg.model_dir).expanduser(),
            self.run_id,
            self.tag,
            epoch,
            self.model.backbone,
            self.model.head,
            split=self.cfg.save_split_params,
        )
        for path in paths:
            self.ctx.log.log.info("Saving model to %s", path)

    def _check_threshold(self, epoch: int, value: float) -> StageOutcome | None:
        threshold = self.ctx.control.thresholds.get(self.stage)
        if threshold is None or not value >= threshold.value:
            return None
        self.ctx.log.threshold_achieved(self.stage, self.label, value, threshold.value)
        self.ctx.events.emit(
            ThresholdReached(
                stage=self.stage,
                epoch=epoch,
                step=self.global_step,
                metric=self.settings.metric,
                value=value,
                threshold=threshold.value,
                action=threshold.action,
            )
        )
        return StageOutcome("threshold", epoch, value, stop_run=threshold.action == "stop")

    def _out_of_epochs(self) -> StageOutcome:
        value = self.last_metric
        threshold = self.ctx.control.thresholds.get(self.stage)
        if self.stage in (1, 2) and threshold is not None:
            s = self.settings
            raise StageFailed(
                f"Stage {self.stage} failed to meet the {s.metric} threshold "
                f"{100 * threshold.value:.2f}% in {s.max_epochs} epochs (last "
                f"{100 * value:.2f}%); raise {s.epochs_option} or {s.lr_option}, or lower "
                f"--stage{self.stage}-threshold",
                step=self.global_step,
            )
        return StageOutcome("max_epochs", self.plan.max_epochs, value)

    @torch.no_grad()
    def evaluate(self) -> dict[str, float | None]:
        """Loss and metrics on the validation set (eval mode, sequential batches)."""
        assert self.val_data is not None
        self.model.eval()
        totals = EpochTotals()
        for inputs in self.val_data.eval_batches():
            rows = int(inputs["board"].shape[0])
            with self._autocast():
                result = self.task.compute(self.model, inputs)
            sums = {**result.sums, **self.task.validation_extras(result, inputs)}
            keys = list(sums)
            values = torch.stack([result.loss.float() * rows, *(sums[k].float() for k in keys)])
            loss_sum, *sum_values = values.tolist()
            totals.add(loss_sum, rows, dict(zip(keys, sum_values, strict=True)))
        self.model.train()
        if self.stage == 3:
            out: dict[str, float | None] = dict(
                finish_validation_metrics(totals.sums, totals.samples)
            )
        else:
            out = {self.settings.metric: totals.mean(self.settings.metric)}
        out["loss"] = totals.loss_sum / totals.samples
        return out

    # ---- checkpoints ---------------------------------------------------------------------------

    def resumable_state(self) -> dict[str, Any]:
        """Everything needed to continue at the next batch exactly (RNG added by checkpoint)."""
        control = self.ctx.control
        return {
            "stage": self.stage,
            "epoch": self.epoch,
            "batch": self.next_batch,
            "global_step": self.global_step,
            "stage_start_step": self.start_step,
            "backbone": self.model.backbone.state_dict(),
            "head": self.model.head.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "scaler": self.scaler.state_dict() if self.scaler is not None else None,
            "lr_multiplier": control.lr_multiplier,
            "thresholds": {k: t.model_dump() for k, t in control.thresholds.items()},
            "totals": self.totals.to_dict(),
            "last_metric": self.last_metric,
            "world_size": self.ctx.world_size,
            "adaptive": self.adaptive.state() if self.adaptive is not None else None,
            "early_stopping": self.early.state() if self.early is not None else None,
        }

    def save_latest(self, reason: str) -> str:
        """Write ``checkpoints/latest.pt`` (main process only) and say so in the events."""
        self.last_save = time.monotonic()
        if not self.ctx.is_main or self.ctx.checkpoints_dir is None:
            return ""
        try:
            path = checkpoint.save_latest(self.ctx.checkpoints_dir, self.resumable_state())
        except checkpoint.CheckpointWriteError as exc:
            self._checkpoint_failed(exc, stopping=self.ctx.control.stop_requested)
            return ""
        self.ctx.checkpoint_failing = False
        self.ctx.events.emit(
            CheckpointSaved(
                path=str(path),
                step=self.global_step,
                stage=self.stage,
                epoch=self.epoch,
                reason=reason,
            )
        )
        self.ctx.events.flush()
        self.throughput.restart(self.ctx.control.paused_seconds_total)
        return str(path)

    def _checkpoint_failed(self, exc: checkpoint.CheckpointWriteError, stopping: bool) -> None:
        """Say so once per run of failures (always when stopping); training goes on."""
        previous = self.ctx.checkpoints_dir / checkpoint.LATEST_NAME  # type: ignore[operator]
        kept = f"{previous} is kept" if previous.exists() else "there is no earlier checkpoint"
        if stopping:
            message = f"{exc}; stopping without a new checkpoint ({kept}, resume starts there)"
            print(f"maou-train: error: {message}", file=sys.stderr, flush=True)
        elif self.ctx.checkpoint_failing:
            return
        else:
            message = f"{exc}; {kept}; training continues and retries at the next checkpoint"
        self.ctx.checkpoint_failing = True
        self.ctx.log.log.error("%s", message)
        self.ctx.events.emit(
            TrainerWarning(
                kind="checkpoint_failed",
                message=message,
                stage=self.stage,
                epoch=self.epoch,
                step=self.global_step,
            )
        )

    def _load(self, state: dict[str, Any]) -> None:
        self.model.backbone.load_state_dict(state["backbone"])
        self.model.head.load_state_dict(state["head"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        if self.scaler is not None and state.get("scaler"):
            self.scaler.load_state_dict(state["scaler"])
        self.epoch, self.next_batch = state["epoch"], state["batch"]
        self.global_step = state["global_step"]
        self.start_step = state["stage_start_step"]
        self.totals = EpochTotals.from_dict(state["totals"])
        self.last_metric = state["last_metric"]
        if self.adaptive is not None and state.get("adaptive"):
            self.adaptive.restore(state["adaptive"])
            self.accumulation = self.adaptive.steps
        if self.early is not None and state.get("early_stopping"):
            self.early.restore(state["early_stopping"])
        checkpoint.restore_rng_state(state["rng"])

    def save_stage_outputs(self, epochs: int) -> None:
        """maou's stage-end files (head + backbone; Stage 3: the whole model), in the run's
        checkpoints and, with --model-dir, there too; Stage 3 closes its TensorBoard files."""
        if not self.ctx.is_main:
            return
        self._save_to_model_dir(epochs)
        if self.summary is not None:
            final = self.last_val or {}
            best = self.early.best if self.early is not None else float("nan")
            self.summary.finish(self.cfg, self.tag, best, final)
        if self.ctx.checkpoints_dir is None:
            return
        try:
            saved = checkpoint.save_stage_outputs(
                self.ctx.checkpoints_dir, self.stage, self.model.backbone, self.model.head
            )
        except checkpoint.CheckpointWriteError as exc:
            self._checkpoint_failed(exc, stopping=False)
            return
        for part, path in saved:
            self.ctx.log.saved(self.settings.name, part, path)
            self.ctx.events.emit(
                CheckpointSaved(
                    path=str(path),
                    step=self.global_step,
                    stage=self.stage,
                    epoch=epochs,
                    reason=f"stage{self.stage}_{part}",
                )
            )


def _adaptive_batch(config: TrainConfig, batch_size: int, stage: int) -> AdaptiveBatch | None:
    """maou applies --adaptive-batch to Stage 3 only; Stages 1/2 keep fixed accumulation."""
    if not config.adaptive_batch or stage != 3:
        return None
    return AdaptiveBatch(
        batch_size=batch_size,
        min_steps=config.adaptive_batch_min_steps,
        max_steps=config.adaptive_batch_max_steps,
        interval=config.adaptive_batch_interval,
        smoothing=config.adaptive_batch_smoothing,
        measurement_interval=config.adaptive_batch_measurement_interval,
    )

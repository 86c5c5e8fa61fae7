"""``Monitor``: watch and control any PyTorch training loop with maou-tui.

```python
from maou_tui.sdk import Monitor

mon = Monitor("runs/my-run", optimizer, scheduler=scheduler, metric_name="accuracy")
for x, y in loader:
    optimizer.zero_grad()
    loss = loss_fn(model(x), y)
    loss.backward()
    optimizer.step()
    scheduler.step()
    if not mon.step(loss=loss.item(), metric=accuracy):
        break  # someone sent "stop"
mon.close()
```
Then ``maou-tui attach runs/my-run`` shows the curves and its keys pause, halve the LR or stop.

How the LR multiplier is applied without fighting the scheduler: hooks on ``optimizer.step``
set each group's LR to ``multiplier x scheduled LR`` just for the step and put the scheduled
value back right after, so schedulers (chainable or closed-form) never see the multiplier and
it never compounds. torch is not imported here: the optimizer brings its own hook methods.
"""

from __future__ import annotations

import os
import socket
import time
from typing import Any

from maou_tui.protocol import RunFinished, RunOutcome, RunStarted, StageStarted, Step
from maou_tui.sdk.events import EventWriter
from maou_tui.sdk.loop_control import LoopControl
from maou_tui.sdk.rundir import RunDir
from maou_tui.sdk.server import ControlServer
from maou_tui.sdk.system import DEFAULT_INTERVAL_S, SystemSampler

_NO_STAGES = "this loop has no stages to skip (Monitor); send stop instead"
_NO_CHECKPOINTS = "this loop saves no checkpoints; pass checkpoint_fn to Monitor to enable them"


class Monitor:
    """Record a training loop's steps in a run directory and obey control commands.

    ``optimizer`` is any ``torch.optim.Optimizer``; ``scheduler`` (optional) is only recorded.
    ``checkpoint_fn(step) -> path`` (optional) is called when a client asks for a checkpoint.
    ``control=False`` writes events only (no socket). ``system_interval`` is the seconds
    between two ``system`` samples (CPU, memory, GPUs); None samples nothing.
    """

    def __init__(
        self,
        run_dir: str | os.PathLike[str],
        optimizer: Any,
        scheduler: Any = None,
        total_steps: int | None = None,
        metric_name: str = "accuracy",
        *,
        config: dict[str, Any] | None = None,
        batch_size: int | None = None,
        checkpoint_fn: Any = None,
        control: bool = True,
        system_interval: float | None = DEFAULT_INTERVAL_S,
    ) -> None:
        self.optimizer = optimizer
        self.scheduler = scheduler
        self.batch_size = batch_size
        self.checkpoint_fn = checkpoint_fn
        self.global_step = 0
        self._epoch = 0
        self._batch = 0  # batches of the current epoch
        self.run = RunDir.create(run_dir)
        self.events = EventWriter(self.run.events_path)
        try:
            server = ControlServer(self.run.socket_path).start() if control else None
        except BaseException:
            self.events.close()
            self.run.close()
            raise
        refused = {"skip_stage": _NO_STAGES}
        if checkpoint_fn is None:
            refused["checkpoint"] = _NO_CHECKPOINTS
        self.control = LoopControl(server, self.events, refuse=refused)
        self._closed = False
        self._clock = time.time()
        self._hooks = [
            optimizer.register_step_pre_hook(self._apply_multiplier),
            optimizer.register_step_post_hook(self._restore_schedule),
        ]
        self._scheduled: list[float] | None = None
        self._start(config or {}, total_steps, metric_name)
        self._sampler: SystemSampler | None = None
        if system_interval is not None:
            self._sampler = SystemSampler(self.events, lambda: self.global_step, system_interval)
            self._sampler.start()

    def _start(self, config: dict[str, Any], total_steps: int | None, metric_name: str) -> None:
        self.run.write_config(config)
        self.events.emit(
            RunStarted(config=config, pid=os.getpid(), host=socket.gethostname(), device="")
        )
        self.events.emit(
            StageStarted(
                stage=1,
                name="TRAINING",
                metric=metric_name,
                total_steps=total_steps,
                base_lr=self.scheduled_lr,
                scheduler=type(self.scheduler).__name__ if self.scheduler is not None else None,
                batch_size=self.batch_size,
            )
        )
        self.control.update_state(stage=1, stage_name="TRAINING", step=0, lr=self.scheduled_lr)

    @property
    def scheduled_lr(self) -> float:
        """The first parameter group's LR as the scheduler set it (without the multiplier)."""
        return float(self.optimizer.param_groups[0]["lr"])

    @property
    def should_stop(self) -> bool:
        return self.control.stop_requested

    @property
    def lr_multiplier(self) -> float:
        return self.control.lr_multiplier

    def step(
        self,
        loss: float | None,
        metric: float | None = None,
        *,
        epoch: int = 0,
        metrics: dict[str, float | None] | None = None,
    ) -> bool:
        """Record one finished optimizer step and apply commands; False once a stop is requested.

        ``batch`` in the event counts from 1 within ``epoch``; ``global_step`` over the run.
        ``loss`` and ``metric`` may be tensors: both are read with one device sync.
        May block while a client has paused the run.
        """
        # The hot path of every training step (bench/sdk_overhead.py): plain values only; the
        # event is serialised by the writer's timer thread (emit_later).
        if type(loss) is not float or type(metric) is not float:
            loss, metric = _as_floats(loss, metric)
        self.global_step = step = self.global_step + 1
        if epoch == self._epoch:
            self._batch = batch = self._batch + 1
        else:
            self._epoch, self._batch, batch = epoch, 1, 1
        control = self.control
        multiplier = control.lr_multiplier
        schedule_lr = self.optimizer.param_groups[0]["lr"]
        if type(schedule_lr) is not float:  # an int, or a tensor LR (some torch optimizers)
            schedule_lr = float(schedule_lr)
        lr = multiplier * schedule_lr
        # One clock read for the stamp and the throughput; a wall-clock jump spoils one rate.
        now = time.time()
        elapsed, self._clock = now - self._clock, now
        fields: dict[str, Any] = {
            "stage": 1,
            "epoch": epoch,
            "batch": batch,
            "global_step": step,
            "loss": loss,
            "metric": metric,
            "lr": lr,
            "lr_multiplier": multiplier,
            "samples_per_s": self.batch_size / elapsed if self.batch_size and elapsed > 0 else None,
        }
        if metrics:
            fields["metrics"] = metrics
        self.events.emit_later(Step, fields, now)
        control.set_position(epoch, batch, step, lr)
        server = control.server
        if server is not None and server.has_pending:
            self._apply_commands(step, schedule_lr)
        return not control.stop_requested

    def _apply_commands(self, step: int, schedule_lr: float) -> None:
        paused_before = self.control.paused_seconds_total
        self.control.poll(step, schedule_lr=schedule_lr)
        if self.control.checkpoint_requested and self.checkpoint_fn is not None:
            self.control.checkpoint_done(str(self.checkpoint_fn(step)))
        if self.control.paused_seconds_total != paused_before:
            self._clock = time.time()  # paused time is not training time

    def close(self, status: RunOutcome | None = None, reason: str = "") -> None:
        """Write run_finished (stopped if a stop was requested, else completed) and clean up."""
        if self._closed:
            return
        self._closed = True
        for hook in self._hooks:
            hook.remove()
        if self._sampler is not None:
            self._sampler.close()
        outcome: RunOutcome = status or ("stopped" if self.control.stop_requested else "completed")
        self.events.emit(RunFinished(status=outcome, reason=reason, step=self.global_step))
        self.control.close()
        self.events.close()
        self.run.close()

    def __enter__(self) -> Monitor:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc is None:
            self.close()
        else:
            self.close("failed", f"{exc_type.__name__}: {exc}")

    def _apply_multiplier(self, optimizer: Any, args: Any, kwargs: Any) -> None:
        multiplier = self.control.lr_multiplier
        if multiplier == 1.0:  # nothing to apply or restore (commands change it between steps)
            self._scheduled = None
            return
        self._scheduled = [group["lr"] for group in optimizer.param_groups]
        for group, lr in zip(optimizer.param_groups, self._scheduled, strict=True):
            group["lr"] = lr * multiplier

    def _restore_schedule(self, optimizer: Any, args: Any, kwargs: Any) -> None:
        if self._scheduled is None:
            return
        for group, lr in zip(optimizer.param_groups, self._scheduled, strict=True):
            group["lr"] = lr


def _as_floats(loss: Any, metric: Any) -> tuple[float | None, float | None]:
    """``loss`` and ``metric`` as Python floats (or None); two tensors cost one device sync."""
    if hasattr(loss, "detach") and hasattr(metric, "detach") and loss.device == metric.device:
        # Tensor methods only: maou_tui never imports torch, even where the caller has.
        pair = loss.detach().float().reshape(1).repeat(2)
        pair[1] = metric.detach().float().reshape(())
        loss_value, metric_value = pair.tolist()
        return loss_value, metric_value
    return _as_float(loss), _as_float(metric)


def _as_float(value: Any) -> float | None:
    if value is None:
        return None
    return float(value.detach() if hasattr(value, "detach") else value)

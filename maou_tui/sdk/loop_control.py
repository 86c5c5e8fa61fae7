"""What a training loop calls at each step boundary to apply control commands.

The loop publishes its position with ``update_state`` (cheap: a few attribute stores) and calls
``poll`` between optimizer steps. ``poll`` applies every queued command in order, answers each
(``applied`` at this step, or ``rejected`` with the reason), writes a ``control`` event with the
state before and after, and blocks while the run is paused (the server keeps answering).

LR semantics: the loop uses ``lr_multiplier * schedule_lr``; ``scale_lr`` multiplies the
multiplier, ``set_lr`` sets it so the LR in use now becomes the requested value. Warmup and
decay keep their shape.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from maou_tui.protocol import (
    AnyCommand,
    ControlApplied,
    ControlChange,
    EventBase,
    Paused,
    Reply,
    Resumed,
    RunState,
    ScaleLrCommand,
    SetLrCommand,
    SetThresholdCommand,
    Threshold,
)
from maou_tui.sdk.events import EventWriter
from maou_tui.sdk.server import ControlServer, PendingCommand

#: Highest LR a command may produce (same bound as ``set_lr``'s value).
MAX_LR = 1.0
#: Range of the LR multiplier m. The floor keeps any LR recoverable by a few ``scale_lr 10``
#: (a factor of 5e-324 once set m, and the LR, to 0.0 for good); the ceiling keeps a ``set_lr``
#: sent while the schedule's LR is tiny (early warmup) from exploding once warmup ends.
MIN_LR_MULTIPLIER = 1e-4
MAX_LR_MULTIPLIER = 1e4
_PAUSE_WAIT_S = 0.25

Change = tuple[ControlChange, ControlChange]


class CommandRejected(Exception):
    """A valid command that cannot be applied now; the message is the reply's error."""


class LoopControl:
    """Apply queued control commands at step boundaries; see the module docstring."""

    def __init__(
        self,
        server: ControlServer | None,
        events: EventWriter | None,
        thresholds: dict[int, Threshold] | None = None,
        *,
        refuse: dict[str, str] | None = None,
    ) -> None:
        self.server = server
        self.events = events
        self.lr_multiplier = 1.0
        self.thresholds: dict[int, Threshold] = dict(thresholds or {})
        self.paused = False
        self.stop_requested = False
        self.skip_requested = False
        self.checkpoint_requested = False
        self.paused_seconds_total = 0.0
        self.last_checkpoint: str | None = None
        self.stage: int | None = None
        self.stage_name = ""
        self.epoch: int | None = None
        self.batch: int | None = None
        self.step = 0
        self.lr: float | None = None
        self._schedule_lr: float | None = None
        self._paused_at = 0.0
        if server is not None:
            server.set_state_provider(self.state)
            for command_type, reason in (refuse or {}).items():
                server.refuse(command_type, reason)

    # ---- what the loop calls -------------------------------------------------------------------

    def update_state(
        self,
        *,
        stage: int | None = None,
        stage_name: str | None = None,
        epoch: int | None = None,
        batch: int | None = None,
        step: int | None = None,
        lr: float | None = None,
    ) -> None:
        """Publish the loop's position (what ``status`` reports); omitted fields are kept."""
        if stage is not None:
            self.stage = stage
        if stage_name is not None:
            self.stage_name = stage_name
        if epoch is not None:
            self.epoch = epoch
        if batch is not None:
            self.batch = batch
        if step is not None:
            self.step = step
        if lr is not None:
            self.lr = lr

    def set_position(self, epoch: int, batch: int, step: int, lr: float) -> None:
        """``update_state`` for a loop's every step: all four known, no keyword handling."""
        self.epoch, self.batch, self.step, self.lr = epoch, batch, step, lr

    def poll(self, step: int, schedule_lr: float | None = None) -> None:
        """Apply queued commands at this step boundary; blocks while paused."""
        self.step = step
        if schedule_lr is not None:
            self._schedule_lr = schedule_lr
        if self.server is None or not self.server.has_pending:
            return
        for pending in self.server.pending():
            self._apply(pending)
        self.wait_while_paused()

    def wait_while_paused(self) -> None:
        """Block until resume or stop, applying other commands meanwhile."""
        while self.paused and self.server is not None:
            if self.server.wait_for_pending(_PAUSE_WAIT_S):
                for pending in self.server.pending():
                    self._apply(pending)

    def checkpoint_done(self, path: str) -> None:
        """The loop saved the checkpoint a ``checkpoint`` command asked for."""
        self.checkpoint_requested = False
        self.last_checkpoint = path

    def clear_skip(self) -> None:
        self.skip_requested = False

    def restore(
        self,
        lr_multiplier: float | None = None,
        thresholds: dict[int, Threshold] | None = None,
    ) -> None:
        """Take back what a checkpoint saved (after ``--resume``)."""
        if lr_multiplier is not None:
            self.lr_multiplier = lr_multiplier
        if thresholds is not None:
            self.thresholds = dict(thresholds)

    def state(self) -> RunState:
        """The current state, as ``status`` returns it (called from the server thread)."""
        thresholds = dict(self.thresholds)  # one atomic copy: the loop may be changing it
        return RunState(
            stage=self.stage,
            stage_name=self.stage_name,
            epoch=self.epoch,
            batch=self.batch,
            step=self.step,
            lr=self.lr,
            lr_multiplier=self.lr_multiplier,
            paused=self.paused,
            stopping=self.stop_requested,
            thresholds={str(stage): t for stage, t in sorted(thresholds.items())},
            paused_seconds_total=round(self.paused_seconds_total, 3),
            last_checkpoint=self.last_checkpoint,
        )

    def close(self) -> None:
        """Answer what is still queued and stop the server."""
        if self.server is not None:
            self.server.close()

    # ---- applying one command ------------------------------------------------------------------

    def _apply(self, pending: PendingCommand) -> None:
        assert self.server is not None
        command = pending.command
        was_paused = self.paused
        try:
            before, after = self._change(command)
        except CommandRejected as exc:
            self.server.reply(pending, self.server.rejection(command.id, str(exc)))
            return
        self._emit(
            ControlApplied(
                command=command.type,
                id=command.id,
                applied_at_step=self.step,
                before=before,
                after=after,
            )
        )
        if self.paused and not was_paused:
            self._paused_at = time.monotonic()
            self._emit(Paused(step=self.step))
        elif was_paused and not self.paused:
            paused_s = time.monotonic() - self._paused_at
            self.paused_seconds_total += paused_s
            self._emit(Resumed(step=self.step, paused_s=round(paused_s, 3)))
        reply = Reply(id=command.id, ok=True, status="applied", step=self.step, state=self.state())
        self.server.reply(pending, reply)

    def _emit(self, event: EventBase) -> None:
        if self.events is not None:
            self.events.emit(event)

    def _lr_fields(self) -> ControlChange:
        lr = None if self._schedule_lr is None else self.lr_multiplier * self._schedule_lr
        return ControlChange(lr_multiplier=self.lr_multiplier, lr=lr)

    def _set_multiplier(self, multiplier: float) -> Change:
        before = self._lr_fields()
        if not MIN_LR_MULTIPLIER <= multiplier <= MAX_LR_MULTIPLIER:
            raise CommandRejected(
                f"the LR multiplier would become {multiplier:.6g}, outside "
                f"[{MIN_LR_MULTIPLIER:g}, {MAX_LR_MULTIPLIER:g}]; use a factor closer to 1"
            )
        if self._schedule_lr is not None and multiplier * self._schedule_lr > MAX_LR:
            raise CommandRejected(
                f"the LR would become {multiplier * self._schedule_lr:.6g}, above {MAX_LR:g}; "
                "use a smaller factor"
            )
        self.lr_multiplier = multiplier
        after = self._lr_fields()
        if after.lr is not None:
            self.lr = after.lr
        return before, after

    def _change(self, command: AnyCommand) -> Change:
        """Apply ``command`` to the loop's state; the state it changed, before and after."""
        if isinstance(command, ScaleLrCommand):
            return self._set_multiplier(self.lr_multiplier * command.factor)
        if isinstance(command, SetLrCommand):
            return self._set_lr(command)
        if isinstance(command, SetThresholdCommand):
            return self._set_threshold(command)
        simple: dict[str, Callable[[], Change]] = {
            "pause": self._pause,
            "resume": self._resume,
            "stop": self._stop,
            "skip_stage": self._skip_stage,
            "checkpoint": self._checkpoint,
        }
        return simple[command.type]()

    def _set_lr(self, command: SetLrCommand) -> Change:
        if self._schedule_lr is None:
            raise CommandRejected("this loop does not report its LR; use scale_lr instead")
        if self._schedule_lr <= 0:
            raise CommandRejected(
                "cannot set the LR while the schedule's LR is 0 (start of warmup); "
                "retry in a few steps or use scale_lr"
            )
        return self._set_multiplier(command.value / self._schedule_lr)

    def _set_threshold(self, command: SetThresholdCommand) -> Change:
        old = self.thresholds.get(command.stage)
        new = Threshold(value=command.value, action=command.action)
        self.thresholds[command.stage] = new
        return (
            ControlChange.for_threshold(command.stage, old),
            ControlChange.for_threshold(command.stage, new),
        )

    def _pause(self) -> Change:
        if self.paused:
            raise CommandRejected(f"already paused at step {self.step}; send resume")
        if self.stop_requested:
            raise CommandRejected("a stop is already requested; the run is finishing")
        self.paused = True
        return ControlChange(paused=False), ControlChange(paused=True)

    def _resume(self) -> Change:
        if not self.paused:
            raise CommandRejected(f"not paused (step {self.step}); nothing to resume")
        self.paused = False
        return ControlChange(paused=True), ControlChange(paused=False)

    def _stop(self) -> Change:
        before = ControlChange(stop_requested=self.stop_requested, paused=self.paused)
        self.stop_requested = True
        self.paused = False
        return before, ControlChange(stop_requested=True, paused=False)

    def _skip_stage(self) -> Change:
        before = ControlChange(skip_requested=self.skip_requested)
        self.skip_requested = True
        return before, ControlChange(skip_requested=True)

    def _checkpoint(self) -> Change:
        before = ControlChange(checkpoint_requested=self.checkpoint_requested)
        self.checkpoint_requested = True
        return before, ControlChange(checkpoint_requested=True)

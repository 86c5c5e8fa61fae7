"""What the hook does at each optimizer step boundary of a program it was loaded into.

The "primary" optimizer's steps are the run's steps: the first optimizer that steps, replaced by
another one once that one steps twice in a row without it (a new optimizer per stage). Commands
are applied before a primary step, through ``LoopControl`` and the SDK's ``ControlServer`` (same
socket and contract as the SDK); the LR multiplier is applied to every group of every optimizer
for the duration of its step and taken back after it, so the program's scheduler never sees it.
A ``stop`` raises SIGINT in the program at the boundary: its own Ctrl-C handling runs.
"""

from __future__ import annotations

import signal
import time
import weakref
from pathlib import Path
from typing import Any

from maou_tui.hook.loss_probe import LossProbe
from maou_tui.hook.mark_writer import FALLBACK_S, MarkWriter
from maou_tui.hook.ranks import PAUSE_SLICE_S, RankSync, torchrun_rank
from maou_tui.hook.refusals import REFUSED
from maou_tui.hook.step_events import HookEventWriter
from maou_tui.layout import EVENTS_FILE
from maou_tui.protocol import RunState, StageStarted, Step
from maou_tui.sdk import ControlServer, EventWriter, LoopControl, SystemSampler
from maou_tui.sdk.sockets import socket_path_for


class HookControl(LoopControl):
    """``LoopControl`` whose ``status`` also lists every optimizer's LRs and step count.

    Under torchrun ``poll`` does not block on a pause: ``Steering`` holds every rank instead.
    """

    def __init__(self, server: ControlServer | None, events: EventWriter | None) -> None:
        super().__init__(server, events, refuse=REFUSED)
        #: Steps per optimizer, by ``id``; ``_optimizers`` holds them weakly, for ``status``.
        self.step_counts: dict[int, int] = {}
        self._optimizers: dict[int, weakref.ref[Any]] = {}
        self.block_on_pause = True

    def count_step(self, optimizer: Any) -> None:
        """One step of ``optimizer`` (a dict update: this runs at every step)."""
        key = id(optimizer)
        count = self.step_counts.get(key)
        if count is None:
            self._optimizers[key] = weakref.ref(optimizer, lambda _: self._forget(key))
            count = 0
        self.step_counts[key] = count + 1

    def _forget(self, key: int) -> None:
        self._optimizers.pop(key, None)
        self.step_counts.pop(key, None)

    def live_optimizers(self) -> list[Any]:
        alive = (ref() for ref in list(self._optimizers.values()))
        return [optimizer for optimizer in alive if optimizer is not None]

    def wait_while_paused(self) -> None:
        if self.block_on_pause:
            super().wait_while_paused()

    def answer_for(self, seconds: float) -> None:
        """Apply the commands that arrive within ``seconds`` (while paused under torchrun)."""
        if self.server is not None and self.server.wait_for_pending(seconds):
            for pending in self.server.pending():
                self._apply(pending)

    def state(self) -> RunState:
        state = super().state()
        optimizers = [
            {
                "optimizer": type(opt).__name__,
                "steps": self.step_counts.get(id(opt), 0),
                "lrs": _group_lrs(opt),
            }
            for opt in self.live_optimizers()
        ]
        return state.model_copy(update={"optimizer_steps": self.step, "optimizers": optimizers})


class Steering:
    """One process's hook state: counts steps, applies commands, writes events (rank 0)."""

    def __init__(self, run_dir: Path, probe: LossProbe, marks: MarkWriter | None = None) -> None:
        self.run_dir = run_dir
        self.ranks = RankSync.open()  # first: nothing is left open if joining the ranks fails
        self.rank = self.ranks.rank if self.ranks is not None else torchrun_rank()
        self.events: EventWriter | None = None
        server: ControlServer | None = None
        if self.rank == 0:
            self.events = HookEventWriter(run_dir / EVENTS_FILE)
            try:
                server = ControlServer(socket_path_for(run_dir)).start()
            except BaseException:
                self.events.close()
                raise
        self.control = HookControl(server, self.events)
        self.control.block_on_pause = self.ranks is None
        self.probe = probe
        #: Held strongly: an optimizer the program dropped is replaced by its successor's
        #: second step in a row, and one held optimizer is cheap.
        self._primary: Any = None
        self._last_stepped: int | None = None
        #: LRs as the scheduler set them, by optimizer, while a scaled step runs.
        self._scheduled: dict[int, tuple[Any, list[Any]]] = {}
        self._step_lr: float | None = None
        self._stop_sent = False
        self._started = False
        self._sampler: SystemSampler | None = None
        #: Step marks, written by rank 0 only (other ranks' streams pass through untouched).
        self.marks = marks if self.rank == 0 else None
        if self.marks is not None:
            self.marks.install()  # again: the program may have replaced sys.stdout since

    # ---- the two hooks -------------------------------------------------------------------------

    def before_step(self, optimizer: Any) -> None:
        """Global pre-hook: at a primary step, the step boundary; then scale the LRs.

        Runs at every step of the program with CPU caches cold from the backward pass, where
        each Python call costs microseconds: a step with nothing to do makes few of them."""
        control = self.control
        last, self._last_stepped = self._last_stepped, id(optimizer)
        if optimizer is self._primary or self._takes_over(optimizer, last):
            schedule_lr = float(optimizer.param_groups[0]["lr"])
            if not self._started or self._boundary_work(control):
                self._boundary(optimizer, schedule_lr)
            self._step_lr = control.lr_multiplier * schedule_lr
        multiplier = control.lr_multiplier
        if multiplier != 1.0:
            groups = optimizer.param_groups
            self._scheduled[id(optimizer)] = (optimizer, [group["lr"] for group in groups])
            for group in groups:
                group["lr"] = group["lr"] * multiplier

    def after_step(self, optimizer: Any) -> None:
        """Global post-hook: the scheduled LRs back; at a primary step, its step event."""
        if self._scheduled:
            scheduled = self._scheduled.pop(id(optimizer), None)
            if scheduled is not None:
                _put_back(*scheduled)
        control = self.control
        control.count_step(optimizer)
        if self._primary is not optimizer:
            return
        control.step = step = control.step + 1
        control.lr = self._step_lr
        fields = {
            "stage": 1,
            "epoch": 0,
            "batch": step,
            "global_step": step,
            "loss": None,
            "lr": self._step_lr,
            "lr_multiplier": control.lr_multiplier,
        }
        t = time.time()
        self.probe.step_done(fields, t, self._emit_step)
        marks = self.marks
        if marks is not None:
            marks.step = step
            if t - marks.written_at >= FALLBACK_S:
                marks.mark()

    def restore_lrs(self) -> None:
        """Put back LRs scaled for a step that failed half-way (the hook is switching off)."""
        while self._scheduled:
            _put_back(*self._scheduled.popitem()[1])

    def close(self) -> None:
        """Write what is waiting, close the socket and the events (at exit or switch-off)."""
        if self._sampler is not None:
            self._sampler.close()
        if self.events is not None:
            self.probe.flush(self._emit_step)
        self.control.close()
        if self.events is not None:
            self.events.close()

    # ---- inside ----------------------------------------------------------------------------------

    def _takes_over(self, optimizer: Any, last: int | None) -> bool:
        """Whether ``optimizer`` becomes the primary: the first one, or one that steps twice in
        a row without the primary (the program made a new optimizer, e.g. per stage)."""
        if self._primary is None or last == id(optimizer):
            self._primary = optimizer
            return True
        return False

    def _boundary_work(self, control: HookControl) -> bool:
        """Is there anything to do at this boundary (a command, other ranks, a stop)?"""
        server = control.server
        return (
            (server is not None and server.has_pending)
            or self.ranks is not None
            or control.stop_requested
        )

    def _start(self, optimizer: Any, schedule_lr: float) -> None:
        """``stage_started`` with the base LR: the scheduler's ``initial_lr`` where one set it
        (a warmup's first LR may be 0), else the LR of the first step."""
        base_lr = float(optimizer.param_groups[0].get("initial_lr", schedule_lr))
        self._started = True
        if self.events is not None:
            self.events.emit(
                StageStarted(stage=1, name="TRAINING", metric="metric", base_lr=base_lr)
            )
            self._sampler = SystemSampler(self.events, lambda: self.control.step).start()
        self.control.update_state(stage=1, stage_name="TRAINING", lr=schedule_lr)

    def _boundary(self, optimizer: Any, schedule_lr: float) -> None:
        if not self._started:
            self._start(optimizer, schedule_lr)
        control = self.control
        control.poll(control.step, schedule_lr=schedule_lr)
        if self.ranks is not None:
            self._sync_ranks()
        if control.stop_requested and not self._stop_sent:
            self._stop_sent = True
            _interrupt()

    def _sync_ranks(self) -> None:
        assert self.ranks is not None
        control = self.control
        while True:
            self.ranks.exchange(control)
            if not control.paused or control.stop_requested:
                return
            if self.rank == 0:
                control.answer_for(PAUSE_SLICE_S)

    def _emit_step(self, fields: dict[str, Any], t: float) -> None:
        if self.events is not None:
            self.events.emit_later(Step, fields, t)


def _interrupt() -> None:
    """Do what Ctrl-C does: SIGINT to this process (its handler runs), or KeyboardInterrupt
    where SIGINT is ignored or left to the OS (which would kill without cleanup)."""
    handler = signal.getsignal(signal.SIGINT)
    if callable(handler):
        signal.raise_signal(signal.SIGINT)
    else:
        raise KeyboardInterrupt


def _put_back(optimizer: Any, lrs: list[Any]) -> None:
    for group, lr in zip(optimizer.param_groups, lrs, strict=True):
        group["lr"] = lr


def _first_lr(optimizer: Any) -> float:
    return float(optimizer.param_groups[0]["lr"])


def _group_lrs(optimizer: Any) -> list[float | None]:
    lrs: list[float | None] = []
    for group in optimizer.param_groups:
        try:
            lrs.append(float(group["lr"]))
        except (TypeError, ValueError, KeyError, RuntimeError):
            lrs.append(None)
    return lrs

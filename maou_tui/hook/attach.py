"""Register the hook on torch's global optimizer step hooks; switch it off on any error.

Called by ``site/sitecustomize.py`` right after ``torch.optim.optimizer`` was imported. The run's
control socket and events start at the first optimizer step, so a process that imports torch
but never trains (torchrun's launcher, a data-preparation script) serves nothing.

The rule: the hook can never break the program. Any exception inside it is reported once on
stderr (the run's log), written as a ``warning`` event where events are open, and the hook
removes itself; LRs scaled for a step that failed half-way are put back.
KeyboardInterrupt (the ``stop`` command) is not an error and goes through.
"""

from __future__ import annotations

import atexit
import os
import sys
import traceback
from pathlib import Path
from typing import Any

from maou_tui.hook.loss_probe import LossProbe
from maou_tui.hook.mark_writer import MarkWriter
from maou_tui.hook.steering import Steering
from maou_tui.protocol import TrainerWarning


class Hook:
    """The registered pre/post hooks of one process and the ``Steering`` they drive."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        self.steering: Steering | None = None
        self.probe = LossProbe()
        #: Step marks where stdout is a terminal (the supervisor's): installed before the
        #: program makes its progress bars, which keep the ``write`` they found.
        self.marks = MarkWriter(1) if os.isatty(1) else None
        self.off = False
        self._handles: list[Any] = []

    def register(self) -> None:
        optim = sys.modules["torch.optim.optimizer"]
        self.probe.install()
        if self.marks is not None:
            self.marks.install()
        self._handles = [
            optim.register_optimizer_step_pre_hook(self._before_step),
            optim.register_optimizer_step_post_hook(self._after_step),
        ]

    def unregister(self) -> None:
        """Take the hooks, the backward wrapper and the marks out (the program runs as
        without us)."""
        for handle in self._handles:
            handle.remove()
        self._handles = []
        self.probe.uninstall()
        if self.marks is not None:
            self.marks.uninstall()

    def _before_step(self, optimizer: Any, args: Any, kwargs: Any) -> None:
        if self.off:
            return
        try:
            if self.steering is None:
                self.steering = Steering(self.run_dir, self.probe, self.marks)
            self.steering.before_step(optimizer)
        except Exception as exc:
            self.switch_off(exc)

    def _after_step(self, optimizer: Any, args: Any, kwargs: Any) -> None:
        if self.off or self.steering is None:
            return
        try:
            self.steering.after_step(optimizer)
        except Exception as exc:
            self.switch_off(exc)

    def switch_off(self, exc: BaseException) -> None:
        """Report ``exc`` once, take the hook out and leave the program as it would be."""
        self.off = True
        self.unregister()
        where = traceback.extract_tb(exc.__traceback__)[-1:]
        place = f" at {where[0].filename}:{where[0].lineno}" if where else ""
        message = (
            f"maou-tui hook: switched off after an error ({type(exc).__name__}: {exc}{place}); "
            "the program runs on without control"
        )
        print(message, file=sys.stderr, flush=True)
        steering = self.steering
        if steering is None:
            return
        try:
            steering.restore_lrs()
            if steering.events is not None:
                steering.events.emit(TrainerWarning(kind="hook_disabled", message=message))
        finally:
            self.close()

    def close(self) -> None:
        """Flush and close (at exit, or when switched off); errors here are only printed."""
        steering, self.steering = self.steering, None
        if steering is None:
            return
        try:
            steering.close()
        except Exception as exc:
            print(f"maou-tui hook: closing failed ({type(exc).__name__}: {exc})", file=sys.stderr)


def attach(run_dir: str) -> Hook:
    """Hook this process's optimizer steps for the run in ``run_dir``."""
    hook = Hook(Path(run_dir))
    hook.register()
    atexit.register(hook.close)
    return hook

"""The run's shared pieces, and the one seam for process roles (single process today, DDP later).

``RunContext.is_main`` decides who writes events, the log and checkpoints and who serves the
control socket. A non-main rank gets a context with no run directory, a silent event sink and a
``LoopControl`` without a server; everything else in the loop is the same code.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import torch
from pydantic import BaseModel

from maou_tui.protocol import Threshold
from maou_tui.sdk import ControlServer, EventWriter, LoopControl
from trainer.config import TrainConfig
from trainer.train_log import TrainLog

if TYPE_CHECKING:
    from trainer.distributed import Distributed


class NullEvents:
    """The event sink of a process that does not own the run directory."""

    def emit(self, event: BaseModel) -> BaseModel:
        return event

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass


def gpu_device_name(gpu: str) -> str:
    """``--gpu N`` (README's form) is CUDA device N; anything else is a torch device string
    (``cuda``, ``cuda:1``, ``mps``)."""
    return f"cuda:{gpu}" if gpu.isdigit() else gpu


def pick_device(config: TrainConfig) -> torch.device:
    """``--cpu`` / ``--gpu DEVICE`` / auto (CUDA when available)."""
    if config.cpu:
        return torch.device("cpu")
    if config.gpu is not None:
        device = torch.device(gpu_device_name(config.gpu))
        if device.type == "cuda" and not torch.cuda.is_available():
            raise RuntimeError(
                f"--gpu {config.gpu}: CUDA is not available here; drop --gpu or use --cpu"
            )
        count = torch.cuda.device_count() if device.type == "cuda" else 0
        if device.type == "cuda" and device.index is not None and device.index >= count:
            raise RuntimeError(
                f"--gpu {config.gpu}: this machine has {count} CUDA device(s), numbered from 0"
            )
        return device
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


@dataclass
class RunContext:
    """What every stage of one run shares."""

    config: TrainConfig
    device: torch.device
    log: TrainLog
    events: EventWriter | NullEvents
    control: LoopControl
    checkpoints_dir: Path | None
    is_main: bool = True
    rank: int = 0
    world_size: int = 1
    #: The process group when run under torchrun (trainer/distributed.py), else None.
    dist: Distributed | None = None
    #: Set by the SIGTERM/SIGINT handler: the loop stops at the next step boundary.
    stop_signal: str | None = field(default=None)
    #: True while checkpoint writes fail (a full disk): the failure is reported once.
    checkpoint_failing: bool = False

    @property
    def use_amp(self) -> bool:
        return self.device.type == "cuda"

    def request_stop(self, reason: str) -> None:
        """Stop at the next step boundary, also out of a pause (called from a signal handler)."""
        self.stop_signal = reason
        self.control.stop_requested = True
        self.control.paused = False


def initial_thresholds(config: TrainConfig) -> dict[int, Threshold]:
    return {
        1: Threshold(value=config.stage1_threshold),
        2: Threshold(value=config.stage2_threshold),
    }


def main_context(
    config: TrainConfig,
    device: torch.device,
    events: EventWriter,
    server: ControlServer | None,
    checkpoints_dir: Path,
    logger: logging.Logger,
    control_type: type[LoopControl] = LoopControl,
) -> RunContext:
    """The context of the process that owns the run directory."""
    control = control_type(server, events, thresholds=initial_thresholds(config))
    return RunContext(
        config=config,
        device=device,
        log=TrainLog(logger),
        events=events,
        control=control,
        checkpoints_dir=checkpoints_dir,
    )

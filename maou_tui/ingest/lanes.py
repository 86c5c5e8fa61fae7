"""The one interface between the text-log parser and its lanes.

``MaouLogParser`` (maou_log.py) owns the parse state: the stage, the epoch clock, the events
being collected. Each lane reads one kind of text and reports what it read through
``LineSink``, never through the parser's fields:

- ``progress.BarTracker``: maou's tqdm bars (``\\r`` segments), one point per postfix change;
- ``batch_runs.feed_runs``: runs of the LR guide's ``Epoch E Batch B/N:`` lines, in bulk;
- ``other_trainers.OtherTrainerLines``: HF Trainer, Lightning, Keras, nanoGPT, key=value lines;
- the parser's own handlers: every maou message, found anywhere in its line.

A lane hands back text it does not read (``line``/``feed_lines``); the parser hands lines no
maou message claims to ``OtherTrainerLines``.
"""

from __future__ import annotations

from typing import Literal, Protocol

import numpy as np
from pydantic import BaseModel

from maou_tui.ingest.clock import EpochClock
from maou_tui.store import StepBatch


class LineSink(Protocol):
    """What a lane may read and do: the parser as its lanes see it."""

    @property
    def stage(self) -> int | None:
        """The stage being read (None before the log named one)."""

    @property
    def clock(self) -> EpochClock:
        """Global steps of the open epoch; lanes change it only through its methods."""

    def line(self, line: str) -> None:
        """Read one line (or ``\\r`` segment) the lane does not read itself."""

    def feed_lines(self, block: bytes) -> None:
        """Read complete lines one by one."""

    def in_message(self) -> bool:
        """Is a multi-line message open (bare lines may be its continuation)?"""

    def stage_for(self, word: str | None, label: str | None = None) -> int:
        """The stage a line refers to (starting it if it is new)."""

    def step(
        self,
        stage: int,
        epoch: int,
        batch: int,
        loss: float | None,
        metric_cum: float | None = None,
    ) -> None:
        """A training batch: its loss as printed, the metric's running mean."""

    def steps(
        self, stage: int, batches: np.ndarray, losses: np.ndarray, metric_cums: np.ndarray
    ) -> None:
        """Training batches of the open epoch read in bulk: ``step`` for each (finite losses,
        batches not below the open epoch's last one)."""

    def steps_of(self, stage: int) -> StepBatch:
        """The column batch the next steps of ``stage`` go to (bulk lanes)."""

    def point(self, name: str, value: float, step: int, epoch: int = -1, batch: int = -1) -> None:
        """A value of a series the log names itself."""

    def finish_run(self, status: Literal["completed", "failed"], reason: str) -> None:
        """The run's outcome, as the log says it."""

    def emit(self, event: BaseModel, *, stage_data: bool = True) -> None:
        """Queue a protocol event (after the open stage's StageStarted unless ``stage_data`` is
        False)."""

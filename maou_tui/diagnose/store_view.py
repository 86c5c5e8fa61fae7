"""What the diagnosis reads of a run: the store as the detectors see it (read only).

``RunStore`` satisfies it; so does any object with these members (a test's, a future store's).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from maou_tui.protocol import (
    EpochEnd,
    RunFinished,
    RunStarted,
    StageCompleted,
    StageStarted,
    ThresholdReached,
    TrainerWarning,
)
from maou_tui.series import Series


class RunView(Protocol):
    """The run's series and facts the diagnoser reads; ``version`` grows with every change."""

    @property
    def version(self) -> int: ...
    @property
    def run(self) -> RunStarted | None: ...
    @property
    def stages(self) -> Mapping[int, StageStarted]: ...
    @property
    def completed(self) -> Mapping[int, StageCompleted]: ...
    @property
    def finished(self) -> RunFinished | None: ...
    @property
    def epoch_ends(self) -> Sequence[EpochEnd]: ...
    @property
    def warnings(self) -> Sequence[TrainerWarning]: ...
    @property
    def thresholds(self) -> Sequence[ThresholdReached]: ...
    @property
    def status(self) -> str: ...
    @property
    def paused(self) -> bool: ...
    @property
    def last_step(self) -> int: ...
    @property
    def current_stage(self) -> int | None: ...
    @property
    def current_epoch(self) -> int | None: ...
    @property
    def current_batch(self) -> int | None: ...

    def series(self, name: str) -> Series:
        """The series called ``name`` (empty when the run has none)."""
        ...

    def names(self) -> list[str]:
        """Names of the series holding points."""
        ...

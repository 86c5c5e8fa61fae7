"""The charts' x axis: the global step, or the fractional epoch worked out from the store.

Charts keep every position in steps (decimation, marks, the cursor) and convert to the axis'
unit only when they plot. The epoch of a step comes from the epoch/batch columns of a training
series: ``epoch - 1 + batch / batches_per_epoch`` (1-based epochs and batches, as our trainer and
maou print them; a stage whose epochs start at 0 counts from 0), linearly interpolated between
the points that have one, and counted on from the epochs the earlier stages ran, so the axis
never goes back across a stage boundary.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from maou_tui.series import Series, step_index
from maou_tui.store import RunStore

#: Series whose epoch/batch columns place a step in its epoch, best first.
REFERENCE_SERIES = ("loss", "loss_cum")


class StepAxis:
    """x is the global step itself."""

    unit = "step"

    def x(self, steps: np.ndarray) -> np.ndarray:
        return np.asarray(steps, np.float64)

    def origin(self, stage: int | None) -> float:
        return 0.0


@dataclass(frozen=True)
class _StagePart:
    """One stage's slice of the reference series and how its batches count."""

    stage: int
    first: int  # index of its first point in the reference series
    last: int  # index one past its last point
    batches_per_epoch: int
    first_epoch: int  # 0 or 1: how the source numbers epochs
    offset: float  # epochs the stages before it ran


class EpochAxis:
    """x is the epoch since the run started (all stages, fractional); ``origin(stage)`` is where
    a stage's epoch 0 lies on it, so a stage's own epoch is ``x - origin(stage)``."""

    unit = "epoch"

    def __init__(self, reference: Series, parts: list[_StagePart]) -> None:
        self._steps = reference.steps
        self._epochs = reference.epochs
        self._batches = reference.batches
        self._parts = parts
        self._part_of_point = np.array([p.first for p in parts[1:]], np.int64)

    @classmethod
    def of(cls, store: RunStore) -> EpochAxis | None:
        """The epoch axis of ``store``; None when no series says in which epoch a step is."""
        reference = next(
            (
                series
                for name in REFERENCE_SERIES
                if len(series := store.series(name)) and int(series.epochs[-1]) >= 0
            ),
            None,
        )
        if reference is None:
            return None
        return cls(reference, _stage_parts(store, reference))

    def x(self, steps: np.ndarray) -> np.ndarray:
        """The fractional epoch at each of ``steps`` (interpolated between known points)."""
        wanted = np.asarray(steps, np.float64)
        ref = self._steps
        n = len(ref)
        # Integer queries: a float one would make numpy convert the whole column first.
        query = np.clip(np.ceil(wanted), np.iinfo(ref.dtype).min, np.iinfo(ref.dtype).max)
        right = np.clip(np.searchsorted(ref, query.astype(ref.dtype), "left"), 0, n - 1)
        left = np.maximum(right - 1, 0)
        at_left, at_right = self._epoch_of(left), self._epoch_of(right)
        s_left, s_right = ref[left].astype(np.float64), ref[right].astype(np.float64)
        gap = s_right - s_left
        share = np.divide(wanted - s_left, gap, out=np.zeros_like(wanted), where=gap > 0)
        epochs = at_left + np.clip(share, 0.0, 1.0) * (at_right - at_left)
        early = wanted < ref[0]
        if early.any():  # before the first point (step 0, a stage mark): a batch a step back
            first_x = float(self._epoch_of(np.zeros(1, np.int64))[0])
            back = (float(ref[0]) - wanted[early]) / self._parts[0].batches_per_epoch
            epochs[early] = np.maximum(self._parts[0].offset, first_x - back)
        return epochs

    def origin(self, stage: int | None) -> float:
        return next((p.offset for p in self._parts if p.stage == stage), 0.0)

    def stage_epoch(self, step: int) -> tuple[int, float]:
        """``(stage, its own fractional epoch)`` at ``step``."""
        index = min(step_index(self._steps, step, "right"), len(self._steps)) - 1
        part = self._parts[int(np.searchsorted(self._part_of_point, max(index, 0), "right"))]
        return part.stage, float(self.x(np.array([step]))[0]) - part.offset

    def _epoch_of(self, index: np.ndarray) -> np.ndarray:
        which = np.searchsorted(self._part_of_point, index, "right")
        per_epoch = np.array([p.batches_per_epoch for p in self._parts], np.float64)[which]
        first_epoch = np.array([p.first_epoch for p in self._parts], np.float64)[which]
        offset = np.array([p.offset for p in self._parts], np.float64)[which]
        batches = np.maximum(self._batches[index].astype(np.float64), 0.0)
        return offset + self._epochs[index] - first_epoch + batches / per_epoch


def _stage_parts(store: RunStore, reference: Series) -> list[_StagePart]:
    """The reference series cut where each stage starts (stages follow each other in steps)."""
    steps, epochs, batches = reference.steps, reference.epochs, reference.batches
    starts = sorted((s.start_step, n) for n, s in store.stages.items())
    cuts = [_first_point_of(reference, stage, start) for start, stage in starts[1:]]
    bounds = [0, *cuts, len(steps)]
    numbers = [n for _, n in starts] or [int(reference.stages[0])]
    parts: list[_StagePart] = []
    offset = 0.0
    for stage, first, last in zip(numbers, bounds[:-1], bounds[1:], strict=True):
        if last <= first:
            continue
        started = store.stages.get(stage)
        declared = started.batches_per_epoch or started.steps_per_epoch if started else None
        per_epoch = declared or max(1, int(batches[first:last].max()))
        first_epoch = 0 if int(epochs[first:last].min()) == 0 else 1
        part = _StagePart(stage, first, last, per_epoch, first_epoch, offset)
        parts.append(part)
        end = int(epochs[last - 1]) - first_epoch + max(0, int(batches[last - 1])) / per_epoch
        offset += end
    return parts or [_StagePart(-1, 0, len(steps), 1, 1, 0.0)]


def _first_point_of(reference: Series, stage: int, start_step: int) -> int:
    """Index of the stage's first point. Our trainer's ``start_step`` is that point's step;
    other producers give the step before it, so look at the next few points too."""
    index = step_index(reference.steps, start_step, "left")
    stages = reference.stages
    for candidate in range(index, min(index + 3, len(stages))):
        if int(stages[candidate]) == stage:
            return candidate
    return index

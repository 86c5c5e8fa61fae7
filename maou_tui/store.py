"""The run store: every curve of a run as numpy-backed growable columns, fed only with events.

Whatever the source (events.jsonl, a maou log, a live tail), readers turn it into protocol
events and call ``RunStore.apply``; the store never parses anything. Curves from a log and from
events.jsonl therefore line up by construction.

Series names (also the ``name`` column of ``maou-tui export``):

- from ``step``: ``loss`` (this batch), ``loss_cum``, ``<metric>`` (this batch), ``<metric>_cum``
  (running mean since epoch start), ``lr``, ``lr_multiplier``, ``samples_per_s``, and every key of
  ``metrics`` as is;
- from ``epoch_end``: ``train_loss``, ``train_<metric>``, ``val_loss``, ``val_<metric>``, ``lr``
  (only when no step already gave one at that step), and every key of ``metrics`` as is (Stage 3:
  ``policy_cross_entropy``, ``policy_f1_score``, ``policy_top5_accuracy``, ``value_brier_score``,
  ``value_high_confidence_rate``, ``policy_empty_target_rate``, ...).

``<metric>`` is the stage's ``StageStarted.metric``: ``accuracy`` (Stage 1), ``f1`` (Stage 2),
``policy_accuracy`` (Stage 3).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import compress, groupby, repeat
from operator import attrgetter, is_not
from typing import Any, NamedTuple, TypeAlias

import numpy as np
from pydantic import BaseModel

from maou_tui.marks import (
    Mark,
    checkpoint_mark,
    control_mark,
    pause_mark,
    phase_mark,
    stage_mark,
    threshold_mark,
    warning_mark,
)
from maou_tui.protocol import (
    LOG_PID,
    CheckpointSaved,
    ControlApplied,
    EpochEnd,
    Paused,
    Phase,
    Resumed,
    RunFinished,
    RunStarted,
    StageCompleted,
    StageStarted,
    Step,
    SystemSample,
    Threshold,
    ThresholdReached,
    TrainerWarning,
)
from maou_tui.series import Series, StepColumns
from maou_tui.stages import STAGE_METRICS
from maou_tui.system_history import SystemHistory

__all__ = [
    "DEFAULT_METRICS",
    "Mark",
    "PhaseSpan",
    "Purge",
    "RunStore",
    "ScalarColumns",
    "StageSpan",
    "StepBatch",
    "StoreItem",
]

DEFAULT_METRICS = STAGE_METRICS
_RUN_STATUS = {"completed": "finished", "stopped": "stopped", "failed": "failed"}
#: Step fields that are series of their own name. A stage metric or a ``metrics`` key named
#: like one of them (a program logging ``loss``) fills that series where the field is None and
#: never takes its place: a program's ``loss`` is the loss.
_FIXED_STEP_FIELDS = ("loss", "loss_cum", "lr", "samples_per_s")
_STEP_SERIES = {*_FIXED_STEP_FIELDS, "lr_multiplier"} | {
    f"{metric}{suffix}" for metric in DEFAULT_METRICS.values() for suffix in ("", "_cum")
}
_GLOBAL_STEP_OF = attrgetter("global_step")


def _merge_column(fields: dict[str, list], name: str, values: list[float | None]) -> None:
    """``values`` as the column ``name``; where that column exists, only its gaps are filled."""
    column = fields.get(name)
    if column is None:
        fields[name] = values
        return
    for i, value in enumerate(values):
        _fill_point(column, i, value)


def _fill_point(column: list, index: int, value: float | None) -> None:
    if column[index] is None:
        column[index] = value


class _RunOfStage:
    """groupby key: the stage, and a new group wherever the global step goes back (a restart
    inside one batch of events must purge before the redone steps go in)."""

    def __init__(self) -> None:
        self._run, self._last = 0, -1

    def __call__(self, event: Step) -> tuple[int, int]:
        if event.global_step <= self._last:
            self._run += 1
        self._last = event.global_step
        return event.stage, self._run


def _floats(values: Iterable[float | None] | np.ndarray) -> np.ndarray:
    """float64 column; None becomes NaN (numpy's own conversion)."""
    if isinstance(values, np.ndarray):
        return values.astype(np.float64, copy=False)
    return np.array(values if isinstance(values, list | tuple) else list(values), np.float64)


class StepRows(NamedTuple):
    """A ``StepBatch`` as numpy columns: losses with NaN for "not finite / none", metric
    running means with ``has_metric`` telling a value (NaN included) from none."""

    steps: np.ndarray  # int64 global steps
    epochs: np.ndarray  # int64
    batches: np.ndarray  # int64
    losses: np.ndarray  # float64
    metric_cums: np.ndarray  # float64 (NaN where has_metric is False)
    has_metric: np.ndarray  # bool


class StepBatch:
    """Many ``Step`` events of one stage as columns, each step with only ``loss`` and
    ``metric_cum`` set: what a log parser makes in bulk (``MaouLogParser.feed(columns=True)``).
    ``RunStore.apply_all`` takes it in place of the steps it stands for, without one object
    per point: steps read one by one wait as rows, runs read in bulk come as numpy chunks
    (``extend``), and ``columns()`` joins them in order."""

    __slots__ = ("_chunks", "_rows", "_size", "stage")

    def __init__(self, stage: int) -> None:
        self.stage = stage
        self._rows: list[tuple[int, int, int, float | None, float | None]] = []
        self._chunks: list[StepRows] = []
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def add(
        self, global_step: int, epoch: int, batch: int, loss: float | None, metric_cum: float | None
    ) -> None:
        self._rows.append((global_step, epoch, batch, loss, metric_cum))
        self._size += 1

    def extend(
        self,
        global_steps: Sequence[int] | np.ndarray,
        epochs: Sequence[int] | np.ndarray,
        batches: Sequence[int] | np.ndarray,
        losses: Sequence[float | None] | np.ndarray,
        metric_cums: Sequence[float | None] | np.ndarray,
    ) -> None:
        """``add`` for many steps at once (equal-length columns: lists, with None for none,
        or numpy arrays, where a metric column has no "none")."""
        self._seal_rows()
        metrics = _floats(metric_cums)
        if isinstance(metric_cums, np.ndarray):
            has_metric = np.ones(len(metrics), bool)
        else:
            has_metric = np.fromiter(map(is_not, metric_cums, repeat(None)), bool, len(metrics))
        self._chunks.append(
            StepRows(
                np.asarray(global_steps, np.int64),
                np.asarray(epochs, np.int64),
                np.asarray(batches, np.int64),
                _floats(losses),
                metrics,
                has_metric,
            )
        )
        self._size += len(metrics)

    def _seal_rows(self) -> None:
        """Rows added one by one become a chunk (before a chunk that follows them)."""
        if not self._rows:
            return
        rows, self._rows = self._rows, []
        steps, epochs, batches, losses, metric_cums = zip(*rows, strict=True)
        self._chunks.append(
            StepRows(
                np.array(steps, np.int64),
                np.array(epochs, np.int64),
                np.array(batches, np.int64),
                _floats(losses),
                _floats(metric_cums),
                np.fromiter(map(is_not, metric_cums, repeat(None)), bool, len(rows)),
            )
        )

    def columns(self) -> StepRows:
        """Every step so far, in order, as numpy columns."""
        self._seal_rows()
        if len(self._chunks) > 1:
            parts = zip(*self._chunks, strict=True)
            self._chunks = [StepRows._make(np.concatenate(part) for part in parts)]
        if not self._chunks:
            empty = np.empty(0, np.int64)
            return StepRows(empty, empty, empty, np.empty(0), np.empty(0), empty > 0)
        return self._chunks[0]


class ScalarColumns:
    """Points of one named series with their wall times, from a source whose series are not
    protocol fields (TensorBoard tags): ``RunStore.apply_all`` appends them as they are."""

    __slots__ = ("batches", "epochs", "name", "stage", "steps", "values", "wall_times")

    def __init__(self, name: str, stage: int) -> None:
        self.name = name
        self.stage = stage
        self.steps: list[int] = []
        self.values: list[float] = []
        self.wall_times: list[float] = []
        self.epochs: list[int] = []
        self.batches: list[int] = []

    @classmethod
    def of(
        cls, name: str, stage: int, steps: np.ndarray, values: np.ndarray, walls: np.ndarray
    ) -> ScalarColumns:
        """Columns given whole (epoch and batch unknown)."""
        columns = cls(name, stage)
        columns.steps, columns.values, columns.wall_times = steps, values, walls  # type: ignore[assignment]
        columns.epochs = columns.batches = np.full(len(steps), -1, np.int32)  # type: ignore[assignment]
        return columns

    def __len__(self) -> int:
        return len(self.steps)

    def add(self, step: int, value: float, wall_time: float, epoch: int = -1, batch: int = -1):
        self.steps.append(step)
        self.values.append(value)
        self.wall_times.append(wall_time)
        self.epochs.append(epoch)
        self.batches.append(batch)


class Purge:
    """Drop the points at ``from_step`` and after: of ``names``, or of every series (and the
    epoch rows and marks there) when ``names`` is None. A TensorBoard writer restarted with
    ``purge_step``, or a tag written again at an earlier step, replaces what was there."""

    __slots__ = ("from_step", "names")
    type = "purge"

    def __init__(self, from_step: int, names: list[str] | None = None) -> None:
        self.from_step = from_step
        self.names = names


class NamedPoints:
    """Points of series named by the log itself (``grad_norm``, ``val_accuracy``, ...) as
    columns: what the readers of other trainers' output make. Stage is -1 where the log has
    none; ``RunStore.apply`` takes it like an event (``type`` "points")."""

    __slots__ = ("columns",)
    type = "points"

    def __init__(self) -> None:
        # name -> (steps, stages, epochs, batches, values)
        self.columns: dict[str, tuple[list[int], list[int], list[int], list[int], list[float]]] = {}

    def __len__(self) -> int:
        return sum(len(column[0]) for column in self.columns.values())

    def add(self, name: str, step: int, value: float, stage: int, epoch: int, batch: int) -> None:
        column = self.columns.get(name)
        if column is None:
            column = self.columns[name] = ([], [], [], [], [])
        steps, stages, epochs, batches, values = column
        if steps and steps[-1] == step:  # said again at the same step: the later one holds
            for part in column:
                part.pop()
        steps.append(step)
        stages.append(stage)
        epochs.append(epoch)
        batches.append(batch)
        values.append(value)


@dataclass(frozen=True)
class StageSpan:
    """The global steps a stage actually ran, ``first`` to ``last`` inclusive; ``ended`` once
    it completed, a later stage started or the run finished (``last`` is then final)."""

    stage: int
    first: int
    last: int
    ended: bool


@dataclass(frozen=True)
class PhaseSpan:
    """A scheduler phase over the steps that ran (``first``..``last`` inclusive); ``cut`` when
    the stage ended before the phase's planned end (``planned_last``)."""

    stage: int
    phase: str
    first: int
    last: int
    planned_last: int

    @property
    def cut(self) -> bool:
        return self.last < self.planned_last


#: What a source hands the store: an event, a column batch of steps or scalars, or a purge.
StoreItem: TypeAlias = BaseModel | StepBatch | ScalarColumns | NamedPoints | Purge


class RunStore:
    """Everything known about one run. ``apply`` is the only way data gets in (and
    ``note_skipped_lines``, for what the readers could not turn into events).

    Besides the series it keeps what the widgets show, already worked out: the threshold in
    force per stage, the marks (each with the event that made it), the steps each stage and
    phase really ran."""

    def __init__(self) -> None:
        self._series: dict[str, Series] = {}
        self.marks: list[Mark] = []
        self.stages: dict[int, StageStarted] = {}
        self.completed: dict[int, StageCompleted] = {}
        self.phases: list[Phase] = []
        self.thresholds: list[ThresholdReached] = []
        #: Each stage's threshold now: from its stage_started, then every set_threshold.
        self.thresholds_in_force: dict[int, Threshold] = {}
        self.warnings: list[TrainerWarning] = []
        self.controls: list[ControlApplied] = []
        self.epoch_ends: list[EpochEnd] = []
        self.run: RunStarted | None = None
        self.finished: RunFinished | None = None
        self.last_step = 0
        self.current_stage: int | None = None
        self.current_epoch: int | None = None
        self.current_batch: int | None = None
        self.paused = False
        self.status = "unknown"
        self.version = 0
        self.skipped_lines = 0
        #: Wall time (unix seconds) of the points whose source gives one, by series name,
        #: as series of (step, wall time).
        self.wall_times: dict[str, Series] = {}
        #: CPU, memory and GPU samples of the trainer (``system`` events).
        self.system = SystemHistory()
        self._step_names: dict[int, tuple[str, str]] = {}
        self._train_step = 0  # the last training step seen: a lower one means a restart
        self.purged_points = 0
        self._handlers: dict[str, Callable[[Any], None]] = {
            "run_started": self._on_run_started,
            "stage_started": self._on_stage_started,
            "step": self._on_step,
            "epoch_end": self._on_epoch_end,
            "phase": self._on_phase,
            "control": self._on_control,
            "paused": self._on_paused,
            "resumed": self._on_resumed,
            "threshold_reached": self._on_threshold,
            "checkpoint_saved": self._on_checkpoint,
            "warning": self._on_warning,
            "stage_completed": self._on_stage_completed,
            "run_finished": self._on_run_finished,
            "system": self._on_system,
            "points": self._on_points,
        }

    # ---------------------------------------------------------------- reading

    def series(self, name: str) -> Series:
        """The series called ``name``; created empty on first access."""
        found = self._series.get(name)
        if found is None:
            found = self._series[name] = Series(name)
        return found

    def names(self) -> list[str]:
        """Names of the series that hold at least one point, in order of first appearance."""
        return [name for name, s in self._series.items() if len(s)]

    def metric_of(self, stage: int | None) -> str:
        """The metric name of a stage (from its StageStarted, else maou's default)."""
        started = self.stages.get(stage) if stage is not None else None
        if started is not None and started.metric:
            return started.metric
        return DEFAULT_METRICS.get(stage or 0, "metric")

    def stage_span(self, stage: int) -> StageSpan | None:
        """The steps ``stage`` ran so far (None before it started)."""
        started = self.stages.get(stage)
        if started is None:
            return None
        first = started.start_step
        later = [s.start_step for n, s in self.stages.items() if n > stage]
        if stage in self.completed:
            last, ended = self.completed[stage].step, True
        elif later:
            last, ended = min(later) - 1, True
        elif self.finished is not None:
            last, ended = self.finished.step or self.last_step, True
        else:
            last, ended = self.last_step, False
        return StageSpan(stage=stage, first=first, last=max(first, last), ended=ended)

    def phase_spans(self) -> list[PhaseSpan]:
        """The scheduler phases as they ran: a stage that ended early cuts its phases short,
        and a phase it never reached is left out (its plan stays in ``phases``)."""
        spans = []
        for phase in self.phases:
            planned_last = phase.end_step - 1  # Phase.end_step is exclusive
            span = self.stage_span(phase.stage)
            last = planned_last if span is None or not span.ended else min(planned_last, span.last)
            if last >= phase.start_step:
                spans.append(
                    PhaseSpan(phase.stage, phase.phase, phase.start_step, last, planned_last)
                )
        return spans

    def phase_at(self, step: int) -> str:
        """The scheduler phase that ran at ``step`` ("" when none is known)."""
        for span in reversed(self.phase_spans()):
            if span.first <= step <= span.last:
                return span.phase
        return ""

    # ---------------------------------------------------------------- writing

    def note_skipped_lines(self, count: int) -> None:
        """How many input lines the readers could not read (corrupt, cut) so far."""
        self.skipped_lines = count

    def apply(self, event: BaseModel | NamedPoints) -> None:
        handler = self._handlers.get(getattr(event, "type", ""))
        if handler is not None:
            handler(event)
        self.version += 1

    def apply_all(self, events: Sequence[StoreItem]) -> None:
        """``apply`` each event in order. Consecutive steps, and a ``StepBatch``, go in as
        columns: a backfill or a fast tail brings tens of thousands of steps at once, and
        per-point Python work was its cost."""
        steps: list[Step] = []
        for event in events:
            if type(event) is Step:
                steps.append(event)
                continue
            if steps:
                self._apply_steps(steps)
                steps = []
            if isinstance(event, StepBatch):
                self._apply_batch(event)
            elif isinstance(event, ScalarColumns):
                self._apply_scalars(event)
            elif isinstance(event, Purge):
                self._purge(event)
            else:
                self.apply(event)
        if steps:
            self._apply_steps(steps)

    def _apply_steps(self, steps: list[Step]) -> None:
        """The same as ``apply`` of each step, column by column."""
        if any(_STEP_SERIES & event.metrics.keys() for event in steps if event.metrics):
            groups = [[event] for event in steps]  # a metric named like a fixed series: in order
        else:
            groups = [list(group) for _, group in groupby(steps, _RunOfStage())]
        for group in groups:
            self._add_steps(group)
        last = steps[-1]
        self._after_steps(last.stage, last.epoch, last.batch, max(map(_GLOBAL_STEP_OF, steps)))
        self.version += len(steps)

    def _add_steps(self, steps: list[Step]) -> None:
        """Steps of one stage into their series."""
        stage, n = steps[0].stage, len(steps)
        self._restart_at(steps[0].global_step, steps[-1].global_step)
        columns = StepColumns(
            steps=np.fromiter(map(_GLOBAL_STEP_OF, steps), np.int64, n),
            stages=np.full(n, stage, np.int32),
            epochs=np.fromiter(map(attrgetter("epoch"), steps), np.int32, n),
            batches=np.fromiter(map(attrgetter("batch"), steps), np.int32, n),
        )
        fields = {name: list(map(attrgetter(name), steps)) for name in _FIXED_STEP_FIELDS}
        # A producer that knows the LR also knows its multiplier.
        fields["lr_multiplier"] = [e.lr_multiplier if e.lr is not None else None for e in steps]
        metric, metric_cum = self._step_names.get(stage) or self._names_of(stage)
        _merge_column(fields, metric, list(map(attrgetter("metric"), steps)))
        _merge_column(fields, metric_cum, list(map(attrgetter("metric_cum"), steps)))
        others = []
        for i, event in enumerate(steps):
            for name, value in event.metrics.items():
                if name in fields:
                    _fill_point(fields[name], i, value)
                else:
                    others.append((name, event, value))
        self._add_columns(columns, fields)
        for name, event, value in others:
            self._point(name, event.global_step, value, stage, event.epoch, event.batch)

    def _apply_batch(self, batch: StepBatch) -> None:
        rows = batch.columns()
        n = len(rows.steps)
        if not n:
            return
        self._restart_at(int(rows.steps[0]), int(rows.steps[-1]))
        columns = StepColumns(
            steps=rows.steps,
            stages=np.full(n, batch.stage, np.int32),
            epochs=rows.epochs,
            batches=rows.batches,
        )
        _metric, metric_cum = self._step_names.get(batch.stage) or self._names_of(batch.stage)
        self.series("loss").extend(columns, rows.losses)
        if rows.has_metric.all():
            self.series(metric_cum).extend(columns, rows.metric_cums)
        elif rows.has_metric.any():
            keep = rows.has_metric
            self.series(metric_cum).extend(columns.where(keep), rows.metric_cums[keep])
        last_step = int(rows.steps.max())
        self._after_steps(batch.stage, int(rows.epochs[-1]), int(rows.batches[-1]), last_step)
        self.version += n

    def _apply_scalars(self, points: ScalarColumns) -> None:
        n = len(points)
        if not n:
            return
        columns = StepColumns(
            steps=np.array(points.steps, np.int64),
            stages=np.full(n, points.stage, np.int32),
            epochs=np.array(points.epochs, np.int32),
            batches=np.array(points.batches, np.int32),
        )
        self.series(points.name).extend(columns, np.array(points.values, np.float64))
        walls = self.wall_times.get(points.name)
        if walls is None:
            walls = self.wall_times[points.name] = Series(points.name)
        walls.extend(columns, np.array(points.wall_times, np.float64))
        if points.stage >= 1:
            self.current_stage = points.stage
        if points.epochs[-1] >= 0:
            self.current_epoch = points.epochs[-1]
        if points.batches[-1] >= 0:
            self.current_batch = points.batches[-1]
        self._see_step(int(columns.steps.max()))
        self.version += n

    def _purge(self, purge: Purge) -> None:
        names = purge.names if purge.names is not None else list(self._series)
        for name in names:
            for table in (self._series, self.wall_times):
                if name in table:
                    table[name].purge_from(purge.from_step)
        if purge.names is None:
            kept = [e for e in self.epoch_ends if e.global_step < purge.from_step]
            self.epoch_ends = kept
            self.marks = [m for m in self.marks if m.kind != "epoch" or m.step < purge.from_step]
        self.version += 1

    def _add_columns(self, columns: StepColumns, fields: dict[str, list]) -> None:
        """Every ``loss`` (None as NaN); of the other series, the points that are not None."""
        n = len(columns.steps)
        for name, values in fields.items():
            missing = values.count(None)
            if name == "loss" or not missing:
                self.series(name).extend(columns, _floats(values))
            elif missing < n:
                keep = np.fromiter(map(is_not, values, repeat(None)), bool, n)
                self.series(name).extend(columns.where(keep), _floats(compress(values, keep)))

    def _restart_at(self, first: int, last: int) -> None:
        """Training steps from ``first`` to ``last`` arrive. A step already seen means the run
        was resumed from an earlier checkpoint: like TensorBoard's purge, everything logged at
        that step or later is dropped, so the redone steps replace their first copies."""
        if first <= self._train_step:
            self._purge_from(first)
        self._train_step = max(self._train_step, last)

    def _purge_from(self, step: int) -> None:
        for series in self._series.values():
            self.purged_points += series.purge_from(step)
        self.epoch_ends = [e for e in self.epoch_ends if e.global_step < step]
        self.marks = [m for m in self.marks if m.kind not in ("epoch", "finding") or m.step < step]
        self.marks.append(Mark(kind="resumed", step=step, label="restart: later steps replaced"))
        self.last_step = step - 1

    def _after_steps(self, stage: int, epoch: int, batch: int, last_step: int) -> None:
        self.current_stage, self.current_epoch, self.current_batch = stage, epoch, batch
        self._see_step(last_step)

    def _names_of(self, stage: int) -> tuple[str, str]:
        metric = self.metric_of(stage)
        names = self._step_names[stage] = (metric, f"{metric}_cum")
        return names

    def _point(self, name: str, step: int, value: float | None, stage: int, epoch: int, batch: int):
        self.series(name).append(step, math.nan if value is None else value, stage, epoch, batch)

    def _see_step(self, step: int | None) -> None:
        if step is not None and step > self.last_step:
            self.last_step = step

    def _on_run_started(self, event: RunStarted) -> None:
        self.run = event
        if event.pid != LOG_PID:  # a log saying who wrote it does not say the run is alive
            self.status = "running"

    def _on_stage_started(self, event: StageStarted) -> None:
        if event.stage not in self.stages:
            self.marks.append(stage_mark(event))
        self.stages[event.stage] = event
        known = self.thresholds_in_force.get(event.stage)
        if event.threshold is not None and (known is None or known.value != event.threshold):
            self.thresholds_in_force[event.stage] = Threshold(value=event.threshold)
        self._drop_marks_past_end()  # the stage before has ended
        self._step_names.pop(event.stage, None)
        self.current_stage = event.stage

    def _on_step(self, event: Step) -> None:
        self._add_steps([event])
        self._after_steps(event.stage, event.epoch, event.batch, event.global_step)

    def _on_epoch_end(self, event: EpochEnd) -> None:
        s, e, g = event.stage, event.epoch, event.global_step
        metric = self.metric_of(s)
        for name, value in (
            ("train_loss", event.train_loss),
            (f"train_{metric}", event.train_metric),
            ("val_loss", event.val_loss),
            (f"val_{metric}", event.val_metric),
        ):
            if value is not None:
                self._point(name, g, value, s, e, -1)
        lr_last = self.series("lr").last()
        if event.lr is not None and (lr_last is None or lr_last[0] < g):
            self._point("lr", g, event.lr, s, e, -1)
        for name, value in event.metrics.items():
            self._point(name, g, value, s, e, -1)
        self.epoch_ends.append(event)
        self.marks.append(Mark(kind="epoch", step=g, label=f"S{s} E{e}", stage=s))
        self.current_stage, self.current_epoch = s, e
        self._see_step(g)

    def _on_phase(self, event: Phase) -> None:
        """A phase said again (a log's late scheduler line) replaces the earlier one."""
        mark = phase_mark(event)
        for i, known in enumerate(self.phases):
            if (known.stage, known.phase) == (event.stage, event.phase):
                self.phases[i] = event
                self.marks = [m for m in self.marks if m.event is not known]
                break
        else:
            self.phases.append(event)
        self.marks.append(mark)
        self._drop_marks_past_end()

    def _on_control(self, event: ControlApplied) -> None:
        self.controls.append(event)
        for stage, threshold in event.after.thresholds().items():
            if threshold is not None:
                self.thresholds_in_force[stage] = threshold
        mark = control_mark(event)
        if mark is not None:
            self.marks.append(mark)

    def _on_paused(self, event: Paused) -> None:
        self.paused = True
        self.status = "paused"
        self.marks.append(pause_mark(event))

    def _on_resumed(self, event: Resumed) -> None:
        self.paused = False
        self.status = "running"
        self.marks.append(pause_mark(event))

    def _on_threshold(self, event: ThresholdReached) -> None:
        self.thresholds.append(event)
        self.marks.append(threshold_mark(event))
        self._see_step(event.step)

    def _on_checkpoint(self, event: CheckpointSaved) -> None:
        self.marks.append(checkpoint_mark(event))

    def _on_warning(self, event: TrainerWarning) -> None:
        self.warnings.append(event)
        step = event.step if event.step is not None else self.last_step
        self.marks.append(warning_mark(event, step))

    def _on_stage_completed(self, event: StageCompleted) -> None:
        self.completed[event.stage] = event
        self._see_step(event.step)
        self._drop_marks_past_end()

    def _on_points(self, event: NamedPoints) -> None:
        for name, (steps, stages, epochs, batches, values) in event.columns.items():
            columns = StepColumns(
                steps=np.array(steps, np.int64),
                stages=np.array(stages, np.int32),
                epochs=np.array(epochs, np.int32),
                batches=np.array(batches, np.int32),
            )
            series = self.series(name)
            last = series.last()
            if last is not None and steps[0] <= last[0]:
                self.purged_points += series.purge_from(steps[0])
            series.extend(columns, np.array(values, np.float64))
            self._see_step(max(steps))

    def _on_run_finished(self, event: RunFinished) -> None:
        self.finished = event
        self.paused = False
        self.status = _RUN_STATUS.get(event.status, "unknown")
        self._see_step(event.step)
        self._drop_marks_past_end()

    def _drop_marks_past_end(self) -> None:
        """Phase marks of a plan the stage never reached (it ended first) go."""
        ran = {span.stage: span for span in map(self.stage_span, self.stages) if span is not None}

        def reached(mark: Mark) -> bool:
            span = ran.get(mark.stage or 0)
            return mark.kind != "phase" or span is None or not span.ended or mark.step <= span.last

        self.marks = [mark for mark in self.marks if reached(mark)]

    def _on_system(self, event: SystemSample) -> None:
        self.system.add(event)

"""The Diagnoser: runs the detectors over a RunStore as it grows, live or over a whole file.

``update()`` reads only what arrived since the last call (a cursor into each series), feeds the
stage's loss blocks, and re-runs a stage's detectors only when that stage got a new block or a
new epoch. Each detector rescans its stage's whole (small) block history, so an episode found
live and one found offline are the same finding: same id (kind, stage, onset), same evidence.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from maou_tui.averaging import infer_averaging
from maou_tui.diagnose import advice
from maou_tui.diagnose.context import stage_context
from maou_tui.diagnose.detectors import (
    cumulative,
    divergence,
    epoch_loss,
    epochs,
    loss,
    runtime,
    system,
)
from maou_tui.diagnose.detectors.base import Detection, EpochTable, StageData
from maou_tui.diagnose.models import SEVERITY_RANK, Finding, finding_id
from maou_tui.diagnose.signals import (
    CUMULATIVE_DECISION_POINTS,
    Blocks,
    EpochEndLoss,
    decide_cumulative,
    per_batch_from_cumulative,
)
from maou_tui.diagnose.store_view import RunView
from maou_tui.protocol import EpochEnd
from maou_tui.series import Series

#: Detectors over a stage's loss blocks and epoch table, in report order.
STAGE_DETECTORS: tuple[Callable[[StageData], list[Detection]], ...] = (
    runtime.nan,
    divergence.point_blowup,
    divergence.divergence,
    epoch_loss.epoch_divergence,
    loss.warmup_lr_too_high,
    loss.oscillation,
    epochs.epoch_oscillation,
    loss.stagnation,
    epoch_loss.epoch_stagnation,
    epochs.overfitting,
    epochs.fail_fast_risk,
    epochs.value_collapse,
    runtime.throughput_collapse,
)

_NONFINITE_WORDS = ("finite", "nan", "inf")
#: The stage of points from a log that has no stages (HF Trainer, Lightning, Keras, nanoGPT
#: output read by ``ingest.other_trainers``): the whole run is read as one stage.
NO_STAGE = -1


@dataclass
class _StageState:
    blocks: Blocks
    epochs_seen: int = 0
    signature: tuple[int, ...] = ()
    flushed: bool = False
    cumulative: bool | None = None
    fed: int = 0
    scanned: int = 0
    first_bad: int | None = None
    bad_count: int = 0
    first_loss: float | None = None
    from_start: bool = False
    thrown: list[int] = field(default_factory=list)
    blowup: tuple[int, int, float, float, str] | None = None
    reset_key: tuple = ()
    resets: list[Detection] = field(default_factory=list)
    memo: dict = field(default_factory=dict)
    table_key: int = -1
    table: EpochTable = field(default_factory=EpochTable)


class Diagnoser:
    """Findings for one RunStore; call ``update()`` whenever the store may have grown."""

    def __init__(self, store: RunView, clock: Callable[[], float] = time.monotonic) -> None:
        self.store = store
        self.findings: list[Finding] = []
        self._by_id: dict[str, Finding] = {}
        self._stages: dict[int, _StageState] = {}
        self._loss_cursor = 0
        self._version = -1
        self._clock = clock
        self._last_progress: tuple[int, float] | None = None
        self._step_intervals: list[float] = []
        self._system_seen = 0

    # ------------------------------------------------------------------ public

    def update(self) -> list[Finding]:
        """Findings that are new or changed since the last call (cheap when nothing arrived)."""
        changed: list[Finding] = []
        if self.store.version != self._version:
            self._version = self.store.version
            for stage in self._feed_loss():
                changed += self._run_stage(stage)
            changed += self._check_system()
        changed += self._check_stall()
        return changed

    def finish(self) -> list[Finding]:
        """Close every stage's last partial block (a whole file was read); returns changes."""
        changed = self.update()
        for stage, state in self._stages.items():
            if not state.flushed:
                state.blocks.flush()
                state.flushed = True
                changed += self._run_stage(stage, force=True)
        return changed

    # ------------------------------------------------------------------ feeding

    def _state(self, stage: int) -> _StageState:
        state = self._stages.get(stage)
        if state is None:
            ctx = stage_context(self.store, stage)
            blocks = Blocks(origin=ctx.start_step, steps_per_epoch=ctx.steps_per_epoch)
            state = self._stages[stage] = _StageState(blocks)
        return state

    def _feed_loss(self) -> set[int]:
        """Append new loss points to their stage's blocks; returns the stages to re-check."""
        series = self.store.series("loss")
        n = len(series)
        touched: set[int] = set(self.store.stages) - set(self._stages)
        if n > self._loss_cursor:
            stages = series.stages[self._loss_cursor : n]
            for stage in np.unique(stages).tolist():
                if (stage >= 1 or stage == NO_STAGE) and self._feed_stage(stage, series, n):
                    touched.add(stage)
            self._loss_cursor = n
        for stage in list(self.store.completed) + self._finished_stages():
            state = self._state(stage)
            if not state.flushed:
                self._feed_stage(stage, series, n, final=True)
                state.blocks.flush()
                state.flushed = True
                touched.add(stage)
        for stage, state in self._stages.items():
            if _epoch_count(self.store, stage) != state.epochs_seen:
                touched.add(stage)
        touched |= {w.stage for w in self.store.warnings if w.stage}
        return touched

    def _feed_stage(self, stage: int, series: Series, n: int, final: bool = False) -> bool:
        """Feed the stage's points not fed yet. A loss that is a running mean since epoch start
        (a maou-format log's ``Loss=``) is inverted to per-batch means first; until enough
        points tell which it is, the points wait (``final`` decides with what there is)."""
        state = self._state(stage)
        lo, hi = _stage_range(series, stage, n)
        if hi <= lo:
            return False
        alarm = self._scan_points(state, series, lo, hi)
        if state.cumulative is None and not self._loss_may_be_cumulative():
            state.cumulative = False  # an events stream's Step.loss is per batch by contract
        if state.cumulative is None:
            state.cumulative = self._declared_running_mean(series, lo, hi, final)
        if state.cumulative is None:
            state.cumulative = self._loss_may_be_cumulative() and decide_cumulative(
                series.batches[lo:hi],
                series.epochs[lo:hi],
                series.values[lo:hi],
                final,
                steps=series.steps[lo:hi],
                epoch_end=_first_epoch_end_loss(self.store, stage, int(series.epochs[lo])),
            )
            if state.cumulative is None:
                return alarm  # a NaN or a blow-up is reported before the averaging is known
        first = max(lo, state.fed)
        state.fed = hi
        steps, epochs_ = series.steps[first:hi], series.epochs[first:hi]
        values = series.values[first:hi]
        if state.cumulative:
            # the previous point of the stage is needed to invert the first new one
            back = 1 if first > lo else 0
            values = per_batch_from_cumulative(
                series.batches[first - back : hi],
                series.epochs[first - back : hi],
                series.values[first - back : hi],
            )[back:]
        if not state.blocks.span:  # the span is not fixed yet: use the latest StageStarted
            ctx = stage_context(self.store, stage)
            state.blocks.origin = ctx.start_step
            state.blocks.steps_per_epoch = ctx.steps_per_epoch or _observed_epoch_length(
                self.store, stage, ctx.start_step
            )
        lrs = _lr_at(self.store.series("lr"), steps)
        state.blocks.add(steps, values, epochs_, lrs)
        return True

    @staticmethod
    def _scan_points(state: _StageState, series: Series, lo: int, hi: int) -> bool:
        """Look at the stage's new points as logged, one by one: the first non-finite one and
        the first blow-up are known at the point itself. True when one was just found."""
        start = max(lo, state.scanned)
        state.scanned = hi
        values = series.values[start:hi]
        found = False
        bad = ~np.isfinite(values)
        if bad.any():
            found = state.first_bad is None
            if found:
                state.first_bad = int(series.steps[start:hi][bad][0])
            state.bad_count += int(bad.sum())
        if state.first_loss is None:
            finite = np.flatnonzero(np.isfinite(series.values[lo:hi]))
            state.first_loss = float(series.values[lo + finite[0]]) if finite.size else None
            state.from_start = bool(finite.size) and int(series.epochs[lo + finite[0]]) <= 1
        if state.blowup is None and state.first_loss is not None:
            steps = series.steps[start:hi]
            at = divergence.first_blowup(values, state.first_loss)
            rule = "point_blowup"
            if state.from_start:
                # the stage's first point itself is never above its own value x the ratio
                thrown = divergence.thrown_off(values, state.first_loss, state.thrown, start)
                if thrown is not None and (at is None or thrown < at):
                    at, rule = thrown, "points_above_untrained"
            context = max(lo, start - 4 * divergence.RECENT_POINTS)
            jump = divergence.recent_blowup(
                series.values[context:hi], start - context, state.first_loss
            )
            if jump is not None and (at is None or jump - (start - context) < at):
                at, rule = jump - (start - context), "recent_blowup"
            if at is not None:
                onset = state.thrown[0] if rule == "points_above_untrained" else start + at
                state.blowup = (
                    int(series.steps[onset]),
                    int(steps[at]),
                    float(values[at]),
                    state.first_loss,
                    rule,
                )
                found = True
        return found

    @staticmethod
    def _declared_running_mean(series: Series, lo: int, hi: int, final: bool) -> bool | None:
        """Whether the stage's loss is a running mean since the epoch start: as its reader
        declared it, else as ``maou_tui.averaging`` infers it from the stage's first
        CUMULATIVE_DECISION_POINTS points (or all of them once the file ended); None when that
        is unknown. The window is fixed, so a live run and a whole file decide alike (the
        series' own ``averaging`` is inferred over all points so far, which grows live). An
        EMA is read as it is: a smoothed per-batch value, not inverted."""
        declared = series.declared_averaging
        if declared is not None:
            return bool(declared == "running_mean")
        if hi - lo < CUMULATIVE_DECISION_POINTS and not final:
            return None
        window = slice(lo, min(hi, lo + CUMULATIVE_DECISION_POINTS))
        found = infer_averaging(
            series.name, series.epochs[window], series.batches[window], series.values[window]
        )
        return None if found.kind == "unknown" else found.kind == "running_mean"

    def _boundary_resets(self, stage: int, state: _StageState) -> list[Detection]:
        """Re-checked only when a boundary may have become judgeable: a new epoch began, or
        the current one just got the points a boundary is judged on, or the stage ended."""
        store = self.store
        key = (
            store.current_stage,
            store.current_epoch,
            min(store.current_batch or 0, cumulative.RESET_SIDE_POINTS + 1),
            state.flushed,
        )
        if key != state.reset_key:
            state.reset_key = key
            state.resets = _boundary_resets(store, stage, bool(state.cumulative))
        return state.resets

    def _loss_may_be_cumulative(self) -> bool:
        """The protocol defines Step.loss as this batch's value, so an events stream (it starts
        with run_started) or a producer that also sends loss_cum is taken at its word; only a
        log, whose ``Loss=`` may be a running mean, is tested."""
        return self.store.run is None and not len(self.store.series("loss_cum"))

    def _finished_stages(self) -> list[int]:
        return list(self._stages) if self.store.finished is not None else []

    # ------------------------------------------------------------------ detecting

    def _run_stage(self, stage: int, force: bool = False) -> list[Finding]:
        state = self._state(stage)
        epochs_known = _epoch_count(self.store, stage)
        nonfinite = _nonfinite_warnings(self.store, stage)
        signature = (
            len(state.blocks),
            epochs_known,
            len(nonfinite),
            state.bad_count,
            state.blowup is not None,
            len(self.store.series("samples_per_s")) // 10,
        )
        if not force and signature == state.signature:
            return []
        state.signature, state.epochs_seen = signature, epochs_known
        data = self._stage_data(stage, state, nonfinite)
        found = [d for detector in STAGE_DETECTORS for d in detector(data)]
        found = loss.warmup_divergence(data, _one_divergence_per_episode(found))
        detections = _one_direction(_drop_aftermath(found), data)
        detections += self._boundary_resets(stage, state)
        return [f for d in detections if (f := self._merge(stage, d)) is not None]

    def _stage_data(
        self, stage: int, state: _StageState, nonfinite: list[tuple[int, str]]
    ) -> StageData:
        store = self.store
        ctx = stage_context(store, stage)
        if ctx.steps_per_epoch is None:
            ctx = replace(ctx, steps_per_epoch=_observed_epoch_length(store, stage, ctx.start_step))
        n_ends = _epoch_count(store, stage)
        if state.table_key != n_ends:  # rebuilt only when an epoch ended
            state.table_key, state.table = n_ends, _epoch_table(store, stage, ctx.metric)
        if ctx.base_lr is None and ctx.effective_lr is None:
            ctx = replace(ctx, effective_lr=_peak_logged_lr(store, stage, state.table))
        return StageData(
            ctx=ctx,
            blocks=state.blocks.arrays(),
            epochs=state.table,
            multiplier=_last_in_stage(store.series("lr_multiplier"), stage, default=1.0),
            threshold_reached=any(t.stage == stage for t in store.thresholds),
            metric_now=_metric_now(store, stage, ctx.metric, state.table),
            first_nonfinite=state.first_bad,
            epoch_only=_logs_only_epochs(store, stage, state.table),
            first_blowup=state.blowup,
            nonfinite_count=state.bad_count,
            nonfinite_warnings=nonfinite,
            throughput=_stage_slice(store.series("samples_per_s"), stage),
            last_step=int(store.last_step),
            memo=state.memo,
        )

    def _merge(self, stage: int, d: Detection) -> Finding | None:
        shown_stage: int | None = stage
        message, epoch = d.message, d.epoch
        if stage == NO_STAGE:  # a log without stages or epochs: say neither
            shown_stage = None
            message = message.replace(f"Stage {NO_STAGE} ", "", 1)
            message = message[:1].upper() + message[1:]
            epoch = epoch if epoch is not None and epoch >= 1 else None
        fid = finding_id(d.kind, shown_stage, d.onset)
        finding = Finding(
            id=fid,
            kind=d.kind,
            severity=d.severity,
            stage=shown_stage,
            epoch=epoch,
            step=d.onset,
            message=message,
            evidence=d.evidence,
            advice=d.advice,
            last_step=d.last_step,
        )
        old = self._by_id.get(fid)
        if old is not None:
            # Keep when it was first seen: the detection delay is a property of the live run.
            if "detected_at_step" in old.evidence:
                finding.evidence["detected_at_step"] = old.evidence["detected_at_step"]
            if old == finding:
                return None
            self.findings[self.findings.index(old)] = finding
        else:
            self.findings.append(finding)
        self._by_id[fid] = finding
        return finding

    def _check_system(self) -> list[Finding]:
        """GPU findings from the trainer's ``system`` samples, when new ones arrived."""
        history = getattr(self.store, "system", None)
        if history is None or len(history) == self._system_seen:
            return []
        self._system_seen = len(history)
        merged = (self._merge(_stage_at(self.store, d.onset), d) for d in system.gpu_idle(history))
        return [finding for finding in merged if finding is not None]

    def _check_stall(self) -> list[Finding]:
        store = self.store
        now = self._clock()
        step = int(store.last_step)
        if self._last_progress is None or step != self._last_progress[0]:
            if self._last_progress is not None and step > self._last_progress[0]:
                per_step = (now - self._last_progress[1]) / (step - self._last_progress[0])
                self._step_intervals = [*self._step_intervals[-49:], per_step]
            self._last_progress = (step, now)
            return []
        if store.status != "running" or store.paused or step == 0:
            return []
        silent = now - self._last_progress[1]
        typical = float(np.median(self._step_intervals)) if self._step_intervals else None
        if not runtime.is_stalled(silent, typical):
            return []
        d = runtime.stall_detection(store.current_stage, step, silent, typical)
        found = self._merge(store.current_stage or 0, d)
        return [found] if found is not None else []


def _one_divergence_per_episode(detections: list[Detection]) -> list[Detection]:
    """A blow-up found at its point(s) and a block divergence whose span (onset to
    confirmation) overlaps it are one episode, reported once: by whichever was confirmed first
    (a live run shows that one first and never takes a finding back). Decided from onsets and
    confirmation steps only, which never change, so a live run and a whole file agree."""
    blowup = next((d for d in detections if d.evidence.get("rule") in divergence.POINT_RULES), None)
    if blowup is None:
        return detections
    shown = int(blowup.evidence["detected_at_step"])

    def confirmed(d: Detection) -> int:
        return int(d.evidence.get("detected_at_step", d.onset))

    same_episode = [
        d
        for d in detections
        if d is not blowup
        and d.kind == "divergence"
        and d.onset <= shown
        and blowup.onset <= confirmed(d)
    ]
    if any(confirmed(d) < shown for d in same_episode):
        return [d for d in detections if d is not blowup]
    return [d for d in detections if not any(d is e for e in same_episode)]


def _one_direction(detections: list[Detection], data: StageData) -> list[Detection]:
    """Advice never points two ways: when the stage's loss stagnates (an LR too low), a value
    collapse is the head not having learned, and its advice raises the LR too."""
    if not any(d.kind == "stagnation" for d in detections):
        return detections
    for d in detections:
        if d.kind == "value_collapse":
            d.advice = advice.value_collapse_advice(data.ctx, data.multiplier, lr_too_low=True)
    return detections


def _drop_aftermath(detections: list[Detection]) -> list[Detection]:
    """A flat loss after a divergence is its aftermath (a network stuck at a trivial solution),
    not an LR that is too low: advising "raise the LR" there would be wrong, so such a
    stagnation is dropped and a fail-fast risk loses its "raise the LR" hint."""
    diverged = [d.onset for d in detections if d.kind in ("divergence", "nan")]
    if not diverged:
        return detections
    first = min(diverged)
    kept = [d for d in detections if not (d.kind == "stagnation" and d.onset >= first)]
    for d in kept:
        if d.kind == "fail_fast_risk" and d.onset >= first:
            d.advice = advice.after_divergence(d.advice)
    return kept


def diagnose(store: RunView) -> list[Finding]:
    """All findings of a whole run (the same code path as live), most severe first."""
    diagnoser = Diagnoser(store)
    diagnoser.finish()
    return sorted(diagnoser.findings, key=lambda f: (-SEVERITY_RANK[f.severity], f.step))


# ---------------------------------------------------------------------- store access helpers


def _stage_at(store: RunView, step: int) -> int:
    """The stage that was training at global ``step`` (0 when no stage started before it)."""
    started = [s for s, event in store.stages.items() if event.start_step <= step]
    return max(started, default=0)


def _logs_only_epochs(store: RunView, stage: int, table: EpochTable) -> bool:
    """The stage logs its loss once an epoch at most: no batch loss at all (maou's Stage 3
    without bars), or, in a log without stages, no more loss points than validated epochs (a
    Keras CSVLogger's rows: each ``loss`` is an epoch's mean, and the block rules, made for
    16 blocks an epoch, cannot read eight points)."""
    lo, hi = _stage_range(store.series("loss"), stage)
    if hi <= lo:
        return True
    return stage == NO_STAGE and 0 < hi - lo <= table.epoch.size


def _stage_range(series: Series, stage: int, n: int | None = None) -> tuple[int, int]:
    """[lo, hi) indices of the stage's points. Stages run in order (1 -> 2 -> 3), so the stage
    column is sorted and a binary search finds them without scanning the run."""
    stages = series.stages if n is None else series.stages[:n]
    return (
        int(np.searchsorted(stages, stage, side="left")),
        int(np.searchsorted(stages, stage, side="right")),
    )


def _stage_slice(series: Series, stage: int) -> tuple[np.ndarray, np.ndarray] | None:
    if not len(series):
        return None
    lo, hi = _stage_range(series, stage)
    if hi <= lo:
        return None
    return series.steps[lo:hi], series.values[lo:hi]


def _lr_at(lr: Series, steps: np.ndarray) -> np.ndarray:
    """The LR in force at each step (the last LR point at or before it), NaN when unknown."""
    if not len(lr):
        return np.full(steps.size, np.nan)
    idx = np.searchsorted(lr.steps, steps, side="right") - 1
    out = lr.values[np.clip(idx, 0, None)].astype(np.float64)
    out[idx < 0] = np.nan
    return out


def _last_in_stage(series: Series, stage: int, default: float) -> float:
    found = _stage_slice(series, stage)
    if found is None:
        return default
    finite = np.flatnonzero(np.isfinite(found[1][-64:]))  # the latest values suffice
    return float(found[1][-64:][finite[-1]]) if finite.size else default


def _peak_logged_lr(store: RunView, stage: int, table: EpochTable) -> float | None:
    """The highest LR the stage logged (per step or per epoch): the LR it was configured with,
    for a log that has no StageStarted LR (maou's Stage 3 prints only ``Epoch N: LR = ..``)."""
    found = _stage_slice(store.series("lr"), stage)
    values = [table.get("lr")] + ([found[1]] if found is not None else [])
    merged = np.concatenate(values)
    merged = merged[np.isfinite(merged) & (merged > 0)]
    return float(merged.max()) if merged.size else None


def _observed_epoch_length(store: RunView, stage: int, start_step: int) -> int | None:
    """Steps in the stage's first epoch, from its first EpochEnd (None before one arrives); in
    a log without stages, the steps between its first two validation losses."""
    ends = _epoch_ends(store, stage)
    if not ends and stage == NO_STAGE:
        val = store.series("val_loss").steps
        return int(val[1] - val[0]) if len(val) > 1 and val[1] > val[0] else None
    if not ends:
        return None
    first = min(ends, key=lambda e: e.epoch)
    start = start_step if start_step > 0 else 1
    return max(1, (first.global_step - start + 1) // max(1, first.epoch))


def _first_epoch_end_loss(store: RunView, stage: int, epoch: int) -> EpochEndLoss | None:
    """The reported mean train loss of the stage's first epoch, when it has arrived."""
    for e in _epoch_ends(store, stage):
        if e.epoch == epoch and e.train_loss is not None:
            return EpochEndLoss(step=int(e.global_step), loss=float(e.train_loss))
    return None


def _epoch_ends(store: RunView, stage: int) -> list[EpochEnd]:
    return [e for e in store.epoch_ends if e.stage == stage]


def _epoch_count(store: RunView, stage: int) -> int:
    """Epochs known for the stage so far (a log without stages: its validation losses)."""
    ends = _epoch_ends(store, stage)
    if stage == NO_STAGE and not ends:
        return len(store.series("val_loss"))
    return len(ends)


#: Names other trainers' readers give the validation metric (``val_`` + the stage's metric
#: first).
_VAL_METRIC_NAMES = ("val_accuracy", "val_acc")


def _stageless_epoch_table(store: RunView, metric: str) -> EpochTable:
    """A log without stages or epoch events (other trainers' output): one row per logged
    validation loss, its train loss the mean of the batch losses logged since the one before
    (the epoch's mean when the log prints every batch; Keras prints one running mean per
    epoch, which is the epoch's mean)."""
    val = store.series("val_loss")
    if not len(val):
        return EpochTable()
    loss = store.series("loss")
    train = np.full(len(val), np.nan)
    previous = -1
    for row, step in enumerate(val.steps.tolist()):
        inside = (loss.steps > previous) & (loss.steps <= step) & np.isfinite(loss.values)
        if inside.any():
            train[row] = float(loss.values[inside].mean())
        previous = step
    columns = {"val_loss": val.values.astype(np.float64), "train_loss": train}
    for name in (f"val_{metric}", *_VAL_METRIC_NAMES):
        series = store.series(name)
        if len(series):
            at = {int(s): float(v) for s, v in zip(series.steps, series.values, strict=True)}
            columns[f"val_{metric}"] = np.array([at.get(int(s), np.nan) for s in val.steps])
            break
    return EpochTable(
        epoch=np.arange(1, len(val) + 1, dtype=np.int64),
        step=val.steps.astype(np.int64),
        columns=columns,
    )


def _epoch_table(store: RunView, stage: int, metric: str) -> EpochTable:
    """One row per epoch (later EpochEnd events of an epoch fill in what earlier ones lacked)."""
    if stage == NO_STAGE and not _epoch_ends(store, stage):
        return _stageless_epoch_table(store, metric)
    rows: dict[int, dict[str, float]] = {}
    steps: dict[int, int] = {}
    for e in _epoch_ends(store, stage):
        row = rows.setdefault(e.epoch, {})
        steps[e.epoch] = max(steps.get(e.epoch, 0), e.global_step)
        for name, value in (
            ("train_loss", e.train_loss),
            (f"train_{metric}", e.train_metric),
            ("val_loss", e.val_loss),
            (f"val_{metric}", e.val_metric),
            ("lr", e.lr),
            *e.metrics.items(),
        ):
            if value is not None:
                row[name] = float(value)
    order = sorted(rows)
    names = {n for r in rows.values() for n in r}
    return EpochTable(
        epoch=np.asarray(order, dtype=np.int64),
        step=np.asarray([steps[e] for e in order], dtype=np.int64),
        columns={n: np.asarray([rows[e].get(n, np.nan) for e in order]) for n in names},
    )


def _metric_now(store: RunView, stage: int, metric: str, epochs: EpochTable) -> float | None:
    """The stage's latest metric: the last epoch's train metric, else the running one."""
    table = epochs.get(f"train_{metric}")
    finite = table[np.isfinite(table)]
    if finite.size:
        return float(finite[-1])
    for name in (f"{metric}_cum", metric):
        found = _stage_slice(store.series(name), stage)
        if found is not None and np.isfinite(found[1]).any():
            return float(found[1][np.isfinite(found[1])][-1])
    return None


def _nonfinite_warnings(store: RunView, stage: int) -> list[tuple[int, str]]:
    out = []
    for w in store.warnings:
        text = f"{w.kind} {w.message}".lower()
        if w.stage == stage and any(word in text for word in _NONFINITE_WORDS):
            out.append((int(w.step if w.step is not None else store.last_step), w.message))
    return out


def _boundary_resets(store: RunView, stage: int, loss_is_cumulative: bool) -> list[Detection]:
    """One epoch_boundary_reset per stage: the series that showed it first."""
    series = _cumulative_series(store, stage, loss_is_cumulative)
    found = [d for s in series for d in cumulative.epoch_boundary_reset(s)]
    return [min(found, key=lambda d: d.onset)] if found else []


def _cumulative_series(
    store: RunView, stage: int, loss_is_cumulative: bool
) -> list[cumulative.CumulativeSeries]:
    """The stage's running-mean series: ``*_cum`` by name, and ``loss`` when the stage's loss
    was found to be one (``Diagnoser._feed_stage``)."""
    found = []
    names = [n for n in store.names() if n.endswith("_cum")] + ["loss"]
    for name in names:
        if name == "loss" and not loss_is_cumulative:
            continue
        series = store.series(name)
        lo, hi = _stage_range(series, stage)
        if hi - lo < 3:
            continue
        mask = slice(lo, hi)
        batches, epochs_, values = series.batches[mask], series.epochs[mask], series.values[mask]
        twin_name = name.removesuffix("_cum")
        twin = store.series(twin_name) if twin_name != name and twin_name in store.names() else None
        per_batch = None
        if twin is not None and len(twin) == len(series):
            twin_values = twin.values[mask]
            per_batch = twin_values if np.isfinite(twin_values).any() else None
        found.append(
            cumulative.CumulativeSeries(
                name=name,
                stage=stage,
                steps=series.steps[mask],
                batches=batches,
                epochs=epochs_,
                values=values,
                per_batch=per_batch,
            )
        )
    return found

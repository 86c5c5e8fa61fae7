"""maou ``learn-model`` logs (and this project's train.log) to protocol events.

Reads every message of reference/maou-trainer.md §4 with or without the logger prefix
(``time | LEVEL | file | func | line | message``), the LR guide's lines (``Epoch E Batch B/N:``,
``Epoch E: Train Loss=..., Val Loss=...``, the stale ``Stage LEGAL_MOVES Epoch 1: LR = ...``) and
tqdm bars (see ``progress.py``). Global steps are derived by ``EpochClock`` (rule in clock.py).

Hand-written because no library parses maou's messages. Feed it complete lines only
(``LineBuffer``); the result depends only on the sequence of lines, never on how they were
chunked. A ``StageStarted`` is emitted just before the stage's first data, so it carries what
the setup lines said (threshold, max epochs, scheduler, sqrt scaling); an ``EpochEnd`` collects
the lines of its epoch (loss, validation, METRICS, LR) and is emitted when something else comes.
"""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel

from maou_tui.ingest.batch_runs import feed_runs
from maou_tui.ingest.clock import EpochClock
from maou_tui.ingest.lines import decode, split_lines
from maou_tui.ingest.maou_patterns import (
    ACHIEVED,
    BANNER,
    BATCH,
    BATCH_LINE,
    COMPLETED,
    CONFIG_BATCH,
    CONFIG_LR,
    COSINE,
    EPOCH3,
    EPOCH_SUMMARY,
    EXCEPTION,
    LOSS3,
    MESSAGE_START,
    METRIC_ITEM,
    METRIC_LINE,
    MODEL,
    NON_FINITE,
    RUN_FINISHED,
    RUN_SUMMARY,
    SAVED,
    SQRT,
    STAGE_BY_LABEL,
    STAGE_BY_WORD,
    STAGE_EPOCH,
    STAGE_LR,
    STARTING,
    STREAMING,
    THRESHOLD,
    VAL,
    WARMUP,
    as_value,
    split_prefix,
)
from maou_tui.ingest.other_trainers import OtherTrainerLines
from maou_tui.ingest.phases import scheduler_phases
from maou_tui.ingest.progress import BarTracker
from maou_tui.ingest.trusted import trusted_steps
from maou_tui.protocol import (
    CheckpointSaved,
    EpochEnd,
    RunFinished,
    StageCompleted,
    StageStarted,
    ThresholdReached,
    TrainerWarning,
)
from maou_tui.stages import STAGE_METRICS, STAGE_NAMES
from maou_tui.store import NamedPoints, StepBatch, StoreItem

Text = str | bytes  # a regex group: from a decoded line, or from the bytes fast lane


class MaouLogParser:
    """Stateful: complete lines in (``feed``), protocol events out."""

    def __init__(self) -> None:
        self.clock = EpochClock()
        self.bars = BarTracker()
        self.stage: int | None = None
        self._draft: dict[str, Any] | None = None  # StageStarted fields not yet emitted
        self._setup: dict[str, Any] = {}  # setup lines seen before their stage began
        self._emitted_stage = False
        self._completed_stages: set[int] = set()
        self._pending_end: dict[str, Any] | None = None  # EpochEnd being collected
        self._block: str | None = None  # "metrics" | "config": unprefixed continuation lines
        self._out: list[StoreItem] = []  # steps collected as columns
        self._failure = ""  # the reason of a failure, as far as the log said it yet
        self.other = OtherTrainerLines(self)
        self.skipped_lines = 0  # stays 0: a line that is not understood is not data, not damage

    # ------------------------------------------------------------ feeding

    def feed(self, block: bytes, *, columns: bool = False) -> list[StoreItem]:
        """Complete lines (``LineBuffer`` output) in; the events they complete out. With
        ``columns``, runs of steps come as ``StepBatch`` (for ``RunStore.apply_all``)."""
        if b"Batch " in block and b"\r" not in block:  # the guide's batch lines in bulk
            feed_runs(self, block)
        else:
            self.feed_lines(block)
        return self._take(columns)

    def feed_lines(self, block: bytes) -> None:
        """Each line of ``block`` on its own."""
        for line in split_lines(block):
            if b"\r" in line:
                self.bars.scan(line, self)
            elif line and not (b"Batch " in line and self._batch_line(line)):
                self.line(decode(line))

    def _batch_line(self, line: bytes) -> bool:
        """The fast lane for the guide's ``Epoch E Batch B/N: Loss=..`` (a train.log is mostly
        these): the same result as ``line`` in one match; False to leave it to ``line``."""
        m = BATCH_LINE.fullmatch(line)
        if m is None:
            return False
        level, *fields = m.groups()
        if level is not None and level.strip():
            self._block = None
        elif self._block is not None:
            return False  # perhaps a continuation line: line() decides
        epoch, batch, total, loss, label, metric, pct = fields
        text_label = label.decode() if label is not None else None
        self._batch_step(epoch, batch, total, loss, text_label, metric, pct)
        return True

    def finish(self, *, columns: bool = False) -> list[StoreItem]:
        """End of input: emit what is still being collected."""
        self._flush_epoch_end()
        self._emit_stage_started()
        return self._take(columns)

    def _take(self, columns: bool) -> list[StoreItem]:
        out, self._out = self._out, []
        if columns:
            return out
        events: list[StoreItem] = []
        for item in out:
            if isinstance(item, StepBatch):
                events += trusted_steps(item)
            else:
                events.append(item)
        return events

    def line(self, line: str) -> None:
        """One complete line (or ``\\r`` segment that is not a progress bar)."""
        level, msg = split_prefix(line)
        if level:
            self._block = None
        elif self._block is not None and self._in_block(msg):
            self._continuation(msg)
            return
        found = MESSAGE_START.search(msg)
        if found is None:
            if not ("%|" in msg and self.bars.try_bar(msg.encode(), self)):
                self.other.line(msg)
            return
        if found.start():
            self._block = None  # a message after some prefix: a new message
        msg = msg[found.start() :].rstrip()
        _HANDLERS[msg[:5]](self, msg, level)

    def in_message(self) -> bool:
        """Is a multi-line message open (bare lines may be its continuation)?"""
        return self._block is not None

    def _in_block(self, msg: str) -> bool:
        """Is an unprefixed line part of a multi-line message (METRICS, Training Configuration,
        an error's traceback)? A prefix other than maou's repeats on continuation lines, so
        they are known by their content, not by a leading blank."""
        if self._block == "config":
            if msg.rstrip().endswith("====="):
                self._block = None
            return True
        if self._block == "error":
            return MESSAGE_START.search(msg) is None
        if msg[:1] in " \t" or METRIC_LINE.search(msg):
            return True
        self._block = None
        return False

    # ------------------------------------------------------------ emitting

    def emit(self, event: BaseModel, *, stage_data: bool = True) -> None:
        """Queue ``event`` after what must precede it (the collected EpochEnd; the stage's
        StageStarted unless ``stage_data`` is False)."""
        if self._pending_end is not None:
            self._flush_epoch_end()
        if stage_data:
            self._emit_stage_started()
        self._out.append(event)

    def emit_prerequisites(self) -> None:
        self._flush_epoch_end()
        self._emit_stage_started()

    def _emit_stage_started(self) -> None:
        if self._draft is None or self._emitted_stage:
            return
        self._emitted_stage = True
        self._out.append(StageStarted(**self._draft))
        self._out.extend(scheduler_phases(self._draft))

    def _flush_epoch_end(self) -> None:
        pending, self._pending_end = self._pending_end, None
        if pending is not None:
            self._emit_stage_started()
            self._out.append(EpochEnd(**pending))

    def _epoch_end(self, stage: int, epoch: int, **fields: Any) -> dict[str, Any]:
        """The EpochEnd being collected for (stage, epoch), started if needed."""
        pending = self._pending_end
        if pending is None or pending["stage"] != stage or pending["epoch"] != epoch:
            self._flush_epoch_end()
            step = self.clock.end_of(epoch) if stage == self.stage else self.clock.offset
            pending = {"stage": stage, "epoch": epoch, "global_step": step, "train_loss": None}
            self._pending_end = pending
        for key, value in fields.items():
            if value is not None:
                pending[key] = value
        return pending

    # ------------------------------------------------------------ stages

    def begin_stage(self, stage: int) -> None:
        """A new stage starts (a banner, or the first line that names another stage)."""
        if stage == self.stage:
            return
        self._flush_epoch_end()
        self._emit_stage_started()
        self.clock.new_stage()
        self.stage = stage
        self._draft = {
            "stage": stage,
            "name": STAGE_NAMES[stage],
            "metric": STAGE_METRICS[stage],
            "start_step": self.clock.offset + 1,  # the stage's first batch, as the trainer says
            **self._setup,
        }
        self._setup = {}
        self._emitted_stage = False
        self._learn_epoch_length(self._draft)

    def _learn_epoch_length(self, draft: dict[str, Any]) -> None:
        length = draft.get("steps_per_epoch")
        total, epochs = draft.get("total_steps"), draft.get("max_epochs")
        if not length and total and epochs and total % epochs == 0:
            length = total // epochs
        if length:
            self.clock.stage_epoch_length = length

    def stage_for(self, word: str | None, label: str | None = None) -> int:
        """The stage a line refers to: named in it, else the current one, else guessed."""
        stage = STAGE_BY_WORD.get(word or "")
        if stage is None:
            stage = self.stage or STAGE_BY_LABEL.get((label or "").lower(), 3)
        self.begin_stage(stage)
        return stage

    def set_stage_info(self, **fields: Any) -> None:
        """Setup facts for the current stage; before any stage they wait for the next one."""
        target = self._draft if self.stage not in self._completed_stages else None
        if target is None:
            self._setup.update(fields)
            return
        target.update(fields)
        self._learn_epoch_length(target)
        if self._emitted_stage:  # the log said it late: send the completed StageStarted again
            self._out.append(StageStarted(**target))
            if {"scheduler", "warmup_steps", "total_steps"} & fields.keys():
                self._out.extend(scheduler_phases(target))

    # ------------------------------------------------------------ steps

    def step(
        self,
        stage: int,
        epoch: int,
        batch: int,
        loss: float | None,
        metric_cum: float | None = None,
    ) -> None:
        """A training batch the log reports (its loss as printed, the metric's running mean)."""
        if loss is not None and not math.isfinite(loss):
            loss = None  # the protocol's "not finite"
        if self._pending_end is not None or not self._emitted_stage:
            self.emit_prerequisites()
        self.steps_of(stage).add(self.clock.step_of(batch), epoch, batch, loss, metric_cum)

    def steps(
        self, stage: int, batches: np.ndarray, losses: np.ndarray, metric_cums: np.ndarray
    ) -> None:
        """``step`` for each of many batches of the open epoch (finite losses, batches not
        below the epoch's last one), as one column chunk."""
        if self._pending_end is not None or not self._emitted_stage:
            self.emit_prerequisites()
        clock = self.clock
        clock.see_batches(int(batches.max()))
        epochs = np.full(len(batches), clock.epoch, np.int64)
        self.steps_of(stage).extend(batches + clock.offset, epochs, batches, losses, metric_cums)

    def point(self, name: str, value: float, step: int, epoch: int = -1, batch: int = -1) -> None:
        """A value of a series the log names itself (another trainer's key, a Validation bar)."""
        self.emit_prerequisites()
        points = self._out[-1] if self._out else None
        if type(points) is not NamedPoints:
            points = NamedPoints()
            self._out.append(points)
        points.add(name, step, value, self.stage or -1, epoch, batch)

    def steps_of(self, stage: int) -> StepBatch:
        """The StepBatch that the next step of ``stage`` goes to (the last item out, or new)."""
        steps = self._out[-1] if self._out else None
        if type(steps) is not StepBatch or steps.stage != stage:
            steps = StepBatch(stage)
            self._out.append(steps)
        return steps

    # ------------------------------------------------------------ line kinds

    def _on_banner(self, msg: str, level: str) -> None:
        m = BANNER.match(msg)
        if m and 1 <= int(m.group(1)) <= 3:
            self.begin_stage(int(m.group(1)))

    def _on_starting(self, msg: str, level: str) -> None:
        m = STARTING.match(msg)
        if m:
            self.set_stage_info(max_epochs=int(m.group(1)), threshold=float(m.group(2)) / 100)

    def _on_stage_line(self, msg: str, level: str) -> None:
        m = STAGE_EPOCH.match(msg)
        if m:
            word, epoch, max_epochs, loss, _label, metric, pct = m.groups()
            stage = self.stage_for(word, _label)
            if self._draft is not None and not self._draft.get("max_epochs"):
                self._draft["max_epochs"] = int(max_epochs)
            train_metric = as_value(metric, pct) if metric is not None else None
            self._epoch_end(stage, int(epoch), train_loss=float(loss), train_metric=train_metric)
            return
        m = STAGE_LR.match(msg)
        if m:
            stage = self.stage_for(m.group(1))
            self._epoch_end(stage, int(m.group(2)), lr=float(m.group(3)))
            return
        m = THRESHOLD.match(msg)
        if m:
            stage = self.stage_for(m.group(1))
            self.emit(
                ThresholdReached(
                    stage=stage,
                    epoch=max(self.clock.epoch, 0),
                    step=self.clock.close(),
                    metric=STAGE_METRICS[stage],
                    value=float(m.group(3)) / 100,
                    threshold=float(m.group(4)) / 100,
                )
            )
            return
        m = COMPLETED.match(msg)
        if m:
            stage = self.stage_for(m.group(1))
            self.emit(
                StageCompleted(
                    stage=stage,
                    epochs=int(m.group(5)),
                    step=self.clock.close(),
                    metric=m.group(2).lower(),
                    value=as_value(m.group(3), m.group(4)),
                    reason="threshold",
                )
            )
            self._completed_stages.add(stage)

    def _on_epoch_line(self, msg: str, level: str) -> None:
        m = BATCH.match(msg)
        if m:
            self._batch_step(*m.groups())
            return
        m = EPOCH_SUMMARY.match(msg)
        if m:
            epoch, _max_epochs, loss, label, metric, pct = m.groups()
            stage = self.stage_for(None, label)
            train_metric = as_value(metric, pct) if metric is not None else None
            self._epoch_end(stage, int(epoch), train_loss=float(loss), train_metric=train_metric)
            return
        m = VAL.match(msg)
        if m:
            epoch, train_loss, val_loss, _label, metric, pct = m.groups()
            stage = self.stage_for(None, _label)
            pending = self._epoch_end(
                stage,
                int(epoch),
                val_loss=float(val_loss) if val_loss is not None else None,
                val_metric=as_value(metric, pct) if metric is not None else None,
            )
            said = pending.get("train_loss")
            if said is None:
                pending["train_loss"] = float(train_loss)
            elif said != float(train_loss):  # the epoch line said another: keep both
                pending.setdefault("metrics", {})["train_loss_at_validation"] = float(train_loss)
            return
        later = MESSAGE_START.search(msg, 1)
        if later is not None:  # "Epoch" was part of a prefix: the message starts later
            self.line(msg[later.start() :])
        else:
            self.other.line(msg)  # Keras' ``Epoch 1/3``, or another trainer's epoch line

    def _batch_step(
        self,
        epoch: Text | None,
        batch: Text,
        total: Text | None,
        loss: Text,
        label: str | None,
        metric: Text | None,
        pct: Text | None,
    ) -> None:
        """``Epoch E Batch B/N: Loss=.., F1=..%`` as a step (the groups of BATCH, str or bytes)."""
        stage = self.stage_for(None, label)
        epoch_no = int(epoch) if epoch else max(self.clock.epoch, 1)
        self.clock.ensure(epoch_no, int(total) if total else None)
        cum = as_value(metric, pct or "") if metric is not None else None
        self.step(stage, epoch_no, int(batch), float(loss), metric_cum=cum)

    def _on_epoch3(self, msg: str, level: str) -> None:
        m = EPOCH3.match(msg)
        if m:
            self.stage_for("3" if (self.stage or 0) < 3 else None)
            self._flush_epoch_end()
            self.clock.open(int(m.group(1)))
            self.bars.reset()

    def _on_loss3(self, msg: str, level: str) -> None:
        m = LOSS3.match(msg)
        if m:
            stage = self.stage_for("3" if (self.stage or 0) < 3 else None)
            epoch = max(self.clock.epoch, 1)
            train, valid, gap = m.groups()
            pending = self._epoch_end(stage, epoch, train_loss=float(train), val_loss=float(valid))
            if gap is not None:
                pending.setdefault("metrics", {})["gap"] = float(gap)

    def _on_metrics(self, msg: str, level: str) -> None:
        self._block = "metrics"
        self._continuation(msg[len("METRICS") :])

    def _on_config(self, msg: str, level: str) -> None:
        if msg.startswith("=== Training Configuration"):
            self.stage_for("3" if (self.stage or 0) < 3 else None)
            self._block = "config"

    def _continuation(self, msg: str) -> None:
        if self._block == "error":
            self._error_detail(msg)
            return
        if self._block == "metrics" or msg.lstrip().startswith(("policy_", "value_")):
            items = {name: float(value) for name, value in METRIC_ITEM.findall(msg)}
            if items:
                stage = self.stage_for("3" if (self.stage or 0) < 3 else None)
                pending = self._epoch_end(stage, max(self.clock.epoch, 1))
                pending.setdefault("metrics", {}).update(items)
            return
        m = CONFIG_BATCH.search(msg)
        if m:
            physical, effective, epochs = m.groups()
            self.set_stage_info(batch_size=int(effective or physical))
            if epochs:
                self.set_stage_info(max_epochs=int(epochs))
        m = CONFIG_LR.search(msg)
        if m:
            self.set_stage_info(base_lr=float(m.group(2)), effective_lr=float(m.group(2)))

    def _on_sqrt(self, msg: str, level: str) -> None:
        m = SQRT.match(msg)
        if m:
            base, scale, effective = (float(g) for g in m.groups())
            self.set_stage_info(base_lr=base, lr_scale=scale, effective_lr=effective)

    def _on_using(self, msg: str, level: str) -> None:
        m = WARMUP.match(msg)
        if m:
            warmup, total = int(m.group(1)), int(m.group(2))
            info: dict[str, Any] = {"scheduler": "Warmup+CosineDecay", "warmup_steps": warmup}
            self.set_stage_info(**info, total_steps=total)
            return
        m = COSINE.match(msg)
        if m:
            self.set_stage_info(
                scheduler="CosineAnnealingLR", warmup_steps=0, total_steps=int(m.group(1))
            )
        elif msg.startswith("Using constant learning rate"):
            self.set_stage_info(scheduler="constant")

    def _on_model(self, msg: str, level: str) -> None:
        m = MODEL.match(msg)
        if m:
            self.set_stage_info(architecture=m.group(1))

    def _on_streaming(self, msg: str, level: str) -> None:
        m = STREAMING.match(msg)
        if m:
            self.set_stage_info(steps_per_epoch=int(m.group(1)))

    def _on_non_finite(self, msg: str, level: str) -> None:
        m = NON_FINITE.match(msg)
        step = self.clock.offset + int(m.group(2)) if m else self.clock.offset
        self.emit(
            TrainerWarning(
                kind="nan",
                message=msg,
                stage=self.stage,
                epoch=int(m.group(1)) if m else None,
                step=step,
            )
        )

    def _on_saved(self, msg: str, level: str) -> None:
        m = SAVED.match(msg)
        if m and m.group(2) == "backbone":
            step = self.clock.offset
            self.emit(
                CheckpointSaved(
                    path=m.group(3).strip(), step=step, stage=self.stage, reason="stage end"
                ),
                stage_data=False,
            )

    def _on_early_stop(self, msg: str, level: str) -> None:
        if msg.startswith("Early stopping") and self.stage is not None:
            epochs = max(self.clock.epoch, 0)
            self.emit(
                StageCompleted(
                    stage=self.stage, epochs=epochs, step=self.clock.close(), reason="stopped"
                )
            )

    def _on_error(self, msg: str, level: str) -> None:
        if msg.startswith("Error occurred"):
            self._failure = msg
            self.finish_run("failed", msg)
            self._block = "error"  # the traceback and maou's explanation follow, unprefixed

    def _error_detail(self, msg: str) -> None:
        """A line of the traceback after ``Error occurred``: the exception line and maou's
        ``achieved: x% / required: y%`` under it make the failure's reason."""
        text = msg.strip()
        m = EXCEPTION.match(text)
        if m:
            self._failure = m.group(2)
        elif ACHIEVED.match(text):
            self._failure = f"{self._failure} {text}"
        else:
            return
        self.finish_run("failed", self._failure)

    def _on_summary(self, msg: str, level: str) -> None:
        """maou's JSON summary on stdout: printed only after a run that completed."""
        if RUN_SUMMARY.match(msg):
            self.finish_run("completed", "")

    def finish_run(self, status: Literal["completed", "failed"], reason: str) -> None:
        """The run's outcome (said again, the later and fuller one wins in the store)."""
        self.emit_prerequisites()
        finished = RunFinished(status=status, reason=reason, step=self.clock.offset)
        self.emit(finished, stage_data=False)

    def _on_run_finished(self, msg: str, level: str) -> None:
        """Our trainer's last line (``Run finished: completed (all stages completed)``)."""
        m = RUN_FINISHED.match(msg)
        if m is not None:
            fields = {"status": m.group(1), "reason": m.group(2) or "", "step": self.clock.offset}
            self.emit(RunFinished.model_validate(fields), stage_data=False)


# Dispatch on a message's first five characters: one dict lookup instead of trying every regex.
_HANDLERS = {
    "STAGE": MaouLogParser._on_banner,
    "Start": MaouLogParser._on_starting,
    "Stage": MaouLogParser._on_stage_line,
    "Epoch": MaouLogParser._on_epoch_line,
    "Batch": MaouLogParser._on_epoch_line,
    "EPOCH": MaouLogParser._on_epoch3,
    "LOSS ": MaouLogParser._on_loss3,
    "METRI": MaouLogParser._on_metrics,
    "=== T": MaouLogParser._on_config,
    "LR sq": MaouLogParser._on_sqrt,
    "Using": MaouLogParser._on_using,
    "Strea": MaouLogParser._on_streaming,
    "Model": MaouLogParser._on_model,
    "Non-f": MaouLogParser._on_non_finite,
    "Saved": MaouLogParser._on_saved,
    "Early": MaouLogParser._on_early_stop,
    "Error": MaouLogParser._on_error,
    '{"sta': MaouLogParser._on_summary,
    '{"Dat': MaouLogParser._on_summary,
    "Run f": MaouLogParser._on_run_finished,
}

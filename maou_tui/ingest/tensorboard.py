"""TensorBoard event files as a source: a run folder (or one event file) into store items.

A TensorBoard *run* here is a folder with ``*tfevents*`` files; its subfolders that hold event
files are the ``add_scalars`` members (``<main_tag>_<member>``, torch's layout) or the
``add_hparams`` run, read as part of it. A folder whose event files all sit in subfolders is a
directory of runs (see ``source.find_runs``).

Every read returns what was appended since the last one, in store items (``ScalarColumns``,
``Purge``, ``EpochEnd``, ``StageStarted``, ``TrainerWarning``):

- tags become series names through ``tb_tags`` (maou's tags as its log names them);
- maou's layout is Stage 3: ``Loss/train`` at maou's global batch, one ``epoch_end`` per epoch
  (its train/val loss, LR and validation metrics, written at step = epoch), the hparams as the
  stage's configuration. Other writers' runs are one stage (1) at their own steps;
- restarts follow TensorBoard: a tag written again at a step at or before its last one drops
  its points from that step on (the data server's rule); a ``SessionLog.START`` (what
  ``SummaryWriter(purge_step=N)`` writes) drops every tag's points from N on;
- a record cut at the end of a file is waited for; a corrupt one is skipped and counted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import repeat
from pathlib import Path
from typing import Any

import numpy as np

from maou_tui.ingest.tb_events import Decoded, decode
from maou_tui.ingest.tb_paths import EVENT_FILE_MARK
from maou_tui.ingest.tb_tags import (
    MAOU_EPOCH_TAGS,
    MAOU_EPOCH_TRIGGER,
    MAOU_RUN_DIR,
    MAOU_STEP_LOSS,
    TagNames,
    marks_maou_run,
)
from maou_tui.ingest.tfrecord import RecordFile
from maou_tui.protocol import EpochEnd, StageStarted, TrainerWarning
from maou_tui.store import Purge, ScalarColumns, StoreItem

MAOU_STAGE = 3
OTHER_STAGE = 1
#: The first read of a source takes at most this much, so a first screen comes quickly from
#: a huge directory; the rest follows in the caller's pieces.
FIRST_READ_BYTES = 2 << 20
#: Up to this many tags in one read are split with numpy (one comparison pass per tag).
MAX_VECTOR_TAGS = 64


@dataclass
class _EventFile:
    """One event file of a run and the folder name that prefixes its tags ('' in the run)."""

    records: RecordFile
    member: str
    truncated_noted: bool = False


def _member_tag(member: str, tag: str) -> str:
    """The full tag of a subfolder's scalar: torch names an ``add_scalars`` member's folder
    ``<main_tag with / as _>_<member>`` and writes ``main_tag`` in it."""
    if not member:
        return tag
    prefix = tag.replace("/", "_") + "_"
    if member.startswith(prefix) and len(member) > len(prefix):
        return f"{tag}/{member[len(prefix) :]}"
    return f"{member}/{tag}"


@dataclass
class _MaouEpochs:
    """maou's epoch bookkeeping: the epoch of each ``Loss/train`` point, the epoch length (from
    the first points of epochs 1 and 2) and the rows waiting for their epoch's trigger."""

    ended: int = 0
    first_step: int | None = None
    points_in_first: int = 0
    length: int | None = None
    waiting: dict[int, dict[str, tuple[float, float]]] = field(default_factory=dict)
    emitted: set[int] = field(default_factory=set)

    def epoch_length(self) -> int | None:
        """Exact once epoch 2 began; before, the largest length maou's ``len // 10`` record
        interval allows for the points epoch 1 holds."""
        if self.length is not None or self.first_step is None:
            return self.length
        r, k = self.first_step, self.points_in_first
        return min(k * r + r - 1, 10 * r + 9) if r > 1 else k


class TensorBoardSource:
    """Incremental reader of one TensorBoard run folder or event file (the ``Source`` shape:
    ``read_new``, ``finish``, ``close``, counters)."""

    format = "tensorboard"

    def __init__(self, path: Path, step_offset: int = 0) -> None:
        self.path = Path(path)
        #: Added to maou's Stage 3 steps: the log's stage start when both are read together.
        self.step_offset = step_offset
        self.cut_lines = 0
        self._files: dict[Path, _EventFile] = {}
        self._maou = bool(MAOU_RUN_DIR.search(self.path.name))
        self._names = TagNames(self._maou)
        self._last_step: dict[str, int] = {}
        self._epochs = _MaouEpochs()
        self._stage_sent: StageStarted | None = None
        self._hparams: dict[str, Any] = {}
        self._undecodable = 0
        self._reads = 0

    # ---------------------------------------------------------------- Source shape

    @property
    def skipped_lines(self) -> int:
        """Records skipped as corrupt or undecodable (``cut_lines``: cut at a file's end)."""
        corrupt = sum(f.records.corrupt for f in self._files.values())
        return corrupt + self._undecodable

    @property
    def bytes_read(self) -> int:
        return sum(f.records.bytes_read for f in self._files.values())

    @property
    def notes(self) -> list[str]:
        """Nothing for the tailer to turn into warnings: this source sends its own."""
        return []

    def read_new(self, max_bytes: int | None = None, *, columns: bool = False) -> list[StoreItem]:
        """Store items for the records appended since the last call."""
        del columns  # always columns: a TensorBoard scalar has no protocol event of its own
        budget = max_bytes if max_bytes is not None else -1
        if self._reads == 0:
            budget = FIRST_READ_BYTES if budget < 0 else min(budget, FIRST_READ_BYTES)
        self._reads += 1
        skipped = self.skipped_lines
        decoded: list[tuple[str, Decoded]] = []
        for event_file in self._refresh():
            before = event_file.records.bytes_read
            records = event_file.records.read(None if budget < 0 else budget)
            if budget > 0:
                budget = max(0, budget - (event_file.records.bytes_read - before))
            if records:
                decoded.append((event_file.member, decode(records)))
            if budget == 0:
                break
        items = self._items(decoded)
        return items + self._skip_note(skipped)

    def finish(self, *, columns: bool = False) -> list[StoreItem]:
        """End of a read of finished files: a record cut at a file's end is counted, and maou
        epochs whose trigger never came are emitted."""
        del columns
        items: list[StoreItem] = []
        for path, event_file in self._files.items():
            if event_file.records.leftover() and not event_file.truncated_noted:
                event_file.truncated_noted = True
                self.cut_lines += 1
                message = f"{path}: ends inside a record (cut short); read up to there"
                items.append(TrainerWarning(kind="truncated_record", message=message))
        skipped = self.skipped_lines
        for epoch in sorted(self._epochs.waiting):
            if epoch not in self._epochs.emitted:
                items += self._epoch_end(epoch)
        return items + self._skip_note(skipped)

    def close(self) -> None:
        """Nothing is held open between reads."""

    # ---------------------------------------------------------------- files

    def _refresh(self) -> list[_EventFile]:
        """The run's event files, new ones picked up, in reading order: the subfolders' first
        (maou's epoch groups: small), then the main folder's, each by name (writers put a
        timestamp in it). An epoch's group values are then known when the main file's
        trigger of that epoch is read, even when the main file's history takes many reads."""
        if self.path.is_file():
            paths = [(self.path, "")]
        else:
            paths = [(p, "") for p in sorted(self.path.glob(f"*{EVENT_FILE_MARK}*"))]
            for sub in sorted(p for p in self.path.iterdir() if p.is_dir()):
                paths += [(p, sub.name) for p in sorted(sub.glob(f"*{EVENT_FILE_MARK}*"))]
        for path, member in paths:
            if path not in self._files and path.is_file():
                self._files[path] = _EventFile(RecordFile(path), member)
        files = list(self._files.values())
        return [f for f in files if f.member] + [f for f in files if not f.member]

    def start_tail(self, max_bytes: int) -> None:
        """Read only about the last ``max_bytes`` of the run (a first screenful)."""
        files = self._refresh()
        sizes = [f.records.size() for f in files]
        total = sum(sizes) or 1
        for event_file, size in zip(files, sizes, strict=True):
            share = max(64 << 10, max_bytes * size // total)
            if size > share:
                event_file.records.start_at(size - share)

    # ---------------------------------------------------------------- items

    def _items(self, decoded: list[tuple[str, Decoded]]) -> list[StoreItem]:
        merged = Decoded()
        for member, part in decoded:
            self._undecodable += part.undecodable
            self._hparams.update(part.hparams)
            merged.restarts += [(len(merged.tags) + at, step) for at, step in part.restarts]
            if member:
                merged.tags += [_member_tag(member, tag) for tag in part.tags]
            else:
                merged.tags += part.tags
            merged.steps += part.steps
            merged.walls += part.walls
            merged.values += part.values
        tags = set(merged.tags)
        if not self._maou and any(map(marks_maou_run, tags)):
            self._maou = self._names.maou = True
        items: list[StoreItem] = []
        stage = self._stage_started(bool(tags))
        if stage is not None:
            items.append(stage)
        if not self._maou and not merged.restarts and len(tags) <= MAX_VECTOR_TAGS:
            return items + self._columns_by_tag(merged, tags)
        rows = list(zip(merged.tags, merged.steps, merged.walls, merged.values, strict=True))
        if self._maou:
            self._find_epoch_length(rows)
        return items + self._rows(rows, merged.restarts)

    def _columns_by_tag(self, points: Decoded, tags: set[str]) -> list[StoreItem]:
        """Another writer's points without restarts, a tag at a time with numpy (a backfill
        brings a million of them); a tag whose steps go back takes the row path."""
        items: list[StoreItem] = []
        all_tags = np.array(points.tags, dtype=object)
        steps = np.array(points.steps, np.int64)
        walls = np.array(points.walls, np.float64)
        values = np.array(points.values, np.float64)
        for tag in sorted(tags):
            name = self._names.name(tag)
            if name is None:
                continue
            mine = all_tags == tag if len(tags) > 1 else slice(None)
            tag_steps = steps[mine]
            last = self._last_step.get(name)
            if (last is not None and tag_steps[0] <= last) or np.any(np.diff(tag_steps) <= 0):
                rows = zip(
                    repeat(tag), tag_steps.tolist(), walls[mine].tolist(), values[mine].tolist()
                )
                items += self._rows(list(rows), [])
                continue
            self._last_step[name] = int(tag_steps[-1])
            items.append(ScalarColumns.of(name, OTHER_STAGE, tag_steps, values[mine], walls[mine]))
        return items

    def _rows(self, rows: list[tuple[str, int, float, float]], restarts: list[tuple[int, int]]):
        """Rows in order into columns per series, cut where a restart or a rewritten step
        drops earlier points."""
        items: list[StoreItem] = []
        pending: dict[str, ScalarColumns] = {}

        def flush() -> None:
            items.extend(c for c in pending.values() if len(c))
            pending.clear()

        cuts = dict(restarts)
        for index, (tag, step, wall, value) in enumerate(rows):
            if index in cuts:
                flush()
                items.append(self._restart(cuts.pop(index)))
            name = self._names.name(tag)
            if name is None:
                continue
            if self._maou and tag in MAOU_EPOCH_TAGS:
                flush()
                items += self._maou_epoch_row(tag, name, step, wall, value)
                continue
            stage, epoch, batch, global_step = self._position(tag, step)
            last = self._last_step.get(name)
            if last is not None and global_step <= last:
                flush()
                items.append(Purge(global_step, [name]))
            self._last_step[name] = global_step
            columns = pending.get(name)
            if columns is None:
                columns = pending[name] = ScalarColumns(name, stage)
            columns.add(global_step, value, wall, epoch, batch)
        flush()
        for _, step in sorted(cuts.items()):  # restarts after the last point
            items.append(self._restart(step))
        return items

    def _restart(self, step: int) -> Purge:
        global_step = self._global(step)
        self._last_step = {n: s for n, s in self._last_step.items() if s < global_step}
        return Purge(global_step)

    def _global(self, step: int) -> int:
        return self.step_offset + step if self._maou else step

    def _position(self, tag: str, step: int) -> tuple[int, int, int, int]:
        """Stage, epoch, batch and global step of a per-step point."""
        if not self._maou:
            return OTHER_STAGE, -1, -1, step
        epochs = self._epochs
        epoch, batch = -1, -1
        if tag == MAOU_STEP_LOSS:
            epoch = epochs.ended + 1
            if epochs.first_step is None:
                epochs.first_step = step
            if epoch == 1:
                epochs.points_in_first += 1
            length = epochs.epoch_length()
            batch = step - (epoch - 1) * length if length else step
        return MAOU_STAGE, epoch, batch, self.step_offset + step

    def _find_epoch_length(self, rows: list[tuple[str, int, float, float]]) -> None:
        """maou's epoch length: the first ``Loss/train`` step after epoch 1's trigger, less the
        first step of epoch 1 (``record_num``), looked up before the rows are placed."""
        epochs = self._epochs
        if epochs.length is not None:
            return
        first = epochs.first_step
        triggered = epochs.ended >= 1
        for tag, step, _wall, _value in rows:
            if tag == MAOU_STEP_LOSS:
                if first is None:
                    first = step
                elif triggered:
                    epochs.length = step - first
                    return
            elif tag == MAOU_EPOCH_TRIGGER:
                triggered = True

    def _maou_epoch_row(self, tag: str, name: str, epoch: int, wall: float, value: float):
        """An epoch scalar: kept until the epoch's trigger (then one ``epoch_end``), or a
        point of its own when the epoch was already emitted."""
        epochs = self._epochs
        if epoch in epochs.emitted:
            columns = ScalarColumns(name, MAOU_STAGE)
            columns.add(self._epoch_step(epoch), value, wall, epoch, -1)
            return [columns]
        epochs.waiting.setdefault(epoch, {})[name] = (value, wall)
        if tag != MAOU_EPOCH_TRIGGER:
            return []
        epochs.ended = max(epochs.ended, epoch)
        return self._epoch_end(epoch)

    def _epoch_step(self, epoch: int) -> int:
        length = self._epochs.epoch_length() or 0
        return self.step_offset + epoch * length

    def _epoch_end(self, epoch: int) -> list[StoreItem]:
        values = self._epochs.waiting.pop(epoch, {})
        self._epochs.emitted.add(epoch)
        number: dict[str, float | None] = {name: v for name, (v, _wall) in values.items()}
        wall = max((w for _v, w in values.values()), default=0.0)
        train_loss, val_loss, lr = (
            number.pop(key, None) for key in ("train_loss", "val_loss", "lr")
        )
        end = EpochEnd(
            t=wall,
            stage=MAOU_STAGE,
            epoch=epoch,
            global_step=self._epoch_step(epoch),
            train_loss=train_loss,
            val_loss=val_loss,
            lr=lr,
            metrics=number,
        )
        return [end]

    def _stage_started(self, has_points: bool) -> StageStarted | None:
        """The run's stage, said again when what is known of it changed (hparams, length)."""
        if not has_points and not self._hparams:
            return None
        config = stage_config(self._hparams)
        if self._maou:
            stage = StageStarted(
                stage=MAOU_STAGE,
                name="POLICY_VALUE",
                metric="policy_accuracy",
                start_step=self.step_offset + 1,
                steps_per_epoch=self._epochs.length,
                **config,
            )
        else:
            stage = StageStarted(
                stage=OTHER_STAGE, name=self.path.name, metric="accuracy", **config
            )
        if stage == self._stage_sent:
            return None
        self._stage_sent = stage
        return stage

    def _skip_note(self, before: int) -> list[StoreItem]:
        """One warning line for the records skipped in this read."""
        skipped = self.skipped_lines - before
        if not skipped:
            return []
        message = f"{self.path}: skipped {skipped} corrupt TensorBoard record(s)"
        return [TrainerWarning(kind="corrupt_record", message=message)]


#: hparams keys (maou's ``_log_hparams``, then common spellings) -> StageStarted fields.
_CONFIG_KEYS = {
    "base_lr": ("learning_ratio", "learning_rate", "lr"),
    "batch_size": ("batch_size", "per_device_train_batch_size", "train_batch_size"),
    "scheduler": ("lr_scheduler_name", "lr_scheduler_type", "scheduler"),
    "architecture": ("model_architecture", "architecture", "model_type", "model"),
    "max_epochs": ("epoch", "epochs", "num_train_epochs", "max_epochs"),
}
_CONFIG_TYPES = {"base_lr": float, "batch_size": int, "max_epochs": int}


def stage_config(hparams: dict[str, Any]) -> dict[str, Any]:
    """The StageStarted fields the hparams give (architecture, LR, batch, scheduler, epochs)."""
    found: dict[str, Any] = {}
    for field_name, keys in _CONFIG_KEYS.items():
        value = next((hparams[k] for k in keys if k in hparams), None)
        if value is None or value == "":
            continue
        convert = _CONFIG_TYPES.get(field_name, str)
        try:
            found[field_name] = convert(value)
        except (TypeError, ValueError):
            continue
    return found

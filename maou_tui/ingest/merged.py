"""A run read from its log and its TensorBoard event files together, as one run.

maou prints Stages 1-3 to its log and writes Stage 3 to event files too. Read together:

- the event files' Stage 3 steps are placed after the log's Stage 3 start (maou's TensorBoard
  step counts Stage 3's batches from 1; the log's global step counts the whole run);
- an epoch the log ends is not ended again from the event files: once the log is in Stage 3,
  the event files' epoch rows wait until the log has passed that epoch (its last epoch ends
  only when the next begins or the log is finished) and are dropped if the log ended it;
- the per-batch ``loss`` of Stage 3 comes from one side only (the log's when it has any);
- the hparams fill the stage configuration the log leaves empty (architecture, batch, ...);
- everything else of either side (other tags, restarts, notes) goes through.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from maou_tui.ingest.source import FileSource
from maou_tui.ingest.tensorboard import MAOU_STAGE, TensorBoardSource
from maou_tui.protocol import EpochEnd, StageStarted, Step
from maou_tui.store import ScalarColumns, StepBatch, StoreItem


class LogWithEventsSource:
    """``FileSource`` of the log plus ``TensorBoardSource`` of the event files, deduplicated."""

    format = "maou+tensorboard"

    def __init__(self, log: Path, events: Path) -> None:
        self.path = Path(events)
        self.log = FileSource(log)
        self.events = TensorBoardSource(events)
        self._log_stage: StageStarted | None = None
        self._log_epochs: set[int] = set()
        self._log_loss = False
        self._held: list[EpochEnd] = []

    @property
    def skipped_lines(self) -> int:
        return self.log.skipped_lines + self.events.skipped_lines

    @property
    def cut_lines(self) -> int:
        return self.log.cut_lines + self.events.cut_lines

    @property
    def bytes_read(self) -> int:
        return self.log.bytes_read + self.events.bytes_read

    @property
    def notes(self) -> list[str]:
        return self.log.notes

    def read_new(
        self, max_bytes: int | None = None, *, columns: bool = False
    ) -> list[BaseModel | StepBatch | StoreItem]:
        logged = self._see_log(self.log.read_new(max_bytes, columns=columns))
        return logged + self._filter(self.events.read_new(max_bytes, columns=columns))

    def finish(self, *, columns: bool = False) -> list[BaseModel | StepBatch | StoreItem]:
        logged = self._see_log(self.log.finish(columns=columns))
        items = self._filter(self.events.finish(columns=columns))
        held, self._held = self._held, []
        return logged + items + [e for e in held if e.epoch not in self._log_epochs]

    def close(self) -> None:
        self.log.close()
        self.events.close()

    def _see_log(self, items: list) -> list:
        for item in items:
            if type(item) is StageStarted and item.stage == MAOU_STAGE:
                self._log_stage = item
                self.events.step_offset = item.start_step - 1
            elif type(item) is EpochEnd and item.stage == MAOU_STAGE:
                self._log_epochs.add(item.epoch)
            elif type(item) in (Step, StepBatch) and item.stage == MAOU_STAGE:
                self._log_loss = True
        return items

    def _filter(self, items: list[StoreItem]) -> list[StoreItem]:
        kept: list[StoreItem] = self._release()
        for item in items:
            if type(item) is EpochEnd:
                if item.epoch in self._log_epochs:
                    continue
                if self._log_stage is not None and item.epoch > max(self._log_epochs, default=0):
                    self._held.append(item)
                    continue
            if type(item) is ScalarColumns and item.name == "loss" and self._log_loss:
                continue
            if type(item) is StageStarted and self._log_stage is not None:
                item = self._fill(item)
            kept.append(item)
        return kept

    def _release(self) -> list[StoreItem]:
        """Held epoch rows the log has passed without ending them."""
        passed = max(self._log_epochs, default=0)
        out = [e for e in self._held if e.epoch < passed and e.epoch not in self._log_epochs]
        self._held = [e for e in self._held if e.epoch >= passed]
        return list(out)

    def _fill(self, from_events: StageStarted) -> StageStarted:
        """The log's stage with the fields only the hparams gave."""
        assert self._log_stage is not None
        known = self._log_stage.model_dump(exclude_none=True)
        extra = from_events.model_dump(exclude_none=True)
        return StageStarted(**(extra | known))

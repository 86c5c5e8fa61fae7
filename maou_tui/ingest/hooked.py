"""A run of ``maou-tui run -- CMD``: the program's own output placed on the hook's steps.

The hook's ``step`` events count the program's optimizer steps and carry the LR each step
really used; the program itself prints its loss and metrics (every N steps, per epoch, with its
own counters: micro-batches, epochs, iterations) and may write TensorBoard files. Read together:

- x axis: the hook's step count. The hook marks the end of each optimizer step in the
  program's own output stream (``hook.step_marks``) and the supervisor records where each mark
  fell in ``train.log`` (``train.log.times``): what the program printed after the mark of step
  N and before the next, read by the log readers of other trainers and maou, lands at step N,
  exactly, whatever the machine's load. Output that carries no marks (printed by a process
  whose stdout is not the run's terminal) lands at the step completed when the supervisor
  received it, and a TensorBoard scalar at the step completed by its wall time. So a loss
  printed every 10 optimizer steps as ``iter 40`` (micro-batches) lands at step 10, 20, ...;
  an epoch's line at the epoch's last step.
- series: the program's names. The hook's ``lr`` and ``lr_multiplier`` are what the step used;
  an LR the program prints or logs is ``logged_lr`` (it does not know the multiplier). The
  loss the program backpropagated is ``backward_loss``, and it is ``loss`` too until the
  program prints a loss of its own: from then ``loss`` is the program's (a purge takes the
  hook's copy out, so the two never interleave).
- the run's life (start, control, pause, finish) comes from the hook's and the supervisor's
  events; stages, phases and run ends the program's output seems to say are not taken.

Output not yet covered by the hook's events waits (at most ``WAIT_FOR_STEPS_S``: a program
paused at a step boundary writes no step event, and what it printed before must still show).
"""

from __future__ import annotations

import time
from bisect import bisect_right
from pathlib import Path

import numpy as np

from maou_tui.ingest.events_jsonl import EventsParser
from maou_tui.ingest.maou_log import MaouLogParser
from maou_tui.ingest.source import FileSource
from maou_tui.ingest.tb_paths import EVENT_FILE_MARK, recorded_log_dirs
from maou_tui.layout import BOARD_DIRS_FILE, EVENTS_FILE, LOG_FILE, LOG_TIMES_FILE
from maou_tui.protocol import EpochEnd, RunFinished, RunStarted, Step
from maou_tui.stages import STAGE_METRICS
from maou_tui.store import NamedPoints, Purge, ScalarColumns, StepBatch, StoreItem

#: The one stage of a hooked run (the hook does not know a program's stages).
STAGE = 1
#: How long printed output waits for the hook's step events that place it.
WAIT_FOR_STEPS_S = 2.0
#: How often (seconds) the program's directories are searched for new TensorBoard files.
BOARD_SCAN_S = 2.0
_RENAMED = {"lr": "logged_lr"}


def is_hooked_run(run_dir: Path) -> bool:
    return (Path(run_dir) / LOG_TIMES_FILE).is_file()


class StepClock:
    """The hook's step count at a moment: the last step completed at or before it."""

    def __init__(self) -> None:
        self._times: list[float] = []
        self._steps: list[int] = []
        self.latest = 0.0  # time of the latest event of any kind
        self.finished = False

    def add(self, t: float, step: int) -> None:
        self._times.append(t)
        self._steps.append(step)

    def covers(self, t: float, now: float) -> bool:
        """Whether the hook's events up to ``t`` are all in (or waiting longer is pointless)."""
        return self.finished or self.latest >= t or now - t > WAIT_FOR_STEPS_S

    def step_at(self, t: float) -> int:
        found = bisect_right(self._times, t)
        return self._steps[found - 1] if found else 0


class LogTimes:
    """``train.log.times`` read incrementally, in log order: ``(offset, time, None)`` at the end
    of each write of the log, ``(offset, None, N)`` just after the hook's mark of step N."""

    def __init__(self, path: Path) -> None:
        self.follower = FileSource(path).follower
        self.pending: list[tuple[int, float | None, int | None]] = []

    def read_new(self) -> None:
        for block in self.follower.read():
            for line in block.split(b"\n"):
                parts = line.split(b" ")
                if len(parts) == 3 and parts[0].isdigit() and parts[2].isdigit():
                    self.pending.append((int(parts[0]), None, int(parts[2])))
                elif len(parts) == 2 and parts[0].isdigit():
                    self.pending.append((int(parts[0]), float(parts[1]), None))


class HookedRunSource:
    """The ``Source`` of a hooked run directory: hook events + the program's output, aligned."""

    format = "hooked"

    def __init__(self, run_dir: Path) -> None:
        self.path = Path(run_dir)
        self.events = FileSource(self.path / EVENTS_FILE)
        self.events.format, self.events.parser = "events", EventsParser()
        self.log = FileSource(self.path / LOG_FILE)
        self.log.format, self.log.parser = "maou", MaouLogParser()
        self.times = LogTimes(self.path / LOG_TIMES_FILE)
        self.clock = StepClock()
        self.boards = ProgramBoards(self.path)
        self._program_loss = False
        self._run: RunStarted | None = None  # the hook's
        self._framework: str | None = None  # who wrote the program's output, when it says
        self._marked = False  # step marks seen: the program's output is on the hook's terminal
        self._marked_step = 0

    # ---------------------------------------------------------------- Source shape

    @property
    def skipped_lines(self) -> int:
        return self.events.skipped_lines

    @property
    def cut_lines(self) -> int:
        return self.events.cut_lines + self.log.cut_lines

    @property
    def bytes_read(self) -> int:
        return self.events.bytes_read + self.log.bytes_read + self.boards.bytes_read

    @property
    def notes(self) -> list[str]:
        return self.log.notes

    def read_new(self, max_bytes: int | None = None, *, columns: bool = False) -> list[StoreItem]:
        out = self._hook_items(self.events.read_new())  # all: they place the output
        out += self._program_output(time.time(), final=False)
        return out + self._board_items(self.boards.read_new(self.clock), final=False)

    def finish(self, *, columns: bool = False) -> list[StoreItem]:
        out = self._hook_items(self.events.finish())
        self.clock.finished = True
        out += self._program_output(time.time(), final=True)
        return out + self._board_items(self.boards.read_new(self.clock), final=True)

    def close(self) -> None:
        self.events.close()
        self.log.close()
        self.times.follower.close()
        self.boards.close()

    # ---------------------------------------------------------------- the hook's side

    def _hook_items(self, events: list[StoreItem]) -> list[StoreItem]:
        """Lifecycle events as they are; steps as columns (``lr``, ``backward_loss``, ...)."""
        out: list[StoreItem] = []
        steps: list[Step] = []
        for event in events:
            t = getattr(event, "t", None)
            if t is not None:
                self.clock.latest = max(self.clock.latest, t)
            if type(event) is Step:
                self.clock.add(event.t, event.global_step)
                steps.append(event)
                continue
            if isinstance(event, RunFinished):
                self.clock.finished = True
            if isinstance(event, RunStarted):
                self._run = event
                event = self._with_framework(event)
            out.append(event)
        if steps:
            out += self._step_columns(steps)
        return out

    def _step_columns(self, steps: list[Step]) -> list[StoreItem]:
        numbers = np.array([s.global_step for s in steps], np.int64)
        walls = np.array([s.t for s in steps], np.float64)
        losses = np.array([np.nan if s.loss is None else s.loss for s in steps], np.float64)
        columns = {
            "lr": np.array([np.nan if s.lr is None else s.lr for s in steps], np.float64),
            "lr_multiplier": np.array([s.lr_multiplier for s in steps], np.float64),
            "backward_loss": losses,
        }
        if not self._program_loss:
            columns["loss"] = losses
        return [ScalarColumns.of(n, STAGE, numbers, v, walls) for n, v in columns.items()]

    # ---------------------------------------------------------------- the program's side

    def _program_output(self, now: float, final: bool) -> list[StoreItem]:
        """The log up to each step mark, placed at the step before it; without marks (output
        not on the supervisor's terminal), each write whose time the hook's events cover,
        placed at the step completed by then."""
        self.times.read_new()
        out: list[StoreItem] = []
        pending = self.times.pending
        while pending:
            end, t, marked_step = pending[0]
            if marked_step is None and not self._marked:
                assert t is not None
                if not (final or self.clock.covers(t, now)):
                    break
                step = self.clock.step_at(t)
            else:
                step = self._marked_step
            pending.pop(0)
            size = end - self.log.follower.offset
            out += self._placed(self.log.read_new(size) if size > 0 else [], step)
            if marked_step is not None:
                self._marked, self._marked_step = True, marked_step
        if final:
            out += self._placed(self.log.finish(), self._marked_step or self.clock.step_at(now))
        return out

    def _placed(self, items: list[StoreItem], step: int) -> list[StoreItem]:
        points = NamedPoints()
        events: list[StoreItem] = []
        for item in items:
            if isinstance(item, NamedPoints):
                for name, (_, _, epochs, batches, values) in item.columns.items():
                    for epoch, batch, value in zip(epochs, batches, values, strict=True):
                        points.add(_RENAMED.get(name, name), step, value, STAGE, epoch, batch)
            elif isinstance(item, StepBatch):
                rows = item.columns()
                metric = f"{STAGE_METRICS.get(item.stage, 'metric')}_cum"
                _add_known(points, "loss", rows.losses[~np.isnan(rows.losses)].tolist(), step)
                _add_known(points, metric, rows.metric_cums[rows.has_metric].tolist(), step)
            elif type(item) is Step:
                _add_known(points, "loss", [item.loss], step)
                _add_known(points, "logged_lr", [item.lr], step)
            elif type(item) is EpochEnd:
                events.append(item.model_copy(update={"stage": STAGE, "global_step": step}))
            elif isinstance(item, RunStarted):
                events += self._framework_said(item)
        return self._with_loss_handover(points) + events

    def _framework_said(self, said: RunStarted) -> list[StoreItem]:
        """The program's output names its framework (an HF dict, a Lightning bar): the hook's
        run, with it, so advice names that framework's LR knob."""
        framework = said.config.get("framework")
        if not isinstance(framework, str) or framework == self._framework:
            return []
        self._framework = framework
        return [] if self._run is None else [self._with_framework(self._run)]

    def _with_framework(self, run: RunStarted) -> RunStarted:
        if self._framework is None:
            return run
        return run.model_copy(update={"config": {**run.config, "framework": self._framework}})

    def _with_loss_handover(self, points: NamedPoints) -> list[StoreItem]:
        if not len(points):
            return []
        if "loss" in points.columns and not self._program_loss:
            self._program_loss = True
            return [Purge(0, ["loss"]), points]  # the hook's copy of the loss goes
        return [points]

    def _board_items(self, items: list[StoreItem], final: bool) -> list[StoreItem]:
        """TensorBoard scalars at the hook step of their wall time (the rest is the hook's)."""
        points = NamedPoints()
        for item in items:
            if not isinstance(item, ScalarColumns):
                continue
            name = _RENAMED.get(item.name, item.name)
            for wall, value in zip(item.wall_times, item.values, strict=True):
                points.add(name, self.clock.step_at(float(wall)), float(value), STAGE, -1, -1)
        return self._with_loss_handover(points)


def _add_known(points: NamedPoints, name: str, values: list[float | None], step: int) -> None:
    for value in values:
        if value is not None:
            points.add(name, step, value, STAGE, -1, -1)


class ProgramBoards:
    """TensorBoard event files the program writes after the run started: under the run
    directory, the program's working directory (``run_started``'s ``cwd``) and the directories
    it named in its arguments or output (``BOARD_DIRS_FILE``, written by the supervisor)."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        self.sources: dict[Path, object] = {}
        self._scanned = 0.0
        self._started: float | None = None
        self._cwd: Path | None = None

    @property
    def bytes_read(self) -> int:
        return sum(getattr(s, "bytes_read", 0) for s in self.sources.values())

    def read_new(self, clock: StepClock) -> list[StoreItem]:
        now = time.time()
        if now - self._scanned >= BOARD_SCAN_S or clock.finished:
            self._scanned = now
            self._scan()
        out: list[StoreItem] = []
        for source in self.sources.values():
            out += source.read_new()  # type: ignore[attr-defined]
        return out

    def close(self) -> None:
        for source in self.sources.values():
            source.close()  # type: ignore[attr-defined]

    def _scan(self) -> None:
        if self._started is None and not self._read_start():
            return
        assert self._started is not None
        roots = [self.run_dir] + ([self._cwd] if self._cwd is not None else [])
        roots += recorded_log_dirs(self.run_dir / BOARD_DIRS_FILE)
        for root in roots:
            for folder in _new_event_folders(root, self._started):
                if folder not in self.sources:
                    from maou_tui.ingest.tb_paths import tensorboard_source

                    self.sources[folder] = tensorboard_source(folder)

    def _read_start(self) -> bool:
        """The run's start time and the program's working directory, from ``run_started``."""
        events = FileSource(self.run_dir / EVENTS_FILE)
        try:
            for event in events.read_new(1 << 16):
                if isinstance(event, RunStarted):
                    self._started = event.t
                    cwd = event.config.get("cwd")
                    self._cwd = Path(cwd) if isinstance(cwd, str) else None
                    return True
        finally:
            events.close()
        return False


def _new_event_folders(root: Path, since: float, depth: int = 4) -> set[Path]:
    """Folders under ``root`` (at most ``depth`` down) holding an event file written since."""
    found: set[Path] = set()
    stack = [(root, 0)]
    while stack:
        folder, level = stack.pop()
        try:
            entries = list(folder.iterdir())
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.is_dir() and not entry.is_symlink():
                    if level < depth and not entry.name.startswith("."):
                        stack.append((entry, level + 1))
                elif EVENT_FILE_MARK in entry.name and entry.stat().st_mtime >= since:
                    found.add(folder)
            except OSError:
                continue
    return found

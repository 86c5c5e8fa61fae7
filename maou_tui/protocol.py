"""The one contract between a training process and its readers and controllers.

Events go from the trainer to ``events.jsonl`` (one JSON object per line); commands go from a
client to the trainer's control socket (newline-delimited JSON) and each gets one ``Reply``.
Every model carries ``v`` (the protocol version) and ``type`` (the discriminator).

Events keep unknown fields (a newer writer may add some) and an event of an unknown type decodes
to ``UnknownEvent`` so an older reader skips it instead of failing. Commands are strict: an
unknown field, a missing one or an out-of-range value is rejected with one clear message.
"""

from __future__ import annotations

import functools
import json
import math
from typing import Annotated, Any, Final, Literal, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_serializer,
)

from maou_tui.stages import STAGE_NUMBERS
from maou_tui.strict_json import StrictJsonError, loads_strict

PROTOCOL_VERSION: Final = 1

#: Largest control message accepted, in bytes (a request line without its newline).
MAX_MESSAGE_BYTES = 64 * 1024

StageNumber = Annotated[int, Field(ge=1, le=3)]
PhaseName = Literal["warmup", "decay", "constant"]
RunOutcome = Literal["completed", "stopped", "failed"]
ThresholdAction = Literal["advance", "stop"]


class ProtocolError(ValueError):
    """A line that is not a valid event, command or reply; the message is one line."""


# --------------------------------------------------------------------------------------------
# Events (trainer -> events.jsonl)
# --------------------------------------------------------------------------------------------


class EventBase(BaseModel):
    """Fields every event line has. ``seq`` counts from 0 per run; ``t`` is unix seconds.

    Every field this project's producers write is declared on its model (``maou-tui schema
    event`` shows them); ``extra="allow"`` is for other writers' fields only."""

    # defer_build: schemas are built on first use, not at import (the TUI's start-up budget).
    model_config = ConfigDict(extra="allow", defer_build=True)

    v: int = PROTOCOL_VERSION
    seq: int = 0
    t: float = 0.0
    type: str


#: ``RunStarted.pid`` of a run known only from its log, which does not say the process (nor
#: whether it still runs).
LOG_PID = 0


class RunStarted(EventBase):
    type: Literal["run_started"] = "run_started"
    config: dict[str, Any] = Field(default_factory=dict)
    pid: int = Field(description=f"the trainer's process; {LOG_PID} when only a log tells the run")
    host: str = ""
    device: str = ""
    world_size: int = 1
    resumed: bool = False
    run_dir: str | None = Field(default=None, description="the run directory the trainer writes")


class StageStarted(EventBase):
    """A stage begins. Fields a log does not say (a foreign producer) are None."""

    type: Literal["stage_started"] = "stage_started"
    stage: StageNumber
    name: str
    metric: str
    max_epochs: int | None = None
    steps_per_epoch: int | None = None
    total_steps: int | None = None
    warmup_steps: int | None = None
    scheduler: str | None = None
    base_lr: float | None = None
    lr_scale: float | None = None
    effective_lr: float | None = None
    batch_size: int | None = None
    threshold: float | None = None
    start_step: int = 0
    architecture: str | None = None
    batches_per_epoch: int | None = None
    gradient_accumulation_steps: int | None = None
    train_samples: int | None = None
    val_samples: int | None = None
    resumed: bool | None = Field(default=None, description="the stage continues from a checkpoint")


class Step(EventBase):
    """One training batch. ``loss`` is None when it was not finite.

    ``metric`` is this batch's value; ``metric_cum`` is maou's running mean since epoch start.
    ``metrics`` carries further per-batch values (Stage 3: ``policy_top5_accuracy``, ...).
    """

    type: Literal["step"] = "step"
    stage: StageNumber
    epoch: int
    batch: int
    global_step: int
    loss: float | None
    loss_cum: float | None = None
    metric: float | None = None
    metric_cum: float | None = None
    lr: float | None = None
    lr_multiplier: float = 1.0
    samples_per_s: float | None = None
    metrics: dict[str, float | None] = Field(default_factory=dict)


class EpochEnd(EventBase):
    type: Literal["epoch_end"] = "epoch_end"
    stage: StageNumber
    epoch: int
    global_step: int
    train_loss: float | None
    train_metric: float | None = None
    val_loss: float | None = None
    val_metric: float | None = None
    lr: float | None = None
    metrics: dict[str, float | None] = Field(default_factory=dict)


class Phase(EventBase):
    """A scheduler phase of a stage over ``[start_step, end_step)`` in global steps."""

    type: Literal["phase"] = "phase"
    stage: StageNumber
    phase: PhaseName
    start_step: int
    end_step: int


class Threshold(BaseModel):
    value: float
    action: ThresholdAction = "advance"


class ControlChange(BaseModel):
    """The part of the loop's state one control command changed (``before`` or ``after`` of a
    ``control`` event). Only the fields the command touched are present on the wire; a
    threshold is keyed by its stage (``threshold_stage2``), None where none was set."""

    model_config = ConfigDict(extra="allow", defer_build=True)

    lr_multiplier: float | None = None
    lr: float | None = None
    paused: bool | None = None
    stop_requested: bool | None = None
    skip_requested: bool | None = None
    checkpoint_requested: bool | None = None
    threshold_stage1: Threshold | None = None
    threshold_stage2: Threshold | None = None
    threshold_stage3: Threshold | None = None

    @model_serializer(mode="wrap")
    def _only_what_changed(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        present = self.model_fields_set | set(self.model_extra or {})
        return {key: value for key, value in data.items() if key in present}

    @classmethod
    def for_threshold(cls, stage: int, threshold: Threshold | None) -> ControlChange:
        return cls.model_validate({threshold_key(stage): threshold})

    def thresholds(self) -> dict[int, Threshold | None]:
        """The stages whose threshold this change names, and the threshold (None: unset)."""
        return {
            stage: getattr(self, threshold_key(stage))
            for stage in STAGE_NUMBERS
            if threshold_key(stage) in self.model_fields_set
        }

    def changed(self) -> dict[str, Any]:
        """The fields present, as plain values (what the wire carries)."""
        return self.model_dump()


def threshold_key(stage: int) -> str:
    """The ``ControlChange`` field of a stage's threshold."""
    return f"threshold_stage{stage}"


class ControlApplied(EventBase):
    """Audit trail: a control command the loop applied, with the state it changed."""

    type: Literal["control"] = "control"
    command: str
    id: str
    applied_at_step: int
    before: ControlChange = Field(default_factory=ControlChange)
    after: ControlChange = Field(default_factory=ControlChange)


class Paused(EventBase):
    type: Literal["paused"] = "paused"
    step: int


class Resumed(EventBase):
    type: Literal["resumed"] = "resumed"
    step: int
    paused_s: float = 0.0


class ThresholdReached(EventBase):
    type: Literal["threshold_reached"] = "threshold_reached"
    stage: StageNumber
    epoch: int
    step: int
    metric: str
    value: float
    threshold: float
    action: ThresholdAction = "advance"


class CheckpointSaved(EventBase):
    type: Literal["checkpoint_saved"] = "checkpoint_saved"
    path: str
    step: int
    stage: int | None = None
    epoch: int | None = None
    reason: str = ""


class TrainerWarning(EventBase):
    """A problem the trainer noticed itself (non-finite loss, stall, ...)."""

    type: Literal["warning"] = "warning"
    kind: str
    message: str
    stage: int | None = None
    epoch: int | None = None
    step: int | None = None


class StageCompleted(EventBase):
    type: Literal["stage_completed"] = "stage_completed"
    stage: StageNumber
    epochs: int
    step: int
    metric: str = ""
    value: float | None = None
    reason: Literal["threshold", "max_epochs", "early_stopped", "skipped", "stopped"] = "threshold"


class RunFinished(EventBase):
    type: Literal["run_finished"] = "run_finished"
    status: RunOutcome
    reason: str = ""
    step: int | None = None


class LrFindStep(EventBase):
    """One iteration of an LR range test."""

    type: Literal["lr_find_step"] = "lr_find_step"
    stage: StageNumber
    iteration: int
    lr: float
    loss: float | None
    smoothed_loss: float | None = None


class LrFindFinished(EventBase):
    """The range test's suggestions (effective LRs) and the CLI value to pass."""

    type: Literal["lr_find_finished"] = "lr_find_finished"
    stage: StageNumber
    suggestions: dict[str, float | None] = Field(default_factory=dict)
    recommended: str = ""
    option: str = ""
    cli_value: float | None = None
    lr_scale: float = 1.0
    batch_size: int | None = None
    reason: str = Field(
        default="", description="why the recommended suggestion was chosen, or none"
    )
    warnings: list[str] = Field(default_factory=list)
    diverged: bool = False


class ProcessSample(BaseModel):
    """CPU and memory of one training process at a ``system`` sample."""

    model_config = ConfigDict(extra="allow", defer_build=True)

    pid: int
    rank: int = 0
    cpu_percent: float | None = Field(
        default=None, description="CPU time since the previous sample / wall time, x100 (per core)"
    )
    rss_bytes: int | None = None


class GpuSample(BaseModel):
    """One GPU as NVML reads it; a field NVML does not give on this device is None."""

    model_config = ConfigDict(extra="allow", defer_build=True)

    index: int
    name: str = ""
    util_percent: float | None = None
    memory_used_bytes: int | None = None
    memory_total_bytes: int | None = None
    temperature_c: float | None = None
    power_w: float | None = None


class SystemSample(EventBase):
    """The training processes' CPU and memory and the GPUs, sampled every few seconds.

    ``step`` is the loop's global step when the sample was taken (None before the first);
    ``gpu_note`` says plainly why ``gpus`` is empty ("no GPU: NVML not available", ...)."""

    type: Literal["system"] = "system"
    step: int | None = None
    processes: list[ProcessSample] = Field(default_factory=list)
    gpus: list[GpuSample] = Field(default_factory=list)
    gpu_note: str | None = None


class UnknownEvent(EventBase):
    """An event type this reader does not know (from a newer writer); kept, never fatal."""

    type: str


AnyEvent = (
    RunStarted
    | StageStarted
    | Step
    | EpochEnd
    | Phase
    | ControlApplied
    | Paused
    | Resumed
    | ThresholdReached
    | CheckpointSaved
    | TrainerWarning
    | StageCompleted
    | RunFinished
    | LrFindStep
    | LrFindFinished
    | SystemSample
)
KnownEvent = Annotated[AnyEvent, Field(discriminator="type")]
EVENT_MODELS: tuple[type[EventBase], ...] = get_args(AnyEvent)
EVENT_TYPES: frozenset[str] = frozenset(m.model_fields["type"].default for m in EVENT_MODELS)


@functools.cache
def _event_adapter() -> TypeAdapter[Any]:
    return TypeAdapter(KnownEvent)


# --------------------------------------------------------------------------------------------
# Commands (client -> control socket) and replies
# --------------------------------------------------------------------------------------------


class CommandBase(BaseModel):
    """Strict: no coercion (``"0.5"``, ``true`` or ``"1"`` where a number belongs is refused)."""

    model_config = ConfigDict(extra="forbid", strict=True, defer_build=True)

    v: Literal[1] = PROTOCOL_VERSION
    id: Annotated[str, Field(min_length=1, max_length=64)]
    type: str


class StatusCommand(CommandBase):
    type: Literal["status"] = "status"


class PauseCommand(CommandBase):
    type: Literal["pause"] = "pause"


class ResumeCommand(CommandBase):
    type: Literal["resume"] = "resume"


class CheckpointCommand(CommandBase):
    type: Literal["checkpoint"] = "checkpoint"


class StopCommand(CommandBase):
    type: Literal["stop"] = "stop"


class SkipStageCommand(CommandBase):
    type: Literal["skip_stage"] = "skip_stage"


def _finite(value: float, name: str) -> float:
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value}")
    return value


#: Bounds of ``scale_lr``'s factor: one command changes the LR by at most 1000x down, 10x up.
MIN_LR_FACTOR = 1e-3
MAX_LR_FACTOR = 10.0
#: Bounds of ``set_lr``'s value: below 1e-8 no optimizer step changes a float32 weight.
MIN_SET_LR = 1e-8
MAX_SET_LR = 1.0


class ScaleLrCommand(CommandBase):
    """Multiply the LR multiplier m by ``factor`` (MIN_LR_FACTOR <= factor <= MAX_LR_FACTOR)."""

    type: Literal["scale_lr"] = "scale_lr"
    factor: float

    @field_validator("factor")
    @classmethod
    def _check_factor(cls, value: float) -> float:
        _finite(value, "factor")
        if not MIN_LR_FACTOR <= value <= MAX_LR_FACTOR:
            raise ValueError(
                f"factor must be in [{MIN_LR_FACTOR:g}, {MAX_LR_FACTOR:g}], got {value:g}"
            )
        return value


class SetLrCommand(CommandBase):
    """Set m so that the LR in use now becomes ``value`` (MIN_SET_LR <= value <= MAX_SET_LR)."""

    type: Literal["set_lr"] = "set_lr"
    value: float

    @field_validator("value")
    @classmethod
    def _check_value(cls, value: float) -> float:
        _finite(value, "value")
        if not MIN_SET_LR <= value <= MAX_SET_LR:
            raise ValueError(f"value must be in [{MIN_SET_LR:g}, {MAX_SET_LR:g}], got {value:g}")
        return value


class SetThresholdCommand(CommandBase):
    type: Literal["set_threshold"] = "set_threshold"
    stage: StageNumber
    value: float
    action: ThresholdAction = "advance"

    @field_validator("value")
    @classmethod
    def _check_value(cls, value: float) -> float:
        _finite(value, "value")
        if not 0 <= value <= 1:
            raise ValueError(f"value must be in [0, 1], got {value}")
        return value


AnyCommand = (
    StatusCommand
    | PauseCommand
    | ResumeCommand
    | CheckpointCommand
    | StopCommand
    | SkipStageCommand
    | ScaleLrCommand
    | SetLrCommand
    | SetThresholdCommand
)
Command = Annotated[AnyCommand, Field(discriminator="type")]
COMMAND_MODELS: tuple[type[CommandBase], ...] = get_args(AnyCommand)
COMMAND_TYPES: frozenset[str] = frozenset(m.model_fields["type"].default for m in COMMAND_MODELS)


@functools.cache
def _command_adapter() -> TypeAdapter[AnyCommand]:
    return TypeAdapter[AnyCommand](Command)


class RunState(BaseModel):
    """What ``status`` returns, and what every reply carries after the command."""

    model_config = ConfigDict(extra="allow", defer_build=True)

    stage: int | None = None
    stage_name: str = ""
    epoch: int | None = None
    batch: int | None = None
    step: int = 0
    lr: float | None = None
    lr_multiplier: float = 1.0
    paused: bool = False
    stopping: bool = False
    thresholds: dict[str, Threshold] = Field(default_factory=dict)
    paused_seconds_total: float = 0.0
    last_checkpoint: str | None = None


ReplyStatus = Literal["applied", "queued", "rejected"]


class Reply(BaseModel):
    model_config = ConfigDict(extra="allow", defer_build=True)

    v: int = PROTOCOL_VERSION
    id: str | None = None
    ok: bool
    status: ReplyStatus
    step: int | None = None
    error: str | None = None
    state: RunState | None = None


# --------------------------------------------------------------------------------------------
# Encoding and decoding
# --------------------------------------------------------------------------------------------


def encode(model: BaseModel) -> str:
    """One JSON line (no newline). Non-finite floats become null."""
    return model.model_dump_json()


def _load_object(line: str | bytes, what: str) -> dict[str, Any]:
    if isinstance(line, bytes):
        line = line.decode("utf-8", errors="replace")
    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ProtocolError(f"{what} is not valid JSON: {exc.msg} at column {exc.colno}") from None
    if not isinstance(data, dict):
        raise ProtocolError(f"{what} must be a JSON object, got {type(data).__name__}")
    return data


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    # The first element of a discriminated union's location is the tag itself: drop it.
    loc = [str(p) for p in err["loc"][1:]] if len(err["loc"]) > 1 else [str(p) for p in err["loc"]]
    msg = err["msg"].removeprefix("Value error, ")
    return f"{'.'.join(loc)}: {msg}" if loc else msg


def decode_event(line: str | bytes) -> BaseModel:
    """Decode one events.jsonl line; an unknown ``type`` gives ``UnknownEvent``."""
    data = _load_object(line, "event")
    kind = data.get("type")
    if not isinstance(kind, str):
        raise ProtocolError("event has no 'type' field")
    try:
        if kind not in EVENT_TYPES:
            return UnknownEvent.model_validate(data)
        return _event_adapter().validate_python(data)
    except ValidationError as exc:
        raise ProtocolError(f"bad {kind} event: {_first_error(exc)}") from None


def _load_command_object(line: str | bytes) -> dict[str, Any]:
    """Strict JSON (see ``strict_json``): a request must not mean two things to two readers."""
    try:
        data = loads_strict(line)
    except StrictJsonError as exc:
        raise ProtocolError(f"command {exc}") from None
    if not isinstance(data, dict):
        raise ProtocolError(f"command must be a JSON object, got {type(data).__name__}")
    return data


def decode_command(line: str | bytes) -> AnyCommand:
    """Decode one control request; any problem raises ProtocolError with one line."""
    return command_from_fields(_load_command_object(line))


def command_from_fields(data: dict[str, Any]) -> AnyCommand:
    """Validate a command given as its fields (strictly: no type coercion); ProtocolError."""
    kind = data.get("type")
    if not isinstance(kind, str) or kind not in COMMAND_TYPES:
        known = ", ".join(sorted(COMMAND_TYPES))
        raise ProtocolError(f"unknown command type {kind!r}; expected one of: {known}")
    try:
        return _command_adapter().validate_python(data)
    except ValidationError as exc:
        raise ProtocolError(f"bad {kind} command: {_first_error(exc)}") from None


def decode_reply(line: str | bytes) -> Reply:
    data = _load_object(line, "reply")
    try:
        return Reply.model_validate(data)
    except ValidationError as exc:
        raise ProtocolError(f"bad reply: {_first_error(exc)}") from None


def undeclared_fields(model: BaseModel, where: str = "") -> list[str]:
    """Dotted names of the fields in ``model`` (and the models inside it) that its class does
    not declare: what a producer of this project must never write (other writers may)."""
    prefix = f"{where}." if where else ""
    found = [f"{prefix}{name}" for name in model.model_extra or {}]
    for name in type(model).model_fields:
        value = getattr(model, name)
        inner = value.values() if isinstance(value, dict) else [value]
        for item in inner:
            if isinstance(item, BaseModel):
                found += undeclared_fields(item, f"{prefix}{name}")
    return found


def json_schemas() -> dict[str, Any]:
    """JSON Schemas of events, commands and replies, for writers of other producers/clients."""
    return {
        "protocol_version": PROTOCOL_VERSION,
        "event": _event_adapter().json_schema(),
        "command": _command_adapter().json_schema(),
        "reply": Reply.model_json_schema(),
    }

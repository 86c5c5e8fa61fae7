"""maou-train's configuration: one validated pydantic model, presets, and per-stage settings.

Plain Python (no torch import) so that a bad option is rejected in a fraction of a second, before
anything heavy loads or a run directory is created. Option names follow maou's ``learn-model``
(``--stage1-threshold`` is the field ``stage1_threshold``).
"""

from __future__ import annotations

import json
import math
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationError, model_validator

from maou_tui.layout import CONFIG_FILE
from maou_tui.stages import STAGE_METRICS, STAGE_NAMES, STAGES

Architecture = Literal["resnet", "mlp-mixer", "vit"]
PresetName = Literal["tiny", "maou"]
StageChoice = Literal["1", "2", "3", "all"]
Stage12Scheduler = Literal["auto", "none", "Warmup+CosineDecay", "CosineAnnealingLR"]
Stage3Scheduler = Literal["Warmup+CosineDecay", "CosineAnnealingLR"]
PolicyTargetMode = Literal["move-label", "win-rate", "weighted"]
EarlyStoppingMetric = Literal["total", "value", "policy"]


class ConfigError(ValueError):
    """A bad option value; the message is one line that names the option."""


def option_name(field: str) -> str:
    """``stage1_threshold`` -> ``--stage1-threshold``."""
    return "--" + field.replace("_", "-")


# -- value checks (messages read "must be ..., got X"; the option name is prefixed later) --------


def _fraction(value: float) -> float:
    if not math.isfinite(value) or not 0 <= value <= 1:
        raise ValueError(f"must be in [0, 1], got {value:g}")
    return value


def _open_fraction(value: float) -> float:
    if not math.isfinite(value) or not 0 <= value < 1:
        raise ValueError(f"must be in [0, 1), got {value:g}")
    return value


def _positive_int(value: int) -> int:
    if value < 1:
        raise ValueError(f"must be a positive integer, got {value}")
    return value


def _non_negative_int(value: int) -> int:
    if value < 0:
        raise ValueError(f"must be >= 0, got {value}")
    return value


def _positive_float(value: float) -> float:
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"must be a finite number > 0, got {value:g}")
    return value


def _non_negative_float(value: float) -> float:
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"must be a finite number >= 0, got {value:g}")
    return value


def _at_least_two(value: int) -> int:
    if value < 2:
        raise ValueError(f"must be >= 2 (GNS needs two micro-batches), got {value}")
    return value


def _smoothing(value: float) -> float:
    if not math.isfinite(value) or not 0.01 <= value <= 1.0:
        raise ValueError(f"must be in [0.01, 1.0], got {value:g}")
    return value


def _learning_rate(value: float) -> float:
    if not math.isfinite(value) or not 0 < value <= 10:
        raise ValueError(f"must be in (0, 10], got {value:g}")
    return value


#: Largest batch accepted: far above any GPU's memory for these nets, and far below the sizes
#: (10**30) whose sqrt scaling turned the LR into 6e10 and every batch into NaN.
MAX_BATCH_SIZE = 1 << 20


def _batch_size(value: int) -> int:
    if not 1 <= value <= MAX_BATCH_SIZE:
        raise ValueError(f"must be in [1, {MAX_BATCH_SIZE}], got {value}")
    return value


Fraction = Annotated[float, AfterValidator(_fraction)]
OpenFraction = Annotated[float, AfterValidator(_open_fraction)]
PositiveInt = Annotated[int, AfterValidator(_positive_int)]
NonNegativeInt = Annotated[int, AfterValidator(_non_negative_int)]
PositiveFloat = Annotated[float, AfterValidator(_positive_float)]
NonNegativeFloat = Annotated[float, AfterValidator(_non_negative_float)]
LearningRate = Annotated[float, AfterValidator(_learning_rate)]
AtLeastTwo = Annotated[int, AfterValidator(_at_least_two)]
Smoothing = Annotated[float, AfterValidator(_smoothing)]
BatchSize = Annotated[int, AfterValidator(_batch_size)]

#: The ViT width and heads of each preset (trainer/models/presets.py, which imports torch), so
#: that a head count that does not divide the width is refused before anything is created.
VIT_PRESET_DIM_HEADS = {"tiny": (128, 4), "maou": (512, 8)}


class TrainConfig(BaseModel):
    """Every maou-train option, preset applied. ``None`` = inherit (see ``stage_settings``)."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    preset: PresetName = "tiny"
    stage: StageChoice = "all"
    model_architecture: Architecture = "resnet"
    vit_embed_dim: PositiveInt | None = None
    vit_num_layers: PositiveInt | None = None
    vit_num_heads: PositiveInt | None = None
    vit_mlp_ratio: PositiveFloat | None = None
    vit_dropout: OpenFraction | None = None

    # data
    stage2_positions: PositiveInt = 20_000
    stage3_games: PositiveInt = 400
    stage3_data_path: list[Path] | None = None
    test_ratio: OpenFraction = 0.2
    stage2_test_ratio: OpenFraction = 0.0
    cache_dir: Path = Path("~/.cache/maou-tui")
    seed: NonNegativeInt = 0

    # epochs, thresholds, batches
    epoch: PositiveInt = 10
    stage1_max_epochs: PositiveInt = 10
    stage2_max_epochs: PositiveInt = 10
    stage1_threshold: Fraction = 0.99
    stage2_threshold: Fraction = 0.85
    batch_size: BatchSize = 4096
    stage1_batch_size: BatchSize | None = None
    stage2_batch_size: BatchSize | None = None
    stage3_batch_size: BatchSize | None = None
    gradient_accumulation_steps: PositiveInt = 1

    # learning rate and optimizer
    learning_ratio: LearningRate = 0.01
    stage1_learning_rate: LearningRate | None = None
    stage2_learning_rate: LearningRate | None = None
    lr_scheduler: Stage3Scheduler = "Warmup+CosineDecay"
    stage12_lr_scheduler: Stage12Scheduler = "auto"
    optimizer: Literal["adamw", "sgd"] = "adamw"
    momentum: Fraction = 0.9
    optimizer_beta1: OpenFraction = 0.9
    optimizer_beta2: OpenFraction = 0.999
    optimizer_eps: PositiveFloat = 1e-8
    weight_decay: NonNegativeFloat | None = None

    # heads and losses
    stage2_hidden_dim: PositiveInt | None = None
    stage2_head_dropout: OpenFraction = 0.0
    stage1_pos_weight: PositiveFloat = 1.0
    stage2_pos_weight: PositiveFloat = 1.0
    stage2_gamma_pos: NonNegativeFloat = 0.0
    stage2_gamma_neg: NonNegativeFloat = 0.0
    stage2_clip: OpenFraction = 0.0
    policy_loss_ratio: NonNegativeFloat = 1.0
    value_loss_ratio: NonNegativeFloat = 1.0

    # running
    gpu: str | None = None
    cpu: bool = False
    num_threads: PositiveInt | None = None
    log_every: NonNegativeInt = 0
    log_stderr: bool = False
    checkpoint_interval: NonNegativeFloat = 600.0
    run_dir: Path | None = None
    resume: Path | None = None

    # maou learn-model's data, output and runtime options (trainer/maou_options.py, issue 19)
    stage1_data_path: Path | None = None
    stage2_data_path: Path | None = None
    stage3_validation_data_path: Path | None = None
    no_streaming: bool = False
    policy_target_mode: PolicyTargetMode = "win-rate"
    log_dir: Path | None = None
    model_dir: Path | None = None
    resume_backbone_from: Path | None = None
    save_split_params: bool = False
    early_stopping_patience: NonNegativeInt = 0
    early_stopping_metric: EarlyStoppingMetric = "total"
    freeze_backbone: bool = False
    trainable_layers: NonNegativeInt | None = None
    gradient_checkpointing: bool = False
    compilation: bool = False
    stage12_compilation: bool = False
    detect_anomaly: bool = False
    dataloader_workers: NonNegativeInt = 0
    pin_memory: bool = False
    prefetch_factor: PositiveInt = 4
    adaptive_batch: bool = False
    adaptive_batch_min_steps: AtLeastTwo = 2
    adaptive_batch_max_steps: AtLeastTwo = 8
    adaptive_batch_interval: PositiveInt = 50
    adaptive_batch_smoothing: Smoothing = 0.1
    adaptive_batch_measurement_interval: PositiveInt = 5

    # LR range test (trainer/lr_find.py)
    lr_find: bool = False
    lr_find_start_lr: PositiveFloat = 1e-7
    lr_find_end_lr: PositiveFloat = 10.0
    lr_find_iterations: PositiveInt = 100

    @model_validator(mode="after")
    def _check_combinations(self) -> TrainConfig:
        if self.stage2_head_dropout > 0 and self.stage2_hidden_dim is None:
            raise ValueError(
                "--stage2-head-dropout needs --stage2-hidden-dim (the dropout sits after the "
                "hidden layer); add --stage2-hidden-dim N"
            )
        if self.lr_find_start_lr >= self.lr_find_end_lr:
            raise ValueError("--lr-find-start-lr must be below --lr-find-end-lr")
        if self.gpu is not None and self.cpu:
            raise ValueError("--gpu and --cpu contradict each other; give one of them")
        if self.adaptive_batch_max_steps < self.adaptive_batch_min_steps:
            raise ValueError(
                f"--adaptive-batch-max-steps {self.adaptive_batch_max_steps} is below "
                f"--adaptive-batch-min-steps {self.adaptive_batch_min_steps}; raise it"
            )
        for option, paths in (
            ("--stage1-data-path", [self.stage1_data_path]),
            ("--stage2-data-path", [self.stage2_data_path]),
            ("--stage3-data-path", self.stage3_data_path or []),
            ("--stage3-validation-data-path", [self.stage3_validation_data_path]),
            ("--resume-backbone-from", [self.resume_backbone_from]),
        ):
            for path in paths:
                if path is not None:
                    _check_path(Path(path).expanduser(), option, option == "--stage3-data-path")
        self._check_vit_heads()
        cache = self.cache_dir.expanduser()
        if cache.exists() and not cache.is_dir():
            raise ValueError(f"--cache-dir {self.cache_dir} is a file; give a directory")
        return self

    def _check_vit_heads(self) -> None:
        dim, heads = VIT_PRESET_DIM_HEADS[self.preset]
        dim, heads = self.vit_embed_dim or dim, self.vit_num_heads or heads
        if self.model_architecture == "vit" and dim % heads:
            raise ValueError(
                f"--vit-embed-dim {dim} is not divisible by --vit-num-heads {heads}; "
                "choose values where it is"
            )

    def stages(self) -> list[int]:
        """The stages this run trains, in order."""
        return [1, 2, 3] if self.stage == "all" else [int(self.stage)]

    def to_json_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


def _check_path(path: Path, option: str, files_or_dirs: bool) -> None:
    """``path`` exists and can be read (one line naming the option otherwise); with
    ``files_or_dirs`` it must be a directory (maou's data may be one of chunks) or a regular file,
    opened once to prove it is readable (a FIFO or device is refused, never opened)."""
    try:
        mode = path.stat().st_mode
        if files_or_dirs and stat.S_ISREG(mode):
            path.open("rb").close()
    except FileNotFoundError:
        raise ValueError(f"{option} {path} does not exist; give an existing path") from None
    except OSError as exc:  # e.g. a directory on the way that we may not enter
        raise ValueError(f"{option} {path} cannot be read ({exc.strerror})") from None
    if files_or_dirs and not (stat.S_ISDIR(mode) or stat.S_ISREG(mode)):
        raise ValueError(f"{option} {path} is not a file; give HCPE files")


# -- presets -------------------------------------------------------------------------------------

#: ``--preset maou`` is maou learn-model's own CLI defaults (the model's field defaults).
#: ``--preset tiny`` (the embedded default) sizes everything for 2 CPU cores: see docs/trainer.md.
#: maou's 10 Stage-1 epochs at batch 4096 fail Stage 1 on a small net (spec §6), so tiny trains
#: Stage 1 at batch 32 with LR 1e-3 (the guide's ResNet row) for up to 30 epochs.
PRESET_DEFAULTS: dict[str, dict[str, Any]] = {
    # maou's CLI writes TensorBoard files to ./logs and models to ./models.
    # maou's CLI trains Stage 3 unless told otherwise, and writes TensorBoard files to ./logs
    # and models to ./models.
    "maou": {"stage": "3", "log_dir": Path("logs"), "model_dir": Path("models")},
    "tiny": {
        "batch_size": 128,
        "stage1_batch_size": 32,
        "stage1_learning_rate": 0.001,
        "stage1_max_epochs": 30,
        "stage2_positions": 10_000,
        "stage2_batch_size": 128,
        "stage2_learning_rate": 0.003,
        "stage2_pos_weight": 5.0,
        "stage2_max_epochs": 8,
        "stage2_threshold": 0.6,
        "stage3_games": 60,
        "stage3_batch_size": 128,
        "learning_ratio": 0.001,
        "epoch": 2,
        # One torch thread: tiny matrices gain little from a second one, and on a busy 2-core
        # box two OpenMP threads spin against other processes (a step measured 8 s vs 0.55 s).
        "num_threads": 1,
    },
}

#: Per-architecture tiny values on top of PRESET_DEFAULTS["tiny"] (docs/data-and-models.md).
#: The tiny MLP-Mixer stays on Stage 1's all-zeros answer (90.2% cell accuracy) for 30 epochs at
#: every width, depth, init and LR tried (1e-3 to 5e-3), so its Stage 1 only warms the backbone:
#: threshold 0.90, 5 epochs, and the run goes on to Stages 2 and 3. From that backbone its Stage 2
#: reached F1 0.63 at epoch 8 of 8, so it gets 10. The tiny ViT reached 0.99 at epoch 26-29
#: (one seed, with and without warmup), so it may take up to 40 epochs.
TINY_ARCH_DEFAULTS: dict[str, dict[str, Any]] = {
    "mlp-mixer": {"stage1_threshold": 0.9, "stage1_max_epochs": 5, "stage2_max_epochs": 10},
    "vit": {"stage1_max_epochs": 40},
}

#: The tiny preset's values that differ from maou's, printed at start so nobody is surprised.
TINY_NOTE = (
    "tiny preset (maou's: batch 4096, LR 0.01, 10 epochs, thresholds 0.99/0.85): "
    "Stage 1 batch 32, LR 0.001, <= 30 epochs (vit: 40), threshold 0.99 (mlp-mixer: <= 5 "
    "epochs, threshold 0.90, as the tiny Mixer does not learn Stage 1 in budget); "
    "Stage 2 10000 positions, batch 128, LR 0.003, pos_weight 5, <= 8 epochs (mlp-mixer: 10), "
    "threshold 0.60; "
    "Stage 3 60 games, batch 128, LR 0.001, 2 epochs; 1 torch thread"
)

_INHERITED_BY = {
    "batch_size": ("stage1_batch_size", "stage2_batch_size", "stage3_batch_size"),
    "learning_ratio": ("stage1_learning_rate", "stage2_learning_rate"),
}


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    loc = [str(part) for part in err["loc"] if not isinstance(part, int)]
    msg = str(err["msg"]).removeprefix("Value error, ")
    if not loc:
        return msg
    option = option_name(loc[0])
    got = err.get("input")
    if err["type"] == "literal_error":
        return f"{option} {msg.lower()}, got {got!r}"
    if err["type"] == "extra_forbidden":
        return f"unknown option {option}"
    return f"{option} {msg}"


def build_config(options: dict[str, Any], base: dict[str, Any] | None = None) -> TrainConfig:
    """Apply the preset, then the options the user gave (``None`` values are dropped).

    ``base`` (a resolved config from ``config.json`` on ``--resume``) replaces the preset.
    Raises ConfigError with one line naming the option.
    """
    given = {key: value for key, value in options.items() if value is not None}
    if base is None:
        preset = given.get("preset", "tiny")
        values = dict(PRESET_DEFAULTS.get(preset, {}))
        if preset == "tiny":
            values.update(TINY_ARCH_DEFAULTS.get(given.get("model_architecture", "resnet"), {}))
        # A general option the user gave beats the preset's stage-specific value it would inherit.
        for general, specifics in _INHERITED_BY.items():
            if general in given:
                for specific in specifics:
                    values.pop(specific, None)
    else:
        values = dict(base)
    values.update(given)
    try:
        return TrainConfig.model_validate(values)
    except ValidationError as exc:
        raise ConfigError(_first_error(exc)) from None


# -- per-stage settings --------------------------------------------------------------------------


@dataclass(frozen=True)
class StageSettings:
    """What one stage trains with, with inheritance resolved (maou's rules, spec §3 and §5)."""

    stage: int
    name: str
    metric: str
    batch_size: int
    base_lr: float
    max_epochs: int
    threshold: float | None
    scheduler_request: str
    weight_decay: float

    @property
    def lr_option(self) -> str:
        return STAGES[self.stage].lr_option

    @property
    def epochs_option(self) -> str:
        return STAGES[self.stage].epochs_option


def stage_settings(config: TrainConfig, stage: int) -> StageSettings:
    batch = getattr(config, f"stage{stage}_batch_size") or config.batch_size
    scheduler: str
    if stage == 3:
        base_lr, epochs, threshold = config.learning_ratio, config.epoch, None
        scheduler, weight_decay = config.lr_scheduler, 0.01
    else:
        base_lr = getattr(config, f"stage{stage}_learning_rate") or config.learning_ratio
        epochs = getattr(config, f"stage{stage}_max_epochs")
        threshold = getattr(config, f"stage{stage}_threshold")
        scheduler, weight_decay = config.stage12_lr_scheduler, 0.0
    if config.weight_decay is not None:
        weight_decay = config.weight_decay
    return StageSettings(
        stage=stage,
        name=STAGE_NAMES[stage],
        metric=STAGE_METRICS[stage],
        batch_size=batch,
        base_lr=base_lr,
        max_epochs=epochs,
        threshold=threshold,
        scheduler_request=scheduler,
        weight_decay=weight_decay,
    )


def saved_config_values(run_dir: Path) -> dict[str, Any]:
    """The resolved options a run directory was started with (its config.json), for --resume."""
    path = Path(run_dir) / CONFIG_FILE
    try:
        values = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(
            f"--resume {run_dir}: cannot read {path} ({exc}); is it a run directory?"
        ) from None
    if not isinstance(values, dict) or not values:
        raise ConfigError(
            f"--resume {run_dir}: {path} holds no configuration; is it a run directory?"
        )
    return values

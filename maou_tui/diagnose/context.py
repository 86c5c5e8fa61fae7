"""What a stage was run with, gathered from StageStarted and RunStarted.config.

Advice needs the CLI LR, the sqrt factor in force, the batch size and the architecture; a maou
log gives only some of them (the ingestion parser fills what the `LR sqrt scaling:` and scheduler
lines say), so every field may be None and the advice says less rather than guessing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from maou_tui.stages import STAGE_METRICS

if TYPE_CHECKING:
    from maou_tui.diagnose.store_view import RunView

#: Keys of RunStarted.config that name the architecture (maou's option, then short forms).
_ARCH_KEYS = ("model_architecture", "architecture", "arch", "model")
_STAGE_METRIC = STAGE_METRICS


@dataclass(frozen=True)
class StageContext:
    stage: int
    metric: str
    start_step: int = 0
    steps_per_epoch: int | None = None
    max_epochs: int | None = None
    warmup_steps: int | None = None
    scheduler: str | None = None
    base_lr: float | None = None
    lr_scale: float | None = None
    effective_lr: float | None = None
    batch_size: int | None = None
    threshold: float | None = None
    architecture: str | None = None
    name: str | None = None
    pos_weight: float | None = None
    value_loss_ratio: float | None = None
    policy_loss_ratio: float | None = None
    early_stopping_metric: str | None = None
    """maou's ``--early-stopping-metric`` (total, value or policy): the Stage 3 validation
    series its early stopping and best checkpoint watch."""
    source: str = "maou"
    """Whose options the advice names (``LR_KNOBS``): maou's and this project's trainer's
    ``--...-learning-rate`` by default; another framework's own LR setting when the run says
    which framework produced it."""

    @property
    def warmup_end(self) -> int | None:
        """First global step after warmup, when the stage has one."""
        if not self.warmup_steps:
            return None
        return self.start_step + self.warmup_steps


#: Sources whose own LR setting the advice names (``advice.LR_KNOBS``); anything else is maou or
#: this project's trainer, whose options follow maou's ``learn-model``.
FRAMEWORKS = ("transformers", "lightning", "keras", "torch")
#: Keys only Hugging Face's ``TrainingArguments`` has: a run config holding them came from its
#: Trainer (``TrainingArguments.to_dict()`` is what HF integrations record).
_HF_ARGUMENT_KEYS = ("per_device_train_batch_size", "learning_rate")
#: ``StageStarted.name`` of a loop recorded by ``maou_tui.sdk.Monitor`` (one stage, no maou head).
SDK_LOOP_STAGE_NAME = "TRAINING"


def run_source(config: dict[str, Any], stage_name: str | None) -> str:
    """Whose options a finding's advice names: the ``framework`` a producer recorded in its
    config, else HF when the config is HF's ``TrainingArguments``, else a plain torch loop for
    an SDK-recorded stage, else maou (its logs and this project's trainer)."""
    framework = str(config.get("framework") or "").lower()
    if framework in FRAMEWORKS:
        return framework
    if all(key in config for key in _HF_ARGUMENT_KEYS):
        return "transformers"
    if stage_name == SDK_LOOP_STAGE_NAME:
        return "torch"
    return "maou"


def _config_value(config: dict[str, Any], stage: int, *names: str) -> Any:
    for name in names:
        for key in (f"stage{stage}_{name}", name):
            if config.get(key) is not None:
                return config[key]
    return None


def stage_context(store: RunView, stage: int) -> StageContext:
    """The context of ``stage`` from the store's StageStarted (and the run config as a fallback)."""
    started = store.stages.get(stage)
    run = store.run
    config: dict[str, Any] = dict(run.config) if run is not None else {}
    arch = getattr(started, "architecture", None) or _config_value(config, stage, *_ARCH_KEYS)
    if started is None:
        return StageContext(
            stage=stage,
            metric=_STAGE_METRIC.get(stage, "accuracy"),
            batch_size=_config_value(config, stage, "batch_size"),
            architecture=arch,
            pos_weight=_config_value(config, stage, "pos_weight"),
            value_loss_ratio=config.get("value_loss_ratio"),
            policy_loss_ratio=config.get("policy_loss_ratio"),
            early_stopping_metric=config.get("early_stopping_metric"),
            source=run_source(config, None),
        )
    return StageContext(
        stage=stage,
        metric=started.metric or _STAGE_METRIC.get(stage, "accuracy"),
        start_step=started.start_step,
        steps_per_epoch=started.steps_per_epoch,
        max_epochs=started.max_epochs,
        warmup_steps=started.warmup_steps,
        scheduler=started.scheduler,
        base_lr=started.base_lr,
        lr_scale=started.lr_scale,
        effective_lr=started.effective_lr,
        batch_size=started.batch_size or _config_value(config, stage, "batch_size"),
        threshold=started.threshold,
        architecture=str(arch) if arch is not None else None,
        name=started.name,
        pos_weight=_config_value(config, stage, "pos_weight"),
        value_loss_ratio=config.get("value_loss_ratio"),
        policy_loss_ratio=config.get("policy_loss_ratio"),
        early_stopping_metric=config.get("early_stopping_metric"),
        source=run_source(config, started.name),
    )

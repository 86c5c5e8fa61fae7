"""The stages of maou's staged training: one row each, with the maou option names that set them.

Stage 1 learns reachable squares, Stage 2 legal moves, Stage 3 policy and value
(``reference/maou-trainer.md``). Every module that needs a stage's name, metric or option
takes it from ``STAGES``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StageInfo:
    number: int
    #: as the trainer and maou name the stage in logs and ``stage_started``
    name: str
    #: the metric its threshold is checked against (``stage_started.metric``, series names)
    metric: str
    #: how maou's log lines spell that metric (``Accuracy=``, ``F1=``)
    metric_label: str
    lr_option: str
    batch_option: str
    epochs_option: str
    #: the option of its advance threshold; "" for Stage 3, which has none
    threshold_option: str


STAGES: dict[int, StageInfo] = {
    info.number: info
    for info in (
        StageInfo(
            1,
            "REACHABLE_SQUARES",
            "accuracy",
            "Accuracy",
            "--stage1-learning-rate",
            "--stage1-batch-size",
            "--stage1-max-epochs",
            "--stage1-threshold",
        ),
        StageInfo(
            2,
            "LEGAL_MOVES",
            "f1",
            "F1",
            "--stage2-learning-rate",
            "--stage2-batch-size",
            "--stage2-max-epochs",
            "--stage2-threshold",
        ),
        StageInfo(
            3,
            "POLICY_VALUE",
            "policy_accuracy",
            "Accuracy",
            "--learning-ratio",
            "--stage3-batch-size",
            "--epoch",
            "",
        ),
    )
}
STAGE_NUMBERS = tuple(STAGES)
STAGE_NAMES = {n: info.name for n, info in STAGES.items()}
STAGE_METRICS = {n: info.metric for n, info in STAGES.items()}
STAGE_METRIC_LABELS = {n: info.metric_label for n, info in STAGES.items()}

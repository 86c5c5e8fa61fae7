"""TensorBoard tags to this project's series names.

maou's tags (``reference/maou-log-lines.md``, written by ``app/learning/dl.py``) become the
names its log lines give, so a maou run reads the same from its log and from its event files.
Other writers' tags keep their names, except the common spellings of the training loss, the
learning rate and the validation loss/accuracy, which become ``loss``, ``lr``, ``val_loss``,
``accuracy`` and ``val_accuracy`` so the charts and the diagnostics find them.
"""

from __future__ import annotations

import re

#: maou's ``LoggingCallback``: the mean loss of the last len/10 batches at the global batch.
MAOU_STEP_LOSS = "Loss/train"
#: maou's per-epoch scalars (``_log_epoch_metrics``, step = epoch number) -> series names of
#: its log (``LOSS train .. valid ..``, ``Stage 3 Epoch n: LR``, the METRICS block).
MAOU_EPOCH_TAGS = {
    "Training vs. Validation Loss/Training": "train_loss",
    "Training vs. Validation Loss/Validation": "val_loss",
    "Learning Rate": "lr",
    "Validation Loss Metrics/Policy Cross Entropy": "policy_cross_entropy",
    "Validation Loss Metrics/Value Brier Score": "value_brier_score",
    "Validation Accuracy Metrics/Policy Top-5 Accuracy": "policy_top5_accuracy",
    "Validation Accuracy Metrics/Policy F1 Score": "policy_f1_score",
    "Validation Accuracy Metrics/Value ≥0.8 Precision": "value_high_confidence_rate",
    "Win Rate Metrics/Policy Top-1 Win Rate": "policy_top1_win_rate",
    "Win Rate Metrics/Policy Expected Win Rate": "policy_expected_win_rate",
    "Win Rate Metrics/Policy MoveLabel CE": "policy_move_label_ce",
    "Train-Validation Gap": "gap",  # the log's ``LOSS ... gap {gap:+.4f}``
}
#: maou tags left out: ``hparam/*`` repeats the last epoch's values at step 0 for the HParams
#: dashboard.
MAOU_GAP = "Train-Validation Gap"
MAOU_DROPPED = ("hparam/",)
#: The trigger of an epoch's row: maou writes it last of an epoch's main-file scalars.
MAOU_EPOCH_TRIGGER = "Learning Rate"
#: maou's log directory name: ``<model>_training_log_<YYYYmmdd_HHMMSS>``.
MAOU_RUN_DIR = re.compile(r"_training_log_\d{8}_\d{6}$")

_SPLIT = re.compile(r"[/_\-. ]+")
_EVAL_WORDS = {"val", "valid", "validation", "eval", "evaluation", "test", "dev"}
_TRAIN_WORDS = {"train", "training", "step", "epoch", "mean", "avg"}


def marks_maou_run(tag: str) -> bool:
    """A tag only maou writes (its add_scalars groups and its gap; ``Loss/train`` and
    ``Learning Rate`` are common elsewhere too)."""
    if tag in (MAOU_STEP_LOSS, MAOU_EPOCH_TRIGGER):
        return False
    return tag in MAOU_EPOCH_TAGS or tag == MAOU_GAP


def common_name(tag: str) -> str | None:
    """The series a common spelling stands for (``train/loss``, ``loss``, ``lr``,
    ``learning_rate``, ``lr-Adam``, ``eval/loss``, ``val_loss``, ``train_acc``, ...), else None."""
    words = [w for w in _SPLIT.split(tag.lower()) if w]
    if not words:
        return None
    evaluating = bool(_EVAL_WORDS.intersection(words))
    rest = [w for w in words if w not in _EVAL_WORDS and w not in _TRAIN_WORDS]
    if words[0] == "lr" or rest in (["lr"], ["learning", "rate"], ["learningrate"]):
        return None if evaluating else "lr"
    if rest == ["loss"]:
        return "val_loss" if evaluating else "loss"
    if rest in (["acc"], ["accuracy"]):
        return "val_accuracy" if evaluating else "accuracy"
    return None


class TagNames:
    """Names of one run's tags; the first tag to claim a common name gets it, later ones with
    the same meaning keep their own name, or ``tag:<name>`` where that is the common name
    taken (nothing is merged into another curve)."""

    def __init__(self, maou: bool) -> None:
        self.maou = maou
        self._names: dict[str, str | None] = {}
        self._claimed: set[str] = set()

    def name(self, tag: str) -> str | None:
        """The series of ``tag``; None for a tag that is left out."""
        known = self._names.get(tag, "")
        if known != "":
            return known
        name = self._decide(tag)
        self._names[tag] = name
        return name

    def _decide(self, tag: str) -> str | None:
        if tag == MAOU_STEP_LOSS and "loss" not in self._claimed:
            self._claimed.add("loss")
            return "loss"
        if self.maou and tag in MAOU_EPOCH_TAGS:
            return MAOU_EPOCH_TAGS[tag]
        if self.maou and tag.startswith(MAOU_DROPPED):
            return None
        common = common_name(tag)
        if common is not None and common not in self._claimed:
            self._claimed.add(common)
            return common
        # A tag spelled like a name another tag took ("loss" after "train/loss") is told apart.
        return f"tag:{tag}" if tag in self._claimed else tag

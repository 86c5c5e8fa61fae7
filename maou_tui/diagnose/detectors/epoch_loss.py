"""Stagnation and divergence of a stage that logs its loss only once an epoch.

maou's Stage 3 prints no batch lines when its progress bars are not drawn (a log file, a pane
with no size): one ``LOSS train .. valid .. gap ..`` line an epoch is all there is, so the block
detectors (``loss``, ``divergence``) have nothing to read. These rules read the epoch table
instead, and only for such stages (``StageData.epoch_only``), so a stage is never judged twice.
An epoch's loss is already a mean over the epoch's batches: one epoch is one logged step.
"""

from __future__ import annotations

import math

import numpy as np

from maou_tui.diagnose import advice
from maou_tui.diagnose.detectors.base import Detection, StageData

# --- stagnation ------------------------------------------------------------------------------
#: Epoch-to-epoch changes looked at: the block rule's two epochs (loss.STAG_WINDOW_EPOCHS).
EPOCH_STAG_WINDOW = 2
#: Every logged loss (train, and validation when there is one) improved by less than this
#: fraction over the window: the block rule's "nearly flat" (loss.STAG_MAX_REL_IMPROVEMENT).
#: A real maou Stage 3 at LR 1e-6: validation 4.822 -> 4.815 -> 4.812 (0.2%); its healthy run
#: at LR 1e-3: train 4.48 -> 4.27 -> 3.90 (13%).
EPOCH_STAG_MAX_IMPROVEMENT = 0.03
#: Not judged once the LR in force fell below this share of the stage's peak (the end of a
#: cosine decay flattens every curve): the block rule's loss.STAG_MIN_LR_FRACTION.
EPOCH_STAG_MIN_LR_FRACTION = 0.3
#: maou prints the epoch's LR with ``%.6f``: below ten times that resolution the printed LRs
#: (0.000001, then 0.000000 for 1e-6 half-way through its decay) cannot say how far the decay
#: went, so the LR is not used to skip a window.
LR_PRINT_RESOLUTION = 1e-6
#: Without a threshold to judge by, only a stage that improved less than this fraction since
#: its first epoch is stagnating: a plateau after a large drop is convergence, and a log that
#: prints no LR (a Keras CSV) cannot say a late decay flattened it (the block rule's
#: loss.STAG_MAX_TOTAL_IMPROVEMENT).
EPOCH_STAG_MAX_TOTAL_IMPROVEMENT = 0.3

# --- divergence --------------------------------------------------------------------------------
#: An epoch's mean train loss this many times the best earlier epoch's: a healthy run's epoch
#: means only fall (batch noise is averaged away); the block rule's
#: divergence.DIVERGENCE_ABOVE_INITIAL_RATIO.
EPOCH_DIV_RATIO = 1.3
#: Stage 3's loss of a network that knows nothing: the policy's cross entropy of a uniform
#: answer over maou's 1496 move labels, ln 1496, and the value's BCE at 0.5, ln 2, each times
#: its loss ratio. Training starts at or below it; an epoch mean this many times above it was
#: thrown off by the LR (a real maou Stage 3 at LR 1.0: 17.2 against ln 1496 + ln 2 = 8.0; its
#: healthy run: 4.48).
STAGE3_MOVE_LABELS = 1496
EPOCH_DIV_OF_CHANCE = 1.5


def _finite_loss_columns(data: StageData) -> list[np.ndarray]:
    columns = (data.epochs.get(name) for name in ("train_loss", "val_loss"))
    return [c for c in columns if np.isfinite(c).any()]


def _lr_too_low_for_judging(lr: np.ndarray, rows: slice) -> bool:
    """True when the LR in force over ``rows`` fell into the late decay (unknown LR: False)."""
    finite = lr[np.isfinite(lr)]
    if not finite.size or float(finite.max()) < 10 * LR_PRINT_RESOLUTION:
        return False
    window = lr[rows]
    window = window[np.isfinite(window)]
    return bool(window.size) and float(window.min()) < EPOCH_STAG_MIN_LR_FRACTION * float(
        finite.max()
    )


def epoch_stagnation(data: StageData) -> list[Detection]:
    """Every epoch-level loss nearly flat over EPOCH_STAG_WINDOW epochs, threshold not reached."""
    if not data.epoch_only or data.threshold_reached:
        return []
    columns = _finite_loss_columns(data)
    lr = data.epochs.get("lr")
    w = EPOCH_STAG_WINDOW
    for i in range(w, data.epochs.epoch.size):
        first = i - w
        # the LR printed after epoch e is the one epoch e + 1 ran with
        if _lr_too_low_for_judging(lr, slice(first, i)):
            continue
        gains = [
            (float(c[first]) - float(c[i])) / float(c[first])
            for c in columns
            if np.isfinite(c[first]) and np.isfinite(c[i]) and c[first] > 0
        ]
        if (
            gains
            and max(gains) < EPOCH_STAG_MAX_IMPROVEMENT
            and (data.ctx.threshold is not None or _improved_little(columns, i))
        ):
            return [_stagnation_detection(data, first, i, max(gains))]
    return []


def _improved_little(columns: list[np.ndarray], i: int) -> bool:
    """Every loss column improved less than EPOCH_STAG_MAX_TOTAL_IMPROVEMENT from its first
    logged epoch to row ``i``."""
    for c in columns:
        seen = c[: i + 1][np.isfinite(c[: i + 1])]
        if (
            seen.size
            and seen[0] > 0
            and (seen[0] - seen[-1]) / seen[0] >= (EPOCH_STAG_MAX_TOTAL_IMPROVEMENT)
        ):
            return False
    return True


def _stagnation_detection(data: StageData, first: int, last: int, gain: float) -> Detection:
    t, ctx = data.epochs, data.ctx
    evidence: dict[str, float | int | str] = {
        "relative_improvement": gain,
        "epochs": int(t.epoch[last] - t.epoch[first]),
        "detected_at_step": int(t.step[last]),
        "series": "epoch",
    }
    for name in ("train_loss", "val_loss", "lr"):
        value = float(t.get(name)[last])
        if math.isfinite(value):
            evidence[name] = value
    return Detection(
        kind="stagnation",
        severity="warning",
        onset=int(t.step[first]) + 1,
        epoch=int(t.epoch[first]) + 1,
        message=(
            f"Stage {ctx.stage} loss nearly flat: at most {100 * gain:.1f}% better from epoch "
            f"{int(t.epoch[first])} to {int(t.epoch[last])}"
        ),
        evidence=evidence,
        advice=advice.stagnation_advice(ctx, False, data.multiplier),
        last_step=int(t.step[-1]),
    )


def chance_loss(data: StageData) -> float | None:
    """The loss of an untrained Stage 3 network (None for other stages)."""
    ctx = data.ctx
    if ctx.stage != 3:
        return None
    policy = ctx.policy_loss_ratio if ctx.policy_loss_ratio is not None else 1.0
    value = ctx.value_loss_ratio if ctx.value_loss_ratio is not None else 1.0
    return policy * math.log(STAGE3_MOVE_LABELS) + value * math.log(2)


def epoch_divergence(data: StageData) -> list[Detection]:
    """An epoch whose mean train or validation loss is far above an untrained network's (Stage
    3, whatever else the stage logged), or, in an epoch-only stage, whose train loss is well
    above the best earlier epoch's: reported at that epoch."""
    chance = chance_loss(data)
    train = data.epochs.get("train_loss")
    val = data.epochs.get("val_loss")
    best = math.inf
    for i in range(train.size):
        for name, column in (("train_loss", train), ("val_loss", val)):
            loss = float(column[i])
            if chance is not None and math.isfinite(loss) and loss >= EPOCH_DIV_OF_CHANCE * chance:
                return [_divergence_detection(data, i, name, chance, "above_untrained")]
        loss = float(train[i])
        if not (data.epoch_only and math.isfinite(loss)):
            continue
        if loss >= EPOCH_DIV_RATIO * best:
            return [_divergence_detection(data, i, "train_loss", best, "rise")]
        best = min(best, loss)
    return []


def _divergence_detection(
    data: StageData, row: int, column: str, reference: float, why: str
) -> Detection:
    t, ctx = data.epochs, data.ctx
    loss = float(t.get(column)[row])
    what_loss = "train loss" if column == "train_loss" else "validation loss"
    what = (
        f"{loss / reference:.1f}x the {reference:.3g} of an untrained network"
        if why == "above_untrained"
        else f"{loss / reference:.1f}x the best earlier epoch's {reference:.4g}"
    )
    start = int(t.step[row - 1]) + 1 if row > 0 else max(1, data.ctx.start_step)
    return Detection(
        kind="divergence",
        severity="critical",
        onset=start,
        epoch=int(t.epoch[row]),
        message=(
            f"Stage {ctx.stage} loss diverging: epoch {int(t.epoch[row])} {what_loss} "
            f"{loss:.4g} is {what}"
        ),
        evidence={
            "loss": loss,
            "reference_loss": reference,
            "ratio": loss / reference,
            "rule": f"epoch_{why}",
            "series": column,
            "detected_at_step": int(t.step[row]),
        },
        advice=advice.lr_advice("divergence", ctx, data.multiplier),
        last_step=int(t.step[-1]),
    )

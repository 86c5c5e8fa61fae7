"""Epoch-level detectors: overfitting, fail-fast risk, Stage 3 value collapse."""

from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from maou_tui.diagnose import advice
from maou_tui.diagnose.detectors.base import Detection, EpochTable, StageData

# --- overfitting -----------------------------------------------------------------------------
#: Validation loss this fraction above its best (Prechelt's generalisation loss GL_5)...
OVERFIT_MIN_GENERALISATION_LOSS = 0.05
#: ...in each of this many consecutive epochs (in the spirit of Prechelt's UP_s: a validation
#: loss that bounces with a high LR crosses GL_5 now and then; UMLAUT's single-epoch rule fires
#: on such noise). 4, not 3: SGD with momentum bumps the validation loss for three epochs and
#: comes back (digits: 0.178 -> 0.226 -> 0.282 -> 0.368 -> 0.116); the guide's overfitting
#: worsens epoch after epoch (its example: epochs 5, 10, 15).
OVERFIT_MIN_EPOCHS_SINCE_BEST = 4
#: ...while the training loss kept falling by at least this fraction since that best epoch.
OVERFIT_MIN_TRAIN_IMPROVEMENT = 0.02
#: Epochs over which the validation loss must be rising (never falling from one epoch to the
#: next) and the training loss falling (fitted slope < 0) at the moment of the report: a
#: validation loss that jumped once (an LR spike) and is coming down again is not overfitting,
#: nor one that swings around a level under a high LR (Keras/Lightning at SGD 0.3 with
#: momentum: 0.139 -> 0.149 -> 0.177 -> 0.159, back to 0.123); overfitting climbs steadily.
OVERFIT_TREND_EPOCHS = 3
#: The validation series judged, by maou's ``--early-stopping-metric`` (Stage 3; the trainer's
#: ``early_stopping.MONITORED``): the two heads overfit at different speeds, so a run that
#: keeps its best checkpoint by one head's loss overfits when that loss turns, whatever the
#: combined loss does. Other stages and sources: the validation loss.
EARLY_STOPPING_SERIES = {
    "total": "val_loss",
    "value": "value_brier_score",
    "policy": "policy_cross_entropy",
}

# --- oscillation, seen on epoch means ------------------------------------------------------
#: Epochs looked at. An epoch's mean train loss averages away batch noise, so an epoch that is
#: worse than the one before is a real up-move (AutoTrainer pairs extrema the same way).
OSC_EPOCH_WINDOW = 5
#: Up-moves (an epoch mean more than 1% above the previous) needed in the window: two ups
#: between downs is "up and down", one is a bump.
OSC_EPOCH_MIN_UPS = 2
OSC_EPOCH_UP_FRACTION = 0.01
#: No trend: the fitted change across the window is under 10% of the level (a healthy run
#: still falls by more than that over five epochs, on every curve of the corpus).
OSC_EPOCH_MAX_TREND = 0.10
#: ...or a trend at most this multiple of the swings (the block rule's OSC_MAX_TREND_TO_AMPLITUDE):
#: when the loss rises and falls by more than it drifts, the swings are the main motion even
#: though a line fitted to five noisy epochs slopes (SGD with momentum at a high LR: 0.15 ->
#: 0.34 -> 0.43 -> 0.26 -> 0.34 -> 0.20). Healthy curves fall smoothly: swings of a few percent,
#: never two rises in five epochs on the corpus.
OSC_EPOCH_MAX_TREND_TO_SWING = 2.0
#: The swings (detrended std) are at least 3% of the level...
OSC_EPOCH_MIN_AMPLITUDE = 0.03
#: ...and at least 1% of the untrained model's loss: near a loss of zero, relative swings of
#: tiny absolute size are not worth an LR change.
OSC_EPOCH_MIN_SWING_OF_INITIAL = 0.01
#: The validation loss (one pass over held-out data per epoch) swings more than the train
#: loss even when healthy, so its rules are wider: a rise counts when it is 5% of the level,
#: and the swings must be 15% of the level. A too-high LR leaves the train loss falling while
#: the weights jump around the optimum, which shows as a validation loss going up and down
#: (digits, SGD 0.3 with momentum: 0.105 -> 0.264 -> 0.146 -> 0.224 -> 0.090; 17-41% swings);
#: healthy runs swing at most 8% (a CNN whose validation loss flattened at 0.07).
OSC_VAL_UP_FRACTION = 0.05
OSC_VAL_MIN_AMPLITUDE = 0.15
#: ...and only while the train loss itself rose (an epoch mean above the one before, by
#: OSC_EPOCH_UP_FRACTION) at least once in the same window. Weights thrown around the optimum
#: make the training batches worse too (the guide's symptom is the batch log's Loss going up
#: and down); a train loss that falls every epoch is an optimizer still descending, and the
#: validation loss's swings then come from the validation sample and the growing confidence of
#: the logits (SGD with momentum on digits, labelled healthy by accuracy: 19-24% swings while
#: the train loss fell 0.12 -> 0.02 epoch after epoch).
OSC_VAL_MIN_TRAIN_RISES = 1

# --- fail_fast_risk --------------------------------------------------------------------------
#: Epochs done before a projection is trusted (the first epoch's gain is mostly warmup).
FAILFAST_MIN_EPOCHS = 2
#: Flag when the epochs needed at the recent rate exceed the epochs left by this factor: metrics
#: saturate, so a linear projection is already optimistic; 1.5 keeps borderline runs quiet.
FAILFAST_MARGIN = 1.5

# --- value_collapse --------------------------------------------------------------------------
#: Stage 3 value head answering (nearly) one value for every position. The validation spread of
#: its predictions (``value_std``, this project's trainer) at most this: collapsed runs of the
#: corpus spread 0.002-0.14 (<= 0.09 from epoch 2), healthy ones 0.29-0.46 from epoch 1 on.
VALUE_COLLAPSE_MAX_STD = 0.15
#: Without a spread (maou logs), maou's ``value_high_confidence_rate`` (right answers among
#: predictions >= 0.8, 0 when there are none) at most this: no confident, right prediction.
VALUE_COLLAPSE_MAX_HIGH_CONFIDENCE = 0.01
#: ...and a Brier score no better than a constant answer at the mean m scores on 0/1 labels,
#: m(1 - m): a head that beats the constant answer, however slightly, has learned something and
#: is not collapsed (a real maou Stage 3 at its default LR: Brier 0.225 against 0.248, no
#: confident prediction yet). A fresh head far off the mean may score above it in epoch 1, but
#: its predictions spread: the test above keeps it quiet.
VALUE_COLLAPSE_MIN_BRIER_SHARE = 1.0
#: m when the source does not log the predicted mean: maou's label mean (its investigation of
#: a value collapse), so a maou log needs a Brier >= 0.5418 x 0.4582 = 0.248.
VALUE_COLLAPSE_DEFAULT_MEAN = 0.5418
#: For this many consecutive epochs (the first epoch of a fresh head may look like this).
VALUE_COLLAPSE_EPOCHS = 2


def _slope(values: np.ndarray) -> float:
    """Least-squares slope per row; NaN when fewer than two finite values."""
    ok = np.isfinite(values)
    if ok.sum() < 2:
        return float("nan")
    return float(np.polyfit(np.flatnonzero(ok), values[ok], 1)[0])


def _metric_columns(data: StageData) -> tuple[str, str]:
    metric = data.ctx.metric
    return f"train_{metric}", f"val_{metric}"


def _watched_validation(data: StageData) -> str:
    """The validation series overfitting is judged on (``EARLY_STOPPING_SERIES``)."""
    choice = data.ctx.early_stopping_metric or "total"
    name = EARLY_STOPPING_SERIES.get(choice, "val_loss") if data.ctx.stage == 3 else "val_loss"
    return name if np.isfinite(data.epochs.get(name)).any() else "val_loss"


def overfitting(data: StageData) -> list[Detection]:
    table = data.epochs
    watched = _watched_validation(data)
    val = table.get(watched)
    train = table.get("train_loss")
    if np.isfinite(val).sum() < OVERFIT_MIN_EPOCHS_SINCE_BEST + 2:
        return []
    for i in range(max(OVERFIT_MIN_EPOCHS_SINCE_BEST + 1, OVERFIT_TREND_EPOCHS - 1), val.size):
        seen = val[: i + 1]
        if not np.isfinite(seen).any():
            continue
        best_i = int(np.nanargmin(seen))
        best = float(seen[best_i])
        gl = float(val[i]) / best - 1.0 if best > 0 and np.isfinite(val[i]) else float("nan")
        train_gain = (
            (float(train[best_i]) - float(train[i])) / float(train[best_i])
            if np.isfinite(train[best_i]) and np.isfinite(train[i]) and train[best_i] > 0
            else float("nan")
        )
        recent = val[i - OVERFIT_MIN_EPOCHS_SINCE_BEST + 1 : i + 1]
        if (
            best_i >= 1  # the validation loss improved at least once before it turned
            and i - best_i >= OVERFIT_MIN_EPOCHS_SINCE_BEST
            and gl >= OVERFIT_MIN_GENERALISATION_LOSS
            and bool(np.all(recent >= best * (1 + OVERFIT_MIN_GENERALISATION_LOSS)))
            and train_gain >= OVERFIT_MIN_TRAIN_IMPROVEMENT
            and bool(np.all(np.diff(val[i - OVERFIT_TREND_EPOCHS + 1 : i + 1]) >= 0))
            and _slope(train[i - OVERFIT_TREND_EPOCHS + 1 : i + 1]) < 0
        ):
            return [_overfitting_detection(data, watched, best_i, i)]
    return []


def _overfitting_detection(data: StageData, watched: str, best_i: int, i: int) -> Detection:
    t = data.epochs
    val, train = t.get(watched), t.get("train_loss")
    ctx = data.ctx
    onset_row = min(best_i + 1, t.epoch.size - 1)
    best_epoch = int(t.epoch[best_i])
    last = int(np.flatnonzero(np.isfinite(val))[-1])
    evidence: dict[str, float | int | str] = {
        "best_val_loss": float(val[best_i]),
        "best_epoch": best_epoch,
        "val_loss": float(val[last]),
        "train_loss_at_best": float(train[best_i]),
        "train_loss": float(train[last]),
        "generalisation_loss": float(val[last]) / float(val[best_i]) - 1.0,
        "series": watched,
        "detected_at_step": int(t.step[i]),
    }
    val_metric = t.get(_metric_columns(data)[1])
    if np.isfinite(val_metric[best_i]) and np.isfinite(val_metric[last]):
        evidence["best_val_metric"] = float(val_metric[best_i])
        evidence["val_metric"] = float(val_metric[last])
    return Detection(
        kind="overfitting",
        severity="warning",
        onset=int(t.step[best_i]) + 1,
        epoch=int(t.epoch[onset_row]),
        message=(
            f"Stage {ctx.stage} overfitting: {_VALIDATION_NAMES.get(watched, watched)} "
            f"{float(val[last]):.4g} up "
            f"{100 * evidence['generalisation_loss']:.0f}% since epoch {best_epoch} while train "
            f"loss fell {float(train[best_i]):.4g} -> {float(train[last]):.4g}"
        ),
        evidence=evidence,
        advice=advice.overfitting_advice(ctx, best_epoch, data.multiplier),
        last_step=int(t.step[last]),
    )


_VALIDATION_NAMES = {
    "val_loss": "val loss",
    "value_brier_score": "val value Brier score",
    "policy_cross_entropy": "val policy cross entropy",
}


def epoch_oscillation(data: StageData) -> list[Detection]:
    """The epoch-mean train loss or the validation loss goes up and down around a level (swings
    larger than its drift). The earlier window of the two is reported: windows have a fixed
    length, so the one confirmed first also starts first, live and offline alike."""
    blocks = data.blocks["mean"]
    train = data.epochs.get("train_loss")
    found = [
        (window, what)
        for column, up, amplitude, what in (
            ("train_loss", OSC_EPOCH_UP_FRACTION, OSC_EPOCH_MIN_AMPLITUDE, "epoch loss"),
            ("val_loss", OSC_VAL_UP_FRACTION, OSC_VAL_MIN_AMPLITUDE, "validation loss"),
        )
        if (
            window := _swinging_window(
                data.epochs.get(column),
                up,
                amplitude,
                blocks,
                None if column == "train_loss" else train,
            )
        )
    ]
    if not found:
        return []
    window, what = min(found, key=lambda item: item[0][0])
    return [_epoch_oscillation_detection(data, what, *window)]


def _train_rises(train: np.ndarray, first: int, last: int) -> bool:
    """The train loss's epoch mean rose at least OSC_VAL_MIN_TRAIN_RISES times in rows
    ``first..last`` (rows without a train loss are skipped)."""
    values = train[first : last + 1]
    values = values[np.isfinite(values)]
    rises = np.diff(values) > OSC_EPOCH_UP_FRACTION * values[:-1]
    return int(rises.sum()) >= OSC_VAL_MIN_TRAIN_RISES


def _swinging_window(
    column: np.ndarray,
    up_fraction: float,
    min_amplitude: float,
    blocks: np.ndarray,
    train: np.ndarray | None = None,
) -> tuple[int, int, float, float, int] | None:
    """(first row, last row, level, swing, rises) of the first window of OSC_EPOCH_WINDOW epochs
    that goes up and down (with ``train`` given: in which the train loss rose too); None when
    none does."""
    ok = np.isfinite(column)
    loss, rows = column[ok], np.flatnonzero(ok)
    initial = float(blocks[0]) if blocks.size else (float(loss[0]) if loss.size else 0.0)
    w = OSC_EPOCH_WINDOW
    if loss.size < w:
        return None
    windows = sliding_window_view(loss, w)  # every window at once: cheap on each live update
    x = np.arange(w, dtype=np.float64) - (w - 1) / 2
    level = windows.mean(axis=1)
    slope = (windows * x).sum(axis=1) / (x * x).sum()
    swing = (windows - level[:, None] - slope[:, None] * x).std(axis=1)
    ups = (np.diff(windows, axis=1) > up_fraction * level[:, None]).sum(axis=1)
    drift = np.abs(slope) * (w - 1)
    hits = np.flatnonzero(
        (level > 0)
        & (ups >= OSC_EPOCH_MIN_UPS)
        & ((drift < OSC_EPOCH_MAX_TREND * level) | (drift <= OSC_EPOCH_MAX_TREND_TO_SWING * swing))
        & (swing >= min_amplitude * level)
        & (swing >= OSC_EPOCH_MIN_SWING_OF_INITIAL * initial)
    )
    for k in hits.tolist():
        first, last = int(rows[k]), int(rows[k + w - 1])
        if train is None or _train_rises(train, first, last):
            return first, last, float(level[k]), float(swing[k]), int(ups[k])
    return None


def _epoch_oscillation_detection(
    data: StageData, what: str, first: int, last: int, level: float, swing: float, ups: int
) -> Detection:
    t = data.epochs
    ctx = data.ctx
    return Detection(
        kind="oscillation",
        severity="warning",
        onset=int(t.step[first]),
        epoch=int(t.epoch[first]),
        message=(
            f"Stage {ctx.stage} {what} goes up and down around {level:.4g} "
            f"(+-{100 * swing / level:.0f}%, {ups} rises in {OSC_EPOCH_WINDOW} epochs, "
            "swings larger than the trend)"
        ),
        evidence={
            "level": level,
            "relative_amplitude": swing / level,
            "rises": ups,
            "epochs": OSC_EPOCH_WINDOW,
            "series": "val_loss" if what.startswith("validation") else "train_loss",
            "detected_at_step": int(t.step[last]),
        },
        advice=advice.oscillation_advice(ctx, data.multiplier),
        last_step=int(t.step[-1]),
    )


def fail_fast_risk(data: StageData) -> list[Detection]:
    ctx = data.ctx
    if ctx.threshold is None or not ctx.max_epochs or data.threshold_reached:
        return []
    metric = data.epochs.get(_metric_columns(data)[0])
    finite = np.flatnonzero(np.isfinite(metric))
    for n in range(FAILFAST_MIN_EPOCHS, finite.size + 1):
        rows = finite[:n]
        value = float(metric[rows[-1]])
        done = int(data.epochs.epoch[rows[-1]])
        left = ctx.max_epochs - done
        gap = ctx.threshold - value
        if gap <= 0 or left <= 0:
            continue
        rate = (value - float(metric[rows[-2]])) / max(1, done - int(data.epochs.epoch[rows[-2]]))
        needed = math.inf if rate <= 0 else gap / rate
        if needed > FAILFAST_MARGIN * left:
            return [_fail_fast_detection(data, rows[-1], value, gap, rate, needed, left)]
    return []


def _fail_fast_detection(
    data: StageData, row: int, value: float, gap: float, rate: float, needed: float, left: int
) -> Detection:
    ctx = data.ctx
    done = int(data.epochs.epoch[row])
    total = None if math.isinf(needed) else done + math.ceil(needed)
    projection = "never at the current rate" if total is None else f"by epoch {total}"
    return Detection(
        kind="fail_fast_risk",
        severity="warning",
        onset=int(data.epochs.step[row]),
        epoch=done,
        message=(
            f"Stage {ctx.stage} {ctx.metric} {100 * value:.2f}% after {done}/{ctx.max_epochs} "
            f"epochs reaches the {100 * (ctx.threshold or 0):.2f}% threshold {projection}; "
            f"the run aborts at max epochs"
        ),
        evidence={
            "metric": value,
            "threshold": float(ctx.threshold or 0),
            "gap": gap,
            "gain_per_epoch": rate,
            "epochs_left": left,
            "epochs_needed": -1 if math.isinf(needed) else float(needed),
            "detected_at_step": int(data.epochs.step[row]),
        },
        advice=advice.fail_fast_advice(ctx, total),
        last_step=int(data.epochs.step[row]),
    )


def value_collapse(data: StageData) -> list[Detection]:
    if data.ctx.stage != 3:
        return []
    t = data.epochs
    collapsed = _collapsed_epochs(t)
    run = 0
    for i in range(t.epoch.size):
        run = run + 1 if collapsed[i] else 0
        if run >= VALUE_COLLAPSE_EPOCHS:
            return [_value_collapse_detection(data, i - run + 1, i)]
    return []


def _constant_answer_brier(t: EpochTable) -> np.ndarray:
    """Brier score of the best constant answer, per epoch: the labels' variance when the source
    logs it (``value_constant_brier``; labels with draws score below m(1 - m)), else m(1 - m)
    at the labels' mean (``value_label_mean``, else the predicted mean, else maou's 0.5418)."""
    mean = t.get("value_label_mean")
    mean = np.where(np.isfinite(mean), mean, t.get("value_mean"))
    mean = np.where(np.isfinite(mean), mean, VALUE_COLLAPSE_DEFAULT_MEAN)
    logged = t.get("value_constant_brier")
    return np.where(np.isfinite(logged), logged, mean * (1.0 - mean))


def _collapsed_epochs(t: EpochTable) -> np.ndarray:
    """Per epoch: predictions bunched (spread, or no confident right answer) and uninformative."""
    std = t.get("value_std")
    high = t.get("value_high_confidence_rate")
    brier = t.get("value_brier_score")
    with np.errstate(invalid="ignore"):
        bunched = np.where(
            np.isfinite(std),
            std <= VALUE_COLLAPSE_MAX_STD,
            high <= VALUE_COLLAPSE_MAX_HIGH_CONFIDENCE,
        )
        uninformative = brier >= VALUE_COLLAPSE_MIN_BRIER_SHARE * _constant_answer_brier(t)
    return bunched & uninformative


def _value_collapse_detection(data: StageData, first: int, i: int) -> Detection:
    t = data.epochs
    brier = float(t.get("value_brier_score")[i])
    constant = float(_constant_answer_brier(t)[i])
    std = float(t.get("value_std")[i])
    high = float(t.get("value_high_confidence_rate")[i])
    spread = (
        f"predictions spread {std:.3f}"
        if math.isfinite(std)
        else f"{100 * high:.1f}% right among confident predictions"
    )
    evidence: dict[str, float | int | str] = {
        "value_brier_score": brier,
        "constant_answer_brier": constant,
        "detected_at_step": int(t.step[i]),
    }
    for name, value in (("value_std", std), ("value_high_confidence_rate", high)):
        if math.isfinite(value):
            evidence[name] = value
    return Detection(
        kind="value_collapse",
        severity="warning",
        onset=int(t.step[first]),
        epoch=int(t.epoch[first]),
        message=(
            f"Stage 3 value head collapsed to the mean: {spread}, Brier {brier:.3f} "
            f"(a constant answer scores {constant:.3f})"
        ),
        evidence=evidence,
        advice=advice.value_collapse_advice(data.ctx, data.multiplier),
        last_step=int(t.step[-1]),
    )

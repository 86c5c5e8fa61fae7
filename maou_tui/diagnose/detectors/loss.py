"""Loss-curve detectors: warmup LR too high, oscillation, stagnation (divergence: its module).

They read one stage's loss blocks (``signals.Blocks``: mean, spread and LR per span of steps), so
a new stage (a new head, a new loss scale) is never compared with the previous one.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from maou_tui.diagnose import advice
from maou_tui.diagnose.detectors.base import Detection, StageData
from maou_tui.diagnose.detectors.divergence import (
    DIVERGENCE_CONFIRM_BLOCKS,
    DIVERGENCE_MIN_RISE,
    onset_after_best,
)
from maou_tui.lrtools import format_lr

# --- warmup_lr_too_high ----------------------------------------------------------------------
#: During warmup (or shortly after), a sustained rise of the block mean to this multiple of the
#: best so far means the rising LR made things worse: a healthy warmup only goes down.
WARMUP_RISE_RATIO = 1.3
#: How long after the warmup ends a rise may still begin, as a fraction of the warmup length:
#: the peak LR is reached at its end and the damage shows a little later. A rise that began in
#: that window is the warmup's even when its confirming blocks come after it (the loss going up
#: as the LR peaks is the guide's symptom however long it takes to confirm; a Keras run whose
#: rise began at 70% of its warmup was confirmed only at 1.7x its length).
WARMUP_GRACE_FRACTION = 0.5
#: The LR when the rise starts must be at least this fraction of the peak: noise at LR ~ 0 at
#: the very start of a warmup is not the peak LR's fault.
WARMUP_MIN_LR_FRACTION = 0.25
#: The guide's own check (§5: "LR sqrt scaling で実効LRを確認"): when the warmup's peak effective
#: LR is above the top of the guide's search range for the architecture, stage and batch, a
#: loss that stopped improving in the second half of the warmup (less than this fraction better
#: than in the first half; a healthy warmup improves by a third or more) is the peak's fault.
WARMUP_STALL_MAX_IMPROVEMENT = 0.2

# --- oscillation -----------------------------------------------------------------------------
#: Blocks in the window looked at (with 16 blocks per epoch, about 3/4 of an epoch).
OSC_WINDOW_BLOCKS = 12
#: Detrended block means must swing by at least this fraction of the loss level (the guide's
#: example swings 0.028-0.037 around 0.032, i.e. ~+-12%).
OSC_MIN_REL_AMPLITUDE = 0.05
#: ...and by this many times what batch noise alone gives a block mean (std/sqrt(n)): a healthy
#: curve's block means scatter by about 1x that.
OSC_NOISE_RATIO = 3.0
#: At least this fraction of the window's inner blocks are turning points (paired ups and downs,
#: AutoTrainer's paired extrema); a smooth bend of the curve has one or two.
OSC_MIN_TURN_FRACTION = 0.4
#: No trend: the fitted change across the window is at most this multiple of the swing.
OSC_MAX_TREND_TO_AMPLITUDE = 2.0

# --- stagnation ------------------------------------------------------------------------------
#: Window length in epochs (the guide's example compares epochs 1, 5 and 10).
STAG_WINDOW_EPOCHS = 2
#: Window length in blocks when the epoch length is unknown, and the minimum in any case.
STAG_MIN_WINDOW_BLOCKS = 12
#: Relative improvement of the loss across the window below which it is flat (PyTorch's
#: ReduceLROnPlateau uses 1e-4 per check; the guide's example improves 2% over 5 epochs).
STAG_MAX_REL_IMPROVEMENT = 0.03
#: Late in a cosine decay a flat loss is expected: only flag while the LR is at least this
#: fraction of the stage's peak.
STAG_MIN_LR_FRACTION = 0.3
#: Without a threshold to judge by (Stage 3), only a stage that has improved less than this
#: fraction since its start is stagnating; a plateau after a large drop is convergence.
STAG_MAX_TOTAL_IMPROVEMENT = 0.3


def warmup_window(data: StageData) -> tuple[int, int] | None:
    """(start, end) global steps of the stage's warmup: from StageStarted, else from the LR
    blocks (the LR rose at least 2x from the first block with a positive LR to its peak; a
    linear warmup commonly starts at 0, and HF Trainer logs the LR a step was taken with
    before the scheduler's step, 0 at the first). While the LR is still rising, the warmup
    lasts at least to the last block."""
    ctx = data.ctx
    if ctx.warmup_end is not None:
        return ctx.start_step, ctx.warmup_end
    lr = data.blocks["lr"]
    positive = np.flatnonzero(np.isfinite(lr) & (lr > 0))
    if positive.size < 3:
        return None
    peak_i = int(np.nanargmax(lr))
    if lr[peak_i] < 2 * lr[positive[0]]:
        return None
    return int(data.blocks["start"][0]), int(data.blocks["end"][peak_i]) + 1


def warmup_lr_too_high(data: StageData) -> list[Detection]:
    window = warmup_window(data)
    b = data.blocks
    mean = b["mean"]
    if window is None or mean.size < DIVERGENCE_CONFIRM_BLOCKS + 1:
        return []
    start, end = window
    limit = end + WARMUP_GRACE_FRACTION * (end - start)
    lr = b["lr"]
    peak_lr = float(np.nanmax(lr)) if np.isfinite(lr).any() else float("nan")
    initial = float(mean[0])
    best, best_i, run = initial, 0, 0
    for i in range(1, mean.size):
        if b["start"][i] > limit and run == 0:
            break
        m = float(mean[i])
        lr_ok = (
            not np.isfinite(peak_lr)
            or not np.isfinite(lr[i])
            or (lr[i] >= WARMUP_MIN_LR_FRACTION * peak_lr)
        )
        rising = m >= WARMUP_RISE_RATIO * best and m - best >= DIVERGENCE_MIN_RISE * initial
        run = run + 1 if rising and lr_ok else 0
        if run >= DIVERGENCE_CONFIRM_BLOCKS:
            onset = onset_after_best(mean, best_i, best, i)
            return [_warmup_detection(data, onset, i, best_i, best, (start, end))]
        if m < best:
            best, best_i = m, i
    return _warmup_stall(data, (start, end), limit)


def warmup_divergence(data: StageData, detections: list[Detection]) -> list[Detection]:
    """A divergence that began while the warmup raised the LR (or within its grace window, the
    LR at least WARMUP_MIN_LR_FRACTION of its peak) is the guide's §5 symptom at its worst: the
    loss worsening as the LR reached the warmup's peak. The block rule above misses it when the
    loss jumped at a few points rather than over two blocks; the divergence finding has found
    the episode, and this says whose fault the LR is (the same episode, one more finding)."""
    window = warmup_window(data)
    b = data.blocks
    if (
        window is None
        or b["mean"].size == 0
        or any(d.kind == "warmup_lr_too_high" for d in detections)
    ):
        return detections
    start, end = window
    limit = end + WARMUP_GRACE_FRACTION * (end - start)
    lr = b["lr"]
    peak_lr = float(np.nanmax(lr)) if np.isfinite(lr).any() else float("nan")
    for d in detections:
        if d.kind != "divergence" or not start <= d.onset <= limit:
            continue
        onset = max(0, int(np.searchsorted(b["start"], d.onset, side="right")) - 1)
        if np.isfinite(peak_lr) and lr[onset] < WARMUP_MIN_LR_FRACTION * peak_lr:
            continue
        shown = int(d.evidence.get("detected_at_step", d.onset))
        last = min(b["mean"].size - 1, int(np.searchsorted(b["end"], shown)))
        best_i = int(np.nanargmin(b["mean"][: onset + 1]))
        found = _warmup_detection(data, onset, last, best_i, float(b["mean"][best_i]), window)
        found.evidence["detected_at_step"] = shown
        found.evidence["rule"] = "divergence_in_warmup"
        return [*detections, found]
    return detections


def _warmup_stall(data: StageData, window: tuple[int, int], limit: float) -> list[Detection]:
    """The peak is above the guide's range and the loss stalled as the LR rose to it."""
    ctx = data.ctx
    b = data.blocks
    top = advice.guide_search_top(ctx)
    # block 0 is the untrained model's single point, not progress made during the warmup
    index = np.arange(b["start"].size)
    inside = np.flatnonzero((b["start"] > window[0]) & (b["start"] <= limit) & (index > 0))
    if top is None or inside.size < 4 or b["end"][-1] < limit:
        return []
    above = np.flatnonzero(b["lr"][inside] > top)
    if above.size == 0:
        return []
    half = inside.size // 2
    early, late = float(b["mean"][inside[:half]].mean()), float(b["mean"][inside[half:]].mean())
    improvement = (early - late) / early if early > 0 else 0.0
    if improvement >= WARMUP_STALL_MAX_IMPROVEMENT:
        return []
    onset = int(inside[above[0]])
    last = int(inside[-1])
    found = _warmup_detection(data, onset, last, onset, float(b["mean"][onset]), window)
    found.message = (
        f"Stage {ctx.stage} warmup peak LR {format_lr(float(np.nanmax(b['lr'])))} is above the "
        f"guide's range (<= {format_lr(top)}) and the loss stalled as it rose "
        f"({100 * improvement:.0f}% better over the warmup's second half)"
    )
    found.evidence["guide_search_top"] = top
    found.evidence["warmup_improvement"] = improvement
    return [found]


def _warmup_detection(
    data: StageData, onset: int, i: int, best_i: int, best: float, window: tuple[int, int]
) -> Detection:
    b = data.blocks
    ctx = data.ctx
    lr_at = float(b["lr"][onset])
    after = int(b["start"][onset]) >= window[1]
    when = "after warmup ended" if after else "while the warmup raised the LR"
    scale = advice.scale_in_force(ctx)
    evidence: dict[str, float | int | str] = {
        "best_loss": best,
        "best_step": int(b["end"][best_i]),
        "loss": float(b["mean"][i]),
        "ratio": float(b["mean"][i]) / best,
        "lr_at_onset": lr_at,
        "warmup_start": window[0],
        "warmup_end": window[1],
        "detected_at_step": int(b["end"][i]),
    }
    if scale:
        evidence["lr_scale"] = scale
    if ctx.effective_lr:
        evidence["effective_lr"] = ctx.effective_lr
    return Detection(
        kind="warmup_lr_too_high",
        severity="warning",
        onset=int(b["start"][onset]),
        epoch=int(b["epoch"][onset]),
        message=(
            f"Stage {ctx.stage} loss rose {float(b['mean'][i]) / best:.2f}x {when} "
            f"(LR {format_lr(lr_at) if np.isfinite(lr_at) else '?'})"
        ),
        evidence=evidence,
        advice=advice.warmup_advice(ctx, data.multiplier),
        last_step=int(b["end"][i]),
    )


def _after_warmup_index(data: StageData) -> int:
    """First block index past warmup (and past the stage's first two blocks)."""
    window = warmup_window(data)
    first = 2
    if window is not None:
        first = max(first, int(np.searchsorted(data.blocks["start"], window[1])))
    return first


def _oscillating_windows(b: dict[str, np.ndarray], first: int) -> list[tuple[int, dict]]:
    """(window start, stats) of every window of OSC_WINDOW_BLOCKS blocks from ``first`` on
    that oscillates; all windows are computed at once (a live update re-checks them all)."""
    w = OSC_WINDOW_BLOCKS
    mean = b["mean"][first:]
    if mean.size < w:
        return []
    windows = sliding_window_view(mean, w)
    x = np.arange(w, dtype=np.float64) - (w - 1) / 2
    level = windows.mean(axis=1)
    slope = (windows * x).sum(axis=1) / (x * x).sum()
    resid = windows - level[:, None] - slope[:, None] * x
    amp = resid.std(axis=1)
    # the standard error of each block mean (std with Bessel's correction: blocks can be small)
    noise_each = b["std"][first:] / np.sqrt(np.maximum(b["count"][first:] - 1, 1))
    noise = np.median(sliding_window_view(noise_each, w), axis=1)
    d = np.sign(np.diff(resid, axis=1))
    turning = d[:, 1:] * d[:, :-1] < 0
    turns = turning.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        rel_amp = amp / level
        trend = np.abs(slope * (w - 1)) / level
    ok = (
        (level > 0)
        & (rel_amp >= OSC_MIN_REL_AMPLITUDE)
        & (amp >= OSC_NOISE_RATIO * noise)
        & (turns / (w - 2) >= OSC_MIN_TURN_FRACTION)
        & (trend <= OSC_MAX_TREND_TO_AMPLITUDE * rel_amp)
    )
    found = []
    for k in np.flatnonzero(ok).tolist():
        stats = {
            "relative_amplitude": float(rel_amp[k]),
            "noise_ratio": float(amp[k] / noise[k]) if noise[k] > 0 else float("inf"),
            "turning_points": int(turns[k]),
            "trend": float(trend[k]),
            "level": float(level[k]),
            "first_turn": int(np.argmax(turning[k])),
        }
        found.append((first + k, stats))
    return found


def oscillation(data: StageData) -> list[Detection]:
    b = data.blocks
    first = _after_warmup_index(data)
    # windows already judged are kept (while the warmup end, hence ``first``, stays put)
    memo = data.memo.get("oscillation")
    if memo is None or memo["first"] != first:
        memo = data.memo["oscillation"] = {"first": first, "next": first, "hits": []}
    start = memo["next"]
    memo["hits"] += _oscillating_windows(b, start)
    memo["next"] = max(start, b["mean"].size - OSC_WINDOW_BLOCKS + 1)
    episodes: list[tuple[int, int, dict[str, float]]] = []
    for lo, stats in memo["hits"]:
        end = lo + OSC_WINDOW_BLOCKS
        if episodes and lo <= episodes[-1][1]:
            episodes[-1] = (episodes[-1][0], end - 1, stats)
        else:
            episodes.append((lo + int(stats["first_turn"]), end - 1, stats))
    return [_oscillation_detection(data, *e) for e in episodes]


def _oscillation_detection(
    data: StageData, onset: int, last: int, stats: dict[str, float]
) -> Detection:
    b = data.blocks
    ctx = data.ctx
    evidence: dict[str, float | int | str] = dict(stats)
    evidence.pop("first_turn")
    evidence["lr"] = float(b["lr"][last])
    evidence["detected_at_step"] = int(b["end"][last])
    return Detection(
        kind="oscillation",
        severity="warning",
        onset=int(b["start"][onset]),
        epoch=int(b["epoch"][onset]),
        message=(
            f"Stage {ctx.stage} loss oscillates +-{100 * stats['relative_amplitude']:.0f}% "
            f"around {stats['level']:.4g} with no trend ({int(stats['turning_points'])} swings)"
        ),
        evidence=evidence,
        advice=advice.oscillation_advice(ctx, data.multiplier),
        last_step=int(b["end"][last]),
    )


def _stagnation_window(data: StageData) -> int:
    ctx = data.ctx
    span = (
        max(1, int(np.median(np.diff(data.blocks["start"]))))
        if len(data.blocks["start"]) > 1
        else 1
    )
    if ctx.steps_per_epoch:
        return max(STAG_MIN_WINDOW_BLOCKS, round(STAG_WINDOW_EPOCHS * ctx.steps_per_epoch / span))
    return STAG_MIN_WINDOW_BLOCKS * 2


def stagnation(data: StageData) -> list[Detection]:
    b = data.blocks
    ctx = data.ctx
    mean, lr = b["mean"], b["lr"]
    width = _stagnation_window(data)
    first = _after_warmup_index(data)
    if data.threshold_reached or mean.size < first + width:
        return []
    peak_lr = float(np.nanmax(lr)) if np.isfinite(lr).any() else float("nan")
    initial = float(mean[: max(1, min(2, mean.size))].mean())
    q = max(1, width // 4)
    ends = np.arange(first + width, mean.size + 1)
    sums = np.concatenate(([0.0], np.cumsum(mean)))
    before = (sums[ends - width + q] - sums[ends - width]) / q
    after = (sums[ends] - sums[ends - q]) / q
    with np.errstate(divide="ignore", invalid="ignore"):
        improvement = np.where(before > 0, (before - after) / before, 0.0)
    total = (initial - after) / initial if initial > 0 else np.zeros(ends.size)
    lr_end = lr[ends - 1]
    late_decay = (
        np.isfinite(peak_lr) & np.isfinite(lr_end) & (lr_end < STAG_MIN_LR_FRACTION * peak_lr)
    )
    below_threshold = ctx.threshold is not None and (
        data.metric_now is None or data.metric_now < ctx.threshold
    )
    progress_small = below_threshold | (total < STAG_MAX_TOTAL_IMPROVEMENT)
    hits = np.flatnonzero((improvement < STAG_MAX_REL_IMPROVEMENT) & ~late_decay & progress_small)
    if hits.size == 0:
        return []
    end = int(ends[hits[0]])
    k = int(hits[0])
    return [
        _stagnation_detection(data, end - width, end - 1, float(improvement[k]), float(total[k]))
    ]


def _stagnation_detection(
    data: StageData, lo: int, last: int, improvement: float, total: float
) -> Detection:
    b = data.blocks
    ctx = data.ctx
    window = warmup_window(data)
    in_warmup = window is not None and int(b["end"][last]) < window[1]
    span_steps = int(b["end"][last] - b["start"][lo])
    evidence: dict[str, float | int | str] = {
        "window_steps": span_steps,
        "relative_improvement": improvement,
        "total_improvement": total,
        "loss": float(b["mean"][last]),
        "lr": float(b["lr"][last]),
        "detected_at_step": int(b["end"][last]),
    }
    if ctx.threshold is not None:
        evidence["threshold"] = ctx.threshold
    if data.metric_now is not None:
        evidence["metric"] = data.metric_now
    return Detection(
        kind="stagnation",
        severity="warning",
        onset=int(b["start"][lo]),
        epoch=int(b["epoch"][lo]),
        message=(
            f"Stage {ctx.stage} loss nearly flat: {100 * improvement:.1f}% better over the last "
            f"{span_steps} steps" + (", threshold not reached" if ctx.threshold is not None else "")
        ),
        evidence=evidence,
        advice=advice.stagnation_advice(ctx, in_warmup, data.multiplier),
        last_step=int(b["end"][-1]),
    )

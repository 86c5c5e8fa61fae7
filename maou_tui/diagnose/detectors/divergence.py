"""Divergence: the loss of a stage running away from its best, or from the untrained model's.

Reads one stage's loss blocks (``signals.Blocks``). The scan resumes where the last live call
stopped (closed blocks never change), so live and offline findings are the same.
"""

from __future__ import annotations

import math

import numpy as np

from maou_tui.diagnose import advice
from maou_tui.diagnose.detectors.base import Detection, StageData
from maou_tui.stages import STAGES

#: A block mean this many times the best block mean so far is divergence. fastai/Lightning stop
#: an LR sweep at 4x the best smoothed loss; mid-training a doubling of the averaged loss is
#: already far outside block-to-block noise (a few percent on every curve of the corpus).
DIVERGENCE_RATIO = 2.0
#: A loss this far above the untrained model's (the stage's first point), for the confirming
#: blocks, is divergence even without a "best" to compare with: training only ever lowers the
#: loss of a fresh model; a too-high LR can throw it up at once and leave it stuck there.
DIVERGENCE_ABOVE_INITIAL_RATIO = 1.3
#: ...and the rise must be at least this fraction of the stage's first block mean: near a loss of
#: zero a doubling can be a tiny absolute wiggle (0.002 -> 0.004) that no one should act on.
DIVERGENCE_MIN_RISE = 0.10
#: Consecutive blocks above the ratio before it is reported: one bad block is a spike, not a run.
DIVERGENCE_CONFIRM_BLOCKS = 2
#: ...unless one block is this far above the best: fastai's and Lightning's LR sweeps stop at
#: 4x the best smoothed loss. A far too high LR explodes in the first few batches and then
#: settles on a trivial solution, so a single block is all there is to see.
DIVERGENCE_SPIKE_RATIO = 4.0
#: A block holding a batch at DIVERGENCE_SPIKE_RATIO x the best, with its mean this far above the
#: best, is a spike of several batches (one outlier batch moves a block mean far less).
DIVERGENCE_SPIKE_MEAN_RATIO = 1.5
#: Blocks in a row at or above the untrained model's loss (the stage's first point), whose mean
#: is DIVERGENCE_MIN_RISE above it, are divergence: training never leaves the loss above where it
#: started for a quarter of an epoch (a far too low LR keeps it *at* that level, within a few
#: percent), while an LR that threw the network off leaves it there, at chance or worse.
DIVERGENCE_ABOVE_UNTRAINED_BLOCKS = 4
#: A freshly initialised network has logits near 0, so a BCE-with-logits loss (maou's Stage 1
#: reachable squares and Stage 2 legal moves) starts at ln 2 per label (x the positive weight at
#: most). A stage whose first logged point is DIVERGENCE_SPIKE_RATIO times that exploded before
#: its log's first line (maou-format logs print a running mean from batch 3 or 50 on, so an
#: explosion in batches 1-2 shows only as a first point far above ln 2).
BCE_UNTRAINED_LOSS = math.log(2)
BCE_STAGE_NAMES = (STAGES[1].name, STAGES[2].name)
#: The onset is the first block after the best one that is this much above it.
ONSET_RATIO = 1.25
#: An episode ends when the loss comes back below this multiple of the best.
DIVERGENCE_RECOVERED_RATIO = 1.5


def onset_after_best(mean: np.ndarray, best_i: int, best: float, upto: int) -> int:
    for j in range(best_i + 1, upto + 1):
        if mean[j] > ONSET_RATIO * best:
            return j
    return upto


def untrained_loss_bound(data: StageData) -> float | None:
    """The loss above which a maou Stage 1/2 first point cannot come from a fresh network."""
    ctx = data.ctx
    if ctx.stage not in (1, 2) or (ctx.name or "").upper() not in BCE_STAGE_NAMES:
        return None
    weight = max(1.0, float(ctx.pos_weight or 1.0))
    return DIVERGENCE_SPIKE_RATIO * BCE_UNTRAINED_LOSS * weight


def divergence(data: StageData) -> list[Detection]:
    mean, peaks = data.blocks["mean"], data.blocks["max"]
    if mean.size < 2:
        return []
    initial = float(mean[0])
    # the scan's state after the last block seen, so a live call resumes instead of rescanning
    state = data.memo.get("divergence")
    if state is None:
        state = data.memo["divergence"] = {
            "i": 1,
            "best": initial,
            "best_i": 0,
            "run": 0,
            "above": 0,
            "open": False,
            "ep": [],
        }
        bound = untrained_loss_bound(data)
        if bound is not None and initial >= bound:
            state["ep"].append([0, 0, 0, 0, initial, "first_point", bound])
    best, best_i, run, in_episode = state["best"], state["best_i"], state["run"], state["open"]
    above = state["above"]
    episodes: list[list] = state["ep"]  # [onset, detected, last, best block, best, why, ref]
    for i in range(state["i"], mean.size):
        m = float(mean[i])
        if in_episode:
            if m < DIVERGENCE_RECOVERED_RATIO * best:
                in_episode = False
                if m < best:
                    best, best_i = m, i
            else:
                episodes[-1][2] = i
            continue
        big_enough = m - best >= DIVERGENCE_MIN_RISE * initial
        high = m >= DIVERGENCE_RATIO * best or m >= DIVERGENCE_ABOVE_INITIAL_RATIO * initial
        run = run + 1 if high and big_enough else 0
        above = above + 1 if m >= initial else 0
        k = DIVERGENCE_ABOVE_UNTRAINED_BLOCKS
        stuck_above = (
            above >= k
            and float(mean[i - k + 1 : i + 1].mean()) >= (1 + DIVERGENCE_MIN_RISE) * initial
        )
        peak = float(peaks[i])
        spike = big_enough and (
            m >= DIVERGENCE_SPIKE_RATIO * best
            or (peak >= DIVERGENCE_SPIKE_RATIO * best and m >= DIVERGENCE_SPIKE_MEAN_RATIO * best)
        )
        if run >= DIVERGENCE_CONFIRM_BLOCKS or spike or stuck_above:
            after = max(best_i, episodes[-1][2] if episodes else 0)
            if stuck_above and not (run >= DIVERGENCE_CONFIRM_BLOCKS or spike):
                onset, why = i - above + 1, "above_untrained"
            else:
                onset, why = onset_after_best(mean, after, best, i), "rise"
            episodes.append([onset, i, i, best_i, best, why, initial])
            in_episode, run, above = True, 0, 0
        elif m < best:
            best, best_i = m, i
    state.update(i=mean.size, best=best, best_i=best_i, run=run, above=above, open=in_episode)
    return [_divergence_detection(data, *e) for e in episodes]


def _divergence_detection(
    data: StageData,
    onset: int,
    detected: int,
    last: int,
    best_i: int,
    best: float,
    why: str,
    ref: float,
) -> Detection:
    b = data.blocks
    peak = float(b["mean"][onset : last + 1].max())
    ctx = data.ctx
    # a loss that reached 0 (a memorised training set) has no finite ratio to a rise
    floor = max(best, 1e-12)
    if why == "first_point":
        what = (
            f"the stage's first point, {peak / BCE_UNTRAINED_LOSS:.1f}x the ln 2 a fresh "
            "network's BCE loss starts at: it exploded before the log's first line"
        )
    elif why == "above_untrained":
        what = f"above the untrained model's {ref:.4g} for {last - onset + 1} blocks"
    elif best_i == 0:
        what = f"{peak / floor:.1f}x the untrained model's {best:.4g}"
    else:
        what = f"{peak / floor:.3g}x its best {best:.4g} (step {int(b['end'][best_i])})"
    return Detection(
        kind="divergence",
        severity="critical",
        onset=int(b["start"][onset]),
        epoch=int(b["epoch"][onset]),
        message=f"Stage {ctx.stage} loss diverging: {peak:.4g} is {what}",
        evidence={
            "best_loss": best,
            "best_step": int(b["end"][best_i]),
            "loss": float(b["mean"][last]),
            "peak_loss": peak,
            "ratio": peak / floor,
            "lr": float(b["lr"][onset]),
            "detected_at_step": int(b["end"][detected]),
            "rule": why,
            "reference_loss": ref,
        },
        advice=advice.lr_advice("divergence", ctx, data.multiplier),
        last_step=int(b["end"][last]),
    )


#: A single logged loss this many times the stage's first logged point (the untrained model's
#: loss, or close to it) is a blow-up, reported at that point: training never takes the loss of
#: a fresh network three times above where it started, and waiting for blocks to confirm it
#: would report it a sixteenth of an epoch late. Read on the values as logged (a running mean
#: that triples has batches far above that).
BLOWUP_POINT_RATIO = 3.0


#: A fresh network's batch losses scatter a few percent around its first one (logits near 0
#: score about ln C on every batch: the LR-1e-5 runs of the corpus logged 2.28-2.39 around
#: 2.33), and training only lowers them. A batch this far above the stage's first logged point
#: means the weights were thrown somewhere worse than random, which only a step too large
#: does. A far too high LR can throw a network to chance within its first steps and leave its
#: mean at the untrained level, where it looks like a stagnating run (which needs the
#: opposite advice): these batches above it tell the two apart.
THROWN_OFF_RATIO = 1.25
#: ...once this many logged points (the stage's first one excluded) are that high: one odd
#: batch is not a pattern. Counted from a stage whose first logged point is in its first epoch
#: (a log that starts later, e.g. a resumed run, has no untrained point to compare with).
THROWN_OFF_POINTS = 3
#: A logged loss this many times the median of the same series' last RECENT_POINTS finite
#: points is a jump no batch noise makes (healthy batches scatter a few tens of percent about
#: their recent level; the guide's divergence example rises 5x within a hundred batches). Read on
#: the values as logged: a running mean since the epoch start or an EMA dilutes a bad batch, so
#: a jump this large in either means batches far higher (the rule is stricter on them, never
#: looser); at an epoch start a running mean restarts at one batch's loss, whose scatter is a
#: batch's, well under 2x.
RECENT_BLOWUP_RATIO = 2.0
#: ...and the loss is this far above the stage's first logged point (the untrained network's):
#: a trained network's loss doubling from near zero (0.01 -> 0.02) is batch noise, not a blow-up.
RECENT_BLOWUP_ABOVE_UNTRAINED = 1.5
#: The recent level: the median of this many finite points before (at least RECENT_MIN_POINTS).
RECENT_POINTS = 8
RECENT_MIN_POINTS = 3
#: The rules found at a logged point rather than from blocks (one episode with a block rule).
POINT_RULES = ("point_blowup", "points_above_untrained", "recent_blowup")


def thrown_off(values: np.ndarray, reference: float, seen: list[int], offset: int) -> int | None:
    """Index of the point at which THROWN_OFF_POINTS points in all have been at least
    THROWN_OFF_RATIO x ``reference``; ``seen`` collects the indices (+ ``offset``) of those
    points across calls (None: not yet)."""
    if not (math.isfinite(reference) and reference > 0):
        return None
    with np.errstate(invalid="ignore"):
        hits = np.flatnonzero(values >= THROWN_OFF_RATIO * reference)
    need = THROWN_OFF_POINTS - len(seen)
    seen += (hits[:need] + offset).tolist()
    return int(hits[need - 1]) if hits.size >= need else None


def first_blowup(values: np.ndarray, reference: float) -> int | None:
    """Index of the first value at least BLOWUP_POINT_RATIO x ``reference`` (None: none)."""
    if not (math.isfinite(reference) and reference > 0):
        return None
    with np.errstate(invalid="ignore"):
        hits = np.flatnonzero(values >= BLOWUP_POINT_RATIO * reference)
    return int(hits[0]) if hits.size else None


def recent_blowup(values: np.ndarray, first: int, reference: float) -> int | None:
    """Index (from ``first`` on) of the first value RECENT_BLOWUP_RATIO x the median of the
    finite values before it (RECENT_POINTS of them, from index 0 on) and
    RECENT_BLOWUP_ABOVE_UNTRAINED x ``reference`` (None: none). Only the values above the
    second bar are looked at one by one: a healthy run has none."""
    if not (math.isfinite(reference) and reference > 0):
        return None
    with np.errstate(invalid="ignore"):
        candidates = np.flatnonzero(values[first:] >= RECENT_BLOWUP_ABOVE_UNTRAINED * reference)
    for i in (candidates + first).tolist():
        before = values[max(0, i - 4 * RECENT_POINTS) : i]
        before = before[np.isfinite(before)][-RECENT_POINTS:]
        if before.size >= RECENT_MIN_POINTS and values[i] >= RECENT_BLOWUP_RATIO * float(
            np.median(before)
        ):
            return int(i)
    return None


def point_blowup(data: StageData) -> list[Detection]:
    """The first logged point far above the stage's first one, at that very step."""
    if data.first_blowup is None:
        return []
    onset, step, loss, reference, rule = data.first_blowup
    ctx = data.ctx
    if rule == "point_blowup":
        what = f"blew up: {loss:.4g} at step {step} is {loss / reference:.1f}x"
    elif rule == "recent_blowup":
        what = (
            f"jumped: {loss:.4g} at step {step} is over {RECENT_BLOWUP_RATIO:g}x its recent "
            f"level and {loss / reference:.1f}x"
        )
    else:
        what = (
            f"thrown off: {THROWN_OFF_POINTS} logged losses since step {onset} are "
            f">= {THROWN_OFF_RATIO}x (now {loss:.4g} at step {step}), worse than"
        )
    return [
        Detection(
            kind="divergence",
            severity="critical",
            onset=onset,
            epoch=None,
            message=f"Stage {ctx.stage} loss {what} the stage's first logged loss {reference:.4g}",
            evidence={
                "loss": loss,
                "reference_loss": reference,
                "ratio": loss / reference,
                "rule": rule,
                "detected_at_step": step,
            },
            advice=advice.lr_advice("divergence", ctx, data.multiplier),
            last_step=max(step, data.last_step),
        )
    ]

"""Labels of a run, decided by written rules over its logged epoch series.

The rules read what a person would look at after the run: the epoch means of the train loss,
the validation accuracy and loss, and whether any logged loss was not finite. They were written
before the framework runs were generated and are not changed after scoring. They do not reuse
a detector's feature or threshold: the detectors read loss blocks of 1/16 epoch, LR phases and
trend/swing statistics of loss curves; the labels lean on the validation *accuracy*, on the
task's chance loss ln C, and on whole-run comparisons, with their own thresholds.

Rules (C classes, chance loss ln C; "learned" = a validation accuracy of at least 0.5):
- ``nan``: some logged train loss is not finite.
- ``divergence``: some epoch's mean train loss is at least 1.5 ln C (worse than guessing), or
  some logged step's train loss is at least 2 ln C, or the run learned and its last
  validation accuracy is at most 0.25 (learned, then lost).
- ``stagnation``: neither of the above, never learned, and the last epoch's train loss is at
  least 0.8 ln C (it never left chance).
- ``overfitting``: no divergence or NaN, learned; the validation loss's minimum is at least 3
  epochs before the end, the last validation loss is at least 1.10x that minimum, it rose in
  at least 2/3 of the epochs after the minimum, and the last train loss is at most 0.7x the
  train loss at the minimum's epoch.
- ``oscillation``: no divergence, NaN or overfitting, learned, and the validation accuracy
  fell by at least 2 points from one epoch to the next at least 3 times.
- ``warmup_lr_too_high``: the run warmed up over W epochs and, within epochs 2..W+1, the
  validation accuracy fell 5 points below its best so far, or an epoch's train loss reached
  1.5 ln C; or an epoch's train loss in epochs W+1..W+2 (the LR at its peak) is at least 1.5x
  the lowest epoch train loss before it.

Changed once after the first scoring (seeds 0 and 1; said in docs/diagnostics.md): the step
clause of ``divergence`` (SGD at LR 5 threw every network to chance within a few steps, step
losses 5.9-32 against ln 10 = 2.3, and the rules called that stagnation), the peak clause of
``warmup_lr_too_high`` (train losses 0.33 -> 0.73 as the LR reached its peak were labelled
healthy) and the overfitting threshold 1.25x -> 1.10x with the sustained-rise condition (a
validation loss rising for 28 epochs, 0.415 -> 0.493, was labelled healthy).
A run with no label is healthy. ``COMPANIONS`` lists the findings a label makes acceptable
(the same episode seen another way), fixed with the rules.

The companion list was changed once, in session 6, after scoring the fourth held-out part and
before generating the fifth, so the fourth part's figures under the new list are calibration
figures. Decided from the LR guide (shared/seeds/003), not from the scores; a companion is the
same too-high or too-low LR seen by another of the guide's symptoms, and never a finding whose
advice points the other way:
- ``divergence`` accepts ``warmup_lr_too_high``: the guide's section 5 is a loss that worsens
  once the warmup reaches a too-high LR; when a run with a warmup diverges there, both name the
  same episode and both say lower the (peak) LR. Before, no warmup finding was accepted.
- ``oscillation`` accepts ``divergence``: section 3 (losses going up and down at a somewhat
  too-high LR) and section 1 (a sharp rise, e.g. 5x within a few logged steps) are the same LR
  problem at two strengths, and the table of Step 3 says lower the LR for both. A spike of the
  loss inside an oscillating run is section 1's sign. Before, nothing was accepted.
- Kept as they were: ``nan`` <-> ``divergence`` (section 1 ends in ``Loss=nan``); a diverged or
  warmup-broken network then sits at chance (stagnation) or swings (oscillation); overfitting's
  validation curve swings (oscillation). ``stagnation`` accepts nothing: its advice is to *raise*
  the LR (2-5x), every other kind's is to lower it, so no other finding can be its companion.
"""

from __future__ import annotations

import json
import math
from itertools import pairwise
from pathlib import Path
from typing import Any

LEARNED_ACCURACY = 0.5
#: Findings acceptable beside a label (the reasons are in the module docstring): a NaN run
#: diverged on its way; a diverged or warmup-broken network then sits at chance (flat, or
#: swinging); a divergence in the warmup is the guide's warmup symptom; an oscillating run's
#: sharpest rise is the guide's divergence symptom.
COMPANIONS: dict[str, set[str]] = {
    "nan": {"divergence"},
    "divergence": {"nan", "stagnation", "oscillation", "warmup_lr_too_high"},
    "warmup_lr_too_high": {"divergence", "nan", "oscillation", "stagnation"},
    "overfitting": {"oscillation"},
    "oscillation": {"divergence"},
    "stagnation": set(),
}
#: Kinds scored (severity warning or above).
SCORED = ("divergence", "nan", "stagnation", "oscillation", "overfitting", "warmup_lr_too_high")


def read_series(events_path: Path) -> dict[str, Any]:
    """The epoch rows, whether any step loss was not finite, and the run config."""
    rows: list[dict[str, Any]] = []
    nonfinite = False
    max_step_loss = -math.inf
    config: dict[str, Any] = {}
    for line in events_path.read_text().splitlines():
        event = json.loads(line)
        if event["type"] == "run_started":
            config = event.get("config") or {}
        elif event["type"] == "step":
            loss = event.get("loss")
            nonfinite |= loss is None or not math.isfinite(loss)
            if loss is not None and math.isfinite(loss):
                max_step_loss = max(max_step_loss, loss)
        elif event["type"] == "epoch_end":
            rows.append(event)
    return {"rows": rows, "nonfinite": nonfinite, "max_step_loss": max_step_loss, "config": config}


def _finite(values: list[Any]) -> list[float]:
    return [float(v) for v in values if v is not None and math.isfinite(v)]


def labels(series: dict[str, Any]) -> set[str]:
    """The label set of one run by the rules above (C from the run config's ``classes``)."""
    chance = math.log(int(series["config"].get("classes") or 10))
    rows = series["rows"]
    train = [r.get("train_loss") for r in rows]
    val = [r.get("val_loss") for r in rows]
    acc = [r.get("val_metric") for r in rows]
    accs = _finite(acc)
    learned = bool(accs) and max(accs) >= LEARNED_ACCURACY
    found: set[str] = set()
    if series["nonfinite"]:
        found.add("nan")
    if (
        any(v >= 1.5 * chance for v in _finite(train))
        or series["max_step_loss"] >= 2 * chance
        or (learned and accs[-1] <= 0.25)
    ):
        found.add("divergence")
    broken = bool(found)
    last_train = _finite(train)[-1] if _finite(train) else math.nan
    if not broken and not learned and last_train >= 0.8 * chance:
        found.add("stagnation")
    if not broken and learned and _overfits(train, val):
        found.add("overfitting")
    if not broken and learned and "overfitting" not in found:
        drops = sum(
            1 for a, b in pairwise(acc) if a is not None and b is not None and b <= a - 0.02
        )
        if drops >= 3:
            found.add("oscillation")
    warm = int(series["config"].get("warmup_epochs") or 0)
    if warm and (
        _warmup_broke(train[: warm + 1], acc[: warm + 1], chance) or _worse_at_peak(train, warm)
    ):
        found.add("warmup_lr_too_high")
    return found


def _overfits(train: list[Any], val: list[Any]) -> bool:
    pairs = [(i, float(v)) for i, v in enumerate(val) if v is not None and math.isfinite(v)]
    if len(pairs) < 4:
        return False
    best_i, best = min(pairs, key=lambda p: p[1])
    last_i, last = pairs[-1]
    t_best, t_last = train[best_i], train[last_i]
    after = [v for i, v in pairs if i >= best_i]
    rises = sum(1 for a, b in pairwise(after) if b > a)
    return (
        last_i - best_i >= 3
        and last >= 1.10 * best
        and rises >= 2 * (len(after) - 1) / 3
        and t_best is not None
        and t_last is not None
        and t_last <= 0.7 * t_best
    )


def _warmup_broke(train: list[Any], acc: list[Any], chance: float) -> bool:
    if any(v >= 1.5 * chance for v in _finite(train)):
        return True
    best = -math.inf
    for i, a in enumerate(acc):
        if a is None or not math.isfinite(a):
            continue
        if i >= 1 and a <= best - 0.05:
            return True
        best = max(best, a)
    return False


def _worse_at_peak(train: list[Any], warm: int) -> bool:
    """An epoch train loss at the LR's peak (epochs W+1..W+2) 1.5x the lowest before it."""
    for i in (warm, warm + 1):
        before = _finite(train[:i])
        value = train[i] if i < len(train) else None
        if value is not None and before and math.isfinite(value) and value >= 1.5 * min(before):
            return True
    return False


def allowed(found: set[str]) -> set[str]:
    """Kinds that are not false alarms for a run labelled ``found``."""
    out = set(found)
    for kind in found:
        out |= COMPANIONS.get(kind, set())
    return out

"""Advice for each finding kind, from the LR guide (seed 003 §ログからの診断, Step 3 table).

Values are CLI values: what to pass to the stage's option (``maou_tui.lrtools.stage_lr_option``),
i.e. the effective LR divided by the sqrt batch scale in force. The LR tables and the scaling rule
come from ``maou_tui.lrtools`` so that advice and ``maou-tui recommend`` never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

from maou_tui.diagnose.context import StageContext
from maou_tui.diagnose.models import ActionId, Advice
from maou_tui.lrtools import (
    BASE_BATCH_SIZE,
    TABLES,
    Recommendation,
    format_lr,
    normalise_arch,
    recommend,
    sqrt_scale,
)
from maou_tui.lrtools import stage_lr_option as _stage_lr_option
from maou_tui.stages import STAGES


@dataclass(frozen=True)
class LrRule:
    """The guide's direction and range for one symptom, the factor we suggest, the app action."""

    factor: float
    guide_range: str
    action: ActionId | None


#: Step 3 of the guide: 発散/nan 1/5〜1/2, 振動 1/3〜1/2, 停滞 2〜5倍, 過学習 1/2 + dropout.
#: The factor suggested is inside the guide's range: 1/3 for divergence (halving often is not
#: enough once the loss has run away), 1/5 for NaN, 1/2 where halve_lr applies it directly,
#: 2 for stagnation (the low end: raising too far turns stagnation into oscillation).
LR_RULES: dict[str, LrRule] = {
    "divergence": LrRule(1 / 3, "lower the LR to 1/5-1/2", "set_lr"),
    "nan": LrRule(1 / 5, "lower the LR to 1/5-1/2 (gradient clipping is on by default)", "set_lr"),
    "oscillation": LrRule(1 / 2, "lower the LR to 1/3-1/2", "halve_lr"),
    "stagnation": LrRule(2.0, "raise the LR 2-5x", "double_lr"),
    "overfitting": LrRule(1 / 2, "lower the LR to 1/2 and add regularisation", "halve_lr"),
    "warmup_lr_too_high": LrRule(
        1 / 2, "the peak (effective) LR after sqrt scaling is high", "set_lr"
    ),
}


#: The LR setting of each framework other than maou, named as its users set it
#: (``context.run_source`` says which produced the run).
LR_KNOBS: dict[str, str] = {
    "transformers": "TrainingArguments(learning_rate=)",
    "lightning": "the optimizer's lr (configure_optimizers)",
    "keras": "the optimizer's learning_rate",
    "torch": "the optimizer's lr",
}


#: A log without maou's stages whose trainer is not known (a console log read by the other
#: trainers' readers, which do not say whose it is): the LR as it prints it, and where each
#: trainer sets it.
UNKNOWN_TRAINER_LR = "the trainer's LR"
UNKNOWN_TRAINER_NOTE = (
    "set in HF TrainingArguments(learning_rate=), Lightning's configure_optimizers or a "
    "plain loop's optimizer lr, Keras' optimizer learning_rate"
)


def stage_lr_option(stage: int | None, source: str = "maou") -> str | None:
    """The setting that changes the LR: maou's option for the stage, the framework's knob, or
    for a stageless log of an unknown trainer ``UNKNOWN_TRAINER_LR``."""
    if source in LR_KNOBS:
        return LR_KNOBS[source]
    return _stage_lr_option(stage) if stage in (1, 2, 3) else UNKNOWN_TRAINER_LR


def is_maou(ctx: StageContext) -> bool:
    """maou's options, sqrt batch scaling and the guide's LR tables apply to the run."""
    return ctx.source not in LR_KNOBS


def scale_in_force(ctx: StageContext) -> float | None:
    """The sqrt factor the trainer applied: the logged one, else computed from the batch size
    (maou and this project's trainer only: other trainers use the LR they are given)."""
    if not is_maou(ctx):
        return None
    if ctx.lr_scale:
        return ctx.lr_scale
    if ctx.batch_size and ctx.batch_size > 0:
        return sqrt_scale(ctx.batch_size, ctx.stage)
    return None


def current_cli_lr(ctx: StageContext, multiplier: float = 1.0) -> float | None:
    """The CLI value that gives the LR in force now (the live multiplier included)."""
    base = ctx.base_lr
    if base is None and ctx.effective_lr is not None:
        # no sqrt factor logged and no batch size to compute it: the LR as logged is the best
        # estimate of the CLI value (the factor is 1 up to maou's base batch of 256)
        base = ctx.effective_lr / (scale_in_force(ctx) or 1.0)
    return base * multiplier if base is not None else None


def arch_note(ctx: StageContext) -> str:
    """The guide's characterisation of the architecture ("ViT wants lower LRs")."""
    if not ctx.architecture or not is_maou(ctx):
        return ""
    try:
        return TABLES[normalise_arch(ctx.architecture)].summary
    except ValueError:
        return ""


def guide_search_top(ctx: StageContext) -> float | None:
    """The top of the guide's search range (effective LR) for this stage. With the architecture
    unknown (a maou log does not name it), the highest top of any architecture in the guide's
    tables: an LR above that is too high whatever the network."""
    if not is_maou(ctx):
        return None
    rec = _recommendation(ctx)
    if rec is not None:
        return rec.search_range[1]
    batch = ctx.batch_size or _largest_batch_for_scale(ctx)
    if ctx.architecture or batch is None or ctx.stage not in (1, 2):
        return None
    return max(recommend(arch, ctx.stage, batch).search_range[1] for arch in TABLES)


def lr_below_guide(ctx: StageContext, multiplier: float = 1.0) -> bool:
    """The effective LR in force is below the bottom of the guide's search range for the stage
    (with the architecture unknown: below every architecture's bottom, at the stage's batch or
    maou's base batch of 256)."""
    current = current_cli_lr(ctx, multiplier)
    if current is None or not is_maou(ctx) or ctx.stage not in (1, 2, 3):
        return False
    effective = current * (scale_in_force(ctx) or 1.0)
    rec = _recommendation(ctx)
    if rec is not None:
        return effective < rec.search_range[0]
    batch = ctx.batch_size or BASE_BATCH_SIZE
    return effective < min(recommend(arch, ctx.stage, batch).search_range[0] for arch in TABLES)


def _largest_batch_for_scale(ctx: StageContext) -> int | None:
    """The batch size the logged sqrt factor implies: scale = sqrt(batch / 256) above 256, and 1
    up to 256 (where the guide's ranges only narrow with a smaller batch, so 256 is the
    permissive choice)."""
    if not ctx.lr_scale or ctx.stage not in (1, 2):
        return None
    return max(BASE_BATCH_SIZE, round(BASE_BATCH_SIZE * ctx.lr_scale**2))


def _value_note(
    option: str | None, current: float | None, suggested: float | None, factor: float = 1.0
) -> str:
    """``option old -> new``; with the LR not in the log, the option and the factor."""
    if option and current is not None and suggested is not None:
        return f"{option} {format_lr(current)} -> {format_lr(suggested)}"
    if option and factor != 1.0:
        return f"{option} x{factor:.3g} (the log does not say the LR)"
    return ""


def _join(*parts: str) -> str:
    return "; ".join(p for p in parts if p)


def lr_advice(kind: str, ctx: StageContext, multiplier: float = 1.0, extra: str = "") -> Advice:
    """Advice that changes the stage's LR by the guide's factor for ``kind``."""
    rule = LR_RULES[kind]
    option = stage_lr_option(ctx.stage, ctx.source)
    current = current_cli_lr(ctx, multiplier)
    suggested = current * rule.factor if current is not None else None
    scale = scale_in_force(ctx)
    scale_note = f"sqrt batch scale x{scale:.2f} in force" if scale and scale != 1.0 else ""
    note = _join(
        rule.guide_range,
        _value_note(option, current, suggested, rule.factor),
        UNKNOWN_TRAINER_NOTE if option == UNKNOWN_TRAINER_LR else "",
        scale_note,
        extra,
        arch_note(ctx),
    )
    return Advice(
        option=option,
        current=current,
        suggested=suggested,
        factor=rule.factor,
        note=note,
        action=rule.action,
    )


def warmup_advice(ctx: StageContext, multiplier: float = 1.0) -> Advice:
    """Peak LR too high: the guide's CLI value = recommended effective LR / scale, when the
    architecture and batch size are known; else the generic factor."""
    advice = lr_advice("warmup_lr_too_high", ctx, multiplier)
    rec = _recommendation(ctx)
    if rec is None or advice.current is None or rec.cli_value >= advice.current:
        return advice.model_copy(
            update={"note": _join("check the `LR sqrt scaling:` line", advice.note)}
        )
    scale = scale_in_force(ctx)
    note = _join(
        f"guide: effective {format_lr(rec.recommended_effective_lr)} for {rec.guide_row}; "
        f"CLI value = {format_lr(rec.recommended_effective_lr)} / scale {rec.scale:.2f}",
        _value_note(advice.option, advice.current, rec.cli_value),
        f"sqrt batch scale x{scale:.2f} in force" if scale and scale != 1.0 else "",
        arch_note(ctx),
    )
    return advice.model_copy(
        update={"suggested": rec.cli_value, "factor": rec.cli_value / advice.current, "note": note}
    )


def _recommendation(ctx: StageContext) -> Recommendation | None:
    if not ctx.architecture or not ctx.batch_size or not is_maou(ctx):
        return None
    try:
        return recommend(ctx.architecture, ctx.stage, ctx.batch_size)
    except ValueError:
        return None


def overfitting_advice(
    ctx: StageContext, best_epoch: int | None, multiplier: float = 1.0
) -> Advice:
    """Overfitting: LR 1/2 plus regularisation, fewer epochs, a threshold stop (guide §6)."""
    epochs_option = STAGES[ctx.stage].epochs_option if ctx.stage in STAGES else "--epoch"
    if not is_maou(ctx):
        extra = "fewer epochs"
        if best_epoch is not None:
            extra += f" (stop after epoch {best_epoch}), or more regularisation (dropout)"
    elif ctx.stage == 2:
        extra = "add --stage2-head-dropout 0.1 (needs --stage2-hidden-dim)"
        if best_epoch is not None:
            extra += f"; {epochs_option} {best_epoch}"
        extra += f"; or stop at {STAGES[2].threshold_option}"
    elif ctx.stage == 1:
        extra = "fewer epochs"
        if best_epoch is not None:
            extra += f" ({epochs_option} {best_epoch})"
    else:
        extra = "fewer epochs"
        if best_epoch is not None:
            extra += f" ({epochs_option} {best_epoch})"
        extra += " or --early-stopping-patience 2"
    return lr_advice("overfitting", ctx, multiplier, extra)


def oscillation_advice(ctx: StageContext, multiplier: float = 1.0) -> Advice:
    extra = "a larger batch lowers the gradient noise"
    if ctx.stage == 3 and is_maou(ctx):
        extra = "--optimizer-beta2 0.999 -> 0.998; " + extra
    return lr_advice("oscillation", ctx, multiplier, extra)


def stagnation_advice(ctx: StageContext, in_warmup: bool, multiplier: float = 1.0) -> Advice:
    extra = "check that warmup has ended (the LR may still be low)" if in_warmup else ""
    if ctx.stage == 1 and is_maou(ctx):
        extra = _join(extra, f"the guide suggests trying {STAGES[1].lr_option} 0.001")
    return lr_advice("stagnation", ctx, multiplier, extra)


def fail_fast_advice(ctx: StageContext, epochs_needed: int | None) -> Advice:
    """The stage will run out of epochs before its threshold: raise max epochs or the LR."""
    option = {1: "--stage1-max-epochs", 2: "--stage2-max-epochs"}.get(ctx.stage)
    current = float(ctx.max_epochs) if ctx.max_epochs else None
    suggested = float(epochs_needed) if epochs_needed else None
    factor = suggested / current if suggested and current else None
    threshold_option = STAGES[ctx.stage].threshold_option if ctx.stage in STAGES else ""
    note = _join(
        "maou aborts the run when max epochs run out below the threshold",
        f"raise {option} or lower {threshold_option}" if option else "",
        FAIL_FAST_RAISE_LR_HINT,
    )
    return Advice(option=option, current=current, suggested=suggested, factor=factor, note=note)


#: The last part of fail_fast_risk's note; after a divergence it is replaced by
#: FAIL_FAST_AFTER_DIVERGENCE_HINT (raising the LR of a run that blew up would be wrong).
FAIL_FAST_RAISE_LR_HINT = "or raise the LR if the metric is flat (2-5x)"
FAIL_FAST_AFTER_DIVERGENCE_HINT = "the loss diverged first: lower the LR as that finding says"


def after_divergence(found: Advice) -> Advice:
    """fail_fast_risk's advice for a stage whose loss diverged before."""
    note = found.note.replace(FAIL_FAST_RAISE_LR_HINT, FAIL_FAST_AFTER_DIVERGENCE_HINT)
    return found.model_copy(update={"note": note})


#: A Stage 3 value loss weight below this leaves the value head almost no gradient: a collapse
#: then comes from the weight, not the LR (0 and 0.01 both collapsed on the corpus; maou's
#: default is 1.0).
VALUE_LOSS_RATIO_TOO_LOW = 0.1
MAOU_VALUE_LOSS_RATIO = 1.0


#: value_collapse's note when the LR is too low for the head to have learned anything.
VALUE_HEAD_UNTRAINED_NOTE = (
    "the value head has not learned yet: the LR is too low to move it (a collapse from a high "
    "LR needs the opposite)"
)


def value_collapse_advice(
    ctx: StageContext, multiplier: float = 1.0, lr_too_low: bool = False
) -> Advice:
    """Raise ``--value-loss-ratio`` when it is (nearly) zero; raise the LR when it is too low to
    train the head (below the guide's range, or the loss stagnates: ``lr_too_low``); else lower
    it (maou's report: value collapse came from a high LR with a huge batch)."""
    if lr_too_low or lr_below_guide(ctx, multiplier):
        return lr_advice("stagnation", ctx, multiplier, VALUE_HEAD_UNTRAINED_NOTE)
    ratio = ctx.value_loss_ratio
    if ratio is not None and ratio < VALUE_LOSS_RATIO_TOO_LOW:
        return Advice(
            option="--value-loss-ratio",
            current=ratio,
            suggested=MAOU_VALUE_LOSS_RATIO,
            note=f"the value head is trained with weight {ratio:g}: it learns (almost) nothing; "
            f"maou's default is {MAOU_VALUE_LOSS_RATIO:g}",
        )
    return lr_advice(
        "divergence",
        ctx,
        multiplier,
        "maou's investigation: value collapse came from a high LR with a huge batch; "
        "check --value-loss-ratio",
    )


def no_lr_advice(note: str) -> Advice:
    return Advice(note=note)

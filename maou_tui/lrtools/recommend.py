"""The guide's recommendation for one (architecture, stage, batch size): the tables + sqrt scaling.

The guide's procedure (§設定時の思考プロセス): pick the recommended effective LR from the table,
compute the sqrt scale from the batch size, pass CLI value = recommended effective LR / scale.
"""

from __future__ import annotations

import math

from pydantic import BaseModel, ConfigDict

from maou_tui.lrtools.scaling import (
    format_lr,
    round_sig,
    sqrt_scale,
    stage_batch_option,
    stage_lr_option,
)
from maou_tui.lrtools.tables import (
    STAGE3_CONTRADICTION,
    TABLES,
    VIT_DEEP_NUM_LAYERS,
    VIT_LARGE_EMBED_DIM,
    GuideRow,
    normalise_arch,
    rows_for,
)

#: The guide's Step 4 (微調整) tries 0.00007 and 0.00015 around 0.0001: about ×0.7 and ×1.5.
FINE_TUNE_FACTORS = (0.7, 1.5)


class Recommendation(BaseModel):
    """What to pass to ``maou-train`` for one configuration, and why."""

    model_config = ConfigDict(frozen=True)

    arch: str
    stage: int
    batch_size: int
    recommended_effective_lr: float
    """The LR the optimizer should end up with (after the trainer's sqrt scaling)."""
    search_range: tuple[float, float]
    """The guide's 探索範囲, as effective LRs."""
    cli_search_range: tuple[float, float]
    """The same range as values to pass on the command line."""
    scale: float
    """The trainer's sqrt scale for this stage and batch (1.0 for Stage 3 or batch <= 256)."""
    cli_value: float
    """The value to pass: recommended effective LR / scale."""
    option: str
    guide_row: str
    """Which table row was used, e.g. ``"vit Stage 2, batch 4096"``."""
    exact_row: bool
    """False when the batch size fell between rows and the nearest row was sqrt-scaled."""
    notes: list[str]
    command_line: str


def _row_anchor(row: GuideRow, batch_size: int) -> int:
    """The batch size inside the row's band that is closest to ``batch_size``."""
    return min(max(batch_size, row.batch_min), row.batch_max)


def _row_effective(row: GuideRow, batch_size: int) -> float:
    """The row's recommended effective LR, moved to ``batch_size`` by the sqrt rule."""
    anchor = _row_anchor(row, batch_size)
    at_anchor = row.cli_lr[0] * sqrt_scale(anchor, row.stage)
    return at_anchor * math.sqrt(batch_size / anchor)


def _pick_row(rows: tuple[GuideRow, ...], batch_size: int) -> GuideRow:
    """The nearest row on a log2 batch axis; a tie goes to the lower (safer) LR."""

    def key(row: GuideRow) -> tuple[float, float]:
        distance = abs(math.log2(batch_size / _row_anchor(row, batch_size)))
        return (round(distance, 9), _row_effective(row, batch_size))

    return min(rows, key=key)


def _band(row: GuideRow) -> str:
    if row.batch_min == row.batch_max:
        return str(row.batch_min)
    return f"{row.batch_min}-{row.batch_max}"


def _row_notes(row: GuideRow, batch_size: int, exact: bool) -> list[str]:
    notes = []
    if row.remark:
        notes.append(f"Guide's remark for this row: {row.remark}")
    if row.cli_lr[0] != row.cli_lr[1]:
        lo, hi = (format_lr(v) for v in row.cli_lr)
        notes.append(
            f"The guide gives {lo}-{hi} for this row; the lower end is used, as in the guide's "
            "worked example (ViT, Stage 2, batch 4096 → effective 0.0002)."
        )
    if not exact:
        anchor = _row_anchor(row, batch_size)
        factor = math.sqrt(batch_size / anchor)
        notes.append(
            f"No row for batch {batch_size} at Stage {row.stage}: nearest row is batch "
            f"{_band(row)}; its LRs were scaled by sqrt({batch_size}/{anchor}) = {factor:.2f} "
            "(the guide's sqrt rule)."
        )
    return notes


def _scale_note(stage: int, batch_size: int, scale: float, effective: float, cli: float) -> str:
    if stage == 3:
        return "Stage 3 is not sqrt-scaled: --learning-ratio is the optimizer's LR as is."
    if scale == 1.0:
        return f"Stage {stage} batch {batch_size} <= 256: no sqrt scaling (scale 1.0)."
    return (
        f"Stage {stage} sqrt scaling: sqrt({batch_size}/256) = {scale:.2f}; CLI value = "
        f"{format_lr(effective)} / {scale:.2f} = {format_lr(cli)}. Check the trainer's "
        "'LR sqrt scaling:' log line."
    )


def _vit_notes(embed_dim: int | None, num_layers: int | None, cli: float) -> list[str]:
    reasons = []
    if embed_dim is not None and embed_dim >= VIT_LARGE_EMBED_DIM:
        reasons.append(f"--vit-embed-dim {embed_dim} >= {VIT_LARGE_EMBED_DIM}")
    if num_layers is not None and num_layers >= VIT_DEEP_NUM_LAYERS:
        reasons.append(f"--vit-num-layers {num_layers} >= {VIT_DEEP_NUM_LAYERS}")
    if not reasons:
        return []
    lower = format_lr(cli * FINE_TUNE_FACTORS[0])
    return [
        f"{' and '.join(reasons)}: the guide says go lower than the table (it gives no factor); "
        f"start near the lower end of the search range, e.g. {lower} (×0.7, its Step 4 step)."
    ]


def _command_line(
    arch: str, stage: int, batch_size: int, cli: float, embed: int | None, layers: int | None
) -> str:
    parts = [
        "maou-train",
        f"--stage {stage}",
        f"--model-architecture {arch}",
        f"{stage_lr_option(stage)} {format_lr(cli)}",
        f"{stage_batch_option(stage)} {batch_size}",
    ]
    if arch == "vit":
        if embed is not None:
            parts.append(f"--vit-embed-dim {embed}")
        if layers is not None:
            parts.append(f"--vit-num-layers {layers}")
        parts.append("--vit-dropout 0.1")
    return " ".join(parts)


def recommend(
    arch: str,
    stage: int,
    batch_size: int,
    embed_dim: int | None = None,
    num_layers: int | None = None,
) -> Recommendation:
    """The guide's recommended LR for this configuration. Raises ValueError on bad input."""
    name = normalise_arch(arch)
    rows = rows_for(name, stage)
    scale = sqrt_scale(batch_size, stage)
    row = _pick_row(rows, batch_size)
    exact = row.batch_min <= batch_size <= row.batch_max
    anchor = _row_anchor(row, batch_size)
    to_effective = sqrt_scale(anchor, stage) * math.sqrt(batch_size / anchor)

    raw_effective = _row_effective(row, batch_size)
    effective, cli = round_sig(raw_effective), round_sig(raw_effective / scale)
    raw_search = (row.cli_search[0] * to_effective, row.cli_search[1] * to_effective)
    search = (round_sig(raw_search[0]), round_sig(raw_search[1]))
    cli_search = (round_sig(raw_search[0] / scale), round_sig(raw_search[1] / scale))

    notes = [TABLES[name].summary, *_row_notes(row, batch_size, exact)]
    notes.append(_scale_note(stage, batch_size, scale, effective, cli))
    if row.guide_effective:
        guide = row.guide_effective
        notes.append(STAGE3_CONTRADICTION.format(guide=guide, cli=format_lr(cli)))
    if name == "vit":
        notes.extend(_vit_notes(embed_dim, num_layers, cli))
    notes.extend(TABLES[name].notes)
    low, high = (format_lr(cli * f) for f in FINE_TUNE_FACTORS)
    notes.append(f"Fine-tune (guide Step 4): also try {low} and {high}, keep the best.")

    return Recommendation(
        arch=name,
        stage=stage,
        batch_size=batch_size,
        recommended_effective_lr=effective,
        search_range=search,
        cli_search_range=cli_search,
        scale=scale,
        cli_value=cli,
        option=stage_lr_option(stage),
        guide_row=f"{name} Stage {stage}, batch {_band(row)}",
        exact_row=exact,
        notes=notes,
        command_line=_command_line(name, stage, batch_size, cli, embed_dim, num_layers),
    )


def format_recommendation(rec: Recommendation) -> str:
    """The recommendation as the lines ``maou-tui recommend`` prints."""
    lo, hi = (format_lr(v) for v in rec.search_range)
    clo, chi = (format_lr(v) for v in rec.cli_search_range)
    lines = [
        f"{rec.arch}, Stage {rec.stage}, batch {rec.batch_size}  (table row: {rec.guide_row})",
        f"  recommended effective LR : {format_lr(rec.recommended_effective_lr)}",
        f"  search range (effective) : {lo} - {hi}",
        f"  sqrt scale               : {rec.scale:.2f}",
        f"  CLI value                : {rec.option} {format_lr(rec.cli_value)}"
        f"   (search {clo} - {chi})",
        "",
        f"  {rec.command_line}",
        "",
        "Notes:",
    ]
    lines.extend(f"  - {note}" for note in rec.notes)
    return "\n".join(lines)

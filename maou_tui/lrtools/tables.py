"""The LR guide's per-architecture, per-stage tables, as data (one source for every caller).

Source: ``seeds/003`` (学習率チューニングガイド) §アーキテクチャ別推奨学習率. Every value is copied
from the guide. Reading rules, decided once here:

- The 推奨LR and 探索範囲 columns are **CLI values** (what is passed to ``--stageN-learning-rate``
  / ``--learning-ratio``): ResNet Stage 2 batch 4096 says "0.0001 … 実効LR = 0.0004 (4x)".
- Where 推奨LR is a range (ViT Stage 2 batch 4096: 0.00005-0.0001), the recommendation is its
  lower end: the guide's worked example takes effective 0.0002 = 0.00005 × 4 for that row.
- Stage 3 is not sqrt-scaled (the guide's own §Stage 3の注意 and the trainer code), although the
  Stage 3 batch-1024 rows say "実効LR = … (2x scaling)". We follow the code;
  ``STAGE3_CONTRADICTION`` is the note shown to the user with the row's own figure.
"""

from __future__ import annotations

from dataclasses import dataclass

ARCHITECTURES: tuple[str, ...] = ("resnet", "vit", "mlp-mixer")


@dataclass(frozen=True)
class GuideRow:
    """One row of a table: a stage and batch-size band with the guide's CLI values."""

    stage: int
    batch_min: int
    batch_max: int
    cli_lr: tuple[float, float]
    """推奨LR as (low, high); equal when the guide gives one value."""
    cli_search: tuple[float, float]
    """探索範囲 (CLI values)."""
    remark: str = ""
    """The guide's 備考 column, verbatim."""
    guide_effective: str = ""
    """The guide's own "実効LR = …" figure when the row states one (kept for the Stage 3 note)."""


@dataclass(frozen=True)
class ArchitectureTable:
    arch: str
    summary: str
    """The guide's one-line characterisation of the architecture (translated)."""
    rows: tuple[GuideRow, ...]
    notes: tuple[str, ...] = ()
    """Architecture-specific advice from the guide (translated), shown with every row."""


RESNET = ArchitectureTable(
    arch="resnet",
    summary="ResNet (default): relatively stable, works over a wide LR range.",
    rows=(
        GuideRow(1, 16, 32, (0.001, 0.001), (0.0005, 0.01), "タスクが単純なため高LRで高速収束"),
        GuideRow(2, 256, 256, (0.0001, 0.0001), (0.00005, 0.001), "sqrt scaling無し"),
        GuideRow(
            2, 4096, 4096, (0.0001, 0.0001), (0.00005, 0.0005), "実効LR = 0.0004 (4x scaling)"
        ),
        GuideRow(3, 256, 256, (0.001, 0.001), (0.0001, 0.01), "sqrt scaling無し"),
        GuideRow(
            3,
            1024,
            1024,
            (0.001, 0.001),
            (0.0001, 0.005),
            "実効LR = 0.002 (2x scaling)",
            guide_effective="0.002",
        ),
    ),
)

VIT = ArchitectureTable(
    arch="vit",
    summary=(
        "ViT: sensitive to the LR and needs a lower one than ResNet; LayerNorm with attention "
        "diverges easily at a high LR."
    ),
    rows=(
        GuideRow(1, 16, 32, (0.0005, 0.0005), (0.0001, 0.001), "ResNetの半分程度"),
        GuideRow(2, 256, 256, (0.0001, 0.0001), (0.00005, 0.0005)),
        GuideRow(2, 4096, 4096, (0.00005, 0.0001), (0.00002, 0.0002), "実効LR = 0.0002-0.0004"),
        GuideRow(3, 256, 256, (0.0001, 0.0001), (0.00005, 0.001), "ResNetの1/10程度が安定"),
        GuideRow(
            3,
            1024,
            1024,
            (0.0001, 0.0001),
            (0.00005, 0.0005),
            "実効LR = 0.0002",
            guide_effective="0.0002",
        ),
    ),
    notes=(
        "--vit-embed-dim 768 or more: lower the LR further.",
        "--vit-num-layers 8 or more: also adjust the LR downwards.",
        "--vit-dropout 0.1 improves stability.",
        "--gradient-checkpointing saves memory (training gets slower).",
    ),
)

MLP_MIXER = ArchitectureTable(
    arch="mlp-mixer",
    summary=(
        "MLP-Mixer: between ResNet and ViT; more stable than ViT (no self-attention), more "
        "sensitive than ResNet (fully-connected mixing layers)."
    ),
    rows=(
        GuideRow(1, 16, 32, (0.001, 0.001), (0.0005, 0.005), "ResNetと同程度"),
        GuideRow(2, 256, 256, (0.0001, 0.0001), (0.00005, 0.001)),
        GuideRow(2, 4096, 4096, (0.0001, 0.0001), (0.00005, 0.0003), "実効LR = 0.0004"),
        GuideRow(3, 256, 256, (0.0005, 0.0005), (0.0001, 0.005), "ResNetよりやや低め"),
        GuideRow(
            3,
            1024,
            1024,
            (0.0005, 0.0005),
            (0.0001, 0.002),
            "実効LR = 0.001",
            guide_effective="0.001",
        ),
    ),
)

TABLES: dict[str, ArchitectureTable] = {t.arch: t for t in (RESNET, VIT, MLP_MIXER)}

#: ViT thresholds at which the guide says "go lower".
VIT_LARGE_EMBED_DIM = 768
VIT_DEEP_NUM_LAYERS = 8

STAGE3_CONTRADICTION = (
    "The guide's Stage 3 batch-1024 row says '実効LR = {guide} (2x scaling)', but its own "
    "'Stage 3の注意' and the trainer code apply no sqrt scaling in Stage 3: the value you pass "
    "is the LR the optimizer gets. We follow the code (scale 1.0, effective = CLI value = {cli}); "
    "to get the row's {guide}, pass it explicitly (it is inside the search range)."
)


def normalise_arch(arch: str) -> str:
    """``"MLP_Mixer"`` → ``"mlp-mixer"``; raises ValueError (one line) for an unknown name."""
    name = arch.strip().lower().replace("_", "-")
    if name == "mixer":
        name = "mlp-mixer"
    if name not in TABLES:
        raise ValueError(f"unknown architecture {arch!r}: use one of {', '.join(ARCHITECTURES)}")
    return name


def rows_for(arch: str, stage: int) -> tuple[GuideRow, ...]:
    """The rows of one architecture's table for one stage, in batch-size order."""
    if stage not in (1, 2, 3):
        raise ValueError(f"stage must be 1, 2 or 3, got {stage}")
    return tuple(r for r in TABLES[normalise_arch(arch)].rows if r.stage == stage)

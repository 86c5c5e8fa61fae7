"""Per-task optimizer recipes and batch-size scaling, from ``seeds/000`` (オプティマイザの選び方).

§2 タスク別推奨設定, §5 実践的なレシピ集 and the closing quick-reference table, as data.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from maou_tui.lrtools.scaling import format_lr, linear_scaled_lr, sqrt_scaled_lr


class TaskRecipe(BaseModel):
    """One task's recipe; ``None`` where the guide does not say."""

    model_config = ConfigDict(frozen=True)

    task: str
    title: str
    optimizer: str
    lr: tuple[float, float] | None
    """The guide's LR (low, high); ``None`` where it says only "scale" (large-batch rows)."""
    betas: str | None = None
    eps: str | None = None
    weight_decay: str | None = None
    scheduler: str | None = None
    warmup: str | None = None
    clipping: str | None = None
    batch_size: str | None = None
    epochs: str | None = None
    scaling_rule: str
    """The batch-scaling rule that fits the optimizer: "linear" (SGD family) or "sqrt" (Adam)."""
    notes: tuple[str, ...] = ()


RECIPES: dict[str, TaskRecipe] = {
    r.task: r
    for r in (
        TaskRecipe(
            task="image-classification",
            title="Image classification (CNN); recipe 1: ResNet on ImageNet",
            optimizer="SGD + Momentum (0.9)",
            lr=(0.1, 0.1),
            weight_decay="1e-4",
            scheduler="MultiStepLR (milestones=[30, 60, 90], gamma=0.1)",
            batch_size="128-256",
            epochs="90-200",
            scaling_rule="linear",
        ),
        TaskRecipe(
            task="detection",
            title="Object detection (YOLO, Faster R-CNN, ...)",
            optimizer="SGD + Momentum (0.9)",
            lr=(0.01, 0.01),
            weight_decay="5e-4",
            scheduler="Warmup + Step/Cosine",
            warmup="yes",
            batch_size="16-64 (memory bound)",
            scaling_rule="linear",
        ),
        TaskRecipe(
            task="transformer",
            title="NLP - Transformer (BERT, ...)",
            optimizer="AdamW",
            lr=(1e-4, 5e-4),
            betas="β1=0.9, β2=0.999",
            weight_decay="0.01",
            scheduler="Linear Warmup + Linear Decay",
            warmup="10% of all steps (required)",
            scaling_rule="sqrt",
            notes=(
                "Recipe 3 (ViT): AdamW lr=1e-3, betas=(0.9, 0.999), weight_decay=0.3, "
                "CosineAnnealingLR(T_max=300, eta_min=1e-5) after 5 warmup epochs.",
            ),
        ),
        TaskRecipe(
            task="fine-tuning",
            title="Fine-tuning; recipe 2: BERT fine-tuning",
            optimizer="AdamW",
            lr=(1e-5, 3e-5),
            weight_decay="0.01",
            scheduler="Warmup + Cosine/Linear Decay",
            warmup="10% of all steps (recipe 2)",
            clipping="clip_grad_norm_(max_norm=1.0) (recipe 2)",
            epochs="3-10",
            scaling_rule="sqrt",
            notes=("About 1/10 of the pre-training LR; recipe 2 uses lr=2e-5.",),
        ),
        TaskRecipe(
            task="gan",
            title="GAN",
            optimizer="Adam (both G and D)",
            lr=(2e-4, 2e-4),
            betas="β1=0.5, β2=0.999 (not the usual β1)",
            weight_decay="0",
            batch_size="64-128",
            scaling_rule="sqrt",
        ),
        TaskRecipe(
            task="rl",
            title="Reinforcement learning (PPO, ...)",
            optimizer="Adam",
            lr=(3e-4, 3e-4),
            eps="1e-5 (larger than usual)",
            clipping="max_norm=0.5",
            scaling_rule="sqrt",
        ),
        TaskRecipe(
            task="large-batch-cnn",
            title="Large-batch (>1K) CNN",
            optimizer="LARS",
            lr=None,
            warmup="required",
            batch_size="1024 or more",
            scaling_rule="linear",
            notes=(
                "The guide gives no LR, only 'scale': scale the small-batch LR with --lr "
                "--from-batch --to-batch.",
            ),
        ),
        TaskRecipe(
            task="large-batch-transformer",
            title="Large-batch Transformer",
            optimizer="LAMB",
            lr=None,
            warmup="required",
            batch_size="1024 or more",
            scaling_rule="sqrt",
            notes=(
                "The guide gives no LR, only 'scale': scale the small-batch LR with --lr "
                "--from-batch --to-batch.",
            ),
        ),
    )
}

TASKS: tuple[str, ...] = tuple(RECIPES)

#: The guide's cautions on scaling (§3.3 【注意】) and its rule of thumb (【どちらを使うか】).
SCALING_NOTES = (
    "Linear scaling: common with SGD + warmup. Square-root scaling: sometimes recommended for "
    "Adam. Large batches (>1024): use LARS/LAMB.",
    "Always use warmup when you raise the LR; linear scaling does not hold indefinitely.",
)


class BatchScaling(BaseModel):
    """An LR (or LR range) moved to another batch size by the linear and the square-root rules."""

    lr: tuple[float, float]
    from_batch: int
    to_batch: int
    linear: tuple[float, float]
    sqrt: tuple[float, float]
    preferred: str
    """The rule that fits the recipe's optimizer ("linear" or "sqrt"), or "" without a recipe."""


def recipe_for(task: str) -> TaskRecipe:
    """The recipe of ``task``; ValueError (one line) naming the known tasks otherwise."""
    name = task.strip().lower()
    if name not in RECIPES:
        raise ValueError(f"unknown task {task!r}: use one of {', '.join(TASKS)}")
    return RECIPES[name]


def scale_batch(
    lr: tuple[float, float], from_batch: int, to_batch: int, preferred: str = ""
) -> BatchScaling:
    """Both scaling rules for moving an LR range (low, high) from ``from_batch`` to ``to_batch``."""
    if not min(lr) > 0:
        raise ValueError(f"the LR to scale must be positive, got {format_lr_range(lr)}")
    low, high = lr
    return BatchScaling(
        lr=lr,
        from_batch=from_batch,
        to_batch=to_batch,
        linear=(
            linear_scaled_lr(low, from_batch, to_batch),
            linear_scaled_lr(high, from_batch, to_batch),
        ),
        sqrt=(
            sqrt_scaled_lr(low, from_batch, to_batch),
            sqrt_scaled_lr(high, from_batch, to_batch),
        ),
        preferred=preferred,
    )


def format_lr_range(lr: tuple[float, float] | None) -> str:
    if lr is None:
        return "scale (see below)"
    low, high = lr
    return format_lr(low) if low == high else f"{format_lr(low)} - {format_lr(high)}"


def format_recipe(recipe: TaskRecipe) -> str:
    """The recipe as the lines ``maou-tui recommend --task`` prints."""
    fields = [
        ("optimizer", recipe.optimizer),
        ("learning rate", format_lr_range(recipe.lr)),
        ("betas", recipe.betas),
        ("eps", recipe.eps),
        ("weight decay", recipe.weight_decay),
        ("scheduler", recipe.scheduler),
        ("warmup", recipe.warmup),
        ("gradient clipping", recipe.clipping),
        ("batch size", recipe.batch_size),
        ("epochs", recipe.epochs),
        ("batch scaling rule", recipe.scaling_rule),
    ]
    lines = [f"{recipe.title}  (task: {recipe.task})"]
    lines.extend(f"  {name:<19}: {value}" for name, value in fields if value is not None)
    lines.extend(f"  - {note}" for note in recipe.notes)
    return "\n".join(lines)


def format_scaling(scaling: BatchScaling) -> str:
    k = scaling.to_batch / scaling.from_batch
    mark = {"linear": "", "sqrt": ""}
    if scaling.preferred in mark:
        mark[scaling.preferred] = "   <- fits this optimizer"
    lr = format_lr_range(scaling.lr)
    lines = [
        f"Batch {scaling.from_batch} -> {scaling.to_batch} (k = {k:g}), LR {lr}:",
        f"  linear rule  lr × k  : {format_lr_range(scaling.linear)}{mark['linear']}",
        f"  sqrt rule    lr × √k : {format_lr_range(scaling.sqrt)}{mark['sqrt']}",
    ]
    lines.extend(f"  - {note}" for note in SCALING_NOTES)
    return "\n".join(lines)

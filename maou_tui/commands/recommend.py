"""``maou-tui recommend``: the LR guides' recommendations, without running anything.

``--arch/--stage/--batch-size`` gives the staged-training table row with sqrt scaling (seed 003);
``--task`` gives an optimizer recipe (seed 000); ``--from-batch/--to-batch`` scales an LR.
"""

from __future__ import annotations

import argparse
import json
import math
import sys

NAME = "recommend"
HELP = "Recommended learning rate for an architecture/stage/batch, or a task's optimizer recipe."

_ARCHS = "resnet|vit|mlp-mixer"
_TASKS = (
    "image-classification|detection|transformer|fine-tuning|gan|rl|large-batch-cnn|"
    "large-batch-transformer"
)


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive whole number, got {value}")
    return value


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    table = parser.add_argument_group("staged training (LR tuning guide tables)")
    table.add_argument("--arch", metavar=_ARCHS, help="model architecture")
    table.add_argument("--stage", type=int, metavar="1|2|3", help="training stage")
    table.add_argument(
        "--batch-size", type=positive_int, metavar="N", help="the stage's batch size"
    )
    table.add_argument("--embed-dim", type=positive_int, metavar="N", help="ViT: --vit-embed-dim")
    table.add_argument("--num-layers", type=positive_int, metavar="N", help="ViT: --vit-num-layers")
    recipe = parser.add_argument_group("optimizer recipes (optimizer selection guide)")
    recipe.add_argument("--task", metavar=_TASKS, help="show the optimizer recipe of a task")
    recipe.add_argument(
        "--from-batch", type=positive_int, metavar="N", help="batch size the LR is for"
    )
    recipe.add_argument("--to-batch", type=positive_int, metavar="N", help="new batch size")
    recipe.add_argument("--lr", type=positive_float, help="LR to scale (default: the task's LR)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")


def _fail(message: str) -> int:
    print(f"maou-tui recommend: error: {message}", file=sys.stderr)
    return 2


def _table_output(args: argparse.Namespace) -> tuple[str, dict]:
    from maou_tui.lrtools import format_recommendation, recommend

    missing = [f"--{n}" for n in ("stage", "batch_size") if getattr(args, n) is None]
    if missing:
        raise ValueError(f"--arch needs {' and '.join(m.replace('_', '-') for m in missing)}")
    rec = recommend(args.arch, args.stage, args.batch_size, args.embed_dim, args.num_layers)
    return format_recommendation(rec), rec.model_dump()


def _scaling(args: argparse.Namespace, lr: tuple[float, float] | None, preferred: str):
    from maou_tui.lrtools.recipes import scale_batch

    if args.from_batch is None and args.to_batch is None:
        return None
    if args.from_batch is None or args.to_batch is None:
        raise ValueError("give both --from-batch and --to-batch")
    if lr is None:
        raise ValueError("this task's guide LR is 'scale': give the LR to scale with --lr")
    return scale_batch(lr, args.from_batch, args.to_batch, preferred)


def _task_output(args: argparse.Namespace) -> tuple[str, dict]:
    from maou_tui.lrtools.recipes import format_recipe, format_scaling, recipe_for

    parts: list[str] = []
    data: dict = {}
    preferred = ""
    lr = None if args.lr is None else (args.lr, args.lr)
    if args.task is not None:
        recipe = recipe_for(args.task)
        parts.append(format_recipe(recipe))
        data["recipe"] = recipe.model_dump()
        preferred = recipe.scaling_rule
        if lr is None:
            lr = recipe.lr
    scaling = _scaling(args, lr, preferred)
    if scaling is not None:
        parts.append(format_scaling(scaling))
        data["scaling"] = scaling.model_dump()
    if not parts:
        raise ValueError(
            "give --arch/--stage/--batch-size, --task, or --lr with --from-batch and --to-batch"
        )
    return "\n\n".join(parts), data


def run(args: argparse.Namespace) -> int:
    try:
        if args.arch is not None:
            if args.task is not None:
                raise ValueError("give either --arch or --task, not both")
            if args.from_batch is not None or args.to_batch is not None:
                raise ValueError(
                    "--from-batch/--to-batch go with --task or --lr; with --arch, give the new "
                    "--batch-size instead"
                )
            text, data = _table_output(args)
        else:
            text, data = _task_output(args)
    except ValueError as exc:
        return _fail(str(exc))
    print(json.dumps(data, indent=2, ensure_ascii=False) if args.json else text)
    return 0

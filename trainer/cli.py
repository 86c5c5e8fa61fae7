"""``maou-train`` / ``python -m trainer``: parse maou learn-model's options, validate, train.

Options are parsed and validated (pydantic, trainer/config.py) before torch is imported or a run
directory is created, so a bad value costs a fraction of a second and leaves nothing behind:
one line ``maou-train: error: ...`` and exit status 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn

from maou_tui.layout import run_dir_name
from trainer.config import (
    PRESET_DEFAULTS,
    ConfigError,
    TrainConfig,
    build_config,
    saved_config_values,
)
from trainer.maou_options import add_maou_options, any_case

PROG = "maou-train"


class OneLineParser(argparse.ArgumentParser):
    """argparse whose errors become ConfigError: one line, no usage dump (``main`` exits 2)."""

    def error(self, message: str) -> NoReturn:
        raise ConfigError(message)


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


# (field, type, help); every option defaults to "not given" so presets can fill it.
_VALUE_OPTIONS: list[tuple[str, Any, str]] = [
    ("preset", str, "tiny (default: 2 CPU cores, minutes) or maou (maou's own defaults)"),
    ("stage", str, "1, 2, 3 or all (default all)"),
    ("model_architecture", str, "resnet (default), mlp-mixer or vit"),
    ("vit_embed_dim", int, "ViT embedding size"),
    ("vit_num_layers", int, "ViT layers"),
    ("vit_num_heads", int, "ViT attention heads"),
    ("vit_mlp_ratio", float, "ViT MLP ratio"),
    ("vit_dropout", float, "ViT dropout"),
    ("stage2_positions", int, "Stage 2 self-play positions to generate (default 20000)"),
    ("stage3_games", int, "Stage 3 self-play games to generate (default 400)"),
    ("test_ratio", float, "Stage 3 validation fraction (default 0.2)"),
    ("stage2_test_ratio", float, "Stage 2 validation fraction, evaluated each epoch (default 0)"),
    ("cache_dir", Path, "where generated data is cached (default ~/.cache/maou-tui)"),
    ("seed", int, "seed of data generation, initialisation and batch order (default 0)"),
    ("epoch", int, "Stage 3 epochs"),
    ("stage1_max_epochs", int, "Stage 1 epochs before fail-fast"),
    ("stage2_max_epochs", int, "Stage 2 epochs before fail-fast"),
    ("stage1_threshold", float, "Stage 1 accuracy needed to advance (default 0.99)"),
    ("stage2_threshold", float, "Stage 2 F1 needed to advance (default 0.85)"),
    ("batch_size", int, "batch size every stage inherits"),
    ("stage1_batch_size", int, "Stage 1 batch size"),
    ("stage2_batch_size", int, "Stage 2 batch size"),
    ("stage3_batch_size", int, "Stage 3 batch size"),
    ("gradient_accumulation_steps", int, "batches per optimizer step (default 1)"),
    ("learning_ratio", float, "Stage 3 LR (Stages 1/2 inherit it, sqrt-scaled)"),
    ("stage1_learning_rate", float, "Stage 1 LR before sqrt batch scaling"),
    ("stage2_learning_rate", float, "Stage 2 LR before sqrt batch scaling"),
    (
        "lr_scheduler",
        any_case("Warmup+CosineDecay", "CosineAnnealingLR"),
        "Stage 3: Warmup+CosineDecay (default) or CosineAnnealingLR",
    ),
    (
        "stage12_lr_scheduler",
        any_case("auto", "none", "Warmup+CosineDecay", "CosineAnnealingLR"),
        "Stages 1/2: auto (default), none, Warmup+CosineDecay, CosineAnnealingLR",
    ),
    ("optimizer", str, "adamw (default) or sgd"),
    ("momentum", float, "SGD momentum (default 0.9)"),
    ("optimizer_beta1", float, "AdamW beta1 (default 0.9)"),
    ("optimizer_beta2", float, "AdamW beta2 (default 0.999)"),
    ("optimizer_eps", float, "AdamW eps (default 1e-8)"),
    ("weight_decay", float, "weight decay for every stage (default: 0.01 Stage 3, 0 Stages 1/2)"),
    ("stage2_hidden_dim", int, "hidden layer of the Stage 2 head"),
    ("stage2_head_dropout", float, "dropout after that hidden layer"),
    ("stage1_pos_weight", float, "BCE pos_weight of Stage 1"),
    ("stage2_pos_weight", float, "BCE pos_weight of Stage 2"),
    ("stage2_gamma_pos", float, "Asymmetric Loss gamma for positives"),
    ("stage2_gamma_neg", float, "Asymmetric Loss gamma for negatives"),
    ("stage2_clip", float, "Asymmetric Loss probability clip"),
    ("policy_loss_ratio", float, "Stage 3 policy loss weight"),
    ("value_loss_ratio", float, "Stage 3 value loss weight"),
    ("num_threads", int, "torch CPU threads"),
    ("log_every", int, "batch log line every N batches (default: ~1/10 epoch, at most 50)"),
    (
        "checkpoint_interval",
        float,
        "seconds between periodic latest checkpoints (0 = off; default 600)",
    ),
    ("run_dir", Path, "run directory (default runs/<time>-<arch>-<preset>)"),
    ("resume", Path, "continue the run in this run directory from checkpoints/latest.pt"),
    ("lr_find_start_lr", float, "LR range test: first LR (default 1e-7)"),
    ("lr_find_end_lr", float, "LR range test: last LR (default 10)"),
    ("lr_find_iterations", int, "LR range test: iterations (default 100)"),
]
_SWITCHES: list[tuple[str, str]] = [
    ("cpu", "train on the CPU even when CUDA is available"),
    ("log_stderr", "also write the log to stderr (automatic on a terminal)"),
    ("lr_find", "run the LR range test for --stage instead of training"),
]


def _shown(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "on" if value else "off"
    return str(value).replace("%", "%%")  # argparse formats help with %


def preset_default(preset: str, field: str) -> Any:
    """The value ``field`` has under ``preset`` when the user gives nothing (ResNet)."""
    values = PRESET_DEFAULTS.get(preset, {})
    if field in values:
        return values[field]
    info = TrainConfig.model_fields.get(field)
    return info.default if info is not None else None


def with_preset_columns(field: str, text: str) -> str:
    """``text [tiny: X | maou: Y]``: what each preset uses when the option is not given."""
    if field == "preset":
        return text
    tiny, maou = preset_default("tiny", field), preset_default("maou", field)
    return f"{text} [tiny: {_shown(tiny)} | maou: {_shown(maou)}]"


_EPILOG = (
    "[tiny: X | maou: Y] is the value each --preset uses when the option is not given "
    "(tiny is the default preset; '-' = inherits, off, or the preset's model size)."
)


def non_empty_path(text: str) -> Path:
    """A path option's value; "" is refused (Path("") is the current directory)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("an empty path is not a path; give a directory or file")
    return Path(text)


def build_parser() -> OneLineParser:
    parser = OneLineParser(
        prog=PROG,
        allow_abbrev=False,  # --them is not --theme, --stage is not --stage1-... by accident
        description="Staged shogi trainer after maou learn-model: Stage 1 reachable squares, "
        "Stage 2 legal moves, Stage 3 policy+value.",
        epilog=_EPILOG,
        argument_default=argparse.SUPPRESS,
    )
    for field, kind, help_text in _VALUE_OPTIONS:
        kind = non_empty_path if kind is Path else kind
        parser.add_argument(
            _flag(field), dest=field, type=kind, help=with_preset_columns(field, help_text)
        )
    parser.add_argument(
        "--stage3-data-path",
        dest="stage3_data_path",
        type=non_empty_path,
        nargs="+",
        help="Stage 3 data: maou's transformed_chunk*.feather files or directories, or HCPE "
        "files; default: generated by self-play",
    )
    parser.add_argument(
        "--gpu",
        dest="gpu",
        nargs="?",
        const="cuda",
        metavar="N",
        help="train on CUDA device N (or a torch device such as cuda:1; default: CUDA if any)",
    )
    for field, help_text in _SWITCHES:
        parser.add_argument(_flag(field), dest=field, action="store_true", help=help_text)
    add_maou_options(parser, with_preset_columns)
    return parser


def default_run_dir(config: TrainConfig) -> Path:
    return Path("runs") / run_dir_name(config.model_architecture, config.preset, datetime.now())


def parse_config(argv: Sequence[str] | None) -> TrainConfig:
    """Options -> validated config (run directory resolved). Raises ConfigError."""
    given: dict[str, Any] = vars(build_parser().parse_args(argv))
    resume = given.get("resume")
    if resume is not None:
        base = saved_config_values(resume)
        base.update(resume=str(resume), run_dir=str(resume))
        given.pop("run_dir", None)
        return build_config(given, base=base)
    _check_lr_find_stage(given)
    config = build_config(given)
    if any(given.get(f"stage{n}_data_path") for n in (1, 2, 3)):
        from trainer.stage_files import check_stage_files  # pyarrow loads only for data files

        check_stage_files(config)
    _check_stage3_files(config)
    if config.run_dir is None:
        config.run_dir = default_run_dir(config)
    return config


def _check_lr_find_stage(given: dict[str, Any]) -> None:
    if given.get("lr_find") and given.get("stage") == "all":
        raise ConfigError("--lr-find sweeps one stage: give --stage 1, 2 or 3, not all")


def _check_stage3_files(config: TrainConfig) -> None:
    """Read the first records of each HCPE file now, before a run directory exists."""
    if not config.stage3_data_path or 3 not in config.stages():
        return
    from trainer.shogi.hcpe import HcpeError, check_hcpe_file_isolated  # cshogi, no torch
    from trainer.stage_files import is_hcpe

    for path in config.stage3_data_path:
        if not is_hcpe(Path(path).expanduser()):
            continue  # maou's feather files: checked by check_stage_files
        try:
            check_hcpe_file_isolated(Path(path).expanduser())
        except HcpeError as exc:
            raise ConfigError(f"--stage3-data-path {exc}") from None


def main(argv: Sequence[str] | None = None) -> int:
    try:
        config = parse_config(argv)
    except ConfigError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    from trainer.runner import run_training  # torch loads here, after validation

    return run_training(config)


if __name__ == "__main__":
    raise SystemExit(main())

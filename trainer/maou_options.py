"""The learn-model options a maou user's scripts pass that are about data, outputs and the runtime.

maou-train parses them with argparse (``trainer/cli.py``); this module keeps their definitions in
one group: maou's data files (``--stage{1,2,3}-data-path``), TensorBoard and model outputs,
early stopping, freezing, ``torch.compile``, data loading and adaptive batch. maou's cloud-upload
options only make sense inside maou's infrastructure: they are refused in one line (exit 2).

maou's CLI is click, so two of its spellings are kept: ``--compilation BOOLEAN`` takes a value
(``true``/``false``, ``1``/``0``, ``yes``/``no``, ``on``/``off``), and choices are matched without
regard to case (``--lr-scheduler warmup+cosinedecay``).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

#: click's BOOLEAN spellings.
_TRUE = {"1", "true", "t", "yes", "y", "on"}
_FALSE = {"0", "false", "f", "no", "n", "off"}

#: Options that upload to maou's cloud storage: refused, with the reason.
CLOUD_OPTIONS = (
    "output_gcs",
    "gcs_bucket_name",
    "gcs_base_path",
    "output_s3",
    "s3_bucket_name",
    "s3_base_path",
)
_CLOUD_SWITCHES = {"output_gcs", "output_s3"}


def click_bool(text: str) -> bool:
    """``--compilation true``: click's BOOLEAN type."""
    lowered = text.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise argparse.ArgumentTypeError(f"{text!r} is not a boolean (use true or false)")


def any_case(*choices: str) -> Callable[[str], str]:
    """A type that maps ``warmup+cosinedecay`` to ``Warmup+CosineDecay`` (click's case_sensitive
    =False); an unknown value passes through for the config's one-line error."""
    by_lower = {choice.lower(): choice for choice in choices}

    def convert(text: str) -> str:
        return by_lower.get(text.lower(), text)

    return convert


class RefuseCloud(argparse.Action):
    """maou's GCS/S3 upload: exists only inside maou's infrastructure."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        parser.error(
            f"{option_string} uploads to maou's cloud storage, which maou-train does not do; "
            "drop it and copy --model-dir/--log-dir yourself (gsutil cp, aws s3 cp)"
        )


# (field, type, help) of options that take a value.
VALUE_OPTIONS: list[tuple[str, Any, str]] = [
    ("stage1_data_path", Path, "maou's stage1_data.feather (file or directory)"),
    ("stage2_data_path", Path, "maou's stage2[_chunkNNNN].feather (file or directory)"),
    (
        "stage3_validation_data_path",
        Path,
        "Stage 3 validation data (maou transformed_chunk*.feather or HCPE); --test-ratio ignored",
    ),
    ("policy_target_mode", str, "Stage 3 policy target from maou data: move-label, win-rate, "
     "weighted"),
    ("log_dir", Path, "TensorBoard scalars with maou's tags go under this directory"),
    ("model_dir", Path, "stage heads, backbones and models with maou's file names"),
    ("resume_backbone_from", Path, "load the backbone from this .pt before the first stage"),
    ("early_stopping_patience", int, "Stage 3: stop after N epochs without a new best (0 = off)"),
    ("early_stopping_metric", str, "Stage 3 validation metric watched: total, value or policy"),
    ("trainable_layers", int, "keep only the last N backbone layer groups trainable"),
    ("compilation", click_bool, "torch.compile the Stage 3 model (true/false)"),
    ("dataloader_workers", int, "worker processes decoding maou data files"),
    ("prefetch_factor", int, "batches each worker loads ahead"),
    ("adaptive_batch_min_steps", int, "adaptive batch: least accumulation steps"),
    ("adaptive_batch_max_steps", int, "adaptive batch: most accumulation steps"),
    ("adaptive_batch_interval", int, "adaptive batch: optimizer steps between adjustments"),
    ("adaptive_batch_smoothing", float, "adaptive batch: EMA factor of the GNS estimate"),
    ("adaptive_batch_measurement_interval", int, "adaptive batch: optimizer steps between GNS "
     "measurements"),
]  # fmt: skip

SWITCHES: list[tuple[str, str]] = [
    ("no_streaming", "load data files whole instead of streaming them file by file"),
    ("save_split_params", "Stage 3 also saves backbone / policy head / value head .pt files"),
    ("freeze_backbone", "freeze the backbone (= --trainable-layers 0)"),
    ("gradient_checkpointing", "recompute ViT activations in backward (ViT only)"),
    ("detect_anomaly", "torch.autograd anomaly detection (slow; names the op making a NaN)"),
    ("pin_memory", "pinned host memory for faster GPU copies of loaded batches"),
    ("adaptive_batch", "Stage 3: accumulation steps follow the gradient noise scale"),
]


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def add_maou_options(parser: argparse.ArgumentParser, help_for: Callable[[str, str], str]) -> None:
    """Add the group to ``parser``; ``help_for(field, text)`` adds the preset columns."""
    group = parser.add_argument_group("maou data, outputs and runtime")
    for field, kind, text in VALUE_OPTIONS:
        group.add_argument(_flag(field), dest=field, type=kind, help=help_for(field, text))
    for field, text in SWITCHES:
        group.add_argument(
            _flag(field), dest=field, action="store_true", help=help_for(field, text)
        )
    group.add_argument(
        "--stage12-compilation",
        dest="stage12_compilation",
        action=argparse.BooleanOptionalAction,
        help=help_for("stage12_compilation", "torch.compile the Stage 1/2 model"),
    )
    cloud = parser.add_argument_group("refused: maou's cloud upload")
    for field in CLOUD_OPTIONS:
        nargs = 0 if field in _CLOUD_SWITCHES else None
        cloud.add_argument(_flag(field), action=RefuseCloud, nargs=nargs, help="refused (exit 2)")

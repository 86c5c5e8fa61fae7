"""LR tools: the guide's recommendation tables, batch scaling rules and LR range-test analysis.

Plain Python + numpy: no terminal, no asyncio, no torch.
"""

from maou_tui.lrtools.recommend import Recommendation, format_recommendation, recommend
from maou_tui.lrtools.scaling import (
    BASE_BATCH_SIZE,
    cli_value_for,
    format_lr,
    linear_scaled_lr,
    sqrt_scale,
    sqrt_scaled_lr,
    stage_batch_option,
    stage_lr_option,
)
from maou_tui.lrtools.tables import ARCHITECTURES, TABLES, normalise_arch

__all__ = [
    "ARCHITECTURES",
    "BASE_BATCH_SIZE",
    "TABLES",
    "Recommendation",
    "cli_value_for",
    "format_lr",
    "format_recommendation",
    "linear_scaled_lr",
    "normalise_arch",
    "recommend",
    "sqrt_scale",
    "sqrt_scaled_lr",
    "stage_batch_option",
    "stage_lr_option",
]

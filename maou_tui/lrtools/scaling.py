"""Batch-size scaling rules and the stage's LR option, as the trainer applies them.

The trainer (like maou's ``setup.py::compute_effective_lr``) multiplies the Stage 1/2 LR by
``sqrt(batch / 256)`` when the batch exceeds 256; Stage 3 uses ``--learning-ratio`` as is.
"""

from __future__ import annotations

import math

from maou_tui.stages import STAGES

BASE_BATCH_SIZE = 256

_LR_OPTIONS = {n: info.lr_option for n, info in STAGES.items()}
_BATCH_OPTIONS = {n: info.batch_option for n, info in STAGES.items()}


def _check_stage(stage: int) -> None:
    if stage not in (1, 2, 3):
        raise ValueError(f"stage must be 1, 2 or 3, got {stage}")


def _check_batch(batch_size: int) -> None:
    if batch_size < 1:
        raise ValueError(f"batch size must be a positive integer, got {batch_size}")


def sqrt_scale(batch_size: int, stage: int) -> float:
    """The factor the trainer applies to the CLI LR: effective LR = CLI value × this."""
    _check_stage(stage)
    _check_batch(batch_size)
    if stage == 3 or batch_size <= BASE_BATCH_SIZE:
        return 1.0
    return math.sqrt(batch_size / BASE_BATCH_SIZE)


def stage_lr_option(stage: int) -> str:
    """The ``maou-train`` option that sets the LR of ``stage``."""
    _check_stage(stage)
    return _LR_OPTIONS[stage]


def stage_batch_option(stage: int) -> str:
    """The ``maou-train`` option that sets the batch size of ``stage``."""
    _check_stage(stage)
    return _BATCH_OPTIONS[stage]


def cli_value_for(effective_lr: float, batch_size: int, stage: int) -> float:
    """The value to pass so that the optimizer gets ``effective_lr`` (guide: 推奨実効LR / 倍率)."""
    return effective_lr / sqrt_scale(batch_size, stage)


def linear_scaled_lr(lr: float, from_batch: int, to_batch: int) -> float:
    """Linear scaling rule (Goyal et al. 2017): lr × k for a batch k times larger."""
    _check_batch(from_batch)
    _check_batch(to_batch)
    return lr * to_batch / from_batch


def sqrt_scaled_lr(lr: float, from_batch: int, to_batch: int) -> float:
    """Square-root scaling rule: lr × √k for a batch k times larger."""
    _check_batch(from_batch)
    _check_batch(to_batch)
    return lr * math.sqrt(to_batch / from_batch)


def round_sig(value: float, digits: int = 3) -> float:
    """``value`` rounded to ``digits`` significant figures (0.0002/4 → 5e-05 exactly)."""
    if value == 0 or not math.isfinite(value):
        return value
    return float(f"{value:.{digits}g}")


def format_lr(value: float) -> str:
    """An LR as the guide writes it: plain decimals (``0.00005``), scientific below 1e-6."""
    value = round_sig(value)
    if value != 0 and abs(value) < 1e-6:
        return f"{value:.3g}"
    text = f"{value:.10f}".rstrip("0").rstrip(".")
    return text or "0"

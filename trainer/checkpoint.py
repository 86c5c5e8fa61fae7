"""Checkpoints: maou's stage-end files and the ``latest`` resumable state, written atomically.

Every file is written to a temporary name in the same directory and moved into place with
``os.replace``, so a reader (or a crash) never sees half a checkpoint.
"""

from __future__ import annotations

import contextlib
import os
import random
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import torch

LATEST_NAME = "latest.pt"
CHECKPOINT_VERSION = 1

#: maou's stage-end file names (spec §4): ``<prefix>_<part>_<YYYYmmdd_HHMMSS>.pt``.
STAGE_FILE_PREFIXES = {
    1: ("stage1_reachable_head", "stage1_backbone"),
    2: ("stage2_legal_moves_head", "stage2_backbone"),
}
STAGE3_MODEL_PREFIX = "stage3_policy_value_model"


def atomic_save(obj: Any, path: Path) -> Path:
    """``torch.save`` to a temp file next to ``path``, then rename over it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            torch.save(obj, handle)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return path


def timestamp() -> str:
    return datetime.now().strftime("%Y%m%d_%H%M%S")


def save_stage_outputs(
    checkpoints_dir: Path, stage: int, backbone: torch.nn.Module, head: torch.nn.Module
) -> list[tuple[str, Path]]:
    """Stage-end files: ``[(part, path), ...]``: head and backbone (Stage 3: the model)."""
    stamp = timestamp()
    if stage == 3:
        model = {"backbone": backbone.state_dict(), "head": head.state_dict()}
        path = checkpoints_dir / f"{STAGE3_MODEL_PREFIX}_{stamp}.pt"
        return [("model", atomic_save(model, path))]
    head_prefix, backbone_prefix = STAGE_FILE_PREFIXES[stage]
    head_path = atomic_save(head.state_dict(), checkpoints_dir / f"{head_prefix}_{stamp}.pt")
    backbone_path = atomic_save(
        backbone.state_dict(), checkpoints_dir / f"{backbone_prefix}_{stamp}.pt"
    )
    return [("head", head_path), ("backbone", backbone_path)]


def rng_state() -> dict[str, Any]:
    state: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "numpy": np.random.get_state(),
        "python": random.getstate(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    np.random.set_state(state["numpy"])
    random.setstate(state["python"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_latest(checkpoints_dir: Path, state: dict[str, Any]) -> Path:
    """Write the resumable state (see ``StageTrainer.resumable_state``) as ``latest.pt``."""
    payload = {"version": CHECKPOINT_VERSION, "rng": rng_state(), **state}
    return atomic_save(payload, checkpoints_dir / LATEST_NAME)


def load_latest(checkpoints_dir: Path) -> dict[str, Any] | None:
    path = checkpoints_dir / LATEST_NAME
    if not path.exists():
        return None
    # weights_only=False: the file is our own (RNG states hold numpy/python objects), never a
    # file from elsewhere: --resume only reads <run>/checkpoints/latest.pt.
    return torch.load(path, map_location="cpu", weights_only=False)

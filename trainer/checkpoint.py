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


def save_stage_files_to(
    model_dir: Path, stage: int, backbone: torch.nn.Module, head: torch.nn.Module
) -> list[tuple[str, Path]]:
    """``--model-dir``: Stage 1/2's head and backbone under maou's names (what maou's Stage 3
    and ``--resume-backbone-from`` look for)."""
    head_prefix, backbone_prefix = STAGE_FILE_PREFIXES[stage]
    stamp = timestamp()
    return [
        ("head", atomic_save(head.state_dict(), model_dir / f"{head_prefix}_{stamp}.pt")),
        (
            "backbone",
            atomic_save(backbone.state_dict(), model_dir / f"{backbone_prefix}_{stamp}.pt"),
        ),
    ]


def save_stage3_model(
    model_dir: Path,
    run_id: str,
    tag: str,
    epoch: int,
    backbone: torch.nn.Module,
    head: torch.nn.Module,
    split: bool,
) -> list[Path]:
    """maou's ``ModelIO.save_model`` names: ``model_{id}_{tag}_{epoch}`` (+ ``_backbone``,
    ``_policy_head``, ``_value_head`` with ``--save-split-params``). maou exports ONNX, which
    needs onnx/onnxslim/onnxruntime; this writes the same weights as a torch state dict (.pt)."""
    stem = f"model_{run_id}_{tag}_{epoch}"
    model = {**_prefixed("backbone", backbone), **_prefixed("head", head)}
    paths = [atomic_save(model, model_dir / f"{stem}.pt")]
    if split:
        policy = getattr(head, "policy")  # noqa: B009 - PolicyValueHead's two linear layers
        value = getattr(head, "value")  # noqa: B009
        paths += [
            atomic_save(backbone.state_dict(), model_dir / f"{stem}_backbone.pt"),
            atomic_save(policy.state_dict(), model_dir / f"{stem}_policy_head.pt"),
            atomic_save(value.state_dict(), model_dir / f"{stem}_value_head.pt"),
        ]
    return paths


def _prefixed(prefix: str, module: torch.nn.Module) -> dict[str, Any]:
    return {f"{prefix}.{key}": value for key, value in module.state_dict().items()}


def load_backbone_file(path: Path) -> dict[str, Any]:
    """``--resume-backbone-from``: a backbone state dict (a ``stage*_backbone_*.pt``, a split
    ``_backbone.pt``, or a whole model whose ``backbone.`` keys are taken). Weights only."""
    state = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(state, dict):
        raise ValueError(f"--resume-backbone-from {path} holds no state dict")
    if any(key.startswith("backbone.") for key in state):
        state = {
            k.removeprefix("backbone."): v for k, v in state.items() if k.startswith("backbone.")
        }
    return state

"""Checkpoints: maou's stage-end files and the ``latest`` resumable state, written atomically.

Every file is serialised in memory first, written to a temporary name in the same directory and
moved into place with ``os.replace``, so a reader (or a crash) never sees half a checkpoint and a
failed write (a full disk) raises ``CheckpointWriteError`` naming the path and errno, with the
previous file untouched.

``latest.pt`` is loaded with ``torch.load(weights_only=True)`` only, after checking the file is
ours and only we can write it: everything in it is tensors and plain values (RNG states
included). It is an envelope ``{"format", "version", "sha256", "state"}`` whose ``state`` is the
``torch.save`` bytes of the resumable state, so a damaged file is refused by its checksum. The
file it replaced is kept as ``previous.pt`` (a hard link, so ``latest.pt`` never goes missing).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import random
import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import torch

from maou_tui.sdk.private_files import append_whole, read_private

LATEST_NAME = "latest.pt"
PREVIOUS_NAME = "previous.pt"
CHECKPOINT_FORMAT = "maou-tui-latest"
CHECKPOINT_VERSION = 2

#: maou's stage-end file names (spec §4): ``<prefix>_<part>_<YYYYmmdd_HHMMSS>.pt``.
STAGE_FILE_PREFIXES = {
    1: ("stage1_reachable_head", "stage1_backbone"),
    2: ("stage2_legal_moves_head", "stage2_backbone"),
}
STAGE3_MODEL_PREFIX = "stage3_policy_value_model"


class CheckpointWriteError(OSError):
    """A checkpoint could not be written; the message names the path and the errno."""

    def __init__(self, path: Path, cause: OSError) -> None:
        super().__init__(f"cannot write checkpoint {path}: {cause}")
        self.errno = cause.errno


class CheckpointDamagedError(ValueError):
    """``latest.pt`` cannot be trusted; the message names it and the previous checkpoint."""


def serialise(obj: Any) -> bytes:
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()


def write_atomically(
    data: bytes, path: Path, before_replace: Callable[[], None] | None = None
) -> Path:
    """Write ``data`` to a 0600 temp file next to ``path``, then rename it over ``path``.

    ``before_replace`` runs once the data is safely on disk, just before the rename.
    """
    tmp: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            append_whole(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        if before_replace is not None:
            before_replace()
        os.replace(tmp, path)
    except OSError as exc:
        if tmp is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        raise CheckpointWriteError(path, exc) from None
    return path


def atomic_save(obj: Any, path: Path) -> Path:
    """``torch.save`` of ``obj`` to ``path``, atomically (see ``write_atomically``)."""
    return write_atomically(serialise(obj), path)


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
    """Every RNG state as tensors and plain values (loadable with ``weights_only=True``)."""
    _, keys, pos, has_gauss, cached_gaussian = np.random.get_state()
    version, internal, gauss_next = random.getstate()
    state: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "numpy": {
            "keys": torch.from_numpy(np.asarray(keys, dtype=np.int64)),
            "pos": int(pos),
            "has_gauss": int(has_gauss),
            "cached_gaussian": float(cached_gaussian),
        },
        "python": {
            "version": version,
            "state": torch.tensor(internal, dtype=torch.int64),
            "gauss_next": gauss_next,
        },
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    numpy_state = state["numpy"]
    keys = numpy_state["keys"].numpy().astype(np.uint32)
    np.random.set_state(
        (
            "MT19937",
            keys,
            numpy_state["pos"],
            numpy_state["has_gauss"],
            numpy_state["cached_gaussian"],
        )
    )
    python = state["python"]
    random.setstate((python["version"], tuple(python["state"].tolist()), python["gauss_next"]))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def encode_latest(state: dict[str, Any]) -> bytes:
    """The ``latest.pt`` envelope of ``state``: its ``torch.save`` bytes and their SHA-256."""
    inner = serialise({"rng": rng_state(), **state})
    return serialise(
        {
            "format": CHECKPOINT_FORMAT,
            "version": CHECKPOINT_VERSION,
            "sha256": hashlib.sha256(inner).hexdigest(),
            "state": torch.frombuffer(bytearray(inner), dtype=torch.uint8),
        }
    )


def save_latest(checkpoints_dir: Path, state: dict[str, Any]) -> Path:
    """Write the resumable state (``StageTrainer.resumable_state``) as ``latest.pt``.

    The file it replaces stays as ``previous.pt``. Raises CheckpointWriteError.
    """
    latest = checkpoints_dir / LATEST_NAME
    return write_atomically(encode_latest(state), latest, lambda: _keep_as_previous(latest))


def _keep_as_previous(latest: Path) -> None:
    """Hard-link ``latest.pt`` as ``previous.pt`` (atomically; nothing when there is none)."""
    previous = latest.with_name(PREVIOUS_NAME)
    link = latest.with_name(f".{PREVIOUS_NAME}.link")
    with contextlib.suppress(FileNotFoundError):
        link.unlink()
    try:
        os.link(latest, link, follow_symlinks=False)
    except FileNotFoundError:
        return
    os.replace(link, previous)


def load_latest(checkpoints_dir: Path) -> dict[str, Any] | None:
    """The state in ``latest.pt`` (None when there is none).

    Refuses (UnsafePathError) a file that is a symlink, not ours or writable by others, and
    (CheckpointDamagedError) one whose checksum or contents are wrong.
    """
    path = checkpoints_dir / LATEST_NAME
    try:
        data = read_private(path)
    except FileNotFoundError:
        return None
    return decode_latest(data, path)


def decode_latest(data: bytes, path: Path) -> dict[str, Any]:
    """Check and unpack a ``latest.pt`` envelope; CheckpointDamagedError names ``path``."""
    try:
        envelope = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for a bad file; all mean "damaged"
        raise _damaged(path, _first_line(exc)) from None
    if not isinstance(envelope, dict) or envelope.get("format") != CHECKPOINT_FORMAT:
        raise _damaged(path, "it is not a maou-tui resumable checkpoint")
    if envelope.get("version") != CHECKPOINT_VERSION:
        raise _damaged(
            path,
            f"format version {envelope.get('version')!r}, this trainer reads {CHECKPOINT_VERSION}",
        )
    inner = envelope.get("state")
    if not isinstance(inner, torch.Tensor) or inner.dtype != torch.uint8:
        raise _damaged(path, "it has no state")
    payload = inner.numpy().tobytes()
    if hashlib.sha256(payload).hexdigest() != envelope.get("sha256"):
        raise _damaged(path, "checksum mismatch (the file changed after it was written)")
    try:
        state = torch.load(io.BytesIO(payload), map_location="cpu", weights_only=True)
    except Exception as exc:
        raise _damaged(path, _first_line(exc)) from None
    if not isinstance(state, dict):
        raise _damaged(path, "its state is not a dictionary")
    return state


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else 'no detail'}"


def _damaged(path: Path, reason: str) -> CheckpointDamagedError:
    previous = path.with_name(PREVIOUS_NAME)
    if previous.is_file():
        hint = f"the previous one is {previous} (to resume from it, copy it over {path.name})"
    else:
        hint = "there is no previous one; start a new run"
    return CheckpointDamagedError(f"checkpoint {path} is damaged: {reason}; {hint}")


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

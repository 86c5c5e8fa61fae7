"""How a stage's model is prepared before training, with maou's rules: ``--resume-backbone-from``,
``--freeze-backbone`` / ``--trainable-layers``, ``--gradient-checkpointing`` and ``torch.compile``
(``--compilation`` for Stage 3, ``--stage12-compilation`` for Stages 1/2)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import torch
from torch import nn

from trainer.checkpoint import load_backbone_file
from trainer.config import TrainConfig

if TYPE_CHECKING:
    from trainer.distributed import Distributed
    from trainer.stages import StageModel


def freeze_backbone_groups(backbone: nn.Module, trainable: int) -> int:
    """maou's ``Network.freeze_except_last_n`` (Stage 3): freeze the whole backbone (embedding
    and hand projection included), then unfreeze its last ``trainable`` layer groups and, when
    any are trainable, its output norm. Returns the number of frozen parameters."""
    for param in backbone.parameters():
        param.requires_grad = False
    groups: list[nn.Module] = backbone.layer_groups()  # type: ignore[operator]
    keep = min(trainable, len(groups))
    for group in groups[len(groups) - keep :]:
        for param in group.parameters():
            param.requires_grad = True
    norm = getattr(backbone, "norm", None)
    if keep > 0 and isinstance(norm, nn.Module):
        for param in norm.parameters():
            param.requires_grad = True
    return sum(p.numel() for p in backbone.parameters() if not p.requires_grad)


def trainable_layers(config: TrainConfig) -> int | None:
    """``--freeze-backbone`` is ``--trainable-layers 0``; None = nothing frozen."""
    return 0 if config.freeze_backbone else config.trainable_layers


def prepare_model(
    config: TrainConfig,
    stage: int,
    model: StageModel,
    fresh_backbone: bool,
    dist: Distributed | None,
) -> tuple[nn.Module, list[str]]:
    """``(the module the loop trains through, log lines saying what was done)``."""
    notes: list[str] = []
    if config.resume_backbone_from is not None and fresh_backbone:
        path = Path(config.resume_backbone_from).expanduser()
        model.backbone.load_state_dict(load_backbone_file(path))
        notes.append(f"Loaded backbone parameters from {path}")
    keep = trainable_layers(config)
    if keep is not None and stage == 3:
        frozen = freeze_backbone_groups(model.backbone, keep)
        notes.append(f"Frozen backbone parameters: {frozen} (trainable_layers={keep})")
    if config.gradient_checkpointing:
        if config.model_architecture == "vit":
            setattr(model.backbone, "gradient_checkpointing", True)  # noqa: B010 - ViT's switch
            notes.append("Gradient checkpointing enabled for the ViT encoder layers")
        else:  # maou ignores it for the other architectures
            notes.append(
                f"--gradient-checkpointing ignored: {config.model_architecture} is not vit"
            )
    net: nn.Module = dist.wrap(model) if dist is not None else model
    compile_flag = config.compilation if stage == 3 else config.stage12_compilation
    if compile_flag:
        net = torch.compile(net)  # type: ignore[assignment]
        notes.append(f"Stage {stage} model compiled with torch.compile")
    return net, notes

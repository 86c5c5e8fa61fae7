"""The trainer's networks: three backbones (ResNet, MLP-Mixer, ViT) at two sizes, and stage heads.

backbone = build_backbone("resnet", "tiny")        # (board, hand) -> (B, backbone.out_dim)
head = LegalMovesHead(backbone.out_dim)            # features -> (B, 1496) logits
"""

from trainer.models.backbone import Backbone
from trainer.models.heads import LegalMovesHead, PolicyValueHead, ReachableSquaresHead
from trainer.models.presets import ARCHITECTURES, PRESETS, build_backbone, parameter_count

__all__ = [
    "ARCHITECTURES",
    "PRESETS",
    "Backbone",
    "LegalMovesHead",
    "PolicyValueHead",
    "ReachableSquaresHead",
    "build_backbone",
    "parameter_count",
]

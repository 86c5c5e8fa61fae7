"""Bottleneck ResNet backbone (maou ``domain/model/resnet.py``).

References: He et al. 2015, "Deep Residual Learning for Image Recognition" (bottleneck
blocks, expansion 4). maou feeds the 9x9 input map straight into the first stage (no stem
convolution): stages of (2, 2, 2, 2) blocks with strides (1, 2, 2, 2) take the board from
9x9 to 5x5, 3x3 and 2x2, widths 64/128/256/512 expand x4 to 2048 channels, and a global
average pool gives the 2048-d features (13.9M parameters). The hand vector is broadcast
to every square.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from trainer.models.backbone import Backbone, BoardInputs


@dataclass(frozen=True)
class ResNetConfig:
    embed_dim: int = 32
    hand_dim: int = 32
    widths: tuple[int, ...] = (64, 128, 256, 512)
    blocks: tuple[int, ...] = (2, 2, 2, 2)
    strides: tuple[int, ...] = (1, 2, 2, 2)
    expansion: int = 4


class Bottleneck(nn.Module):
    """1x1 reduce -> 3x3 (strided) -> 1x1 expand, plus a shortcut; post-activation."""

    def __init__(self, in_channels: int, width: int, out_channels: int, stride: int) -> None:
        super().__init__()
        self.reduce = nn.Sequential(
            nn.Conv2d(in_channels, width, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU()
        )
        self.spatial = nn.Sequential(
            nn.Conv2d(width, width, 3, stride=stride, padding=1, bias=False),
            nn.BatchNorm2d(width),
            nn.ReLU(),
        )
        self.expand = nn.Sequential(
            nn.Conv2d(width, out_channels, 1, bias=False), nn.BatchNorm2d(out_channels)
        )
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
                nn.BatchNorm2d(out_channels),
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.expand(self.spatial(self.reduce(x)))
        return torch.relu(out + self.shortcut(x))


class ResNetBackbone(Backbone):
    def __init__(self, config: ResNetConfig) -> None:
        super().__init__()
        self.inputs = BoardInputs(config.embed_dim, config.hand_dim, "broadcast")
        channels = self.inputs.channels
        stages = []
        stage_shapes = zip(config.widths, config.blocks, config.strides, strict=True)
        for width, num_blocks, stride in stage_shapes:
            out_channels = width * config.expansion
            blocks = []
            for index in range(num_blocks):
                block_stride = stride if index == 0 else 1
                blocks.append(Bottleneck(channels, width, out_channels, block_stride))
                channels = out_channels
            stages.append(nn.Sequential(*blocks))
        self.stages = nn.ModuleList(stages)
        self.out_dim = channels

    def forward(self, board: torch.Tensor, hand: torch.Tensor) -> torch.Tensor:
        x = self.inputs(board, hand)  # (B, 64, 9, 9)
        for stage in self.stages:
            x = stage(x)  # 9x9 -> 9x9 -> 5x5 -> 3x3 -> 2x2 with maou's strides
        return x.mean(dim=(2, 3))  # (B, out_dim): global average pool

    def layer_groups(self) -> list[nn.Module]:
        return list(self.stages)

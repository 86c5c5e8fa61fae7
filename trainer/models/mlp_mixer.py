"""MLP-Mixer backbone over the 81 squares (maou ``domain/model/mlp_mixer.py``).

Reference: Tolstikhin et al. 2021, "MLP-Mixer: An all-MLP Architecture for Vision".
Each square is a token: its 64 input channels are layer-normed and projected to ``dim``
(dropout after the projection and after the final norm, as maou); each block mixes
across squares (token MLP 81 -> token_hidden -> 81) and then across channels (channel MLP
dim -> channel_hidden -> dim), both pre-norm with residuals. A final LayerNorm and a mean
over squares give the features. maou: dim 256, token 128, channel 1024, depth 16,
dropout 0.15 -> 256-d (8.8M parameters). The hand vector sits on square (0, 0).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from trainer.models.backbone import Backbone, BoardInputs

NUM_SQUARES = 81


@dataclass(frozen=True)
class MixerConfig:
    embed_dim: int = 32
    hand_dim: int = 32
    dim: int = 256
    token_hidden: int = 128
    channel_hidden: int = 1024
    depth: int = 16
    dropout: float = 0.15


def _mlp(width: int, hidden: int, dropout: float) -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(width, hidden),
        nn.GELU(),
        nn.Dropout(dropout),
        nn.Linear(hidden, width),
        nn.Dropout(dropout),
    )


class MixerBlock(nn.Module):
    def __init__(self, config: MixerConfig) -> None:
        super().__init__()
        self.token_norm = nn.LayerNorm(config.dim)
        self.token_mlp = _mlp(NUM_SQUARES, config.token_hidden, config.dropout)
        self.channel_norm = nn.LayerNorm(config.dim)
        self.channel_mlp = _mlp(config.dim, config.channel_hidden, config.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (B, 81, dim)
        mixed = self.token_mlp(self.token_norm(x).transpose(1, 2))  # (B, dim, 81)
        x = x + mixed.transpose(1, 2)
        return x + self.channel_mlp(self.channel_norm(x))  # (B, 81, dim)


class MlpMixerBackbone(Backbone):
    def __init__(self, config: MixerConfig) -> None:
        super().__init__()
        self.inputs = BoardInputs(config.embed_dim, config.hand_dim, "corner")
        self.input_norm = nn.LayerNorm(self.inputs.channels)
        self.token_projection = nn.Linear(self.inputs.channels, config.dim)
        self.dropout = nn.Dropout(config.dropout)
        self.blocks = nn.ModuleList(MixerBlock(config) for _ in range(config.depth))
        self.norm = nn.LayerNorm(config.dim)
        self.out_dim = config.dim

    def forward(self, board: torch.Tensor, hand: torch.Tensor) -> torch.Tensor:
        x = self.inputs(board, hand).flatten(2).transpose(1, 2)  # (B, 81, 64)
        x = self.dropout(self.token_projection(self.input_norm(x)))  # (B, 81, dim)
        for block in self.blocks:
            x = block(x)
        return self.dropout(self.norm(x)).mean(dim=1)  # (B, dim)

    def layer_groups(self) -> list[nn.Module]:
        return list(self.blocks)

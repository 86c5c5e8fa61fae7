"""Vision Transformer backbone over the 81 squares (maou ``domain/model/vision_transformer.py``).

Reference: Dosovitskiy et al. 2020, "An Image is Worth 16x16 Words". Each square is a
token (its 64 input channels projected to ``dim``) with a learned positional embedding;
pre-norm transformer layers (torch's ``TransformerEncoderLayer``, GELU), a final LayerNorm
and a mean over squares give the features. maou: dim 512, 6 layers, 8 heads, MLP x4,
dropout 0.1 (none on attention weights) -> 512-d (19.0M parameters). As maou, the token
projection and positions start at truncated-normal std 0.02. The hand sits on square (0, 0).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.utils.checkpoint import checkpoint

from trainer.models.backbone import Backbone, BoardInputs

NUM_SQUARES = 81


@dataclass(frozen=True)
class ViTConfig:
    embed_dim: int = 32
    hand_dim: int = 32
    dim: int = 512
    num_layers: int = 6
    num_heads: int = 8
    mlp_ratio: float = 4.0
    dropout: float = 0.1

    def __post_init__(self) -> None:
        if self.dim % self.num_heads:
            raise ValueError(
                f"--vit-embed-dim {self.dim} is not divisible by --vit-num-heads "
                f"{self.num_heads}: choose values where it is"
            )


def _encoder_layer(config: ViTConfig) -> nn.TransformerEncoderLayer:
    layer = nn.TransformerEncoderLayer(
        d_model=config.dim,
        nhead=config.num_heads,
        dim_feedforward=round(config.dim * config.mlp_ratio),
        dropout=config.dropout,
        activation="gelu",
        batch_first=True,
        norm_first=True,
    )
    layer.self_attn.dropout = 0.0  # maou drops out after attention, not the weights themselves
    return layer


class ViTBackbone(Backbone):
    def __init__(self, config: ViTConfig) -> None:
        super().__init__()
        self.inputs = BoardInputs(config.embed_dim, config.hand_dim, "corner")
        self.token_projection = nn.Linear(self.inputs.channels, config.dim)
        self.position = nn.Parameter(torch.zeros(1, NUM_SQUARES, config.dim))
        nn.init.trunc_normal_(self.token_projection.weight, std=0.02)
        nn.init.zeros_(self.token_projection.bias)
        nn.init.trunc_normal_(self.position, std=0.02)
        self.dropout = nn.Dropout(config.dropout)
        self.layers = nn.ModuleList(_encoder_layer(config) for _ in range(config.num_layers))
        self.norm = nn.LayerNorm(config.dim)
        self.out_dim = config.dim
        #: ``--gradient-checkpointing``: recompute each layer's activations in backward.
        self.gradient_checkpointing = False

    def forward(self, board: torch.Tensor, hand: torch.Tensor) -> torch.Tensor:
        x = self.inputs(board, hand).flatten(2).transpose(1, 2)  # (B, 81, 64)
        x = self.dropout(self.token_projection(x) + self.position)  # (B, 81, dim)
        for layer in self.layers:
            if self.gradient_checkpointing and self.training:
                x = checkpoint(layer, x, use_reentrant=False)
            else:
                x = layer(x)
        return self.norm(x).mean(dim=1)  # (B, dim)

    def layer_groups(self) -> list[nn.Module]:
        return list(self.layers)

"""What every backbone shares: maou's input encoding and the Backbone interface.

Input encoding (maou ``app/learning/network.py``): the (B, 9, 9) piece ids go through an
``Embedding(256, embed_dim)``; the (B, 14) hand counts through ``Linear(14, hand_dim)``.
The hand vector is either broadcast to all 81 squares (ResNet) or placed on square (0, 0)
only, zeros elsewhere (MLP-Mixer, ViT). The result is (B, embed_dim + hand_dim, 9, 9).
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn

BOARD_VOCAB_SIZE = 256  # maou's embedding size; piece ids use 0-28
HAND_FEATURES = 14

HandPlacement = Literal["broadcast", "corner"]


class BoardInputs(nn.Module):
    """Embeds board ids and projects hand counts into one (B, C, 9, 9) feature map."""

    def __init__(self, embed_dim: int, hand_dim: int, hand_placement: HandPlacement) -> None:
        super().__init__()
        self.embedding = nn.Embedding(BOARD_VOCAB_SIZE, embed_dim)
        self.hand_projection = nn.Linear(HAND_FEATURES, hand_dim)
        self.hand_placement = hand_placement
        self.channels = embed_dim + hand_dim

    def forward(self, board: torch.Tensor, hand: torch.Tensor) -> torch.Tensor:
        pieces = self.embedding(board.long()).permute(0, 3, 1, 2)  # (B, E, 9, 9)
        projected = self.hand_projection(hand)  # (B, H)
        batch, hand_dim = projected.shape
        if self.hand_placement == "broadcast":
            hand_map = projected[:, :, None, None].expand(batch, hand_dim, 9, 9)
        else:
            hand_map = projected.new_zeros(batch, hand_dim, 9, 9)
            hand_map[:, :, 0, 0] = projected
        return torch.cat([pieces, hand_map], dim=1)  # (B, E + H, 9, 9)


class Backbone(nn.Module):
    """A network body: (board (B, 9, 9) ids, hand (B, 14)) -> (B, out_dim) features.

    The same backbone instance carries over from Stage 1 to 2 to 3; only heads change.
    """

    out_dim: int

    def forward(self, board: torch.Tensor, hand: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def layer_groups(self) -> list[nn.Module]:
        """The body's layer groups from input to output (for partial freezing)."""
        raise NotImplementedError

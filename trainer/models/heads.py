"""Stage heads on top of a backbone's (B, D) features (maou ``app/learning/network.py``)."""

from __future__ import annotations

import torch
from torch import nn

from trainer.shogi.labels import NUM_MOVE_LABELS

NUM_SQUARES = 81


class ReachableSquaresHead(nn.Module):
    """Stage 1: one logit per square, row-major [rank][file]: (B, D) -> (B, 81)."""

    def __init__(self, in_dim: int) -> None:
        super().__init__()
        self.linear = nn.Linear(in_dim, NUM_SQUARES)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.linear(features)


class LegalMovesHead(nn.Module):
    """Stage 2: one logit per move label: (B, D) -> (B, 1496).

    With ``hidden_dim`` the head is Linear -> GELU -> Dropout -> Linear, as maou's
    ``--stage2-hidden-dim`` / ``--stage2-head-dropout``; dropout needs the hidden layer.
    """

    def __init__(self, in_dim: int, hidden_dim: int | None = None, dropout: float = 0.0) -> None:
        super().__init__()
        if hidden_dim is None:
            if dropout > 0:
                raise ValueError(
                    "--stage2-head-dropout needs --stage2-hidden-dim: set a hidden size too"
                )
            self.layers = nn.Sequential(nn.Linear(in_dim, NUM_MOVE_LABELS))
        else:
            self.layers = nn.Sequential(
                nn.Linear(in_dim, hidden_dim),
                nn.GELU(),
                nn.Dropout(dropout),
                nn.Linear(hidden_dim, NUM_MOVE_LABELS),
            )

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.layers(features)


class PolicyValueHead(nn.Module):
    """Stage 3: (B, D) -> ((B, 1496) policy logits, (B,) value logit)."""

    def __init__(self, in_dim: int) -> None:
        super().__init__()
        self.policy = nn.Linear(in_dim, NUM_MOVE_LABELS)
        self.value = nn.Linear(in_dim, 1)

    def forward(self, features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.policy(features), self.value(features).squeeze(-1)

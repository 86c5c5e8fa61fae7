"""The in-memory form of every stage's data: row-aligned numpy arrays, and the train/val split."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from trainer.shogi.sparse import SparsePolicy


@dataclass
class ShogiArrays:
    """Row-aligned inputs and targets of one stage.

    ``board`` (N, 9, 9) uint8 piece ids and ``hand`` (N, 14) float32 counts (see
    ``features.encode_position``); ``targets`` maps a target name ("reachable", "legal",
    "policy", "value") to an array whose first axis has N rows; Stage 3's "policy" is a
    ``SparsePolicy`` (the (label, weight) pairs of each row), the others are numpy arrays.
    """

    board: np.ndarray
    hand: np.ndarray
    targets: dict[str, np.ndarray | SparsePolicy] = field(default_factory=dict)

    def __post_init__(self) -> None:
        rows = {len(self.board), len(self.hand), *(len(t) for t in self.targets.values())}
        if len(rows) != 1:
            raise ValueError(f"ShogiArrays columns have different row counts: {sorted(rows)}")

    def __len__(self) -> int:
        return len(self.board)

    def subset(self, idx: np.ndarray) -> ShogiArrays:
        """The rows ``idx`` (an index array or boolean mask), as a new ShogiArrays."""
        return ShogiArrays(
            board=self.board[idx],
            hand=self.hand[idx],
            targets={name: target[idx] for name, target in self.targets.items()},
        )


def train_val_split(
    data: ShogiArrays, ratio: float, seed: int
) -> tuple[ShogiArrays, ShogiArrays | None]:
    """Shuffle rows with ``seed`` and hold out ``ratio`` of them (at least one) for validation.

    A ratio of 0 returns ``(data, None)``: there is no validation set.
    """
    if not 0.0 <= ratio < 1.0:
        raise ValueError(f"test ratio {ratio} is out of range: use a value in [0, 1)")
    if ratio == 0.0:
        return data, None
    num_val = max(1, round(len(data) * ratio))
    if num_val >= len(data):
        raise ValueError(
            f"test ratio {ratio} leaves no training rows out of {len(data)}: use a smaller ratio"
        )
    order = np.random.default_rng(seed).permutation(len(data))
    return data.subset(np.sort(order[num_val:])), data.subset(np.sort(order[:num_val]))

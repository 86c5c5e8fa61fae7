"""maou's Stage 3 early stopping and best-model rule (``dl.py``): one validation metric is
watched; a new best saves the model, ``--early-stopping-patience`` epochs without one stop."""

from __future__ import annotations

import math
from dataclasses import dataclass

from trainer.config import TrainConfig

#: ``--early-stopping-metric`` -> the validation value it watches (lower is better).
MONITORED = {"total": "loss", "value": "value_brier_score", "policy": "policy_cross_entropy"}


@dataclass
class EarlyStopping:
    metric: str
    patience: int
    best: float = math.inf
    best_loss: float = math.inf
    epochs_without_improvement: int = 0
    improved_once: bool = False

    @classmethod
    def for_stage(cls, config: TrainConfig, stage: int) -> EarlyStopping | None:
        """Stage 3 only (Stages 1/2 stop at their threshold)."""
        if stage != 3:
            return None
        return cls(config.early_stopping_metric, config.early_stopping_patience)

    def update(self, val: dict[str, float | None]) -> bool:
        """After an epoch's validation; True when the watched metric reached a new best."""
        value = val.get(MONITORED[self.metric])
        self.best_loss = min(self.best_loss, float(val.get("loss") or math.inf))
        if value is not None and math.isfinite(value) and value < self.best:
            self.best, self.epochs_without_improvement, self.improved_once = value, 0, True
            return True
        self.epochs_without_improvement += 1
        return False

    @property
    def should_stop(self) -> bool:
        return self.patience > 0 and self.epochs_without_improvement >= self.patience

    def message(self, epoch: int, epochs: int) -> str:
        """maou's line, word for word."""
        return (
            f"Early stopping: monitored metric ({self.metric}) did not improve for "
            f"{self.epochs_without_improvement} consecutive epochs (patience={self.patience}). "
            f"Stopping at epoch {epoch} of {epochs}. best_{self.metric}={self.best} "
            f"best_vloss={self.best_loss}"
        )

    def state(self) -> dict[str, float | int | bool]:
        return {
            "best": self.best,
            "best_loss": self.best_loss,
            "epochs_without_improvement": self.epochs_without_improvement,
            "improved_once": self.improved_once,
        }

    def restore(self, state: dict[str, float | int | bool]) -> None:
        self.best, self.best_loss = float(state["best"]), float(state["best_loss"])
        self.epochs_without_improvement = int(state["epochs_without_improvement"])
        self.improved_once = bool(state["improved_once"])

"""``--log-dir``: TensorBoard scalars under maou's tags, written as maou's Stage 3 does (``dl.py``).

maou writes TensorBoard only in Stage 3, to ``<log-dir>/<model_tag>_training_log_<YYYYmmdd_HHMMSS>``
(spec §7, ``reference/maou-log-lines.md``): ``Loss/train`` every ~1/10 epoch (the mean of those
batches, x = batches so far), and per epoch ``Learning Rate``, ``Train-Validation Gap`` and the
``add_scalars`` groups ``Training vs. Validation Loss``, ``Validation Loss Metrics`` and
``Validation Accuracy Metrics``; at the end an hparams summary. torch's own ``SummaryWriter``
writes them, so any TensorBoard reader (maou-tui watch included) reads them as maou's.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from torch.utils.tensorboard import SummaryWriter

from trainer.config import TrainConfig


def format_parameter_count(count: int) -> str:
    """maou's ``ModelIO.format_parameter_count``: 1234567 -> '1.2m', 45000 -> '45k'."""

    def short(value: float) -> str:
        text = f"{value:.1f}"
        return text[:-2] if text.endswith(".0") else text

    if count >= 1_000_000:
        return f"{short(count / 1_000_000)}m"
    if count >= 1_000:
        return f"{short(count / 1_000)}k"
    return str(count)


def model_tag(architecture: str, parameters: int, trainable_layers: int | None) -> str:
    """maou's ``ModelIO.generate_model_tag``: ``resnet-1.2m``, ``vit-19m-tl2``."""
    tag = f"{architecture}-{format_parameter_count(parameters)}"
    return tag if trainable_layers is None else f"{tag}-tl{trainable_layers}"


class MaouSummary:
    """One Stage 3 training's TensorBoard files, with maou's tags."""

    def __init__(self, log_dir: Path, tag: str, batches_per_epoch: int) -> None:
        stamp = datetime.now().astimezone().strftime("%Y%m%d_%H%M%S")
        self.path = Path(log_dir).expanduser() / f"{tag}_training_log_{stamp}"
        self.writer = SummaryWriter(str(self.path))
        self.batches_per_epoch = batches_per_epoch
        self.record_every = max(1, batches_per_epoch // 10)
        self._loss_sum, self._loss_count = 0.0, 0

    def batch_loss(self, epoch: int, batch: int, loss: float) -> None:
        """Called after each training batch (``epoch`` 1-based, ``batch`` 0-based)."""
        self._loss_sum += loss
        self._loss_count += 1
        if batch % self.record_every == self.record_every - 1:
            step = (epoch - 1) * self.batches_per_epoch + batch + 1
            self.writer.add_scalar("Loss/train", self._loss_sum / self.record_every, step)
            self._loss_sum, self._loss_count = 0.0, 0

    def epoch(
        self, epoch: int, train_loss: float, val: dict[str, float | None] | None, lr: float
    ) -> None:
        """maou's ``_log_epoch_metrics`` (validation groups only when there is validation)."""
        if val is not None:
            val_loss = float(val["loss"] or 0.0)
            self.writer.add_scalars(
                "Validation Loss Metrics",
                {
                    "Policy Cross Entropy": float(val["policy_cross_entropy"] or 0.0),
                    "Value Brier Score": float(val["value_brier_score"] or 0.0),
                },
                epoch,
            )
            self.writer.add_scalars(
                "Validation Accuracy Metrics",
                {
                    "Policy Top-5 Accuracy": float(val["policy_top5_accuracy"] or 0.0),
                    "Policy F1 Score": float(val["policy_f1_score"] or 0.0),
                    "Value ≥0.8 Precision": float(val["value_high_confidence_rate"] or 0.0),
                },
                epoch,
            )
            self.writer.add_scalars(
                "Training vs. Validation Loss",
                {"Training": train_loss, "Validation": val_loss},
                epoch,
            )
            self.writer.add_scalar("Train-Validation Gap", val_loss - train_loss, epoch)
        self.writer.add_scalar("Learning Rate", lr, epoch)
        self.writer.flush()

    def finish(
        self, config: TrainConfig, tag: str, best_vloss: float, final: dict[str, float | None]
    ) -> None:
        """maou's ``_log_hparams``: the run's options and the final validation metrics."""
        hparams: dict[str, Any] = {
            "trainable_layers": -1 if config.trainable_layers is None else config.trainable_layers,
            "freeze_backbone": config.freeze_backbone,
            "model_architecture": config.model_architecture,
            "model_tag": tag,
            "learning_ratio": config.learning_ratio,
            "optimizer_name": config.optimizer,
            "lr_scheduler_name": config.lr_scheduler,
            "batch_size": config.stage3_batch_size or config.batch_size,
            "gradient_accumulation_steps": config.gradient_accumulation_steps,
            "epoch": config.epoch,
            "policy_loss_ratio": config.policy_loss_ratio,
            "value_loss_ratio": config.value_loss_ratio,
            "policy_target_mode": config.policy_target_mode,
        }
        metrics = {
            "hparam/best_vloss": best_vloss,
            "hparam/policy_top5_accuracy": float(final.get("policy_top5_accuracy") or 0.0),
            "hparam/policy_cross_entropy": float(final.get("policy_cross_entropy") or 0.0),
            "hparam/value_brier_score": float(final.get("value_brier_score") or 0.0),
        }
        self.writer.add_hparams(hparams, metrics, run_name=".")
        self.close()

    def close(self) -> None:
        self.writer.flush()
        self.writer.close()

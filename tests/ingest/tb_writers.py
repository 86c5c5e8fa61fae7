"""Runs written by a real ``torch.utils.tensorboard.SummaryWriter`` for the TensorBoard tests.

``write_maou_run`` reproduces maou's Stage 3 layout (github dousu/maou ``app/learning/dl.py``
and ``callbacks.py::LoggingCallback``): ``Loss/train`` every ``len // 10`` batches at
``epoch * len + batch + 1``, the epoch scalars and ``add_scalars`` groups at step = epoch, and
``add_hparams(..., run_name=".")`` at the end. It also writes the log maou prints for the same
run (the tqdm bar shows each logged loss), so a test can read the run both ways.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import pytest

writer_module = pytest.importorskip("torch.utils.tensorboard", reason="needs tensorboard")
SummaryWriter = writer_module.SummaryWriter

PREFIX = "2026-12-03T17:30:03+09:00 | INFO  |           dl.py |              __train | {line} | "


@dataclass(frozen=True)
class MaouRun:
    run_dir: Path  # <log-dir>/<model>_training_log_<ts>
    log: Path
    losses: dict[int, float]  # TensorBoard step -> Loss/train
    epochs: int
    batches: int


def maou_curves(epoch: int, epochs: int) -> tuple[float, float, float]:
    """(train loss, val loss, lr) of an epoch: train falls, val falls then rises (overfits)."""
    train = 4.5 - 0.25 * epoch
    val = 4.6 - 0.3 * epoch if epoch <= 3 else 3.7 + 0.3 * (epoch - 3)
    lr = 0.001 * 0.5 * (1 + math.cos(math.pi * epoch / epochs))
    return train, val, lr


def write_maou_run(
    log_dir: Path, epochs: int = 8, batches: int = 38, log_name: str = "train.log"
) -> MaouRun:
    run_dir = log_dir / "vit-75.5k_training_log_20261203_083003"
    writer = SummaryWriter(str(run_dir))
    lines = [
        PREFIX.format(line=1085) + "=== Training Configuration ===",
        "Model: vit-75.5k (embed_dim=32, num_layers=1, num_heads=2)",
        "Optimizer: adamw (lr=0.001, beta1=0.9, beta2=0.999)",
        "Scheduler: warmup_cosine_decay",
        f"Batch: 128 × 1 = 128 (effective), Epoch: {epochs}, Workers: 0",
        "==============================",
        PREFIX.format(line=608) + f"TensorBoard log directory: {run_dir} (model: vit-75.5k)",
    ]
    record = max(1, batches // 10)
    losses: dict[int, float] = {}
    best = math.inf
    for epoch in range(epochs):
        lines.append(PREFIX.format(line=682) + f"EPOCH {epoch + 1}:")
        bar = []
        for batch in range(batches):
            if batch % record == record - 1:
                step = epoch * batches + batch + 1
                loss = 5.0 - 0.2 * epoch - 0.01 * batch
                writer.add_scalar("Loss/train", loss, step)
                losses[step] = loss
                pct = int(100 * (batch + 1) / batches)
                bar.append(
                    f"Training: {pct:3d}%|#   | {batch + 1}/{batches} "
                    f"[00:01<00:01, 15.0it/s, loss={loss:.4f}]"
                )
        lines.append("\r".join(bar))
        train, val, lr = maou_curves(epoch + 1, epochs)
        best = min(best, val)
        ce, brier, top5, f1, prec = 3.9 - 0.05 * epoch, 0.22, 0.005, 0.004 * (epoch + 1), 0.1
        writer.add_scalars(
            "Validation Loss Metrics",
            {"Policy Cross Entropy": ce, "Value Brier Score": brier},
            epoch + 1,
        )
        writer.add_scalars(
            "Validation Accuracy Metrics",
            {"Policy Top-5 Accuracy": top5, "Policy F1 Score": f1, "Value ≥0.8 Precision": prec},
            epoch + 1,
        )
        writer.add_scalars(
            "Training vs. Validation Loss", {"Training": train, "Validation": val}, epoch + 1
        )
        writer.add_scalar("Train-Validation Gap", val - train, epoch + 1)
        writer.add_scalar("Learning Rate", lr, epoch + 1)
        writer.flush()
        lines += [
            PREFIX.format(line=746) + f"LOSS train {train!r} valid {val!r} gap {val - train:+.4f}",
            PREFIX.format(line=750) + "METRICS",
            f"  {'policy_cross_entropy':<29}= {ce!r}",
            f"  {'policy_f1_score':<29}= {f1!r}",
            f"  {'policy_top5_accuracy':<29}= {top5!r}",
            f"  {'value_brier_score':<29}= {brier!r}",
            f"  {'value_high_confidence_rate':<29}= {prec!r}",
            PREFIX.format(line=752) + f"Stage 3 Epoch {epoch + 1}: LR = {lr:.6f}",
        ]
    writer.add_hparams(
        {
            "model_architecture": "vit",
            "learning_ratio": 0.001,
            "optimizer_name": "adamw",
            "lr_scheduler_name": "warmup_cosine_decay",
            "batch_size": 128,
            "gradient_accumulation_steps": 1,
            "epoch": epochs,
        },
        {"hparam/best_vloss": best, "hparam/policy_top5_accuracy": 0.005},
        run_name=".",
    )
    writer.close()
    log = log_dir / log_name
    log.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return MaouRun(run_dir, log, losses, epochs, batches)

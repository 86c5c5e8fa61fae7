"""train.log in maou's logger format, and every message the log readers and the LR guide expect.

Format (spec §4): ``"%(asctime)s | %(levelname)-5s | %(filename)15s | %(funcName)20s |
%(lineno)3d | %(message)s"`` with JST ISO-8601 timestamps to the second. The message texts are
kept in this one module so the log parser (maou_tui/ingest) has one place to agree with.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from pathlib import Path

LOG_FORMAT = (
    "%(asctime)s | %(levelname)-5s | %(filename)15s | %(funcName)20s | %(lineno)3d | %(message)s"
)
JST = timezone(timedelta(hours=9), "JST")
LOGGER_NAME = "maou"
BANNER = "=" * 60


class JstFormatter(logging.Formatter):
    """maou's timestamps: JST, ISO-8601, to the second (2026-08-22T10:15:00+09:00)."""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return datetime.fromtimestamp(record.created, tz=JST).isoformat(timespec="seconds")


def setup_logger(log_path: Path | None, to_stderr: bool) -> logging.Logger:
    """The ``maou`` logger writing to ``log_path`` (append) and, if asked, to stderr."""
    logger = logging.getLogger(LOGGER_NAME)
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
        handler.close()
    logger.setLevel(logging.INFO)
    logger.propagate = False
    formatter = JstFormatter(LOG_FORMAT)
    handlers: list[logging.Handler] = []
    if log_path is not None:
        handlers.append(logging.FileHandler(log_path, encoding="utf-8"))
    if to_stderr:
        handlers.append(logging.StreamHandler(sys.stderr))
    for handler in handlers:
        handler.setFormatter(formatter)
        logger.addHandler(handler)
    return logger


def close_logger(logger: logging.Logger) -> None:
    for handler in list(logger.handlers):
        handler.flush()
        handler.close()
        logger.removeHandler(handler)


def default_log_every(batches_per_epoch: int) -> int:
    """The guide's periodic batch line: every ~1/10 epoch, but at least every 50 batches."""
    return max(1, min(50, batches_per_epoch // 10))


class TrainLog:
    """maou's messages (spec §4) plus the guide's batch and validation lines."""

    def __init__(self, logger: logging.Logger) -> None:
        self.log = logger

    def stage_banner(self, stage: int, name: str) -> None:
        title = {1: "REACHABLE SQUARES", 2: "LEGAL MOVES", 3: "POLICY VALUE"}[stage]
        self.log.info(BANNER)
        self.log.info("STAGE %d: %s LEARNING", stage, title)
        self.log.info(BANNER)

    def model(self, architecture: str, preset: str, parameters: int) -> None:
        """Not a maou line: names the architecture so a reader of the log alone (maou-tui watch,
        report) can apply the LR guide's per-architecture tables."""
        millions = parameters / 1e6
        self.log.info("Model: %s (preset %s, %.2fM parameters)", architecture, preset, millions)

    def starting(self, name: str, max_epochs: int, threshold: float) -> None:
        self.log.info(
            "Starting %s (TrainingLoop): max_epochs=%d, threshold=%.1f%%",
            name,
            max_epochs,
            100.0 * threshold,
        )

    def sqrt_scaling(
        self, base_lr: float, scale: float, effective_lr: float, batch_note: str = ""
    ) -> None:
        self.log.info(
            "LR sqrt scaling: base_lr=%.6f, scale=%.2f, effective_lr=%.6f%s",
            base_lr,
            scale,
            effective_lr,
            batch_note,
        )

    def scheduler(self, name: str, warmup_steps: int, total_steps: int) -> None:
        if name == "Warmup+CosineDecay":
            self.log.info(
                "Using Warmup+CosineDecay scheduler (warmup_steps=%d, total_steps=%d)",
                warmup_steps,
                total_steps,
            )
        elif name == "CosineAnnealingLR":
            self.log.info("Using CosineAnnealingLR scheduler (T_max=%d)", total_steps)
        else:
            self.log.info("Using constant learning rate (no scheduler)")

    def batch_progress(
        self, epoch: int, batch: int, batches: int, loss: float, label: str, metric: float
    ) -> None:
        self.log.info(
            "Epoch %d Batch %d/%d: Loss=%.4f, %s=%.2f%%",
            epoch,
            batch,
            batches,
            loss,
            label,
            100 * metric,
        )

    def stage_epoch(
        self, stage: int, epoch: int, max_epochs: int, loss: float, label: str, metric: float
    ) -> None:
        self.log.info(
            "Stage %d Epoch %d/%d: Loss=%.4f, %s=%.2f%%",
            stage,
            epoch,
            max_epochs,
            loss,
            label,
            100 * metric,
        )

    def validation(
        self, epoch: int, train_loss: float, val_loss: float, label: str, val_metric: float
    ) -> None:
        self.log.info(
            "Epoch %d: Train Loss=%.4f, Val Loss=%.4f, Val %s=%.2f%%",
            epoch,
            train_loss,
            val_loss,
            label,
            100 * val_metric,
        )

    def epoch_lr(self, stage: int, epoch: int, lr: float) -> None:
        self.log.info("Stage %d Epoch %d: LR = %.6f", stage, epoch, lr)

    def threshold_achieved(self, stage: int, label: str, value: float, threshold: float) -> None:
        self.log.info(
            "Stage %d %s threshold achieved! (%.2f%% >= %.2f%%)",
            stage,
            label,
            100 * value,
            100 * threshold,
        )

    def saved(self, name: str, part: str, path: Path) -> None:
        self.log.info("Saved %s %s: %s", name, part, path)

    def stage_completed(self, stage: int, metric_name: str, value: float, epochs: int) -> None:
        # maou's line has no space after the comma.
        self.log.info(
            "Stage %d completed successfully: %s=%.2f%%,epochs=%d",
            stage,
            metric_name,
            100 * value,
            epochs,
        )

    def stage3_epoch(self, epoch: int) -> None:
        self.log.info("EPOCH %d:", epoch)

    def stage3_loss(self, train_loss: float, val_loss: float) -> None:
        self.log.info(
            "LOSS train %.6f valid %.6f gap %+.4f", train_loss, val_loss, val_loss - train_loss
        )

    def stage3_metrics(self, metrics: Mapping[str, float | None]) -> None:
        lines = [
            f"  {name}: {'n/a' if value is None else f'{value:.6f}'}"
            for name, value in metrics.items()
        ]
        self.log.info("METRICS\n%s", "\n".join(lines))

    def non_finite(self, epoch: int, batch: int, loss: float) -> None:
        self.log.warning(
            "Non-finite loss detected (epoch=%d, batch=%d): loss=%s; batch skipped",
            epoch,
            batch,
            loss,
        )

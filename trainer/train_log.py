"""train.log in maou's logger format, and every message the log readers and the LR guide expect.

Format (spec §4): ``"%(asctime)s | %(levelname)-5s | %(filename)15s | %(funcName)20s |
%(lineno)3d | %(message)s"`` with JST ISO-8601 timestamps to the second. The message texts are
kept in this one module so the log parser (maou_tui/ingest) has one place to agree with.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from pathlib import Path

from maou_tui.sdk.private_files import append_whole, open_private_append

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


class RunLogHandler(logging.Handler):
    """Appends whole lines to ``train.log`` (opened ``O_NOFOLLOW``, 0600).

    logging's FileHandler prints a traceback for every record it fails to write (28 of them on
    a full disk) and can leave half a line. Here a failed write is cut back, reported once on
    stderr, and the log resumes by itself when writing works again, first saying how many
    lines were lost.
    """

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        self._fd: int | None = open_private_append(path)
        self._lost = 0
        self._error = ""

    def emit(self, record: logging.LogRecord) -> None:
        if self._fd is None:
            return
        try:
            text = self.format(record) + "\n"
        except Exception:
            self.handleError(record)
            return
        if self._lost:
            text = self._lost_note(record) + text
        try:
            append_whole(self._fd, text.encode("utf-8", errors="replace"))
        except OSError as exc:
            self._note_loss(exc)
        else:
            self._lost = 0

    def _note_loss(self, exc: OSError) -> None:
        if not self._lost:
            self._error = str(exc)
            print(
                f"maou-train: cannot write the log {self.path} ({exc}); log lines are dropped "
                "until writing works again; training continues",
                file=sys.stderr,
                flush=True,
            )
        self._lost += 1

    def _lost_note(self, record: logging.LogRecord) -> str:
        note = logging.LogRecord(
            record.name, logging.WARNING, record.pathname, record.lineno,
            "%d log lines were lost: %s", (self._lost, self._error), None, record.funcName,
        )  # fmt: skip
        return self.format(note) + "\n"

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        super().close()


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
        handlers.append(RunLogHandler(log_path))
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

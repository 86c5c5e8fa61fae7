"""Write a run's events as a maou-format log (the logger prefix and the guide's messages).

The bench uses it for runs logged through ``maou_tui.sdk.Monitor`` so that every labelled run
exists in both formats. Batch lines carry the per-batch loss and the running-mean metric since
epoch start (what maou's progress shows), every ``log_every`` batches.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from pydantic import BaseModel

from maou_tui.protocol import EpochEnd, RunFinished, StageStarted, Step

JST = timezone(timedelta(hours=9))
_LABELS = {"accuracy": "Accuracy", "f1": "F1"}


def _line(t: float, func: str, message: str, level: str = "INFO") -> str:
    stamp = datetime.fromtimestamp(t, tz=JST).isoformat(timespec="seconds")
    return f"{stamp} | {level:<5} | {'train.py':>15} | {func:>20} | 101 | {message}"


def to_maou_log(
    events: list[BaseModel], path: Path, steps_per_epoch: int, max_epochs: int, log_every: int = 3
) -> None:
    """Write ``events`` (one stage) to ``path`` in maou's format. No ``Starting`` line: these
    tasks have no threshold, and that line would invent maou's default one."""
    lines: list[str] = []
    metric_label = "Accuracy"
    running: list[float] = []
    epoch_seen = 0
    for ev in events:
        t = getattr(ev, "t", 0.0) or 0.0
        if isinstance(ev, StageStarted):
            metric_label = _LABELS.get(ev.metric, "Accuracy")
            lines += [
                _line(t, "stage_banner", "=" * 60),
                _line(t, "stage_banner", "STAGE 1: REACHABLE SQUARES LEARNING"),
                _line(t, "stage_banner", "=" * 60),
            ]
            if ev.base_lr is not None:
                lines.append(
                    _line(
                        t,
                        "sqrt_scaling",
                        f"LR sqrt scaling: base_lr={ev.base_lr:.6f}, scale=1.00, "
                        f"effective_lr={ev.base_lr:.6f}",
                    )
                )
        elif isinstance(ev, Step):
            if ev.epoch != epoch_seen:
                epoch_seen, running = ev.epoch, []
            if ev.metric is not None:
                running.append(ev.metric)
            batch = (ev.global_step - 1) % steps_per_epoch + 1
            if batch % log_every == 0 or batch == steps_per_epoch or batch == 1:
                loss = "nan" if ev.loss is None else f"{ev.loss:.4f}"
                cum = 100 * sum(running) / max(1, len(running))
                lines.append(
                    _line(
                        t,
                        "batch_progress",
                        f"Epoch {ev.epoch} Batch {batch}/{steps_per_epoch}: Loss={loss}, "
                        f"{metric_label}={cum:.2f}%",
                    )
                )
        elif isinstance(ev, EpochEnd):
            metric = 100 * (ev.train_metric or 0.0)
            train_loss = ev.train_loss if ev.train_loss is not None else float("nan")
            lines.append(
                _line(
                    t,
                    "stage_epoch",
                    f"Stage 1 Epoch {ev.epoch}/{max_epochs}: Loss={train_loss:.4f}, "
                    f"{metric_label}={metric:.2f}%",
                )
            )
            if ev.val_loss is not None:
                lines.append(
                    _line(
                        t,
                        "validation",
                        f"Epoch {ev.epoch}: Train Loss={train_loss:.4f}, "
                        f"Val Loss={ev.val_loss:.4f}, "
                        f"Val {metric_label}={100 * (ev.val_metric or 0):.2f}%",
                    )
                )
            if ev.lr is not None:
                lines.append(_line(t, "epoch_lr", f"Stage 1 Epoch {ev.epoch}: LR = {ev.lr:.6f}"))
        elif isinstance(ev, RunFinished):
            lines.append(_line(t, "run_training", f"Run finished: {ev.status} ({ev.reason})"))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

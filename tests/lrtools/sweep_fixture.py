"""An lr-find run directory written the way the trainer writes it (events only, no torch)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from maou_tui.lrtools.range_test import LossSmoother, analyse, exponential_lrs
from maou_tui.protocol import LrFindFinished, LrFindStep, RunFinished, RunStarted, encode


def textbook_losses(lrs: np.ndarray) -> np.ndarray:
    """Flat, a descent centred near 3e-3, then a blow-up above ~0.3."""
    x = np.log10(lrs)
    return 0.7 - 0.3 * np.tanh(3 * (x + 2.5)) + np.exp(2.5 * (x + 0.5))


def write_sweep(run_dir: Path, finished: bool = True, iterations: int = 100) -> list[str]:
    """events.jsonl of a Stage 1 resnet sweep at batch 32; returns the lines written."""
    run_dir.mkdir(parents=True, exist_ok=True)
    config = {
        "model_architecture": "resnet",
        "stage": "1",
        "lr_find_iterations": iterations,
        "lr_find_start_lr": 1e-7,
        "lr_find_end_lr": 10.0,
    }
    events: list = [RunStarted(pid=1, config=config)]
    lrs = exponential_lrs(1e-7, 10, iterations)
    smoother = LossSmoother()
    points = []
    for i, (lr, loss) in enumerate(zip(lrs, textbook_losses(lrs), strict=True), start=1):
        smoothed = smoother.update(float(loss))
        points.append((float(lr), smoothed))
        events.append(
            LrFindStep(stage=1, iteration=i, lr=float(lr), loss=float(loss), smoothed_loss=smoothed)
        )
        if smoother.diverged(smoothed):
            break
    if finished:
        result = analyse([p[0] for p in points], [p[1] for p in points], iterations)
        events.append(
            LrFindFinished(
                stage=1,
                suggestions=result.suggestions,
                recommended=result.recommended,
                option="--stage1-learning-rate",
                cli_value=result.recommended_lr,
                lr_scale=1.0,
                batch_size=32,
                reason=result.reason,
                warnings=result.warnings,
            )
        )
        events.append(RunFinished(status="completed", reason="lr find done"))
    lines = [encode(e) for e in events]
    (run_dir / "events.jsonl").write_text("\n".join(lines) + "\n")
    return lines

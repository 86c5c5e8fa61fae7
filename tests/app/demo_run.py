"""A fixed, deterministic run directory for app tests and snapshots (no clocks, no paths).

Three stages as the trainer writes them: warmup and decay phases, epoch ends with validation,
an LR halving, a pause, a checkpoint, a threshold reached, a corrupt line; the run is still in
Stage 3 (no run_finished) unless ``finished`` is given.
"""

from __future__ import annotations

import math
from pathlib import Path

from maou_tui.protocol import (
    CheckpointSaved,
    ControlApplied,
    EpochEnd,
    Paused,
    Phase,
    Resumed,
    RunFinished,
    RunStarted,
    StageCompleted,
    StageStarted,
    Step,
    ThresholdReached,
    encode,
)

STAGES = (
    # stage, name, metric, epochs done, batches per epoch, max epochs, threshold, base lr, batch
    (1, "REACHABLE_SQUARES", "accuracy", 2, 20, 10, 0.99, 0.001, 32),
    (2, "LEGAL_MOVES", "f1", 3, 30, 10, 0.85, 0.0001, 4096),
    (3, "POLICY_VALUE", "policy_accuracy", 1, 40, 3, None, 0.01, 256),
)
LOG_LINES = [
    "2026-08-22T10:15:00+09:00 | INFO  | multi_stage_training.py | _run_stage | 501 | "
    "STAGE 2: LEGAL MOVES LEARNING",
    "2026-08-22T10:15:00+09:00 | INFO  | multi_stage_training.py | _run_stage | 502 | "
    "LR sqrt scaling: base_lr=0.000100 * sqrt(4096/256)=4.00 -> 0.000400",
    "2026-08-22T10:16:00+09:00 | INFO  | multi_stage_training.py | _run_stage | 540 | "
    "Stage 2 Epoch 3/10: Loss=0.0423, F1=71.20%",
]


class _Writer:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.seq = 0

    def emit(self, event) -> None:
        event.seq, event.t = self.seq, 1_700_000_000.0 + self.seq * 0.1
        self.seq += 1
        self.lines.append(encode(event))


def _loss(stage: int, k: int) -> float:
    base = {1: 0.7, 2: 0.25, 3: 5.0}[stage]
    return base * (0.15 + 0.85 * math.exp(-k / 25)) + 0.02 * base * math.sin(k * 1.7)


def _metric(stage: int, k: int) -> float:
    top = {1: 0.995, 2: 0.8, 3: 0.35}[stage]
    return min(1.0, top * (1 - 0.6 * math.exp(-k / 20)) + 0.01 * math.sin(k * 2.3))


def _stage_events(
    w: _Writer,
    spec: tuple,
    start: int,
    halve_at: int | None,
    *,
    steps: int | None = None,
    threshold_at: tuple[int, float] | None = None,
) -> int:
    """One stage's events; ``steps`` cuts it short (a run caught mid-stage), ``threshold_at``
    (step, value) sets the stage's threshold from the TUI at that step."""
    stage, name, metric, epochs, per_epoch, max_epochs, threshold, base_lr, batch = spec
    last_step = start + (steps if steps is not None else epochs * per_epoch)
    scale = math.sqrt(batch / 256) if stage < 3 and batch > 256 else 1.0
    effective = base_lr * scale
    total, warmup = per_epoch * max_epochs, per_epoch // 2
    w.emit(
        StageStarted(
            stage=stage, name=name, metric=metric, max_epochs=max_epochs,
            steps_per_epoch=per_epoch, total_steps=total, warmup_steps=warmup,
            scheduler="Warmup+CosineDecay", base_lr=base_lr, lr_scale=scale,
            effective_lr=effective, batch_size=batch, threshold=threshold, start_step=start,
            architecture="resnet",
        )
    )  # fmt: skip
    w.emit(Phase(stage=stage, phase="warmup", start_step=start, end_step=start + warmup))
    w.emit(Phase(stage=stage, phase="decay", start_step=start + warmup, end_step=start + total))
    step, multiplier = start, 1.0
    for epoch in range(1, epochs + 1):
        cum_metric = 0.0
        for batch_no in range(1, per_epoch + 1):
            step += 1
            if step > last_step:
                return step - 1
            k = step - start
            if threshold_at is not None and step == threshold_at[0]:
                key, new = (
                    f"threshold_stage{stage}",
                    {"value": threshold_at[1], "action": "advance"},
                )
                w.emit(
                    ControlApplied(
                        command="set_threshold", id="thr1", applied_at_step=step - 1,
                        before={key: {"value": threshold, "action": "advance"}}, after={key: new},
                    )
                )  # fmt: skip
            if halve_at is not None and step == halve_at:
                w.emit(
                    ControlApplied(
                        command="scale_lr", id="halve1", applied_at_step=step - 1,
                        before={"lr_multiplier": 1.0}, after={"lr_multiplier": 0.5},
                    )
                )  # fmt: skip
                multiplier = 0.5
            warm = min(1.0, k / warmup)
            decay = 0.5 * (1 + math.cos(math.pi * max(0, k - warmup) / (total - warmup)))
            lr = effective * multiplier * (warm if k <= warmup else decay)
            value = _metric(stage, k)
            cum_metric += value
            w.emit(
                Step(
                    stage=stage, epoch=epoch, batch=batch_no, global_step=step,
                    loss=_loss(stage, k), metric=value, metric_cum=cum_metric / batch_no,
                    lr=lr, lr_multiplier=multiplier, samples_per_s=batch * 50.0,
                )
            )  # fmt: skip
        w.emit(
            EpochEnd(
                stage=stage, epoch=epoch, global_step=step, train_loss=_loss(stage, k),
                train_metric=cum_metric / per_epoch, val_loss=_loss(stage, k) * 1.1,
                val_metric=_metric(stage, k) * 0.97, lr=lr,
            )
        )  # fmt: skip
    return step


#: The moments of a run the snapshots show.
MOMENTS = ("start", "threshold", "mid", "finished")


def write_demo_run(run_dir: Path, *, finished: str | None = None, moment: str = "mid") -> Path:
    """Write ``run_dir``/events.jsonl, train.log and config.json; return ``run_dir``.

    ``moment``: ``start`` (a few steps into Stage 1), ``threshold`` (Stage 1 after its
    threshold was set to 0.995 from the TUI), ``mid`` (Stage 3 under way, every kind of
    mark behind it), ``finished`` (``mid`` then run_finished completed)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    w = _Writer()
    w.emit(RunStarted(config={"model_architecture": "resnet"}, pid=1, device="cpu"))
    if moment == "start":
        _stage_events(w, STAGES[0], 0, None, steps=6)
        return _write(run_dir, w)
    if moment == "threshold":
        _stage_events(w, STAGES[0], 0, None, steps=34, threshold_at=(24, 0.995))
        return _write(run_dir, w)
    step = _stage_events(w, STAGES[0], 0, None)
    w.emit(
        ThresholdReached(
            stage=1, epoch=2, step=step, metric="accuracy", value=0.991, threshold=0.99
        )
    )
    w.emit(StageCompleted(stage=1, epochs=2, step=step, metric="accuracy", value=0.991))
    w.lines.append('{"v": 1, "type": "step", "stage": 2, "global_st')  # a corrupt line
    step = _stage_events(w, STAGES[1], step, halve_at=step + 55)
    w.emit(Paused(step=step))
    w.emit(Resumed(step=step, paused_s=3.0))
    w.emit(CheckpointSaved(path="checkpoints/stage2.pt", step=step, stage=2, reason="manual"))
    w.emit(StageCompleted(stage=2, epochs=3, step=step, metric="f1", value=0.78, reason="skipped"))
    step = _stage_events(w, STAGES[2], step, None)
    if moment == "finished":
        finished = "completed"
    if finished:
        reason = "all stages completed" if finished == "completed" else "RuntimeError: boom"
        w.emit(RunFinished(status=finished, reason=reason, step=step))
    return _write(run_dir, w)


def _write(run_dir: Path, w: _Writer) -> Path:
    (run_dir / "events.jsonl").write_text("\n".join(w.lines) + "\n")
    (run_dir / "train.log").write_text("\n".join(LOG_LINES) + "\n")
    (run_dir / "config.json").write_text('{"model_architecture": "resnet"}\n')
    return run_dir

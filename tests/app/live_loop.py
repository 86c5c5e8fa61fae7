"""A fast training-loop process for app pilot tests: the real run directory, event writer,
control socket and step-boundary LoopControl of ``maou_tui.sdk``, with a cheap synthetic loss in
place of a network, so every key can be exercised in well under a second per command.

The real trainer is exercised by ``test_live_trainer.py``; this loop keeps the many binding
tests fast on a loaded 2-core machine.

    python tests/app/live_loop.py RUN_DIR [--step-s 0.05] [--max-steps 20000] [--crash-at N]
"""

from __future__ import annotations

import argparse
import math
import os
import time
from pathlib import Path

from maou_tui.protocol import (
    CheckpointSaved,
    EpochEnd,
    Phase,
    RunFinished,
    RunStarted,
    StageCompleted,
    StageStarted,
    Step,
    Threshold,
)
from maou_tui.sdk import ControlServer, EventWriter, LoopControl, RunDir

STAGES = {
    1: ("REACHABLE_SQUARES", "accuracy"),
    2: ("LEGAL_MOVES", "f1"),
    3: ("POLICY_VALUE", "policy_accuracy"),
}
PER_EPOCH, MAX_EPOCHS, BATCH, BASE_LR = 40, 50, 32, 0.001


def _stage_started(events: EventWriter, stage: int, start: int) -> None:
    name, metric = STAGES[stage]
    total = PER_EPOCH * MAX_EPOCHS
    events.emit(
        StageStarted(
            stage=stage, name=name, metric=metric, max_epochs=MAX_EPOCHS,
            steps_per_epoch=PER_EPOCH, total_steps=total, warmup_steps=10,
            scheduler="Warmup+CosineDecay", base_lr=BASE_LR, lr_scale=1.0,
            effective_lr=BASE_LR, batch_size=BATCH, threshold=0.99 if stage < 3 else None,
            start_step=start, architecture="resnet",
        )
    )  # fmt: skip
    events.emit(Phase(stage=stage, phase="warmup", start_step=start, end_step=start + 10))
    events.emit(Phase(stage=stage, phase="decay", start_step=start + 10, end_step=start + total))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--step-s", type=float, default=0.05)
    parser.add_argument("--max-steps", type=int, default=20000)
    parser.add_argument("--crash-at", type=int, default=0)
    args = parser.parse_args()

    run = RunDir.create(args.run_dir)
    events = EventWriter(run.events_path)
    control = LoopControl(
        ControlServer(run.socket_path).start(), events, {1: Threshold(value=0.99)}
    )
    log = run.log_path.open("a", encoding="utf-8")
    events.emit(RunStarted(config={"model_architecture": "resnet"}, pid=os.getpid(), device="cpu"))
    stage, start, step, epoch, batch = 1, 0, 0, 1, 0
    _stage_started(events, stage, start)
    status = "completed"
    while step < args.max_steps:
        step, batch = step + 1, batch + 1
        if args.crash_at and step == args.crash_at:
            log.write("Traceback (most recent call last):\nRuntimeError: simulated crash\n")
            log.flush()
            events.close()
            os._exit(1)  # no run_finished: the app must notice the process is gone
        k = step - start
        schedule_lr = BASE_LR * min(1.0, k / 10)
        lr = schedule_lr * control.lr_multiplier
        loss = 0.1 + math.exp(-k / 200) + 0.02 * math.sin(k)
        events.emit(
            Step(
                stage=stage, epoch=epoch, batch=batch, global_step=step, loss=loss,
                metric=1 - loss / 2, metric_cum=1 - loss / 2, lr=lr,
                lr_multiplier=control.lr_multiplier, samples_per_s=BATCH / args.step_s,
            )
        )  # fmt: skip
        if step % 10 == 0:
            log.write(f"Epoch {epoch} Batch {batch}/{PER_EPOCH}: Loss={loss:.4f}\n")
            log.flush()
        control.update_state(stage=stage, stage_name=STAGES[stage][0], epoch=epoch, batch=batch)
        control.poll(step, schedule_lr=schedule_lr)
        if control.checkpoint_requested:
            path = str(run.checkpoints_dir / f"step{step}.pt")
            events.emit(CheckpointSaved(path=path, step=step, stage=stage, reason="manual"))
            control.checkpoint_done(path)
        if control.stop_requested:
            status = "stopped"
            break
        if control.skip_requested:
            control.clear_skip()
            events.emit(StageCompleted(stage=stage, epochs=epoch, step=step, reason="skipped"))
            if stage == 3:
                break
            stage, start, epoch, batch = stage + 1, step, 1, 0
            _stage_started(events, stage, start)
        elif batch == PER_EPOCH:
            events.emit(EpochEnd(stage=stage, epoch=epoch, global_step=step, train_loss=loss))
            epoch, batch = epoch + 1, 0
        time.sleep(args.step_s)
    events.emit(RunFinished(status=status, step=step))
    control.close()
    events.close()
    run.close()


if __name__ == "__main__":
    main()

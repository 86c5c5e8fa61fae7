"""Trainer throughput: samples/s of maou-train's loop vs a bare torch loop, per stage and arch.

Both loops train the same fresh model (same seed) on the same tensors in the same batch order
with the same loss, AdamW, gradient clipping and scheduler step. The trainer loop adds what a
user gets: a step event per batch (events.jsonl), the control socket polled at every step
boundary, running metrics with one device sync per step, periodic log lines. Runs alternate
(trainer, bare, trainer, bare, ...) and the median of each is compared. Target ratio >= 0.95.

    python bench/trainer_throughput.py                 # tiny preset, CPU, all stages and archs
    python bench/trainer_throughput.py --stages 1 --archs resnet --repeats 3
    python bench/trainer_throughput.py --preset maou --device cuda   # on a GPU box (AMP)
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from maou_tui.sdk import ControlServer, EventWriter, LoopControl, RunDir
from trainer.config import build_config
from trainer.context import NullEvents, RunContext, initial_thresholds, main_context
from trainer.data import batch_indices, epoch_order
from trainer.loop import StageTrainer
from trainer.train_log import TrainLog, close_logger, setup_logger

#: Data sizes giving one epoch of a few dozen batches per stage.
SIZES = ["--stage2-positions", "1000", "--stage3-games", "6", "--test-ratio", "0"]


def _config(preset: str, arch: str, cache: Path, device: str):  # type: ignore[no-untyped-def]
    from trainer.cli import build_parser

    args = vars(
        build_parser().parse_args(
            [
                "--preset", preset, "--model-architecture", arch, *SIZES,
                "--cache-dir", str(cache), "--stage1-max-epochs", "1", "--stage2-max-epochs", "1",
                "--epoch", "1", "--stage1-threshold", "0", "--stage2-threshold", "0",
                "--checkpoint-interval", "0",
                *(["--cpu"] if device == "cpu" else ["--gpu", device]),
            ]
        )
    )  # fmt: skip
    return build_config(args)


@dataclass(frozen=True)
class Rate:
    """Samples per wall-clock second, and per CPU second of this process (all its threads).

    On a shared machine the CPU figure is the stable one: other processes change wall time,
    not the CPU work a loop does per sample."""

    wall: float
    cpu: float


@contextmanager
def live_context(config, device: torch.device, workdir: Path) -> Iterator[RunContext]:  # type: ignore[no-untyped-def]
    """The trainer's context as a real run has it: run directory, events, socket and log live."""
    run = RunDir.create(workdir / f"run-{time.monotonic_ns()}")
    logger = setup_logger(run.log_path, to_stderr=False)
    events = EventWriter(run.events_path)
    server = ControlServer(run.socket_path)
    server.start()
    ctx = main_context(config, device, events, server, run.checkpoints_dir, logger)
    try:
        yield ctx
    finally:
        ctx.control.close()
        events.close()
        close_logger(logger)
        run.close()


def trainer_rate(config, stage: int, device: torch.device, workdir: Path) -> float:  # type: ignore[no-untyped-def]
    """Samples/s of StageTrainer.run() over one epoch, with events, socket and log live."""
    torch.manual_seed(0)
    with live_context(config, device, workdir) as ctx:
        trainer = StageTrainer(ctx, stage)
        _sync(device)
        start, cpu_start = time.perf_counter(), time.process_time()
        trainer.run()
        _sync(device)
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    return Rate(len(trainer.train_data) / elapsed, len(trainer.train_data) / cpu)


def bookkeeping_us(config, device: torch.device, workdir: Path, calls: int = 2000) -> float:  # type: ignore[no-untyped-def]
    """Microseconds per step of what the trainer adds around a step (Stage 1 trainer): the
    step boundary (state, control poll, LR to the param groups) and the step event."""
    with live_context(config, device, workdir) as ctx:
        trainer = StageTrainer(ctx, 1)
        start = time.perf_counter()
        for _ in range(calls):
            trainer._step_boundary()
            trainer._emit_step(0, 0.5, 32, {"accuracy": 30.0}, 0.001)
        elapsed = time.perf_counter() - start
    return 1e6 * elapsed / calls


def bare_rate(config, stage: int, device: torch.device) -> float:  # type: ignore[no-untyped-def]
    """Samples/s of a plain torch loop over the same model, tensors, order and optimizer."""
    torch.manual_seed(0)
    # Borrow the trainer's construction (model, data, optimizer, scheduler), not its loop.
    trainer = StageTrainer(_silent_context(config, device), stage)
    model, task, optimizer, scheduler = (
        trainer.model, trainer.task, trainer.optimizer, trainer.scheduler
    )  # fmt: skip
    data, size, scaler = trainer.train_data, trainer.settings.batch_size, trainer.scaler
    order = epoch_order(len(data), config.seed, stage, 1, device)
    model.train()
    _sync(device)
    start, cpu_start = time.perf_counter(), time.process_time()
    for batch in range(trainer.batches):
        inputs = data.batch(batch_indices(order, batch, size))
        with trainer._autocast():
            loss = task.compute(model, inputs).loss
        if scaler is not None:
            scaler.scale(loss).backward()
            scaler.unscale_(optimizer)
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            scaler.step(optimizer)
            scaler.update()
        else:
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        scheduler.step()
    _sync(device)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    return Rate(len(data) / elapsed, len(data) / cpu)


def _silent_context(config, device: torch.device) -> RunContext:  # type: ignore[no-untyped-def]
    """A context writing nothing: no run directory, events, socket or log."""
    return RunContext(
        config=config,
        device=device,
        log=TrainLog(setup_logger(None, to_stderr=False)),
        events=NullEvents(),
        control=LoopControl(None, None, thresholds=initial_thresholds(config)),
        checkpoints_dir=None,
        is_main=False,
    )


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="tiny", choices=["tiny", "maou"])
    parser.add_argument("--stages", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--archs", nargs="+", default=["resnet", "mlp-mixer", "vit"])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--bookkeeping-only", action="store_true", help="only the us/step figure")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    print(f"preset={args.preset} device={device} threads={args.threads} repeats={args.repeats}")
    print(
        f"{'stage':>5} {'arch':>10} {'trainer/cpu-s':>13} {'bare/cpu-s':>10} {'cpu ratio':>9}"
        f" {'trainer/s':>9} {'bare/s':>7} {'wall ratio':>10}"
    )
    with tempfile.TemporaryDirectory(prefix="maou-bench-") as tmp:
        work = Path(tmp)
        for arch in [] if args.bookkeeping_only else args.archs:
            config = _config(args.preset, arch, work / "cache", args.device)
            for stage in args.stages:
                ours, bare = [], []
                trainer_rate(config, stage, device, work)  # warm-up: data cache, allocator
                for _ in range(args.repeats):
                    ours.append(trainer_rate(config, stage, device, work))
                    bare.append(bare_rate(config, stage, device))
                cpu_mine = statistics.median(r.cpu for r in ours)
                cpu_base = statistics.median(r.cpu for r in bare)
                wall_mine = statistics.median(r.wall for r in ours)
                wall_base = statistics.median(r.wall for r in bare)
                print(
                    f"{stage:>5} {arch:>10} {cpu_mine:>13.0f} {cpu_base:>10.0f}"
                    f" {cpu_mine / cpu_base:>9.3f} {wall_mine:>9.0f} {wall_base:>7.0f}"
                    f" {wall_mine / wall_base:>10.3f}",
                    flush=True,
                )
        config = _config(args.preset, args.archs[0], work / "cache", args.device)
        cost = bookkeeping_us(config, device, work)
        print(f"per-step bookkeeping (boundary + step event): {cost:.1f} us")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

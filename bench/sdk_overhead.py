"""Per-step cost of the SDK, and its effect on a small real torch training loop.

1. Microseconds per step of what a loop pays: ``EventWriter.emit(Step)``, ``LoopControl.poll``
   (server running, nothing queued) and ``Monitor.step`` (all of it, plus the optimizer hooks);
   and what the writer's timer thread pays to serialise a step event.
2. Samples per CPU-second of a small MLP classifier trained with SGD on CPU, without and with
   ``Monitor``. CPU time of the whole process is used, so other processes' load on a shared
   machine does not count while the SDK's own threads do. The loops run in rotating blocks
   within one run (drift hits all alike); the slowdown is the median of the per-round ratios,
   and best block against best block. A second plain loop gives the A/A noise floor: a
   slowdown below it cannot be resolved on this machine, and then the per-step cost over the
   step time (part 1) is the figure to trust.

    python bench/sdk_overhead.py [--blocks 20] [--steps 100] [--hidden 256] [--json]

Target: <= 1% slowdown.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch

from bench.paired_blocks import (
    BATCH,
    CLASSES,
    FEATURES,
    block_options,
    make_data,
    make_mlp,
    rotate_blocks,
    slowdowns,
)
from maou_tui.protocol import Step
from maou_tui.sdk import ControlServer, EventWriter, LoopControl, Monitor, RunDir


def per_call_us(function, calls: int) -> float:
    """CPU microseconds per call, counting every thread of this process (server, flusher)."""
    started = time.process_time()
    for index in range(1, calls + 1):
        function(index)
    return (time.process_time() - started) / calls * 1e6


def micro(tmp: Path, calls: int) -> dict[str, float]:
    """Microseconds per call of each SDK piece, with the control server running."""

    def build(n: int) -> Step:
        return Step(stage=1, epoch=1, batch=n, global_step=n, loss=0.5, lr=1e-3)

    with RunDir.create(tmp / "micro") as run:
        events = EventWriter(run.events_path)
        server = ControlServer(run.socket_path).start()
        control = LoopControl(server, events)
        prebuilt = [build(n) for n in range(calls + 1)]

        def poll(n: int) -> None:
            control.update_state(epoch=1, batch=n, step=n, lr=1e-3)
            control.poll(n, schedule_lr=1e-3)

        result = {
            "build_step_us": per_call_us(build, calls),
            # What the writer's timer thread pays per step event.
            "pydantic_line_us": per_call_us(lambda n: build(n).model_dump_json(), calls),
            "emit_step_us": per_call_us(lambda n: events.emit(prebuilt[n]), calls),
            "poll_us": per_call_us(poll, calls),
        }
        control.close()
        events.close()
    model = torch.nn.Linear(4, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    monitor = Monitor(tmp / "micro-monitor", optimizer)
    result["monitor_step_us"] = per_call_us(lambda n: monitor.step(loss=0.5, metric=0.9), calls)
    monitor.close()
    return result


class Trainer:
    """A small MLP classifier trained with SGD + cosine decay, optionally under a Monitor."""

    def __init__(self, data, hidden: int, total_steps: int, monitor_dir: Path | None) -> None:
        torch.manual_seed(0)
        self.inputs, self.labels = data
        self.model = make_mlp(hidden)
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=0.05, momentum=0.9)
        self.scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(self.optimizer, total_steps)
        self.monitor = None
        if monitor_dir is not None:
            self.monitor = Monitor(
                monitor_dir,
                self.optimizer,
                scheduler=self.scheduler,
                total_steps=total_steps,
                batch_size=BATCH,
            )
        self.sampler = torch.Generator().manual_seed(1)
        self.instrument = False  # time each Monitor.step (separate run: it costs two syscalls)
        self.monitor_cpu_s = 0.0
        self.monitor_calls = 0
        self.accuracy = 0.0

    def run(self, steps: int) -> float:
        """Train ``steps`` batches; returns the CPU seconds this process spent on them."""
        order = torch.randint(0, len(self.inputs), (steps, BATCH), generator=self.sampler)
        started = time.process_time()
        for batch in order:
            logits = self.model(self.inputs[batch])
            loss = torch.nn.functional.cross_entropy(logits, self.labels[batch])
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
            self.scheduler.step()
            self.accuracy = (logits.argmax(1) == self.labels[batch]).float().mean().item()
            if self.monitor is None:
                continue
            if self.instrument:
                before = time.thread_time()
                self.monitor.step(loss=loss.item(), metric=self.accuracy)
                self.monitor_cpu_s += time.thread_time() - before
                self.monitor_calls += 1
            else:
                self.monitor.step(loss=loss.item(), metric=self.accuracy)
        return time.process_time() - started


def macro(tmp: Path, blocks: int, steps: int, hidden: int) -> dict:
    """Rotate blocks of ``steps`` batches among three loops: plain, plain again (the noise
    floor of an A/A comparison) and monitored; compare the blocks of each round."""
    data = make_data(noise=0.5)
    total = blocks * steps + steps
    plain = Trainer(data, hidden, total, None)
    plain_again = Trainer(data, hidden, total, None)
    monitored = Trainer(data, hidden, total, tmp / "macro-run")
    for trainer in (plain, plain_again, monitored):
        trainer.run(steps // 4)  # warm-up: allocator, kernels
    base, again, sdk = rotate_blocks(
        [lambda: plain.run(steps), lambda: plain_again.run(steps), lambda: monitored.run(steps)],
        blocks,
    )
    monitored.instrument = True
    monitored.run(steps * 4)
    assert monitored.monitor is not None
    monitored.monitor.close()
    samples = steps * BATCH
    return {
        "plain_samples_per_s": samples / statistics.median(base),
        "sdk_samples_per_s": samples / statistics.median(sdk),
        **slowdowns(base, again, sdk),
        "step_ms": statistics.median(base) / steps * 1000,
        "monitor_step_in_loop_us": monitored.monitor_cpu_s / monitored.monitor_calls * 1e6,
        "final_accuracy": monitored.accuracy,
    }


def main() -> int:
    args = block_options(__doc__.splitlines()[0], calls=20000)
    with tempfile.TemporaryDirectory(prefix="bench-sdk-") as name:
        tmp = Path(name)
        result = {
            "micro": micro(tmp, args.calls),
            "macro": macro(tmp, args.blocks, args.steps, args.hidden),
        }
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    m, t = result["micro"], result["macro"]
    print("per-step SDK cost (µs per call, control server running)")
    print(f"  Step(...) model construction      {m['build_step_us']:8.1f}")
    print(f"  Step(...).model_dump_json()       {m['pydantic_line_us']:8.1f}  (timer thread)")
    print(f"  EventWriter.emit(step)            {m['emit_step_us']:8.1f}")
    print(f"  LoopControl.update_state + poll   {m['poll_us']:8.1f}")
    print(f"  Monitor.step (all of the above)   {m['monitor_step_us']:8.1f}")
    shape = f"{FEATURES}-{args.hidden}-{args.hidden}-{CLASSES}"
    print(
        f"MLP {shape}, batch {BATCH}, SGD+cosine, {args.blocks} paired blocks of {args.steps} "
        f"steps, {args.threads} torch thread(s)"
    )
    print(f"  CPU time per step without SDK     {t['step_ms']:8.2f} ms")
    print(f"  samples/CPU-s without SDK            {t['plain_samples_per_s']:8.0f}")
    print(f"  samples/CPU-s with Monitor          {t['sdk_samples_per_s']:8.0f}")
    print(
        f"  slowdown, median of paired blocks {t['slowdown_pct']:8.2f} %  "
        f"(A/A noise floor {t['noise_floor_pct']:.2f} %)"
    )
    print(
        f"  slowdown, best block vs best      {t['slowdown_best_pct']:8.2f} %  "
        f"(A/A noise floor {t['noise_floor_best_pct']:.2f} %; target <= 1 %)"
    )
    in_loop = t["monitor_step_in_loop_us"]
    cost = in_loop / (t["step_ms"] * 1000) * 100
    print(f"  Monitor.step inside the loop      {in_loop:8.1f} µs = {cost:.2f} % of a step")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

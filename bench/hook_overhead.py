"""What the process hook of ``maou-tui run -- CMD`` costs a training step.

The same small training script with and without the hook, in one process: the hook is
registered for some blocks of steps and taken out for others (``Hook.register`` /
``unregister``: torch's global optimizer step hooks and the backward wrapper), with its control
socket served and its step events written as in a real run. Blocks rotate among three loops
(plain, plain again for the A/A noise floor, hooked) so drift on a shared machine hits all
alike; CPU time of the whole process is counted, so the hook's own threads (socket server,
event writer) count and other processes' load does not. Also the per-step CPU cost of the hook
on a one-parameter optimizer (the hook's own work with almost no training around it).

    python bench/hook_overhead.py [--blocks 20] [--steps 100] [--hidden 256] [--json]

Target: <= 1% of step time.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch

from maou_tui.hook.attach import Hook

BATCH = 64
FEATURES = 128
CLASSES = 10


class Loop:
    """A small MLP classifier, SGD with momentum and a LambdaLR warmup: a plain torch script."""

    def __init__(self, hidden: int, seed: int = 0) -> None:
        torch.manual_seed(seed)
        generator = torch.Generator().manual_seed(seed)
        self.inputs = torch.randn(8192, FEATURES, generator=generator)
        teacher = torch.randn(FEATURES, CLASSES, generator=generator)
        self.labels = (self.inputs @ teacher).argmax(1)
        self.model = torch.nn.Sequential(
            torch.nn.Linear(FEATURES, hidden),
            torch.nn.ReLU(),
            torch.nn.Linear(hidden, hidden),
            torch.nn.ReLU(),
            torch.nn.Linear(hidden, CLASSES),
        )
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=0.05, momentum=0.9)
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer, lambda step: min(1.0, (step + 1) / 100)
        )
        self.sampler = torch.Generator().manual_seed(1)

    def run(self, steps: int) -> float:
        """Train ``steps`` batches; the CPU seconds this process spent."""
        order = torch.randint(0, len(self.inputs), (steps, BATCH), generator=self.sampler)
        started = time.process_time()
        for batch in order:
            loss = torch.nn.functional.cross_entropy(
                self.model(self.inputs[batch]), self.labels[batch]
            )
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
            self.scheduler.step()
        return time.process_time() - started


def micro(hook: Hook, calls: int) -> dict[str, float]:
    """CPU microseconds per optimizer step of a one-parameter model, without and with the hook."""
    weight = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([weight], lr=0.1)

    def steps(n: int) -> float:
        started = time.process_time()
        for _ in range(n):
            (weight * 2).sum().backward()
            optimizer.step()
        return (time.process_time() - started) / n * 1e6

    hook.unregister()
    plain = statistics.median(steps(calls) for _ in range(5))
    hook.register()
    hooked = statistics.median(steps(calls) for _ in range(5))
    hook.unregister()
    return {"plain_step_us": plain, "hooked_step_us": hooked, "hook_us": hooked - plain}


def macro(hook: Hook, blocks: int, steps: int, hidden: int) -> dict[str, float]:
    plain, plain_again, hooked = Loop(hidden), Loop(hidden), Loop(hidden)
    loops = [plain, plain_again, hooked]
    times: dict[int, list[float]] = {id(loop): [] for loop in loops}
    hook.register()
    hooked.run(steps)  # warm-up; the first hooked step starts the socket and the writer
    hook.unregister()
    plain.run(steps)
    plain_again.run(steps)
    for block in range(blocks):
        for loop in loops[block % 3 :] + loops[: block % 3]:
            if loop is hooked:
                hook.register()
            times[id(loop)].append(loop.run(steps))
            if loop is hooked:
                hook.unregister()
    base, again, with_hook = times[id(plain)], times[id(plain_again)], times[id(hooked)]

    def slowdown(other: list[float]) -> float:
        return (1 - statistics.median(b / o for b, o in zip(base, other, strict=True))) * 100

    return {
        "step_ms": statistics.median(base) / steps * 1000,
        "slowdown_pct": slowdown(with_hook),
        "noise_floor_pct": slowdown(again),
        "slowdown_best_pct": (1 - min(base) / min(with_hook)) * 100,
        "noise_floor_best_pct": (1 - min(base) / min(again)) * 100,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blocks", type=int, default=20, help="rotating blocks per loop")
    parser.add_argument("--steps", type=int, default=100, help="batches per block")
    parser.add_argument("--hidden", type=int, default=256, help="MLP hidden width")
    parser.add_argument("--calls", type=int, default=5000, help="steps per micro measurement")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory(prefix="bench-hook-") as name:
        hook = Hook(Path(name))
        result = {
            "micro": micro(hook, args.calls),
            "macro": macro(hook, args.blocks, args.steps, args.hidden),
        }
        hook.close()
    result["micro"]["hook_pct_of_step"] = (
        result["micro"]["hook_us"] / (result["macro"]["step_ms"] * 1000) * 100
    )
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for part, values in result.items():
            for key, value in values.items():
                print(f"{part}.{key}: {value:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

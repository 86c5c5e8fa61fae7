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

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch

from bench.paired_blocks import BATCH, block_options, make_data, make_mlp, rotate_blocks, slowdowns
from maou_tui.hook.attach import Hook


class Loop:
    """A small MLP classifier, SGD with momentum and a LambdaLR warmup: a plain torch script."""

    def __init__(self, hidden: int, seed: int = 0) -> None:
        torch.manual_seed(seed)
        self.inputs, self.labels = make_data(seed)
        self.model = make_mlp(hidden)
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

    def hooked_steps() -> float:
        hook.register()
        try:
            return steps(calls)
        finally:
            hook.unregister()

    hook.unregister()
    plain, hooked = rotate_blocks([lambda: steps(calls), hooked_steps], 10)
    cost = statistics.median(h - p for h, p in zip(hooked, plain, strict=True))
    return {
        "plain_step_us": statistics.median(plain),
        "hooked_step_us": statistics.median(hooked),
        "hook_us": cost,
    }


def macro(hook: Hook, blocks: int, steps: int, hidden: int) -> dict[str, float]:
    plain, plain_again, hooked = Loop(hidden), Loop(hidden), Loop(hidden)
    hook.register()
    hooked.run(steps)  # warm-up; the first hooked step starts the socket and the writer
    hook.unregister()
    plain.run(steps)
    plain_again.run(steps)

    def run_hooked() -> float:
        hook.register()
        try:
            return hooked.run(steps)
        finally:
            hook.unregister()

    base, again, with_hook = rotate_blocks(
        [lambda: plain.run(steps), lambda: plain_again.run(steps), run_hooked], blocks
    )
    return {"step_ms": statistics.median(base) / steps * 1000} | slowdowns(base, again, with_hook)


def main() -> int:
    args = block_options(__doc__.splitlines()[0], calls=1000)
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

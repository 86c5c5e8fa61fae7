"""What the overhead benchmarks share: a small real torch task, and loops compared in rotating
blocks within one run (drift on a shared machine hits every loop alike), with an A/A pair
giving the noise floor. Used by bench/hook_overhead.py and bench/sdk_overhead.py.
"""

from __future__ import annotations

import argparse
import statistics
from collections.abc import Callable, Sequence

import torch

BATCH = 64
FEATURES = 128
CLASSES = 10


def make_data(seed: int = 0, noise: float = 0.0) -> tuple[torch.Tensor, torch.Tensor]:
    """A learnable task: labels from a fixed random linear teacher (plus ``noise``)."""
    generator = torch.Generator().manual_seed(seed)
    inputs = torch.randn(8192, FEATURES, generator=generator)
    teacher = torch.randn(FEATURES, CLASSES, generator=generator)
    scores = inputs @ teacher
    if noise:
        scores = scores + noise * torch.randn(8192, CLASSES, generator=generator)
    return inputs, scores.argmax(1)


def make_mlp(hidden: int) -> torch.nn.Sequential:
    """The MLP classifier FEATURES-hidden-hidden-CLASSES both benchmarks train."""
    return torch.nn.Sequential(
        torch.nn.Linear(FEATURES, hidden),
        torch.nn.ReLU(),
        torch.nn.Linear(hidden, hidden),
        torch.nn.ReLU(),
        torch.nn.Linear(hidden, CLASSES),
    )


def rotate_blocks(loops: Sequence[Callable[[], float]], blocks: int) -> list[list[float]]:
    """Run each loop once per block, the order rotated every block; each loop's results."""
    times: list[list[float]] = [[] for _ in loops]
    for block in range(blocks):
        start = block % len(loops)
        for index in [*range(start, len(loops)), *range(start)]:
            times[index].append(loops[index]())
    return times


def slowdowns(base: list[float], again: list[float], other: list[float]) -> dict[str, float]:
    """``other`` against ``base`` (and ``again``, the A/A noise floor), in percent: the median
    of the per-block ratios, and best block against best block."""

    def median_pct(second: list[float]) -> float:
        return (1 - statistics.median(b / o for b, o in zip(base, second, strict=True))) * 100

    return {
        "slowdown_pct": median_pct(other),
        "noise_floor_pct": median_pct(again),
        "slowdown_best_pct": (1 - min(base) / min(other)) * 100,
        "noise_floor_best_pct": (1 - min(base) / min(again)) * 100,
    }


def block_options(description: str, calls: int) -> argparse.Namespace:
    """The command line both benchmarks take; torch's CPU threads set as asked."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--blocks", type=int, default=20, help="rotating blocks per loop")
    parser.add_argument("--steps", type=int, default=100, help="batches per block")
    parser.add_argument("--hidden", type=int, default=256, help="MLP hidden width")
    parser.add_argument("--calls", type=int, default=calls, help="calls per micro block")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    return args

"""LR range test on the tiny Stage 1 ResNet: where it lands, and what the sweep costs.

    python bench/lr_find.py [--seeds 0 1 2] [--threads 1] [--device cpu|cuda]

For each seed: the full sweep (``trainer.lr_find.run_lr_find``: 1e-7 -> 10, 100 iterations,
events written to a temporary run directory; ``total_s`` includes building data and model) on
the tiny preset's Stage 1 (ResNet, batch 32).
The recommended CLI value must lie inside the LR guide's search range for that row
(ResNet, Stage 1, batch 16-32: 0.0005-0.01). Baseline, measured in the same run: the same 100
optimizer steps on the same model and data without the sweep's bookkeeping (state copies,
smoothing, events, control polling), so ``overhead_ratio`` = sweep time per step (from the
events' timestamps) / plain time per step.

Prints one JSON object per seed and a summary line.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import torch

from maou_tui.lrtools import recommend
from maou_tui.protocol import LrFindFinished, LrFindStep, decode_event
from maou_tui.sdk import EventWriter
from trainer.config import build_config
from trainer.context import main_context
from trainer.lr_find import build_sweep_setup, run_lr_find, train_step, training_batches


def plain_steps(config, device: torch.device, iterations: int) -> float:
    """Seconds for ``iterations`` bare optimizer steps (the baseline)."""
    setup = build_sweep_setup(config, 1, device)
    batches = training_batches(setup, device)
    lrs = np.geomspace(config.lr_find_start_lr, config.lr_find_end_lr, iterations)
    start = time.perf_counter()
    for lr in lrs:
        train_step(setup, next(batches), float(lr), None)
    return time.perf_counter() - start


def one_sweep(seed: int, device: torch.device) -> dict:
    config = build_config(
        {"stage": "1", "lr_find": True, "seed": seed, "cpu": device.type == "cpu"}
    )
    torch.manual_seed(seed)
    baseline_s = plain_steps(config, device, config.lr_find_iterations)
    torch.manual_seed(seed)
    with tempfile.TemporaryDirectory() as tmp:
        events = EventWriter(Path(tmp) / "events.jsonl")
        ctx = main_context(config, device, events, None, Path(tmp), logging.getLogger("bench"))
        start = time.perf_counter()
        status, _, iterations = run_lr_find(config, ctx)
        total_s = time.perf_counter() - start
        events.close()
        decoded = [
            decode_event(line) for line in (Path(tmp) / "events.jsonl").read_text().splitlines()
        ]
    finished = next(e for e in decoded if isinstance(e, LrFindFinished))
    steps = [e for e in decoded if isinstance(e, LrFindStep)]
    # From the first step event to the result: iterations 2..n plus the analysis.
    per_step_s = (finished.t - steps[0].t) / max(1, len(steps) - 1)
    guide = recommend("resnet", 1, 32)
    low, high = guide.cli_search_range
    cli = finished.cli_value
    return {
        "seed": seed,
        "status": status,
        "iterations": iterations,
        "suggestions": finished.suggestions,
        "recommended": finished.recommended,
        "cli_value": cli,
        "guide_range": [low, high],
        "inside_guide_range": cli is not None and low <= cli <= high,
        "total_s": round(total_s, 2),
        "sweep_per_step_ms": round(1e3 * per_step_s, 1),
        "plain_per_step_ms": round(1e3 * baseline_s / iterations, 1),
        "overhead_ratio": round(per_step_s / (baseline_s / iterations), 2),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    results = []
    for seed in args.seeds:
        result = one_sweep(seed, device)
        results.append(result)
        print(json.dumps(result), flush=True)
    inside = sum(r["inside_guide_range"] for r in results)
    summary = {
        "inside_guide_range": f"{inside}/{len(results)}",
        "median_total_s": float(np.median([r["total_s"] for r in results])),
        "median_overhead_ratio": float(np.median([r["overhead_ratio"] for r in results])),
        "device": str(device),
        "threads": args.threads,
    }
    print(json.dumps(summary))
    return 0 if inside == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())

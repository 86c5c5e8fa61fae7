"""Samples/s of the real trainer with 1 and 2 torchrun processes (CPU, gloo): scaling efficiency.

Runs the tiny preset's Stage 3 (policy + value, the stage that dominates real training) for one
epoch under ``python -m torch.distributed.run --nproc-per-node N`` and reads the global
throughput the trainer reports in its step events (over the epoch, first steps dropped).
Baselines, measured in the same run: 1 process with 1 thread (what each rank gets) and
1 process with N threads (the same cores used by intra-op threading instead of DDP).

    python bench/ddp_scaling.py [--games 60] [--repeat 1] [--accumulation 1] [--sync-only]

``--accumulation K`` trains with ``--gradient-accumulation-steps K`` (DDP all-reduces the
gradients once per optimizer step, i.e. every K batches).

It also times the two collectives the trainer adds per step under DDP (the control sync and the
all-reduce of the logged values) on 2 gloo processes.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # also in the spawned ranks of the sync timing
WARMUP_STEPS = 2
CONFIGURATIONS = (
    ("1 proc x 1 thread", 1, 1),
    ("2 procs x 1 thread", 2, 1),
    ("1 proc x 2 threads", 1, 2),
)


def run_stage3(
    nproc: int, threads: int, games: int, cache: Path, work: Path, accumulation: int = 1
) -> float:
    """Global samples/s of one Stage 3 epoch with ``nproc`` processes."""
    run_dir = work / f"run-{nproc}x{threads}-{len(list(work.iterdir()))}"
    command = [
        sys.executable, "-m", "torch.distributed.run", "--standalone",
        "--nproc-per-node", str(nproc), "-m", "trainer",
        "--cpu", "--stage", "3", "--epoch", "1", "--stage3-games", str(games),
        "--test-ratio", "0.05", "--num-threads", str(threads), "--checkpoint-interval", "0",
        "--cache-dir", str(cache), "--run-dir", str(run_dir),
        "--gradient-accumulation-steps", str(accumulation),
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": str(threads)}
    subprocess.run(command, cwd=REPO, env=env, check=True, capture_output=True)
    rates = [
        event["samples_per_s"]
        for event in map(json.loads, (run_dir / "events.jsonl").read_text().splitlines())
        if event["type"] == "step" and event.get("samples_per_s")
    ]
    # Harmonic mean = samples over time: with accumulation the batches that all-reduce are
    # slower than the others, and a median would pick one kind.
    return statistics.harmonic_mean(rates[WARMUP_STEPS:] or rates)


def _time_sync(rank: int, world: int, init_file: str, calls: int, out: Any) -> None:
    """One rank of the control-sync timing: ``calls`` step boundaries, mean µs each."""
    import torch.distributed as dist

    from maou_tui.sdk import LoopControl
    from trainer.distributed import Distributed

    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=world)
    group = Distributed(torch.device("cpu"))
    control = LoopControl(None, None)
    values = torch.ones(4)
    for name, call in (
        ("control sync", lambda: group.sync_control(control, 0, 0.001)),
        ("step all-reduce", lambda: group.reduce_step(values, 128)),
    ):
        call()
        start = time.perf_counter()
        for _ in range(calls):
            call()
        if rank == 0:
            out.put((name, (time.perf_counter() - start) / calls * 1e6))
    dist.destroy_process_group()


def sync_cost_us(calls: int = 2000) -> dict[str, float]:
    """Per-step cost of the two collectives the trainer adds under DDP (2 gloo processes)."""
    context = torch.multiprocessing.get_context("spawn")
    out = context.Queue()
    with tempfile.TemporaryDirectory() as tmp:
        torch.multiprocessing.spawn(
            _time_sync, args=(2, f"{tmp}/init", calls, out), nprocs=2, join=True
        )
    return dict(out.get() for _ in range(2))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--games", type=int, default=60, help="Stage 3 self-play games")
    parser.add_argument("--repeat", type=int, default=1, help="runs per configuration")
    parser.add_argument("--accumulation", type=int, default=1, help="gradient accumulation steps")
    parser.add_argument("--sync-only", action="store_true", help="only the per-step sync cost")
    args = parser.parse_args()
    if not args.sync_only:
        scaling(args.games, args.repeat, args.accumulation)
    for name, micros in sync_cost_us().items():
        print(f"{name} per step: {micros:.0f} us (2 gloo processes)")
    print(f"cores: {os.cpu_count()}, load average: {os.getloadavg()[0]:.1f} (shared machine)")
    return 0


def scaling(games: int, repeat: int, accumulation: int = 1) -> None:
    """Stage 3 samples/s of each configuration, and the scaling efficiency."""
    with tempfile.TemporaryDirectory() as tmp:
        cache, work = Path(tmp) / "cache", Path(tmp) / "runs"
        work.mkdir()
        run_stage3(1, 1, games, cache, work)  # generates the data cache once
        results: dict[str, float] = {}
        for label, nproc, threads in CONFIGURATIONS:
            rates = [
                run_stage3(nproc, threads, games, cache, work, accumulation) for _ in range(repeat)
            ]
            results[label] = max(rates)
            print(
                f"{label:20s} {results[label]:9.1f} samples/s (global, accumulation {accumulation})"
            )
    one, two = results["1 proc x 1 thread"], results["2 procs x 1 thread"]
    print(f"scaling efficiency 2 procs vs 1: {two / (2 * one):.2f} (speed-up {two / one:.2f}x)")
    print(f"2 procs vs 1 proc x 2 threads: {two / results['1 proc x 2 threads']:.2f}x")


if __name__ == "__main__":
    raise SystemExit(main())

"""What the system sampler costs a training loop.

1. CPU microseconds of one sample taken and written: ``SystemSampler.sample()`` (/proc for this
   process, NVML where there is a GPU), ``EventWriter.emit`` and the write. At the default
   interval (5 s) its share of one core is that / 5 s.
2. Samples per CPU-second of a small MLP trained with SGD on CPU under ``Monitor``, without the
   sampler and with it at 100x the default rate (every 0.05 s: a cost the default interval
   cannot show on a shared machine). CPU time of the whole process counts the sampler thread.
   Loops run in rotating blocks within one run; the slowdown is the median of the per-round
   ratios. A second loop without the sampler gives the A/A noise floor. On a loaded machine the
   wall time of a block (and so the number of samples taken in it) grows while its CPU time
   does not: the stressed slowdown then overstates; the per-sample cost is the robust figure.

    python bench/system_overhead.py [--blocks 12] [--steps 150] [--json]

Target: sampler thread off the training thread, and no slowdown above the A/A noise.
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

from maou_tui.sdk import EventWriter, Monitor
from maou_tui.sdk.system import DEFAULT_INTERVAL_S, SystemSampler

BATCH, FEATURES, HIDDEN, CLASSES = 64, 128, 256, 10
STRESS_INTERVAL_S = DEFAULT_INTERVAL_S / 100


def sample_cost_us(tmp: Path, calls: int) -> tuple[float, str | None]:
    """CPU microseconds per sample taken, emitted and written to events.jsonl, and the GPU
    note (None when NVML reported GPUs)."""
    events = EventWriter(tmp / "events.jsonl")
    sampler = SystemSampler(events, lambda: 0)
    sampler.sample()  # NVML is loaded on the first sample: not part of the steady cost
    started = time.process_time()
    for _ in range(calls):
        last = events.emit(sampler.sample())
        events.flush()
    cost = (time.process_time() - started) / calls * 1e6
    sampler.close()
    events.close()
    return cost, last.gpu_note


def train_block(run_dir: Path, steps: int, interval: float | None) -> float:
    """Samples per CPU-second of ``steps`` SGD steps under ``Monitor`` (no control socket)."""
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Linear(FEATURES, HIDDEN), torch.nn.ReLU(), torch.nn.Linear(HIDDEN, CLASSES)
    )
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    x, y = torch.randn(BATCH, FEATURES), torch.randint(0, CLASSES, (BATCH,))
    monitor = Monitor(run_dir, optimizer, batch_size=BATCH, control=False, system_interval=interval)
    with monitor as m:
        started = time.process_time()
        for _ in range(steps):
            loss = torch.nn.functional.cross_entropy(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            m.step(loss=loss.item())
        spent = time.process_time() - started
    return steps * BATCH / spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blocks", type=int, default=12)
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)
    configs = {"plain": None, "plain_again": None, "sampler_0.05s": STRESS_INTERVAL_S}
    rates: dict[str, list[float]] = {name: [] for name in configs}
    with tempfile.TemporaryDirectory(prefix="sysbench-") as tmp:
        cost_us, note = sample_cost_us(Path(tmp), args.calls)
        for block in range(args.blocks):
            names = list(configs)
            names = names[block % len(names) :] + names[: block % len(names)]  # rotate
            for name in names:
                run_dir = Path(tmp) / f"{name}-{block}"
                rates[name].append(train_block(run_dir, args.steps, configs[name]))
    ratio = [s / p for s, p in zip(rates["sampler_0.05s"], rates["plain"], strict=True)]
    noise = [a / p for a, p in zip(rates["plain_again"], rates["plain"], strict=True)]
    result = {
        "sample_cpu_us": round(cost_us, 1),
        "default_interval_core_share": cost_us * 1e-6 / DEFAULT_INTERVAL_S,
        "gpu_note": note,
        "samples_per_cpu_s": {k: round(statistics.median(v)) for k, v in rates.items()},
        "slowdown_at_0.05s": 1 - statistics.median(ratio),
        "aa_noise": 1 - statistics.median(noise),
        "load": Path("/proc/loadavg").read_text().split()[:3],
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    for key, value in result.items():
        print(f"{key}: {value}")


if __name__ == "__main__":
    main()

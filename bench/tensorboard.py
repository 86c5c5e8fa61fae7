"""TensorBoard reading benchmarks (figures in docs/ingest.md and README).
Run: ``python -m bench.tensorboard [--points 1000000] [--gb 1.0]``.

1. All points of ``--points`` scalars in one event file, written by a real
   ``torch.utils.tensorboard.SummaryWriter`` (``Loss/train``, one scalar an event, as maou and
   HF Trainer write them): ``load_store`` against TensorBoard's own ``EventAccumulator`` with
   ``size_guidance={"scalars": 0}`` (keep every point), ``Reload()`` then ``Scalars(tag)``, in
   the same run. Both must end with every point. Target: >= 5x faster. Wall and CPU time.
2. First screen of a ``--gb`` log directory: a maou ``--log-dir`` of runs, each run a copy of
   one real SummaryWriter run (its main file plus its ``add_scalars`` folders), until the
   directory holds that many bytes; and a single run whose main file alone is that big (the
   1: file's records repeated, so its steps restart every copy: the content of a first screen
   is the same either way). Measured: ``find_runs`` plus the first read of the newest run as
   the app's tail does it (``TensorBoardSource.read_new``: at most 2 MB), and ``read_tail``
   (last 4 MB). Target < 1 s.
Files go to a temporary directory (``--tmp``) and are deleted afterwards.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from maou_tui.ingest import find_runs, load_store, read_tail
from maou_tui.ingest.tensorboard import TensorBoardSource
from maou_tui.store import RunStore

TAG = "Loss/train"


def _timed(fn: Callable[[], Any]) -> tuple[Any, float, float]:
    """(result, wall s, process CPU s)."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def write_scalars(run: Path, points: int) -> Path:
    from torch.utils.tensorboard import SummaryWriter

    with SummaryWriter(str(run), max_queue=10_000, flush_secs=3600) as writer:
        for step in range(1, points + 1):
            writer.add_scalar(TAG, 5.0 / (1 + step * 1e-4), step)
    return next(run.glob("*tfevents*"))


def write_maou_like_run(run: Path, points: int) -> None:
    """A run folder as maou writes it: the main file and its ``add_scalars`` folders."""
    from torch.utils.tensorboard import SummaryWriter

    epochs, per_epoch = 10, points // 10
    with SummaryWriter(str(run), max_queue=10_000, flush_secs=3600) as writer:
        for epoch in range(epochs):
            for step in range(epoch * per_epoch + 1, (epoch + 1) * per_epoch + 1):
                writer.add_scalar(TAG, 5.0 / (1 + step * 1e-4), step)
            losses = {"Training": 4.0 - 0.1 * epoch, "Validation": 4.1 - 0.1 * epoch}
            writer.add_scalars("Training vs. Validation Loss", losses, epoch + 1)
            writer.add_scalar("Learning Rate", 1e-3, epoch + 1)


def bench_all_points(tmp: Path, points: int) -> None:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    print(f"== all points of {points:,} scalars in one event file ==", flush=True)
    _, wall, _cpu = _timed(lambda: write_scalars(tmp / "one", points))
    path = next((tmp / "one").glob("*tfevents*"))
    print(f"written by SummaryWriter in {wall:.1f} s: {path.stat().st_size / 1e6:.1f} MB")

    def ours() -> int:
        return len(load_store(path).series("loss"))

    def theirs() -> int:
        accumulator = EventAccumulator(str(path), size_guidance={"scalars": 0})
        accumulator.Reload()
        return len(accumulator.Scalars(TAG))

    n_ours, wall_ours, cpu_ours = _timed(ours)
    n_theirs, wall_theirs, cpu_theirs = _timed(theirs)
    n_ours2, wall_ours2, cpu_ours2 = _timed(ours)
    assert n_ours == n_theirs == n_ours2 == points, (n_ours, n_theirs)
    best_wall, best_cpu = min(wall_ours, wall_ours2), min(cpu_ours, cpu_ours2)
    print(f"maou-tui load_store: {best_wall:.2f} s wall, {best_cpu:.2f} s CPU (best of 2)")
    print(f"EventAccumulator:    {wall_theirs:.2f} s wall, {cpu_theirs:.2f} s CPU")
    print(f"ratio: {wall_theirs / best_wall:.1f}x wall, {cpu_theirs / best_cpu:.1f}x CPU faster")
    print(f"load: {os.getloadavg()}", flush=True)


def _first_screen(path: Path) -> tuple[int, float]:
    """The app's way in: find the newest run, read its first piece into a store."""
    start = time.perf_counter()
    runs = find_runs(path) if not any(path.glob("*tfevents*")) else [path]
    store = RunStore()
    source = TensorBoardSource(runs[0])
    store.apply_all(source.read_new(16 << 20))
    return len(store.series("loss")), time.perf_counter() - start


def _tail_screen(run: Path) -> tuple[int, float]:
    start = time.perf_counter()
    store, _ = read_tail(run, 4 << 20)
    return len(store.series("loss")), time.perf_counter() - start


def bench_first_screen(tmp: Path, gigabytes: float) -> None:
    target = int(gigabytes * 1e9)
    template = tmp / "template" / "vit_training_log_20261203_000000"
    write_maou_like_run(template, 200_000)
    size = sum(p.stat().st_size for p in template.rglob("*") if p.is_file())

    many = tmp / "logdir"
    copies = max(1, target // size)
    for i in range(copies):
        shutil.copytree(template, many / f"vit_training_log_20261203_{i:06d}")
    total = sum(p.stat().st_size for p in many.rglob("*") if p.is_file())
    print(f"== first screen of a {total / 1e9:.2f} GB log dir: {copies} runs ==", flush=True)
    for _ in range(2):
        points, wall = _first_screen(many)
        print(f"find_runs + first read of the newest run: {wall:.3f} s wall, {points:,} points")
    newest = find_runs(many)[0]
    points, wall = _tail_screen(newest)
    print(f"read_tail(4 MB) of the newest run: {wall:.3f} s wall, {points:,} points")
    shutil.rmtree(many)

    big = tmp / "bigrun" / "vit_training_log_20261203_000000"
    big.mkdir(parents=True)
    main = next(template.glob("*tfevents*"))
    block = main.read_bytes()
    with open(big / main.name, "wb") as out:
        for _ in range(max(1, target // len(block))):
            out.write(block)
    total = (big / main.name).stat().st_size
    print(f"== first screen of one run whose event file is {total / 1e9:.2f} GB ==", flush=True)
    for _ in range(2):
        points, wall = _first_screen(big)
        print(f"first read: {wall:.3f} s wall, {points:,} points")
        points, wall = _tail_screen(big)
        print(f"read_tail(4 MB): {wall:.3f} s wall, {points:,} points")
    print(f"load: {os.getloadavg()}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--gb", type=float, default=1.0)
    parser.add_argument("--tmp", type=Path, default=None, help="where the files go")
    parser.add_argument("--only", choices=("points", "screen"), default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.tmp) as tmp:
        if args.only in (None, "points"):
            bench_all_points(Path(tmp), args.points)
        if args.only in (None, "screen"):
            bench_first_screen(Path(tmp), args.gb)


if __name__ == "__main__":
    main()

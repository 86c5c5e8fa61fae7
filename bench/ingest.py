"""Ingestion benchmarks (figures in docs/ingest.md and README). Run:
``python -m bench.ingest [--mb 150] [--before DIR]``.

1. Backfill: a ~150 MB maou-format log (maou's stderr: logger lines and tqdm bars redrawn with
   ``\\r`` every 3 batches), read whole by ``load_store``, against ``grep -c 'Loss='`` on the
   same file in the same run: sparse (a new postfix every 50 batches, maou's case) and dense (a
   new postfix on every render). Targets: CPU >= 0.5 x grep's including the report's diagnosis
   (``diagnose`` and ``summarize`` after ``load_store``), <= 0.5 us of CPU a point, peak RSS
   <= 40 bytes a point above a process that only imported the reader. Also the whole process of
   ``maou-tui report`` (imports and printing included). Each load runs in a
   fresh process (best of 3 by CPU); with ``--before DIR`` (a directory holding the
   ``maou_tui`` package of an earlier commit, e.g. from ``git archive``) that code's loads run
   interleaved with these, on the same file. Also the guide-line form (this project's
   train.log, one ``Epoch E Batch B/N: Loss=...`` line per 5 batches, every line a point).
2. First screenful: ``read_tail`` of the last 4 MB of a ~1 GB log (the sparse log repeated).
   Target <= 1 s. Then the whole of it with ``load_store`` (issue 20: <= 10 s, <= 30 B a point).
3. Tailing a log growing at 10,000 lines/s (tqdm segments, and guide batch lines), as the app
   tails it (runs of steps as StepBatch columns): CPU of the tail and observer threads (process
   CPU minus the writer thread's own). Target < 3% of a core.
4. Decimation: 1,000,000 points to width 200. Target <= ~2 points per column.
Files go to a temporary directory and are deleted afterwards. Say ``cat /proc/loadavg`` next to
the figures: on a shared machine CPU ratios are steadier than wall times.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import numpy as np

from maou_tui.ingest import Tailer, read_tail
from maou_tui.store import Series, StepBatch

PREFIX = (
    "2026-08-22T10:15:00+09:00 | INFO  | multi_stage_training.py "
    "| _run_stage_with_training_loop | 501 | "
)


def _bar(n: int, total: int, postfix: str) -> str:
    pct = 100 * n // total
    fill = "█" * (pct // 10) + ("▌" if pct % 10 >= 5 else "")
    return f"Training: {pct:3d}%|{fill:<10}| {n}/{total} [00:12<00:15, 36.5it/s, {postfix}]"


def _epoch_bar(
    rng: np.random.Generator, stage: int, total: int, per_redraw: int, postfix_every: int = 50
) -> str:
    """One epoch's tqdm output: a redraw every ``per_redraw`` batches, a new postfix every
    ``postfix_every`` (maou: 50; ``per_redraw`` or less: a new point on every render)."""
    segments = [f"Training:   0%|          | 0/{total} [00:00<?, ?it/s]"]
    postfix, acc, loss = "", 0.9, 0.5
    for n in range(1, total + 1, per_redraw):
        if n == 1 or (n - 1) // postfix_every != (n - 1 - per_redraw) // postfix_every:
            acc = min(0.999, acc + rng.normal(0.001, 0.002))
            loss = max(1e-4, loss * (1 + rng.normal(-0.01, 0.02)))
            postfix = (
                f"acc={100 * acc:.1f}%, loss={loss:.4f}"
                if stage == 1
                else f"f1={acc:.4f}, loss={loss:.4f}"
            )
        segments.append(_bar(n, total, postfix))
    return "\r" + "\r".join(segments) + "\n"


def write_maou_log(path: Path, target_bytes: int, seed: int = 0, postfix_every: int = 50) -> None:
    """maou's real stderr: banners, setup lines, per-epoch bars and epoch/LR lines."""
    rng = np.random.default_rng(seed)
    with open(path, "w", encoding="utf-8") as out:
        for stage, title in ((1, "REACHABLE SQUARES"), (2, "LEGAL MOVES")):
            out.write(f"{PREFIX}{'=' * 60}\n{PREFIX}STAGE {stage}: {title} LEARNING\n")
            out.write(f"{PREFIX}Starting Stage {stage} (TrainingLoop): max_epochs=9999, ")
            out.write("threshold=99.0%\n")
            out.write(f"{PREFIX}Using Warmup+CosineDecay scheduler (warmup_steps=2500, ")
            out.write("total_steps=24997500)\n")
            label = "Accuracy" if stage == 1 else "F1"
            for epoch in range(1, 4 if stage == 1 else 10**9):
                out.write(_epoch_bar(rng, stage, 2500, 3, postfix_every))
                out.write(
                    f"{PREFIX}Stage {stage} Epoch {epoch}/9999: Loss=0.0123, {label}=95.12%\n"
                )
                out.write(f"{PREFIX}Stage {stage} Epoch {epoch}: LR = 0.000400\n")
                if out.tell() >= target_bytes:
                    return


def _guide_line(epoch: int, batch: int) -> str:
    return (
        f"{PREFIX}Epoch {epoch} Batch {batch}/10000: Loss=0.{batch % 9000 + 1000:04d}, F1=75.12%\n"
    )


def write_guide_log(path: Path, target_bytes: int) -> None:
    """This project's train.log form: a batch line every 5 batches plus epoch lines."""
    with open(path, "w", encoding="utf-8") as out:
        out.write(f"{PREFIX}STAGE 2: LEGAL MOVES LEARNING\n")
        epoch = 0
        while out.tell() < target_bytes:
            epoch += 1
            out.write("".join(_guide_line(epoch, b) for b in range(5, 10001, 5)))
            out.write(f"{PREFIX}Stage 2 Epoch {epoch}/100: Loss=0.0123, F1=80.00%\n")


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _measure(fn: Callable[[], object], children: bool = False) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one call; CPU of child processes when ``children``."""
    cpu0 = _children_cpu() if children else time.process_time()
    wall0 = time.perf_counter()
    fn()
    wall = time.perf_counter() - wall0
    cpu = (_children_cpu() if children else time.process_time()) - cpu0
    return wall, cpu


def bench_backfill(path: Path, label: str, before: Path | None = None) -> None:
    size_mb = path.stat().st_size / 1e6
    subprocess.run(["cat", str(path)], stdout=subprocess.DEVNULL, check=True)  # warm the cache
    grep_cmd = ["grep", "-c", "Loss=", str(path)]
    grep_runs = [_measure(lambda: subprocess.run(grep_cmd, capture_output=True), True)]
    grep_runs += [_measure(lambda: subprocess.run(grep_cmd, capture_output=True), True)]
    grep_wall, grep_cpu = min(r[0] for r in grep_runs), min(r[1] for r in grep_runs)
    runs: list[_Load] = []
    before_runs: list[_Load] = []
    for _ in range(3):  # interleaved, so that both see the same load
        runs.append(_load_in_process(path, None))
        if before is not None:
            before_runs.append(_load_in_process(path, before))
    now = min(runs, key=lambda r: r.cpu)
    report = min(r.report_cpu for r in runs)
    process = min(_measure(lambda: _report_process(path, None), True)[1] for _ in range(2))
    peak = _peak_rss_above_import(path)
    points = now.points
    print(
        f"backfill, {label}: {size_mb:.0f} MB, {points} points\n"
        f"  grep -c 'Loss=': wall {grep_wall:.3f} s, CPU {grep_cpu:.3f} s\n"
        f"  load_store:      wall {now.wall:.3f} s, CPU {now.cpu:.3f} s "
        f"({size_mb / now.cpu:.0f} MB/s CPU), ratio to grep {grep_cpu / now.cpu:.3f}\n"
        f"  + diagnosis:     CPU {report:.3f} s (load_store, diagnose, summarize: what report "
        f"does), ratio to grep {grep_cpu / report:.3f} (target >= 0.5)\n"
        f"  whole process:   `maou-tui report` CPU {process:.3f} s (imports included), ratio "
        f"{grep_cpu / process:.3f}\n"
        f"  per point:       CPU {1e6 * now.cpu / max(points, 1):.2f} us (target <= 0.5), peak RSS "
        f"{peak / 1e6:.0f} MB above the imported process, {peak / max(points, 1):.0f} B a point "
        "(target <= 40)"
    )
    if before_runs:
        old = min(before_runs, key=lambda r: r.cpu)
        old_report = min(r.report_cpu for r in before_runs)
        old_process = min(
            _measure(lambda: _report_process(path, before), True)[1] for _ in range(2)
        )
        old_peak = _peak_rss_above_import(path, before)
        print(
            f"  code before:     load_store CPU {old.cpu:.3f} s ({grep_cpu / old.cpu:.3f} x grep, "
            f"{1e6 * old.cpu / max(old.points, 1):.2f} us a point, {old.points} points), + "
            f"diagnosis {old_report:.3f} s, whole process {old_process:.3f} s, peak "
            f"{old_peak / max(old.points, 1):.0f} B a point; now {old.cpu / now.cpu:.2f} x / "
            f"{old_report / report:.2f} x / {old_process / process:.2f} x faster"
        )
    print(f"  load: {Path('/proc/loadavg').read_text().strip()}")


class _Load(NamedTuple):
    wall: float
    cpu: float  # load_store
    report_cpu: float  # load_store, diagnose and summarize
    points: int


def _load_in_process(path: Path, code: Path | None) -> _Load:
    """``load_store(path)``, then the report's diagnosis, in a fresh process (of the code in
    ``code`` when given), the imports not counted."""
    script = (
        "import sys, time\n"
        f"sys.path.insert(0, {str(code or Path(__file__).resolve().parents[1])!r})\n"
        "from maou_tui.ingest import load_store\n"
        "from maou_tui.diagnose import diagnose\n"
        "from maou_tui.ingest.summary import summarize\n"
        "wall, cpu = time.perf_counter(), time.process_time()\n"
        f"store = load_store({str(path)!r})\n"
        "loaded, wall = time.process_time() - cpu, time.perf_counter() - wall\n"
        "diagnose(store); summarize(store)\n"
        "reported = time.process_time() - cpu\n"
        "print(wall, loaded, reported, sum(len(store.series(n)) for n in store.names()))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    wall, cpu, report_cpu, points = out.stdout.split()
    return _Load(float(wall), float(cpu), float(report_cpu), int(points))


def _report_process(path: Path, code: Path | None) -> None:
    """``maou-tui report PATH`` as a user runs it: a whole process, imports included."""
    where = str(code or Path(__file__).resolve().parents[1])
    script = f"import sys; sys.path.insert(0, {where!r}); from maou_tui.cli import main; main()"
    subprocess.run(
        [sys.executable, "-c", script, "report", str(path)], capture_output=True, check=False
    )


def _peak_rss_above_import(path: Path, code: Path | None = None) -> int:
    """Peak resident bytes of a fresh process that loads ``path``, less one that only imports
    the reader. VmHWM, not ru_maxrss: Linux keeps ru_maxrss across exec, so a child started
    from this big process would report this process's peak."""
    where = str(code or Path(__file__).resolve().parents[1])
    base = (
        f"import re, sys; sys.path.insert(0, {where!r}); from maou_tui.ingest import load_store; "
    )
    report = "print(re.search(r'VmHWM:\\s*(\\d+)', open('/proc/self/status').read())[1])"
    peaks = []
    for body in ("", f"load_store({str(path)!r}); "):
        out = subprocess.run(
            [sys.executable, "-c", base + body + report], capture_output=True, text=True
        )
        peaks.append(int(out.stdout.strip() or 0) * 1024)
    return peaks[1] - peaks[0]


def bench_first_screen(path: Path) -> None:
    result = []
    wall, cpu = _measure(lambda: result.append(read_tail(path, 4 << 20)))
    store, start = result[0]
    print(
        f"first screenful: {path.stat().st_size / 1e9:.2f} GB log, read_tail(last 4 MB from "
        f"byte {start}): wall {wall:.3f} s, CPU {cpu:.3f} s, "
        f"{len(store.series('loss'))} loss points (target <= 1 s)"
    )


def bench_whole(path: Path) -> None:
    """Issue 20 item 2's reading side: the whole history of a ~1 GB log, as ``load_store``
    reads it (the app's own path adds its drawing: bench/app_latency.py)."""
    wall, cpu, _report, points = _load_in_process(path, None)
    peak = _peak_rss_above_import(path)
    print(
        f"whole history: {path.stat().st_size / 1e9:.2f} GB log, load_store: wall {wall:.1f} s, "
        f"CPU {cpu:.1f} s, {points} points, peak RSS {peak / 1e6:.0f} MB above the imported "
        f"process, {peak / max(points, 1):.0f} B a point (targets: <= 10 s, <= 30 B a point)\n"
        f"  load: {Path('/proc/loadavg').read_text().strip()}"
    )


def _count(event: object) -> int:
    return len(event) if isinstance(event, StepBatch) else 1


def bench_tail(directory: Path, label: str, make_chunk, seconds: float = 4.0) -> None:
    """Append ``make_chunk(first, last)`` 100 times a second (10,000 lines/s) while tailing."""
    path = directory / "growing.log"
    path.write_text(f"{PREFIX}STAGE 2: LEGAL MOVES LEARNING\n")
    received = [0]
    # As the app tails: runs of steps come as StepBatch columns (len = the steps they hold).
    tailer = Tailer(
        path,
        lambda events: received.__setitem__(0, received[0] + sum(_count(e) for e in events)),
        columns=True,
    )
    tailer.start()
    time.sleep(0.3)
    cpu0, writer_cpu0, wall0 = time.process_time(), time.thread_time(), time.perf_counter()
    written = 0
    with open(path, "a", encoding="utf-8") as out:
        while time.perf_counter() - wall0 < seconds:
            due = int((time.perf_counter() - wall0) * 10_000)
            if due > written:
                out.write(make_chunk(written + 1, due))
                out.flush()
                written = due
            time.sleep(0.01)
    writer_cpu = time.thread_time() - writer_cpu0
    time.sleep(0.5)
    elapsed = time.perf_counter() - wall0
    tail_cpu = time.process_time() - cpu0 - writer_cpu
    tailer.stop()
    path.unlink()
    print(
        f"tail, {label}: {written} lines in {seconds:.0f} s ({written / seconds:.0f}/s), "
        f"{received[0]} events, tail CPU {100 * tail_cpu / elapsed:.1f}% of one core (target < 3%)"
    )


def _bar_chunk(first: int, last: int) -> str:
    out = []
    for n in range(first, last + 1):
        out.append("\r" + _bar(n % 2500 + 1, 2500, f"f1=0.{n // 50 % 9000 + 1000:04d}, loss=0.01"))
    return "".join(out)


def _guide_chunk(first: int, last: int) -> str:
    return "".join(_guide_line(1, n) for n in range(first, last + 1))


def bench_decimate() -> None:
    series = Series("loss")
    for step, value in enumerate(np.random.default_rng(0).normal(size=1_000_000).tolist(), 1):
        series.append(step, value)
    series.steps  # noqa: B018 - move the appended points into the numpy columns first
    best = min(_measure(lambda: series.decimate(1, 1_000_000, 200))[0] for _ in range(5))
    x, _ = series.decimate(1, 1_000_000, 200)
    print(
        f"decimate: 1,000,000 points -> {len(x)} for width 200 ({len(x) / 200:.2f} per column), "
        f"{1000 * best:.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--mb", type=int, default=150, help="size of the backfill logs")
    parser.add_argument("--guide-mb", type=int, default=30, help="size of the guide-line log")
    parser.add_argument("--big-mb", type=int, default=1000, help="size of the first-screen log")
    parser.add_argument(
        "--before", type=Path, help="a directory holding maou_tui of an earlier commit, to compare"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="maou-tui-bench-") as tmp:
        directory = Path(tmp)
        log = directory / "maou.log"
        write_maou_log(log, args.mb * 1_000_000)
        bench_backfill(
            log, "maou stderr with tqdm bars, sparse postfixes (every 50 batches)", args.before
        )
        dense = directory / "dense.log"
        write_maou_log(dense, args.mb * 1_000_000, postfix_every=1)
        bench_backfill(
            dense, "maou stderr with tqdm bars, a new postfix on every render", args.before
        )
        dense.unlink()
        guide = directory / "train.log"
        write_guide_log(guide, args.guide_mb * 1_000_000)
        bench_backfill(guide, "guide lines (train.log form)", args.before)
        guide.unlink()
        big = directory / "big.log"
        data = log.read_bytes()
        log.unlink()
        with open(big, "wb") as out:  # the same run repeated up to ~1 GB
            for _ in range(max(1, args.big_mb * 1_000_000 // len(data))):
                out.write(data)
        del data
        bench_first_screen(big)
        bench_whole(big)
        big.unlink()
        bench_tail(directory, "tqdm segments", _bar_chunk)
        bench_tail(directory, "guide batch lines", _guide_chunk)
        bench_decimate()


if __name__ == "__main__":
    main()

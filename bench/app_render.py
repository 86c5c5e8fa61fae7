"""Chart redraw time with 1,000,000 points per series, and memory with 10,000,000 points.

    python bench/app_render.py redraw [--points 1000000] [--repeats 15]
    python bench/app_render.py memory [--points 10000000]

redraw: the app's three charts (loss, metric, LR) in a headless Textual app at 160x50; every
series the charts draw holds --points points. One redraw of a chart = ``replot()`` (decimate +
plot) and ``render()`` (plotext builds the text), after 1,000 new points per series arrived (a
live run's steady state); CPU time per chart is reported (wall time on a shared machine mostly
measures the other processes). Baselines measured in the same run: the same redraw with
1,000 points per series (decimation should make 1M cost the same), the same redraw with
plotext's own per-dot helpers instead of ``plotext_speedups``, and plotext (with the speedups)
drawing raw, undecimated points (per-point cost, extrapolated to 1M points).

memory: peak resident memory (VmHWM) of a fresh process that fills a store with --points points
in total (loss, accuracy, accuracy_cum and LR, a quarter each) and draws the charts once, against
the same process with an empty store; the peak before the first drawing is reported too.

Targets (issue 5): redraw <= 30 ms; memory <= 300 MB. Prints one JSON object per measurement.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from textual.app import App, ComposeResult

from maou_tui.app.widgets import plotext_speedups
from maou_tui.app.widgets.charts import ChartView, LossChart, LrChart, MetricChart
from maou_tui.protocol import EpochEnd, Phase, StageStarted
from maou_tui.store import RunStore
from maou_tui.x_axis import EpochAxis

SIZE = (160, 50)
STEPS_PER_EPOCH = 5_000
#: The series the three charts draw for a Stage 1 run (the smoothed loss is derived).
DRAWN_SERIES = ("loss", "accuracy", "accuracy_cum", "lr")


def curves(start: int, count: int, total: int) -> dict[str, np.ndarray]:
    """Plausible training curves at steps ``start .. start+count-1`` of a ``total``-step run."""
    steps = np.arange(start, start + count, dtype=np.float64)
    rng = np.random.default_rng(start)
    noise = rng.standard_normal(count)
    progress = steps / max(total, 1)
    return {
        "loss": 0.1 + np.exp(-5 * progress) + 0.05 * noise,
        "accuracy": np.clip(0.9 + 0.09 * progress + 0.01 * noise, 0, 1),
        "accuracy_cum": 0.9 + 0.09 * progress,
        "lr": 1e-3 * 0.5 * (1 + np.cos(np.pi * progress)),
    }


def fill(store: RunStore, start: int, count: int, total: int) -> None:
    """Append ``count`` points to each drawn series (straight to the series: applying a
    million Step events would measure pydantic, not drawing)."""
    steps = range(start, start + count)
    for name, values in curves(start, count, total).items():
        series = store.series(name)
        for step, value in zip(steps, values.tolist(), strict=True):
            series.append(step, value, 1, step // STEPS_PER_EPOCH, step % STEPS_PER_EPOCH)
    store.last_step = max(store.last_step, start + count - 1)
    store.current_stage = 1


def marked_store(total: int) -> RunStore:
    """A store with a stage start, warmup/decay phases and one epoch mark per epoch."""
    store = RunStore()
    store.apply(StageStarted(stage=1, name="REACHABLE_SQUARES", metric="accuracy", start_step=0))
    warmup_end = max(total // 10, 1)
    store.apply(Phase(stage=1, phase="warmup", start_step=0, end_step=warmup_end))
    store.apply(Phase(stage=1, phase="decay", start_step=warmup_end, end_step=total))
    for epoch, step in enumerate(range(STEPS_PER_EPOCH, total, STEPS_PER_EPOCH), start=1):
        store.apply(EpochEnd(stage=1, epoch=epoch, global_step=step, train_loss=0.2))
    return store


class ChartsApp(App):
    """The app's chart widgets alone, on one screen."""

    CSS = "LossChart, MetricChart, LrChart { height: 1fr; }"

    def __init__(self, store: RunStore) -> None:
        super().__init__()
        self.store = store

    def compose(self) -> ComposeResult:
        yield LossChart(self.store)
        yield MetricChart(self.store)
        yield LrChart(self.store)


CHARTS = (LossChart, MetricChart, LrChart)


def redraw_times(
    points: int,
    repeats: int,
    new_points: int = 1_000,
    *,
    plotext_own: bool = False,
    epoch_axis: bool = False,
    cursor: bool = False,
) -> dict[str, list[float]]:
    """Per chart, CPU seconds of each redraw after ``new_points`` new points per series (CPU
    time, because wall time on a shared machine mostly measures the other processes);
    ``plotext_own``: with plotext's own per-dot helpers; ``epoch_axis``: x in epochs (the
    axis is worked out from the store at each redraw, as the screen does); ``cursor``: with
    the cursor on and each chart's readout values read."""
    if plotext_own:
        plotext_speedups.uninstall()
        try:
            return redraw_times(points, repeats, new_points)
        finally:
            plotext_speedups.install()
    total = points + repeats * new_points
    store = marked_store(total)
    fill(store, 0, points, total)
    app = ChartsApp(store)
    times: dict[str, list[float]] = {kind.__name__: [] for kind in CHARTS}

    async def drive() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            charts = [app.query_one(kind) for kind in CHARTS]
            view = ChartView(x_unit="epoch" if epoch_axis else "step")
            if cursor:
                view.cursor = points // 2
            for chart in charts:  # the first redraw smooths the whole history once
                chart.replot(view)
                chart.render()
            for i in range(repeats):
                fill(store, points + i * new_points, new_points, total)
                for chart in charts:
                    started = time.process_time()
                    axis = EpochAxis.of(store) if epoch_axis else None
                    chart.replot(view, (), axis)
                    chart.render()
                    if cursor:
                        chart.readout(points // 2)
                    times[type(chart).__name__].append(time.process_time() - started)

    asyncio.run(drive())
    return times


def decimate_seconds(points: int, repeats: int, new_points: int = 1_000) -> float:
    """Median CPU seconds of ``Series.decimate`` on one ``points``-point series at 150 columns,
    each call after ``new_points`` new points (the first call builds the bucket cache)."""
    total = points + repeats * new_points
    store = RunStore()
    fill(store, 0, points, total)
    series = store.series("loss")
    series.decimate(0, points, 150)
    times = []
    for i in range(repeats):
        fill(store, points + i * new_points, new_points, total)
        started = time.process_time()
        series.decimate(0, store.last_step, 150)
        times.append(time.process_time() - started)
    return percentile(times, 50)


def raw_plot_seconds_per_point(points: int = 20_000) -> float:
    """plotext drawing ``points`` raw points at 160x16 (one chart), per point."""
    import plotext

    xs = list(range(points))
    ys = curves(0, points, points)["loss"].tolist()
    plt = plotext
    started = time.process_time()
    plt.clear_figure()
    plt.plotsize(SIZE[0], SIZE[1] // 3)
    plt.plot(xs, ys, marker="braille")
    plt.build()
    return (time.process_time() - started) / points


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.array(values), q))


def bench_redraw(points: int, repeats: int) -> dict:
    big = redraw_times(points, repeats)
    small = redraw_times(1_000, repeats)
    own = redraw_times(points, repeats, plotext_own=True)
    epochs = redraw_times(points, repeats, epoch_axis=True, cursor=True)
    per_point = raw_plot_seconds_per_point()
    slowest = max(big, key=lambda name: percentile(big[name], 50))
    return {
        "bench": "chart_redraw",
        "points_per_series": points,
        "series": list(DRAWN_SERIES),
        "terminal": f"{SIZE[0]}x{SIZE[1]}",
        "cpu_median_ms": {name: round(1e3 * percentile(t, 50), 1) for name, t in big.items()},
        "cpu_p95_ms": {name: round(1e3 * percentile(t, 95), 1) for name, t in big.items()},
        "baseline_1k_points_cpu_median_ms": {
            name: round(1e3 * percentile(t, 50), 1) for name, t in small.items()
        },
        "epoch_axis_and_cursor_cpu_median_ms": {
            name: round(1e3 * percentile(t, 50), 1) for name, t in epochs.items()
        },
        "plotext_own_helpers_cpu_median_ms": {
            name: round(1e3 * percentile(t, 50), 1) for name, t in own.items()
        },
        "decimate_cpu_median_ms_per_series": round(1e3 * decimate_seconds(points, repeats), 2),
        "undecimated_plotext_us_per_point": round(1e6 * per_point, 2),
        "undecimated_estimate_ms_per_series": round(1e3 * per_point * points),
        "load_average_1min": round(os.getloadavg()[0], 2),
        "target_ms_per_chart": 30,
        "met": percentile(big[slowest], 50) <= 0.030,
    }


# -------------------------------------------------------------------------------- memory


def peak_rss_mb() -> float:
    """VmHWM (peak resident set) of this process, in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status (Linux only)")


def memory_child(points: int) -> None:
    """Runs in a fresh process: fill, draw once, print the peak RSS."""
    per_series = points // len(DRAWN_SERIES)
    store = marked_store(max(per_series, 1))
    # Fill in slices so the temporary curve arrays stay small next to the store itself.
    for start in range(0, per_series, 250_000):
        fill(store, start, min(250_000, per_series - start), per_series)
    filled_mb = peak_rss_mb()

    async def draw_once() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            for kind in (LossChart, MetricChart, LrChart):
                chart = app.query_one(kind)
                chart.replot(ChartView())
                chart.render()

    app = ChartsApp(store)
    asyncio.run(draw_once())
    assert "torch" not in sys.modules
    result = {"points": points, "after_fill_mb": round(filled_mb, 1)}
    print(json.dumps({**result, "peak_rss_mb": round(peak_rss_mb(), 1)}))


def measure_child(points: int) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "memory-child", "--points", str(points)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def bench_memory(points: int) -> dict:
    empty = measure_child(0)
    full = measure_child(points)
    added = full["peak_rss_mb"] - empty["peak_rss_mb"]
    return {
        "bench": "memory",
        "points": points,
        "peak_rss_mb": full["peak_rss_mb"],
        "peak_before_drawing_mb": full["after_fill_mb"],
        "baseline_empty_store_mb": empty["peak_rss_mb"],
        "bytes_per_point": round(added * 1024 * 1024 / max(points, 1), 1),
        "target_mb": 300,
        "met": full["peak_rss_mb"] <= 300,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("what", choices=["redraw", "memory", "memory-child", "all"])
    parser.add_argument("--points", type=int, default=None)
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    if args.what == "memory-child":
        memory_child(args.points)
        return 0
    if args.what in ("redraw", "all"):
        print(json.dumps(bench_redraw(args.points or 1_000_000, args.repeats)))
    if args.what in ("memory", "all"):
        print(json.dumps(bench_memory(args.points or 10_000_000)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

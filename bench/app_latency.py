"""Latencies of the app: start to first frame, event written to on screen, key to applied.

    python bench/app_latency.py startup  [--repeats 5]
    python bench/app_latency.py event    [--repeats 60]
    python bench/app_latency.py key      [--repeats 20]
    python bench/app_latency.py all

startup: wall time from spawning ``python`` to the app's first frame (``App.run_test`` is
entered once the first screen has been composed and painted headless) on a run directory with a
short history; the child asserts that torch was never imported. Baselines in the same run: a bare
``python -c pass`` and ``python -c "import torch"``.

event: the app attached (headless) to a run directory; a Step line is appended to events.jsonl
and flushed, then the time until the status panel shows that step's batch number is taken.

key: a real trainer (tiny preset, Stage 1) started detached; the app attached to it presses
``h`` and ``u`` in turn; the latency is the trainer's ``t`` stamp on the resulting ``control``
event minus the wall time of the key press. "One step" is the median gap between the trainer's
step events in the same run.

Targets (issue 5): startup <= 1 s; event p95 <= 250 ms; key p95 <= one step + 100 ms.
Prints one JSON object per measurement.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from maou_tui.protocol import RunStarted, StageStarted, Step, encode

REPO_ROOT = Path(__file__).resolve().parents[1]

SIZE = (120, 40)
STEPS_PER_EPOCH = 100_000
#: Small Stage 1 only run: steps take a few tens of ms on 2 CPU cores.
TRAINER_OPTIONS = ["--stage", "1", "--stage1-max-epochs", "30", "--num-threads", "1"]


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.array(values), q))


def summary_ms(values: list[float]) -> dict[str, float]:
    return {
        "median_ms": round(1e3 * percentile(values, 50), 1),
        "p95_ms": round(1e3 * percentile(values, 95), 1),
        "max_ms": round(1e3 * max(values), 1),
    }


def write_history(run_dir: Path, steps: int) -> None:
    """A run directory whose events.jsonl holds a run start, a stage start and ``steps`` steps."""
    run_dir.mkdir(parents=True, exist_ok=True)
    lines = [
        RunStarted(pid=1, device="cpu"),
        StageStarted(
            stage=1,
            name="REACHABLE_SQUARES",
            metric="accuracy",
            max_epochs=1,
            steps_per_epoch=STEPS_PER_EPOCH,
            total_steps=STEPS_PER_EPOCH,
        ),
        *(step_event(i) for i in range(1, steps + 1)),
    ]
    (run_dir / "events.jsonl").write_text("".join(encode(e) + "\n" for e in lines))


def step_event(batch: int) -> Step:
    return Step(
        stage=1, epoch=1, batch=batch, global_step=batch, loss=1.0 / batch, metric=0.9, lr=1e-3
    )


# -------------------------------------------------------------------------------- startup

_STARTUP_CHILD = """
import asyncio, sys, time
from pathlib import Path
from maou_tui.app import MaouApp
app = MaouApp(Path(sys.argv[1]), mode="attach")
async def first_frame():
    async with app.run_test(size=(120, 40)):
        print(time.time(), time.process_time(), "torch" in sys.modules, flush=True)
asyncio.run(first_frame())
"""


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _spawn_seconds(args: list[str]) -> tuple[float, str, float]:
    """Wall seconds, stdout and CPU seconds of ``python ARGS`` (CPU time barely depends on
    how busy the machine is; wall time does)."""
    cpu, started = _children_cpu(), time.time()
    done = subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, check=False, cwd=REPO_ROOT
    )
    if done.returncode != 0:
        raise RuntimeError(f"python {args[:2]} failed: {done.stderr.strip()[-2000:]}")
    return time.time() - started, done.stdout, _children_cpu() - cpu


def bench_startup(repeats: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = Path(tmp) / "run"
        write_history(run_dir, 1_000)
        frames, frame_cpus, cpus, torch_seen = [], [], [], False
        for _ in range(repeats):
            started = time.time()
            _, out, cpu = _spawn_seconds(["-c", _STARTUP_CHILD, str(run_dir)])
            stamp, frame_cpu, torch_flag = out.split()[-3:]
            frames.append(float(stamp) - started)
            frame_cpus.append(float(frame_cpu))
            cpus.append(cpu)
            torch_seen |= torch_flag == "True"
    bare = [_spawn_seconds(["-c", "pass"]) for _ in range(3)]
    torch_import = [_spawn_seconds(["-c", "import torch"]) for _ in range(2)]
    return {
        "bench": "start_to_first_frame",
        **summary_ms(frames),
        "cpu_to_first_frame_median_ms": round(1e3 * percentile(frame_cpus, 50), 1),
        "cpu_median_ms": round(1e3 * percentile(cpus, 50), 1),
        "baseline_python_pass_ms": round(1e3 * min(w for w, _, _ in bare), 1),
        "baseline_import_torch_ms": round(1e3 * min(w for w, _, _ in torch_import), 1),
        "baseline_import_torch_cpu_ms": round(1e3 * min(c for _, _, c in torch_import), 1),
        "load_average_1min": round(os.getloadavg()[0], 2),
        "torch_imported": torch_seen,
        "target_ms": 1000,
        "met": max(frames) <= 1.0 and not torch_seen,
    }


# -------------------------------------------------------------------------------- event


async def _wait_for(predicate, timeout: float, poll: float = 0.002) -> bool:
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if predicate():
            return True
        await asyncio.sleep(poll)
    return False


def _status_text(app) -> str:
    from maou_tui.app.widgets.status import StatusPanel

    return str(app.screen.query_one(StatusPanel).content)


def bench_event(repeats: int) -> dict:
    from maou_tui.app import MaouApp

    latencies: list[float] = []
    in_store: list[float] = []  # the part spent reading the file and applying the event
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = Path(tmp) / "run"
        history = 1_000
        write_history(run_dir, history)
        app = MaouApp(run_dir, mode="attach")

        async def drive() -> None:
            async with app.run_test(size=SIZE):
                shown = await _wait_for(lambda: f"batch {history}/" in _status_text(app), 10)
                assert shown, "the history never reached the screen"
                with open(run_dir / "events.jsonl", "a") as events:
                    for batch in range(history + 1, history + 1 + repeats):
                        await asyncio.sleep(random.uniform(0.05, 0.25))
                        events.write(encode(step_event(batch)) + "\n")
                        events.flush()
                        written = time.perf_counter()
                        assert await _wait_for(lambda b=batch: app.store.last_step >= b, 5)
                        in_store.append(time.perf_counter() - written)
                        needle = f"batch {batch}/"
                        assert await _wait_for(lambda n=needle: n in _status_text(app), 5)
                        latencies.append(time.perf_counter() - written)

        asyncio.run(drive())
    return {
        "bench": "event_to_screen",
        "events": repeats,
        **summary_ms(latencies),
        "in_store_median_ms": round(1e3 * percentile(in_store, 50), 1),
        "in_store_p95_ms": round(1e3 * percentile(in_store, 95), 1),
        "load_average_1min": round(os.getloadavg()[0], 2),
        "target_p95_ms": 250,
        "met": percentile(latencies, 95) <= 0.250,
    }


# -------------------------------------------------------------------------------- key


def _read_events(path: Path) -> list[dict]:
    events = []
    for line in path.read_text().splitlines():
        try:
            events.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return events


def _controls(run_dir: Path) -> list[dict]:
    events = _read_events(run_dir / "events.jsonl")
    return [e for e in events if e.get("type") == "control" and e.get("command") == "scale_lr"]


def _step_seconds(run_dir: Path) -> float:
    stamps = [e["t"] for e in _read_events(run_dir / "events.jsonl") if e.get("type") == "step"]
    return float(np.median(np.diff(stamps)))


async def _stop(run_dir: Path) -> None:
    from maou_tui.control import ControlClient

    async with ControlClient(run_dir, timeout=5.0) as client:
        await client.request("stop")


def bench_key(repeats: int) -> dict:
    from maou_tui.app import MaouApp
    from maou_tui.launch import start_trainer

    latencies: list[float] = []
    handled: list[float] = []  # until the app had processed the key press (Pilot.press returns)
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = Path(tmp) / "run"
        trainer = start_trainer(TRAINER_OPTIONS, run_dir)
        try:
            deadline = time.monotonic() + 120
            while not any(e.get("type") == "step" for e in _read_events(run_dir / "events.jsonl")):
                assert time.monotonic() < deadline, "the trainer never started stepping"
                assert trainer.process.poll() is None, (run_dir / "trainer.out").read_text()
                time.sleep(0.2)
            app = MaouApp(run_dir, mode="attach")

            async def drive() -> None:
                async with app.run_test(size=SIZE) as pilot:
                    await pilot.pause(0.5)
                    for i in range(repeats):
                        await asyncio.sleep(random.uniform(0.2, 0.4))
                        pressed = time.time()
                        await pilot.press("h" if i % 2 == 0 else "u")
                        handled.append(time.time() - pressed)
                        assert await _wait_for(lambda n=i + 1: len(_controls(run_dir)) >= n, 10)
                        latencies.append(_controls(run_dir)[i]["t"] - pressed)
                await _stop(run_dir)

            asyncio.run(drive())
            step = _step_seconds(run_dir)
        finally:
            try:
                trainer.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                trainer.process.kill()
    return {
        "bench": "key_to_applied",
        "presses": repeats,
        **summary_ms(latencies),
        "key_handled_median_ms": round(1e3 * percentile(handled, 50), 1),
        "load_average_1min": round(os.getloadavg()[0], 2),
        "step_ms": round(1e3 * step, 1),
        "target_p95_ms": round(1e3 * step + 100, 1),
        "met": percentile(latencies, 95) <= step + 0.100,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("what", choices=["startup", "event", "key", "all"])
    parser.add_argument("--repeats", type=int, default=None)
    args = parser.parse_args()
    if args.what in ("startup", "all"):
        print(json.dumps(bench_startup(args.repeats or 5)), flush=True)
    if args.what in ("event", "all"):
        print(json.dumps(bench_event(args.repeats or 60)), flush=True)
    if args.what in ("key", "all"):
        print(json.dumps(bench_key(args.repeats or 20)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

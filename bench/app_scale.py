"""The app at scale, as a user sees it (issue 20), beside toolong in the same run.

    python bench/app_scale.py open [--sizes-mb 10,100,1000] [--steps 10000,100000,1000000]
    python bench/app_scale.py tail [--rates 1000,10000] [--seconds 10]
    python bench/app_scale.py all  [--toolong /work/scratch/h20app/venv/bin/python]

open: a maou log of each size (maou's stderr: tqdm bars redrawn every 3 batches, a postfix
every 50 batches, ``bench/ingest.py``'s generator) and a run directory of each step count
(events.jsonl, ``bench/app_latency.py``'s generator). For each, a fresh process runs the app
(``MaouApp(path, mode="watch")`` under Textual's pilot, headless, 160x50) and reports, from the
moment the parent spawned it: the first frame (Python, Textual and the app imported and
composed: on a loaded machine most of the wait), the first chart (a store with loss points
drawn), all points (the whole file read, applied and drawn) and the child's peak RSS.
toolong, in the same run on the same log: the time its ``LogFile.scan_line_breaks`` takes to
index the whole file (what its viewer does before it can jump to any line), in a fresh process
of its own venv.

leet: W&B LEET (``wandb leet``, wandb 0.31, offline) on a W&B offline run of the same shape
(loss, lr, f1 each step) written by wandb itself in its venv (``--wandb-python``): the time to
its first chart dots and to its summary showing the last step, in tmux (``open_leet``); beside
``open``'s run directory of the same step count.

tail: ``maou-tui watch LOG`` in a real terminal (a detached tmux session, 160x50) while this
process appends LR-guide batch lines of a healthy run (``tail_line``: one point each, a noisy
decaying loss) to LOG at RATE lines/s in 10 ms slices;
after a 3 s warm-up the app process's CPU (utime + stime of all its threads, from
/proc/PID/stat) over SECONDS is reported as % of one core.

Targets: first chart <= 1 s at every size; all points of 100 MB no later than toolong's index;
1 GB whole <= 10 s; tail CPU <= 10 % at 1,000 lines/s and <= 25 % at 10,000 lines/s.
Prints one JSON object per measurement, each with the load average when it was taken.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from bench.app_latency import write_history  # noqa: E402
from bench.ingest import PREFIX, write_maou_log  # noqa: E402

SIZE = (160, 50)
#: The measured processes run at this niceness: on a shared machine (load ~10 on 2 cores) an
#: app at the default priority is starved, and its CPU share says more about the load than
#: about the app. Needs root or CAP_SYS_NICE; where it fails, ``nice`` runs it unchanged.
NICE = -10
TOOLONG_DEFAULT = Path("/work/scratch/h20app/venv/bin/python")
WANDB_DEFAULT = Path("/work/scratch/h20tail/venv/bin/python")


def load() -> str:
    return Path("/proc/loadavg").read_text().split(" ", 1)[0]


# -------------------------------------------------------------------------------- open

#: The child's own peak RSS. Not ``getrusage``'s ru_maxrss: Linux carries that across exec, so
#: a child of a bench that had just written a big run directory reported the bench's own peak.
_PEAK_RSS = """
def peak_rss_mb() -> float:
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024
"""

_OPEN_CHILD = (
    _PEAK_RSS
    + """
import asyncio, json, sys, time
from pathlib import Path
from maou_tui.app import MaouApp

SIZE = (160, 50)
spawned, path = float(sys.argv[1]), Path(sys.argv[2])
if path.is_file():
    size = path.stat().st_size
elif (path / "events.jsonl").is_file():
    size = (path / "events.jsonl").stat().st_size
else:  # a TensorBoard run folder
    size = sum(f.stat().st_size for f in path.rglob("*tfevents*"))
app = MaouApp(path, mode="watch")
result = {}

def charted() -> bool:
    # any series: a TensorBoard run's tags keep their names (Loss/train_batch is not "loss")
    drawn = app.drawn_version == app.store.version
    return drawn and any(len(app.store.series(n)) for n in app.store.names())

def whole() -> bool:
    # getattr: the baseline (an older checkout) has neither a history reader nor bytes_read.
    feed = app.session.feed
    read = feed is not None and feed._tailer.source.bytes_read >= size
    return getattr(app.session, "history", None) is None and read and app.up_to_date

async def main() -> None:
    async with app.run_test(size=SIZE) as pilot:
        result["first_frame_s"] = time.time() - spawned
        while not charted():
            await pilot.pause(0.005)
        result["first_chart_s"] = time.time() - spawned
        result["first_chart_points"] = sum(len(app.store.series(n)) for n in app.store.names())
        result["first_chart_last_step"] = app.store.last_step
        while not whole():
            await pilot.pause(0.01)
        result["all_points_s"] = time.time() - spawned
        result["points"] = sum(len(app.store.series(n)) for n in app.store.names())
        result["last_step"] = app.store.last_step
    result["peak_rss_mb"] = peak_rss_mb()

asyncio.run(main())
print(json.dumps(result))
"""
)

_EMPTY_CHILD = (
    _PEAK_RSS
    + """
import asyncio, sys
from pathlib import Path
SIZE = (160, 50)
from maou_tui.app import MaouApp
app = MaouApp(Path(sys.argv[1]), mode="watch")
async def main() -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.5)
asyncio.run(main())
print(peak_rss_mb())
"""
)

_TOOLONG_CHILD = """
import sys, time
from toolong.log_file import LogFile
started = time.perf_counter()
log = LogFile(sys.argv[1])
log.open(exit_event=None)
breaks = 0
for position, size in log.scan_line_breaks():
    breaks += 1
print(time.perf_counter() - started)
"""


def _run_child(
    python: str, code: str, *args: str, timeout: float = 900, cwd: Path = REPO_ROOT
) -> str:
    """The last stdout line of ``python -c CODE ARGS`` run in ``cwd`` (whose maou_tui it
    imports)."""
    done = subprocess.run(
        [python, "-c", code, *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr.strip()[-1500:])
    return done.stdout.strip().splitlines()[-1]


def open_app(path: Path, root: Path = REPO_ROOT) -> dict:
    spawned = time.time()
    return json.loads(_run_child(sys.executable, _OPEN_CHILD, str(spawned), str(path), cwd=root))


def index_toolong(python: Path, path: Path) -> float | None:
    if not python.exists():
        return None
    spawned = time.time()
    _run_child(str(python), _TOOLONG_CHILD, str(path))
    return time.time() - spawned


def _rounded(result: dict) -> dict:
    return {k: round(v, 3) if isinstance(v, float) else v for k, v in result.items()}


_BOARD_WRITER = """
import math, sys
from torch.utils.tensorboard import SummaryWriter
steps, out = int(sys.argv[1]), sys.argv[2]
writer = SummaryWriter(out, max_queue=10000, flush_secs=30)
for s in range(1, steps + 1):
    loss = 0.45 - 0.4 * (1 - math.exp(-s / (steps / 5))) + 0.02 * math.sin(s * 12.9898)
    writer.add_scalar("Loss/train_batch", loss, s)
    writer.add_scalar("Accuracy/train_batch", 1 - loss, s)
    writer.add_scalar("LearningRate", 1e-3 * min(1, s / 1000), s)
writer.close()
print(out)
"""


def write_board(steps: int, folder: Path) -> Path:
    """A TensorBoard run folder written by torch's SummaryWriter: 3 scalar tags a step (1M
    steps take ~15 min to write on 2 cores: pass such a folder with --boards instead)."""
    _run_child(sys.executable, _BOARD_WRITER, str(steps), str(folder), timeout=3600)
    return folder


def bench_open_boards(boards: list[Path], baseline: Path | None) -> None:
    for folder in boards:
        size = sum(f.stat().st_size for f in folder.rglob("*tfevents*"))
        row = {
            "bench": "open TensorBoard run",
            "mb": round(size / 1e6),
            **_rounded(open_app(folder)),
        }
        if baseline is not None:
            row["baseline"] = _rounded(open_app(folder, baseline))
        print(json.dumps({**row, "load": load()}), flush=True)


def bench_open(
    sizes_mb: list[int],
    steps: list[int],
    toolong: Path,
    directory: Path,
    baseline: Path | None = None,
) -> None:
    empty = directory / "empty.log"
    empty.write_text("")
    base_rss = float(_run_child(sys.executable, _EMPTY_CHILD, str(empty)))
    print(json.dumps({"bench": "empty app", "peak_rss_mb": round(base_rss, 1), "load": load()}))
    for mb in sizes_mb:
        log = directory / f"maou-{mb}mb.log"
        write_maou_log(log, mb * 10**6)
        app = open_app(log)
        toolong_s = index_toolong(toolong, log)
        above = (app["peak_rss_mb"] - base_rss) * 2**20
        row = {
            "bench": "open maou log",
            "mb": round(log.stat().st_size / 1e6),
            **_rounded(app),
            "bytes_per_point_above_empty": round(above / max(1, app["points"]), 1),
            "toolong_index_s": None if toolong_s is None else round(toolong_s, 3),
        }
        if baseline is not None:
            row["baseline"] = _rounded(open_app(log, baseline))
        print(json.dumps({**row, "load": load()}), flush=True)
        log.unlink()
    for count in steps:
        run_dir = directory / f"run-{count}"
        write_history(run_dir, count)
        row = {
            "bench": "open run directory",
            "steps": count,
            "mb": round((run_dir / "events.jsonl").stat().st_size / 1e6),
            **_rounded(open_app(run_dir)),
        }
        if baseline is not None:
            row["baseline"] = _rounded(open_app(run_dir, baseline))
        print(json.dumps({**row, "load": load()}), flush=True)
        shutil.rmtree(run_dir)


# -------------------------------------------------------------------------------- LEET

_WANDB_WRITER = """
import math, sys, wandb
n, root = int(sys.argv[1]), sys.argv[2]
settings = wandb.Settings(silent=True, x_disable_stats=True)
run = wandb.init(mode="offline", project="bench", dir=root, name=f"steps-{n}", settings=settings)
for s in range(1, n + 1):
    progress = 1 - math.exp(-s / 20000)
    loss = (0.45 - 0.4 * progress) * (1 + 0.1 * math.sin(s * 12.9898))
    run.log({"loss": loss, "lr": 1e-3, "f1": 0.3 + 0.5 * progress}, step=s)
run.finish()
print(run.dir)
"""


def _is_braille(text: str) -> bool:
    return any("\u2801" <= ch <= "\u28ff" for ch in text)


def open_leet(wandb_python: Path, steps: int, directory: Path) -> dict:
    """W&B LEET (``wandb leet RUN``) on an offline run of ``steps`` steps (loss, lr, f1), in
    tmux at 160x50: from spawning it to the first chart dots on the pane, and to its summary
    showing the last step (LEET reads the run's .wandb log from the start; the summary record
    is at its end, so this is when the whole history is read)."""
    root = directory / f"wandb-{steps}"
    root.mkdir()
    # wandb logs ~1,000 steps a second at load ~9: a 1M-step run takes over 15 minutes to write.
    writer = (str(wandb_python), _WANDB_WRITER, str(steps), str(root))
    files = Path(_run_child(*writer, cwd=root, timeout=max(900.0, steps / 200)))
    run_dir = files.parent
    session = f"bench-leet-{os.getpid()}-{time.monotonic_ns()}"
    tmux = ["tmux", "-L", session]
    leet = wandb_python.parent / "wandb"
    width, height = SIZE
    spawned = time.time()
    subprocess.run(
        [*tmux, "new-session", "-d", "-s", session, "-x", str(width), "-y", str(height),
         f"exec {leet} leet {run_dir}"],
        check=True,
    )  # fmt: skip
    result: dict[str, float] = {}
    try:
        while time.time() - spawned < 600 and "all_points_s" not in result:
            pane = subprocess.run(
                [*tmux, "capture-pane", "-p", "-t", session], capture_output=True, text=True
            ).stdout
            if "first_chart_s" not in result and _is_braille(pane):
                result["first_chart_s"] = time.time() - spawned
            if f"_step          {steps}" in pane or f"_step {steps}" in pane:
                result["all_points_s"] = time.time() - spawned
            time.sleep(0.05)
    finally:
        subprocess.run([*tmux, "kill-server"], check=False)
        shutil.rmtree(root)
    return {"bench": "W&B LEET", "steps": steps, **_rounded(result), "load": load()}


# -------------------------------------------------------------------------------- tail


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tail_line(batch: int) -> str:
    """One LR-guide batch line of a healthy Stage 2 run: the loss decays from 0.45 towards
    0.05 with ±10 % batch-to-batch noise and F1 climbs, as a real run's do (a loss that only
    rises would have the diagnoser report a divergence every few hundred steps, and the app
    would be measured redrawing a findings list no healthy run has)."""
    progress = 1.0 - math.exp(-batch / 20000)
    noise = 1.0 + 0.1 * math.sin(batch * 12.9898)  # deterministic, uncorrelated step to step
    loss = (0.45 - 0.4 * progress) * noise
    f1 = 30.0 + 50.0 * progress
    epoch, in_epoch = divmod(batch - 1, 10000)
    return f"{PREFIX}Epoch {epoch + 1} Batch {in_epoch + 1}/10000: Loss={loss:.4f}, F1={f1:.2f}%\n"


def _append_at(path: Path, rate: int, seconds: float, first: int) -> int:
    """Append guide batch lines at ``rate`` lines/s for ``seconds``; the next line number."""
    started, written = time.perf_counter(), 0
    with open(path, "a", encoding="utf-8") as out:
        while (elapsed := time.perf_counter() - started) < seconds:
            due = int(elapsed * rate)
            if due > written:
                out.write("".join(tail_line(first + n) for n in range(written, due)))
                out.flush()
                written = due
            time.sleep(0.01)
    return first + written


def _wait_for_frame(tmux: list[str], session: str, timeout: float = 120.0) -> None:
    """Until the app's charts are on the pane (start-up is slow on a loaded machine)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pane = subprocess.run(
            [*tmux, "capture-pane", "-p", "-t", session], capture_output=True, text=True
        ).stdout
        if "loss" in pane:
            return
        time.sleep(0.25)
    raise RuntimeError(f"no chart on the pane after {timeout:.0f} s")


def tail_cpu(rate: int, seconds: float, directory: Path, app_root: Path = REPO_ROOT) -> dict:
    log = directory / f"tail-{rate}.log"
    log.write_text(f"{PREFIX}STAGE 2: LEGAL MOVES LEARNING\n")
    session = f"bench-tail-{os.getpid()}-{time.monotonic_ns()}"
    tmux = ["tmux", "-L", session]  # a server of its own: no other session is touched
    width, height = SIZE
    subprocess.run(
        [
            *tmux,
            *("new-session", "-d", "-s", session, "-x", str(width), "-y", str(height)),
            *("-c", str(app_root), f"exec nice -n {NICE} {sys.executable} -m maou_tui watch {log}"),
        ],
        check=True,
    )
    try:
        pid = int(
            subprocess.run(
                [*tmux, "display", "-p", "-t", session, "#{pane_pid}"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        )
        _wait_for_frame(tmux, session)
        line = _append_at(log, rate, 3.0, 1)  # warm-up: the store and charts have data
        cpu0, wall0 = _cpu_seconds(pid), time.perf_counter()
        _append_at(log, rate, seconds, line)
        cpu = _cpu_seconds(pid) - cpu0
        wall = time.perf_counter() - wall0
    finally:
        subprocess.run([*tmux, "kill-server"], check=False)
        log.unlink()
    return {
        "bench": "tail CPU",
        "app": "this tree" if app_root == REPO_ROOT else str(app_root),
        "lines_per_s": rate,
        "app_cpu_percent_of_core": round(100 * cpu / wall, 1),
        "load": load(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("what", choices=["open", "tail", "leet", "all"])
    parser.add_argument("--sizes-mb", default="10,100,1000")
    parser.add_argument("--steps", default="10000,100000,1000000")
    parser.add_argument("--rates", default="1000,10000")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--toolong", type=Path, default=TOOLONG_DEFAULT)
    parser.add_argument(
        "--wandb-python",
        type=Path,
        default=WANDB_DEFAULT,
        help="the Python of a venv with wandb (LEET); `leet` runs it on --leet-steps",
    )
    parser.add_argument("--leet-steps", default="10000")
    parser.add_argument(
        "--board-steps",
        default="",
        help="`open` also writes TensorBoard runs of these steps (SummaryWriter) and opens them",
    )
    parser.add_argument(
        "--boards",
        default="",
        help="`open` also opens these TensorBoard run folders (comma-separated)",
    )
    parser.add_argument(
        "--baseline",
        type=Path,
        help="also run the app of this checkout (e.g. a worktree of main), same run",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="maou-app-scale-") as tmp:
        directory = Path(tmp)
        if args.what in ("tail", "all"):
            roots = [REPO_ROOT] + ([args.baseline.resolve()] if args.baseline else [])
            for rate in map(int, args.rates.split(",")):
                for root in roots:
                    print(json.dumps(tail_cpu(rate, args.seconds, directory, root)), flush=True)
        if args.what in ("leet", "all") and args.wandb_python.exists():
            for count in map(int, args.leet_steps.split(",")):
                print(json.dumps(open_leet(args.wandb_python, count, directory)), flush=True)
        if args.what in ("open", "all"):
            sizes = [int(s) for s in args.sizes_mb.split(",") if s]
            steps = [int(s) for s in args.steps.split(",") if s]
            bench_open(sizes, steps, args.toolong, directory, args.baseline)
            boards = [Path(b) for b in args.boards.split(",") if b]
            boards += [
                write_board(int(n), directory / f"board-{n}")
                for n in args.board_steps.split(",")
                if n
            ]
            bench_open_boards(boards, args.baseline)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

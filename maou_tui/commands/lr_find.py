"""``maou-tui lr-find [maou-train options]``: an LR range test in a background trainer.

Starts ``maou-train --lr-find`` detached (like ``run``), then draws loss against LR live in a
small Textual screen and shows the suggestions; with ``--no-tui`` or when stdout is not a
terminal it prints progress and the result instead. ``--show DIR`` prints an earlier result.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from maou_tui.layout import EVENTS_FILE

NAME = "lr-find"
HELP = (
    "LR range test (exponential sweep, 1e-7 -> 10 over 100 batches by default) for one stage "
    "of maou-train, in the background; plots loss against LR and prints the suggested "
    "--stageN-learning-rate / --learning-ratio. Other options go to maou-train "
    "(--stage N, --model-architecture, --lr-find-start-lr, --lr-find-end-lr, "
    "--lr-find-iterations, ...)."
)
PASSTHROUGH = True
#: Progress lines in --no-tui mode: one every this many iterations.
PRINT_EVERY = 10
_POLL_S = 0.2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--theme", metavar="NAME", help="colour theme of the TUI")
    parser.add_argument(
        "--runs-root",
        type=Path,
        default=Path("runs"),
        metavar="DIR",
        help="where the sweep's run directory is created (default: ./runs)",
    )
    parser.add_argument("--run-dir", type=Path, metavar="DIR", help="use this run directory")
    parser.add_argument(
        "--no-tui", action="store_true", help="print progress and the result instead of the TUI"
    )
    parser.add_argument(
        "--show", type=Path, metavar="DIR", help="print the result of an earlier lr-find run"
    )


def _read_progress(run_dir: Path):  # -> SweepProgress
    from maou_tui.ingest.events_jsonl import EventsParser
    from maou_tui.lrtools.sweep_report import SweepProgress

    progress = SweepProgress()
    try:
        data = (run_dir / EVENTS_FILE).read_bytes()
    except OSError:
        return progress
    progress.add(EventsParser().feed(data))
    return progress


def _show(run_dir: Path) -> int:
    from maou_tui.launch import fail
    from maou_tui.lrtools.sweep_report import format_sweep_result

    progress = _read_progress(run_dir)
    if not progress.lrs and progress.finished is None:
        return fail(NAME, f"{run_dir}: no LR range test there; start one with `maou-tui lr-find`")
    print(format_sweep_result(progress))
    return 0 if progress.finished is not None else 1


def _new_run_dir(args: argparse.Namespace) -> Path:
    from maou_tui.launch import new_run_dir

    if args.run_dir is not None:
        return args.run_dir
    base = new_run_dir(args.passthrough, args.runs_root)
    return base.with_name(f"{base.name}-lr-find")


def _print_progress(events: list) -> None:
    from maou_tui.protocol import LrFindStep

    for event in events:
        if isinstance(event, LrFindStep) and (event.iteration % PRINT_EVERY == 0):
            smoothed = "n/a" if event.smoothed_loss is None else f"{event.smoothed_loss:.4f}"
            print(f"  iteration {event.iteration}: lr {event.lr:.3g}, smoothed loss {smoothed}")
            sys.stdout.flush()


def _follow_headless(launched) -> int:  # launched: LaunchedRun
    """Print progress until the trainer exits (Ctrl-C stops the sweep), then the result."""
    import os
    import signal

    from maou_tui.ingest import Tailer
    from maou_tui.lrtools.sweep_report import format_sweep_result

    print(f"LR range test running in {launched.run_dir} (pid {launched.pid})")
    tailer = Tailer(launched.run_dir, _print_progress).start()
    try:
        while launched.process.poll() is None:
            time.sleep(_POLL_S)
    except KeyboardInterrupt:
        os.kill(launched.pid, signal.SIGTERM)  # the trainer stops the sweep at the next batch
        launched.process.wait()
    finally:
        tailer.stop()
    progress = _read_progress(launched.run_dir)
    status = launched.process.returncode
    if progress.finished is None and status:
        from maou_tui.launch import fail, trainer_error

        return fail(NAME, trainer_error(launched.run_dir, status), status)
    print(format_sweep_result(progress))
    return 0 if progress.finished is not None else 1


def run(args: argparse.Namespace) -> int:
    from maou_tui.launch import (
        DETACHED_WAIT_S,
        START_WAIT_S,
        LaunchError,
        fail,
        holds_events,
        start_trainer,
    )

    if args.show is not None:
        return _show(args.show)
    if "--lr-find" in args.passthrough:
        args.passthrough.remove("--lr-find")
    run_dir = _new_run_dir(args)
    if holds_events(run_dir):
        return fail(NAME, f"{run_dir} already holds a run; pick a new --run-dir")
    headless = args.no_tui or not sys.stdout.isatty()
    # Headless, nothing can show a late failure: wait until the trainer holds the run directory.
    wait_s = DETACHED_WAIT_S if headless else START_WAIT_S
    try:
        launched = start_trainer(["--lr-find", *args.passthrough], run_dir, wait_s)
    except LaunchError as exc:
        return fail(NAME, str(exc), exc.exit_code)
    if headless:
        return _follow_headless(launched)
    from maou_tui.app.lr_find_screen import LrFindApp
    from maou_tui.lrtools.sweep_report import format_sweep_result

    LrFindApp(run_dir, theme=args.theme).run()
    progress = _read_progress(run_dir)
    ended = progress.run_finished
    if progress.finished is not None:
        print(format_sweep_result(progress))
    elif ended is not None and ended.status == "failed":
        return fail(NAME, f"the sweep failed: {ended.reason}", 1)
    elif launched.process.poll() is None:
        print(
            f"the sweep continues in the background (pid {launched.pid}); "
            f"see its result later with: maou-tui lr-find --show {run_dir}"
        )
    return 0

"""``maou-tui attach [RUN_DIR]``: show a run again, from its whole history."""

from __future__ import annotations

import argparse
import contextlib
from pathlib import Path

NAME = "attach"
HELP = (
    "Show a run started earlier (by default the newest under --runs-root; a directory of runs "
    "shows its newest), with its whole history; controls work while its trainer lives."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dir", nargs="?", type=Path, metavar="RUN_DIR", help="run directory")
    parser.add_argument("--theme", metavar="NAME", help="colour theme of the TUI")
    parser.add_argument(
        "--runs-root",
        type=Path,
        default=Path("runs"),
        metavar="DIR",
        help="where to look for the newest run when RUN_DIR is omitted (default: ./runs)",
    )
    parser.add_argument(
        "--no-tui",
        dest="no_tui",
        action="store_true",
        help="print the run's summary and whether its trainer is alive, and exit",
    )


def run(args: argparse.Namespace) -> int:
    from maou_tui.launch import (
        EVENTS_FILE,
        LaunchError,
        come_back_hint,
        fail,
        newest_run,
        print_summary,
        show,
    )

    try:
        run_dir = args.run_dir or newest_run(args.runs_root)
    except LaunchError as exc:
        return fail(NAME, str(exc), exc.exit_code)
    if not run_dir.exists():
        return fail(NAME, f"no such run directory: {run_dir}")
    if not run_dir.is_dir():
        return fail(NAME, f"{run_dir} is a file; use `maou-tui watch {run_dir}` for a log file")
    if not (run_dir / EVENTS_FILE).exists() and args.run_dir is not None:
        with contextlib.suppress(LaunchError):  # a directory of runs: its newest run
            run_dir = newest_run(run_dir)
    if not (run_dir / EVENTS_FILE).exists():
        return fail(
            NAME,
            f"{run_dir} has no {EVENTS_FILE}, so it is not a run directory; "
            f"use `maou-tui watch {run_dir}` for logs or a directory of runs",
        )
    if args.no_tui:
        print(f"run directory: {run_dir}")
        try:
            print_summary(run_dir)
        except LaunchError as exc:
            return fail(NAME, str(exc), exc.exit_code)
        return 0
    app_status = show(run_dir, "attach", args.theme, args.runs_root)
    print(come_back_hint(run_dir))
    return app_status

"""``maou-tui run [maou-train options]``: start a run detached and show it."""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "run"
HELP = (
    "Start a training run in the background (its own session: it survives closing the "
    "terminal) and show it. Options not listed here go to maou-train "
    "(see `maou-train --help`); with none, the tiny preset runs Stages 1 -> 2 -> 3."
)
PASSTHROUGH = True


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--theme", metavar="NAME", help="colour theme of the TUI")
    parser.add_argument(
        "--runs-root",
        type=Path,
        default=Path("runs"),
        metavar="DIR",
        help="where new run directories are created (default: ./runs)",
    )
    parser.add_argument(
        "--run-dir",
        type=Path,
        metavar="DIR",
        help="use this run directory instead of <runs-root>/<time>-<arch>-<preset>",
    )
    parser.add_argument(
        "--no-tui",
        "--detach",
        dest="no_tui",
        action="store_true",
        help="start the trainer, print its run directory and how to attach, and exit",
    )


def run(args: argparse.Namespace) -> int:
    from maou_tui.launch import (
        EVENTS_FILE,
        LaunchError,
        come_back_hint,
        fail,
        new_run_dir,
        show,
        start_trainer,
    )

    run_dir = args.run_dir or new_run_dir(args.passthrough, args.runs_root)
    if (run_dir / EVENTS_FILE).exists():
        return fail(
            NAME,
            f"{run_dir} already holds a run; pick a new --run-dir, "
            f"or look at it with `maou-tui attach {run_dir}`",
        )
    try:
        launched = start_trainer(args.passthrough, run_dir)
    except LaunchError as exc:
        return fail(NAME, str(exc), exc.exit_code)
    if args.no_tui:
        print(f"started trainer (pid {launched.pid}) in {run_dir}")
        print(f"watch it with: maou-tui attach {run_dir}")
        return 0
    show(run_dir, "run", args.theme, args.runs_root)
    print(come_back_hint(run_dir))
    return 0

"""``maou-tui watch PATH``: tail a log, an events.jsonl, a run or a directory of runs."""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "watch"
HELP = (
    "Tail and diagnose a run this tool did not start: a maou log file, an events.jsonl, a run "
    "directory or a directory of runs. Read-only unless a live control socket is found."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", type=Path, metavar="PATH", help="log file or directory")
    parser.add_argument("--theme", metavar="NAME", help="colour theme of the TUI")
    parser.add_argument(
        "--no-tui",
        dest="no_tui",
        action="store_true",
        help="print what has been logged so far (stages, epochs, last values) and exit",
    )


def run(args: argparse.Namespace) -> int:
    from maou_tui.launch import LaunchError, fail, print_summary, show

    path: Path = args.path
    if not path.exists():
        return fail(NAME, f"no such file or directory: {path}")
    if path.is_file() and not _readable(path):
        return fail(NAME, f"cannot read {path}: permission denied")
    if args.no_tui:
        try:
            print_summary(path)
        except LaunchError as exc:
            return fail(NAME, str(exc), exc.exit_code)
        return 0
    return show(path, "watch", args.theme, path if path.is_dir() else None)


def _readable(path: Path) -> bool:
    try:
        with open(path, "rb"):
            return True
    except OSError:
        return False

"""``maou-tui``: one sub-command per module in ``maou_tui.commands``.

Each command module defines ``NAME``, ``HELP``, ``add_arguments(parser)`` and ``run(args) -> int``;
a module with ``PASSTHROUGH = True`` receives the options it does not know itself (maou-train
options) in ``args.passthrough``. Modules import their heavy dependencies inside ``run`` so that
``maou-tui --help`` and the TUI start fast (torch is never imported here).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import NoReturn

from maou_tui import __version__

COMMAND_MODULES = (
    "run",
    "attach",
    "watch",
    "report",
    "export",
    "recommend",
    "lr_find",
    "schema",
)


def _load_commands() -> list[ModuleType]:
    return [importlib.import_module(f"maou_tui.commands.{name}") for name in COMMAND_MODULES]


class OneLineParser(argparse.ArgumentParser):
    """argparse whose errors are one line (``maou-tui CMD: error: ...``, exit 2), no usage dump."""

    def error(self, message: str) -> NoReturn:
        print(f"{self.prog}: error: {message}; see {self.prog} --help", file=sys.stderr)
        raise SystemExit(2)


def build_parser() -> tuple[argparse.ArgumentParser, dict[str, ModuleType]]:
    parser = OneLineParser(
        prog="maou-tui",
        allow_abbrev=False,
        description="Watch and steer staged shogi-network training from a terminal.",
    )
    parser.add_argument("--version", action="version", version=f"maou-tui {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    by_name: dict[str, ModuleType] = {}
    for module in _load_commands():
        cmd = sub.add_parser(
            module.NAME, help=module.HELP, description=module.HELP, allow_abbrev=False
        )
        module.add_arguments(cmd)
        by_name[module.NAME] = module
    return parser, by_name


def main(argv: Sequence[str] | None = None) -> int:
    parser, commands = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    module = commands[args.command]
    if unknown and not getattr(module, "PASSTHROUGH", False):
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    args.passthrough = unknown
    theme_error = _check_theme(getattr(args, "theme", None))
    if theme_error:
        return _fail(args.command, theme_error)
    try:
        return int(module.run(args) or 0)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # piped into head, which has read enough: not an error
        _silence_stdout()
        return 0
    except (PermissionError, FileNotFoundError, NotADirectoryError, IsADirectoryError) as exc:
        return _fail(args.command, str(exc))


def _fail(command: str, message: str) -> int:
    print(f"maou-tui {command}: error: {message}", file=sys.stderr)
    return 2


def _check_theme(name: str | None) -> str | None:
    """An error line for an unknown ``--theme`` (checked before anything starts), else None."""
    if name is None:
        return None
    from maou_tui.app.themes import theme_names  # textual: only when a theme is named

    names = theme_names()
    return None if name in names else f"unknown theme {name!r}; choose one of: {', '.join(names)}"


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot fail again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


if __name__ == "__main__":
    sys.exit(main())

"""``maou-tui``: one sub-command per module in ``maou_tui.commands``.

Each command module defines ``NAME``, ``HELP``, ``add_arguments(parser)`` and ``run(args) -> int``;
a module with ``PASSTHROUGH = True`` receives the options it does not know itself (maou-train
options) in ``args.passthrough``. Modules import their heavy dependencies inside ``run`` so that
``maou-tui --help`` and the TUI start fast (torch is never imported here).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from types import ModuleType

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


def build_parser() -> tuple[argparse.ArgumentParser, dict[str, ModuleType]]:
    parser = argparse.ArgumentParser(
        prog="maou-tui",
        description="Watch and steer staged shogi-network training from a terminal.",
    )
    parser.add_argument("--version", action="version", version=f"maou-tui {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    by_name: dict[str, ModuleType] = {}
    for module in _load_commands():
        cmd = sub.add_parser(module.NAME, help=module.HELP, description=module.HELP)
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
    try:
        return int(module.run(args) or 0)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())

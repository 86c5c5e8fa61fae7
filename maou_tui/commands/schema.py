"""``maou-tui schema``: the JSON Schema of events, commands and replies."""

from __future__ import annotations

import argparse
import json

NAME = "schema"
HELP = "Print the JSON Schema of events, control commands and replies (protocol v1)."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "part",
        nargs="?",
        choices=["all", "event", "command", "reply"],
        default="all",
        help="print only one part (default: all)",
    )


def run(args: argparse.Namespace) -> int:
    from maou_tui.protocol import json_schemas

    schemas = json_schemas()
    out = schemas if args.part == "all" else schemas[args.part]
    print(json.dumps(out, indent=2))
    return 0

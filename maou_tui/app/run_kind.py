"""Which kind of producer the run on screen has, and what the control keys do to it.

- ``maou-train``: our trainer (its config holds a ``preset``): stop saves a checkpoint;
- ``hook``: a program run with ``maou-tui run -- CMD``, steered through torch's optimizer
  hooks: stop is Ctrl-C to the program; checkpoint, thresholds and skip are impossible;
- ``loop``: anything else with a control socket (a loop embedding the SDK): it decides.
"""

from __future__ import annotations

from typing import Literal

from maou_tui.hook.refusals import REFUSED, STOP_EFFECT
from maou_tui.protocol import RunStarted

RunKind = Literal["maou-train", "hook", "loop"]


def run_kind(run: RunStarted | None) -> RunKind:
    config = run.config if run is not None else {}
    if config.get("hook") is True:
        return "hook"
    return "maou-train" if "preset" in config else "loop"


def program_name(run: RunStarted | None) -> str:
    """The hooked command's program (``python``, ``torchrun``), else ``training``."""
    command = run.config.get("command") if run is not None else None
    if isinstance(command, list) and command and isinstance(command[0], str):
        return command[0].rsplit("/", 1)[-1]
    return "training"


def stop_question(run: RunStarted | None) -> str:
    kind = run_kind(run)
    if kind == "hook":
        return f"Stop {program_name(run)}? {STOP_EFFECT[0].upper()}{STOP_EFFECT[1:]}."
    if kind == "maou-train":
        return "Stop training? It saves a checkpoint; resume later with maou-train --resume."
    return "Stop training? The loop is told to stop at its next step; what it saves is its own."


def stop_label(run: RunStarted | None) -> str:
    """How the stop's reply is announced (``stop (Ctrl-C): applied at step N``)."""
    return "stop (Ctrl-C)" if run_kind(run) == "hook" else "stop"


def impossible(run: RunStarted | None, command: str) -> str | None:
    """Why ``command`` cannot work on this run (said without sending it), or None."""
    if run_kind(run) != "hook":
        return None
    reason = REFUSED.get(command)
    return f"{command.replace('_', ' ')}: {reason}" if reason is not None else None

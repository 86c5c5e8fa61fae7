"""``maou-tui run [maou-train options]``: start a run detached and show it."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from maou_tui.launch import LaunchedRun

NAME = "run"
HELP = (
    "Start a training run in the background (its own session: it survives closing the "
    "terminal) and show it. Options not listed here go to maou-train "
    "(see `maou-train --help`); with none, the tiny preset runs Stages 1 -> 2 -> 3. "
    "`maou-tui run [options] -- CMD [ARGS...]` runs any command instead (maou learn-model, "
    "a torch script, torchrun, HF Trainer, Lightning): its output is captured to the run's "
    "train.log and its PyTorch optimizer steps can be paused, slowed and stopped."
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
    parser.add_argument(
        "--nproc-per-node",
        type=_process_count,
        default=1,
        metavar="N",
        help="train with N processes under torchrun (DDP; gloo on CPU, NCCL on GPUs); "
        "--batch-size is per process",
    )
    parser.add_argument(
        "--torchrun",
        default="--standalone",
        metavar="OPTIONS",
        help="torchrun's rendezvous options with --nproc-per-node (default: --standalone; "
        "e.g. '--nnodes 2 --node-rank 0 --rdzv-endpoint host:29400')",
    )
    parser.add_argument(
        "--terminal-size",
        type=_terminal_size,
        default=None,
        metavar="COLSxROWS",
        help="with -- CMD: the size of the terminal CMD prints to (default: this terminal's, "
        "else 120x40), so progress bars draw",
    )


def _terminal_size(text: str) -> tuple[int, int]:
    columns, _, rows = text.partition("x")
    if not (columns.isdigit() and rows.isdigit()) or int(columns) < 20 or int(rows) < 2:
        raise argparse.ArgumentTypeError(f"{text!r} is not a terminal size like 120x40")
    return int(columns), int(rows)


def _process_count(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a process count (1, 2, ...)")
    return int(text)


def _ddp_command(args: argparse.Namespace, run_dir: Path) -> list[str]:
    """trainer/launch_ddp.py: torchrun, watched (it writes run_finished if rank 0 dies)."""
    torchrun = [*args.torchrun.split(), "--nproc-per-node", str(args.nproc_per_node)]
    trainer = [*args.passthrough, "--run-dir", str(run_dir)]
    return [sys.executable, "-m", "trainer.launch_ddp", *torchrun, "--", *trainer]


def _command_mode(args: argparse.Namespace) -> list[str] | None:
    """The CMD of ``run [options] -- CMD ...``; None for a maou-train run."""
    if args.passthrough[:1] != ["--"]:
        return None
    return args.passthrough[1:]


def _command_error(args: argparse.Namespace, command: list[str]) -> str | None:
    """Why ``run -- CMD`` cannot start (one line), or None."""
    import shutil

    if not command:
        return "nothing after --; give the command to run, e.g. -- python train.py"
    if args.nproc_per_node > 1:
        return "--nproc-per-node is for maou-train; with -- CMD, run torchrun yourself"
    if shutil.which(command[0]) is None:
        return f"{command[0]}: command not found; check the name or give its path"
    return None


def _supervisor_command(command: list[str], run_dir: Path, size: tuple[int, int]) -> list[str]:
    columns, rows = size
    supervisor = [sys.executable, "-m", "maou_tui.hook.supervise", "--run-dir", str(run_dir)]
    return [*supervisor, "--columns", str(columns), "--rows", str(rows), "--", *command]


def _new_command_run_dir(command: list[str], runs_root: Path) -> Path:
    from datetime import datetime

    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    base = runs_root / f"{stamp}-{Path(command[0]).name}"
    candidate, n = base, 1
    while candidate.exists():
        n += 1
        candidate = base.with_name(f"{base.name}-{n}")
    return candidate


def run(args: argparse.Namespace) -> int:
    command = _command_mode(args)
    if command is not None:
        return run_command(args, command)
    return run_trainer(args)


def run_command(args: argparse.Namespace, command: list[str]) -> int:
    """``run -- CMD``: CMD under the supervisor, hooked, detached; then the TUI."""
    import shutil

    from maou_tui.launch import (
        DETACHED_WAIT_S,
        START_WAIT_S,
        LaunchError,
        fail,
        holds_events,
        start_detached,
    )

    error = _command_error(args, command)
    if error is not None:
        return fail(NAME, error)
    run_dir = args.run_dir or _new_command_run_dir(command, args.runs_root)
    if holds_events(run_dir):
        return fail(NAME, f"{run_dir} already holds a run; pick a new --run-dir")
    size = args.terminal_size or tuple(shutil.get_terminal_size((120, 40)))
    wait_s = DETACHED_WAIT_S if args.no_tui else START_WAIT_S
    try:
        launched = start_detached(_supervisor_command(command, run_dir, size), run_dir, wait_s)
    except LaunchError as exc:
        return fail(NAME, str(exc), exc.exit_code)
    started = f"started {command[0]} (supervisor pid {launched.pid}) in {run_dir}"
    return _hand_over(args, run_dir, launched, started, "watch and steer it with", check_exit=False)


def run_trainer(args: argparse.Namespace) -> int:
    from maou_tui.launch import (
        DETACHED_WAIT_S,
        START_WAIT_S,
        LaunchError,
        fail,
        holds_events,
        new_run_dir,
        resumed_run_dir,
        start_detached,
        start_trainer,
    )

    resumed = resumed_run_dir(args.passthrough)
    if resumed is not None and not holds_events(resumed):
        return fail(NAME, f"--resume {resumed}: no run there (no events.jsonl); check the path")
    run_dir = resumed or args.run_dir or new_run_dir(args.passthrough, args.runs_root)
    if resumed is None and holds_events(run_dir):
        return fail(
            NAME,
            f"{run_dir} already holds a run; pick a new --run-dir, "
            f"or look at it with `maou-tui attach {run_dir}`",
        )
    wait_s = DETACHED_WAIT_S if args.no_tui else START_WAIT_S
    try:
        if args.nproc_per_node > 1:  # rank 0's pid is not the launcher's: do not wait for it
            launched = start_detached(_ddp_command(args, run_dir), run_dir, START_WAIT_S)
        else:
            launched = start_trainer(args.passthrough, run_dir, wait_s)
    except LaunchError as exc:
        return fail(NAME, str(exc), exc.exit_code)
    started = f"started trainer (pid {launched.pid}) in {run_dir}"
    return _hand_over(args, run_dir, launched, started, "watch it with", check_exit=True)


def _hand_over(
    args: argparse.Namespace,
    run_dir: Path,
    launched: LaunchedRun,
    started: str,
    verb: str,
    *,
    check_exit: bool,
) -> int:
    """With --no-tui, where the detached run is and how to reach it; otherwise the TUI on it,
    then how to come back or, with ``check_exit`` (our trainer, whose output says why), why it
    failed if it did while the TUI was open. A command's failure is its run_finished event."""
    from maou_tui.launch import come_back_hint, fail, show, trainer_error

    if args.no_tui:
        print(started)
        print(f"{verb}: maou-tui attach {run_dir}")
        return 0
    app_status = show(run_dir, "run", args.theme, args.runs_root, launched.pid)
    status = launched.process.poll() if check_exit else None
    if status:  # it failed while the TUI was open (or before it could show why)
        return fail(NAME, trainer_error(run_dir, status), status)
    print(come_back_hint(run_dir))
    return app_status

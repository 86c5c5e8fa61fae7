"""``python -m trainer.launch_ddp [torchrun options] -- [maou-train options]``: torchrun, watched.

Checks the maou-train options (one line, exit 2, before torch loads), then runs
``python -m torch.distributed.run [torchrun options] -m trainer [maou-train options]`` and waits,
passing SIGTERM/SIGINT on (torchrun hands them to every rank). Rank 0 writes ``run_finished``
itself, also when another rank dies; when rank 0 itself died nobody did, so this process appends
``run_finished failed`` naming the rank from torchrun's failure report. ``maou-tui run
--nproc-per-node N`` starts training this way.
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from maou_tui.layout import EVENTS_FILE
from maou_tui.protocol import RunFinished
from maou_tui.sdk import EventWriter
from trainer.cli import PROG, parse_config
from trainer.config import ConfigError

#: torchrun's "Root Cause (first observed failure)" block: ``rank : 1 (local_rank: 1)``.
_ROOT_RANK = re.compile(r"rank\s*:\s*(\d+)\s*\(local_rank")
_ROOT_EXIT = re.compile(r"exitcode\s*:\s*(-?\d+)")
_TAIL_LINES = 400


def split_argv(argv: Sequence[str]) -> tuple[list[str], list[str]]:
    """``[torchrun options] -- [maou-train options]`` -> the two lists."""
    args = list(argv)
    if "--" not in args:
        raise ConfigError("usage: python -m trainer.launch_ddp [torchrun options] -- [options]")
    cut = args.index("--")
    return args[:cut], args[cut + 1 :]


def torchrun_command(torchrun_args: Sequence[str], trainer_args: Sequence[str]) -> list[str]:
    launcher = [sys.executable, "-m", "torch.distributed.run", *torchrun_args]
    return [*launcher, "-m", "trainer", *trainer_args]


def failure_reason(report: str, status: int) -> str:
    """One line from torchrun's failure report: which rank died and how."""
    root = report.rsplit("Root Cause", 1)[-1]
    rank, code = _ROOT_RANK.search(root), _ROOT_EXIT.search(root)
    if rank is None:
        return f"torchrun exited with status {status} before rank 0 could say why"
    how = ""
    if code is not None:
        value = int(code.group(1))
        how = f" (killed by {signal.Signals(-value).name})" if value < 0 else f" (exit {value})"
    return f"rank {rank.group(1)} died{how}; the run cannot go on without it"


def has_run_finished(events_path: Path) -> bool:
    try:
        text = events_path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return '"type":"run_finished"' in text.replace(" ", "")


def main(argv: Sequence[str] | None = None) -> int:
    try:
        torchrun_args, trainer_args = split_argv(sys.argv[1:] if argv is None else argv)
        config = parse_config(trainer_args)
    except ConfigError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    run_dir = Path(config.resume or config.run_dir or ".")
    child = subprocess.Popen(
        torchrun_command(torchrun_args, [*trainer_args, "--run-dir", str(run_dir)]),
        stderr=subprocess.PIPE,
        text=True,
        errors="replace",
    )

    def forward(signum: int, _frame: Any) -> None:
        child.send_signal(signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    tail: deque[str] = deque(maxlen=_TAIL_LINES)
    assert child.stderr is not None
    for line in child.stderr:  # torchrun's own report comes on stderr
        sys.stderr.write(line)
        tail.append(line)
    status = child.wait()
    events_path = run_dir / EVENTS_FILE
    if status != 0 and events_path.exists() and not has_run_finished(events_path):
        writer = EventWriter(events_path)
        writer.emit(RunFinished(status="failed", reason=failure_reason("".join(tail), status)))
        writer.close()
    return status


if __name__ == "__main__":
    raise SystemExit(main())

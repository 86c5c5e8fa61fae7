"""Under torchrun: every rank applies rank 0's control state at the same optimizer step.

At each step boundary rank 0's LR multiplier, pause and stop go to every rank in one small
all-reduce on a gloo group of the hook's own (a CPU collective: no device sync even when the
program trains on NCCL). While paused the ranks meet every ``PAUSE_SLICE_S`` so rank 0 keeps
answering the socket. The group has a timeout: a rank that never comes makes the others' hook
fail and switch itself off instead of hanging the program.
"""

from __future__ import annotations

import os
import sys
from datetime import timedelta
from typing import Any

from maou_tui.sdk import LoopControl

PAUSE_SLICE_S = 0.25
#: How long a rank waits for the others at a step boundary before the hook gives up.
SYNC_TIMEOUT_S = 600.0


def torchrun_rank() -> int:
    """This process's rank as torchrun set it (0 when not under torchrun)."""
    return int(os.environ.get("RANK", "0"))


class RankSync:
    """The control exchange of one rank; ``open()`` returns None for a single process."""

    def __init__(self, dist: Any, group: Any, rank: int) -> None:
        self._torch: Any = sys.modules["torch"]
        self._dist = dist
        self._group = group
        self.rank = rank

    @classmethod
    def open(cls) -> RankSync | None:
        torch: Any = sys.modules["torch"]
        dist = torch.distributed
        if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() < 2:
            return None
        group = dist.new_group(backend="gloo", timeout=timedelta(seconds=SYNC_TIMEOUT_S))
        return cls(dist, group, dist.get_rank())

    def exchange(self, control: LoopControl) -> None:
        """Give this rank rank 0's multiplier, pause and stop (a stop from any rank counts)."""
        state = self._torch.zeros(3, dtype=self._torch.float64)
        state[1] = float(control.stop_requested)
        if self.rank == 0:
            state[0] = control.lr_multiplier
            state[2] = float(control.paused)
        self._dist.all_reduce(state, group=self._group)
        control.stop_requested = bool(state[1] > 0)
        if self.rank != 0:
            control.lr_multiplier = float(state[0])
            control.paused = bool(state[2] > 0)
        if control.stop_requested:
            control.paused = False

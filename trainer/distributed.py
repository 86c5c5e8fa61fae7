"""The trainer under ``torchrun``: process group, rank roles, reductions and control sync.

``torchrun --nproc-per-node N -m trainer ...`` starts N copies of the trainer; ``start()`` sees
torchrun's environment (``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``) and joins the process group
(NCCL on CUDA, gloo on CPU). Rank 0 owns the run directory, events, log, checkpoints and the
control socket; every rank trains the same model under DistributedDataParallel on its own shard
of each epoch (``DistributedSampler``, re-seeded per epoch with ``set_epoch``).

``--batch-size`` is PER PROCESS (as in torchrun/DDP convention): the global batch is
``batch_size × world_size``, and the sqrt LR scaling and maou's scheduler choice use the global
batch.

At each step boundary rank 0's control state (LR multiplier, pause, stop, skip, checkpoint,
thresholds) goes to every rank in ONE small all-reduce, so all ranks apply a command at the same
step. A stop seen by any rank (SIGTERM) reaches all. While paused, the ranks meet every
``PAUSE_SLICE_S`` so a long pause never trips the collective timeout.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import time
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, cast

import torch
import torch.distributed as dist
from torch import Tensor
from torch.distributed.algorithms.ddp_comm_hooks.default_hooks import allreduce_hook
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import Dataset, DistributedSampler

from maou_tui.protocol import Threshold
from maou_tui.sdk import LoopControl

#: How long a collective waits for a silent peer (override: ``MAOU_DDP_TIMEOUT_S``).
DEFAULT_TIMEOUT_S = 1800.0
#: While paused, rank 0 answers commands for this long between two meetings of all ranks.
PAUSE_SLICE_S = 0.25
#: Per-rank trace of applied control decisions and gradient all-reduces (a directory), for
#: tests and debugging.
TRACE_ENV = "MAOU_DDP_TRACE_DIR"
#: Stages whose threshold travels in the control sync.
_STAGES = (1, 2, 3)
_FIXED = 5  # multiplier, stop, skip, checkpoint, paused


@dataclass(frozen=True)
class Peer:
    rank: int
    host: str
    pid: int


class RankZeroControl(LoopControl):
    """Rank 0's control: ``poll`` never blocks on a pause; ``Distributed.sync_control`` holds
    every rank instead (a rank blocked alone would leave the others in a collective that times
    out)."""

    def wait_while_paused(self) -> None:
        pass

    def answer_for(self, seconds: float) -> None:
        """Apply commands that arrive within ``seconds`` (used while paused)."""
        if self.server is not None and self.server.wait_for_pending(seconds):
            for pending in self.server.pending():
                self._apply(pending)


def launched_by_torchrun() -> bool:
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def start(device: torch.device) -> Distributed | None:
    """Join torchrun's process group; None when not started by torchrun with N > 1."""
    if not launched_by_torchrun():
        return None
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if device.type == "cuda":
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    timeout = float(os.environ.get("MAOU_DDP_TIMEOUT_S", DEFAULT_TIMEOUT_S))
    dist.init_process_group(
        backend="nccl" if device.type == "cuda" else "gloo",
        timeout=timedelta(seconds=timeout),
    )
    return Distributed(device)


class Distributed:
    """One rank's view of the process group (see the module docstring)."""

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.rank = dist.get_rank()
        self.world_size = dist.get_world_size()
        me = Peer(self.rank, socket.gethostname(), os.getpid())
        peers: list[Any] = [None] * self.world_size
        dist.all_gather_object(peers, me)
        self.peers: list[Peer] = peers
        self._thresholds_seen: Tensor | None = None
        self._trace = _open_trace(self.rank)
        self._last_traced: tuple[float, bool, int] | None = None
        #: Backward passes whose gradients were all-reduced (counted only when tracing).
        self.gradient_syncs = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    # ---- data and model ------------------------------------------------------------------------

    def shard_rows(self, rows: int) -> int:
        """Rows per rank per epoch (DistributedSampler pads so every rank has as many)."""
        return len(DistributedSampler(_row_ids(rows), self.world_size, self.rank))

    def epoch_order(self, rows: int, seed: int, stage: int, epoch: int) -> Tensor:
        """This rank's shuffled rows of ``epoch``: deterministic from (seed, stage, epoch)."""
        sampler: DistributedSampler[int] = DistributedSampler(
            _row_ids(rows), self.world_size, self.rank, shuffle=True, seed=seed * 1_009 + stage
        )
        sampler.set_epoch(epoch)
        return torch.tensor(list(sampler), dtype=torch.long, device=self.device)

    def wrap(self, model: torch.nn.Module) -> torch.nn.Module:
        """The module the loop trains through (gradients all-reduced in backward)."""
        ids = [self.device.index] if self.device.type == "cuda" else None
        net = DistributedDataParallel(model, device_ids=ids)
        if self._trace is not None:
            net.register_comm_hook(self, _counted_allreduce)
        return net

    def gradient_sync(self, net: torch.nn.Module, sync: bool) -> AbstractContextManager[Any]:
        """The context of one micro-batch's forward and backward under gradient accumulation.

        Only the micro-batch that ends an accumulation group (``sync``) all-reduces; the ones
        before it sum their gradients locally (DDP's ``no_sync``) and that sum is averaged
        across ranks in the last one's backward: the same gradient, one all-reduce per step.
        """
        if sync or not isinstance(net, DistributedDataParallel):
            return contextlib.nullcontext()
        return net.no_sync()

    def reduce_step(self, values: Tensor, samples: int) -> tuple[Tensor, int]:
        """Global batch values: ``values`` is [mean loss, *per-sample sums]; one all-reduce."""
        packed = torch.cat(
            [
                values[:1] * samples,
                values[1:],
                torch.tensor([float(samples)], device=values.device),
            ]
        )
        dist.all_reduce(packed)
        total = round(packed[-1].item())
        return torch.cat([packed[:1] / total, packed[1:-1]]), total

    # ---- control -------------------------------------------------------------------------------

    def sync_control(self, control: LoopControl, step: int, schedule_lr: float) -> None:
        """Give every rank rank 0's control state at this step; hold all ranks while paused."""
        while True:
            self._exchange(control)
            self._trace_step(control, step, schedule_lr)
            if not control.paused or control.stop_requested:
                break
            if isinstance(control, RankZeroControl):
                control.answer_for(PAUSE_SLICE_S)

    def _exchange(self, control: LoopControl) -> None:
        state = torch.zeros(_FIXED + 3 * len(_STAGES), dtype=torch.float64)
        state[1] = float(control.stop_requested)
        if self.is_main:
            state[0] = control.lr_multiplier
            state[2] = float(control.skip_requested)
            state[3] = float(control.checkpoint_requested)
            state[4] = float(control.paused)
            state[_FIXED:] = _encode_thresholds(control.thresholds)
        out = state.to(self.device)
        dist.all_reduce(out)
        state = out.cpu()
        control.stop_requested = bool(state[1] > 0)
        if control.stop_requested:
            control.paused = False
        if self.is_main:
            return
        control.lr_multiplier = float(state[0])
        control.skip_requested = bool(state[2] > 0)
        control.checkpoint_requested = bool(state[3] > 0)
        control.paused = bool(state[4] > 0) and not control.stop_requested
        thresholds = state[_FIXED:]
        if self._thresholds_seen is None or not torch.equal(thresholds, self._thresholds_seen):
            control.thresholds = _decode_thresholds(thresholds)
            self._thresholds_seen = thresholds

    def _trace_step(self, control: LoopControl, step: int, schedule_lr: float) -> None:
        """Record (when tracing) each step at which this rank's applied LR, pause or count of
        gradient all-reduces changed."""
        if self._trace is None:
            return
        now = (control.lr_multiplier, control.paused, self.gradient_syncs)
        if now == self._last_traced:
            return
        self._last_traced = now
        record = {
            "rank": self.rank,
            "pid": os.getpid(),
            "step": step,
            "lr_multiplier": control.lr_multiplier,
            "lr": control.lr_multiplier * schedule_lr,
            "paused": control.paused,
            "gradient_syncs": self.gradient_syncs,
            "t": time.time(),
        }
        self._trace.write(json.dumps(record) + "\n")
        self._trace.flush()

    # ---- failure and teardown ------------------------------------------------------------------

    def failure_reason(self, exc: BaseException) -> str:
        """One line naming the rank(s) that died when a collective failed, else the error."""
        detail = f"{type(exc).__name__}: {exc}".splitlines()[0][:200]
        if not isinstance(exc, RuntimeError):
            return detail
        gone = [p for p in self.peers if p.rank != self.rank and not _alive(p)]
        if gone:
            names = ", ".join(f"rank {p.rank} (pid {p.pid} on {p.host})" for p in gone)
            return f"{names} died; the run cannot go on without it ({detail})"
        if "closed" in detail.lower() or "timed out" in detail.lower():
            return f"lost contact with another rank; the run cannot go on ({detail})"
        return detail

    def close(self, clean: bool) -> None:
        """Leave the process group (only after a clean end: a dead peer can hang the goodbye)."""
        if self._trace is not None:
            self._trace.close()
        if clean and dist.is_initialized():
            dist.destroy_process_group()


def _encode_thresholds(thresholds: dict[int, Threshold]) -> Tensor:
    rows = []
    for stage in _STAGES:
        t = thresholds.get(stage)
        rows += [0.0, 0.0, 0.0] if t is None else [1.0, t.value, float(t.action == "stop")]
    return torch.tensor(rows, dtype=torch.float64)


def _decode_thresholds(encoded: Tensor) -> dict[int, Threshold]:
    out = {}
    for i, stage in enumerate(_STAGES):
        present, value, stop = encoded[3 * i : 3 * i + 3].tolist()
        if present:
            out[stage] = Threshold(value=value, action="stop" if stop else "advance")
    return out


def _counted_allreduce(state, bucket):
    """DDP's default all-reduce of one gradient bucket, counted once per backward (tracing).

    Not annotated: DDP checks a hook's annotations at run time, and this module's are strings.
    """
    if bucket.index() == 0:
        state.gradient_syncs += 1
    return allreduce_hook(None, bucket)  # None: the default process group


def _alive(peer: Peer) -> bool:
    """False when ``peer`` runs on this host and has exited (a zombie counts as exited)."""
    if peer.host != socket.gethostname():
        return True  # cannot tell from here
    try:
        stat = Path(f"/proc/{peer.pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] not in ("Z", "X")


def _open_trace(rank: int) -> Any:
    directory = os.environ.get(TRACE_ENV)
    if not directory:
        return None
    Path(directory).mkdir(parents=True, exist_ok=True)
    return open(Path(directory) / f"rank{rank}.jsonl", "a", encoding="utf-8")


def _row_ids(rows: int) -> Dataset[int]:
    """Row numbers as the sampler's dataset: it only takes their length."""
    return cast("Dataset[int]", range(rows))

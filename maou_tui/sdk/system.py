"""``SystemSampler``: CPU and memory of the training processes and the GPUs, as ``system`` events.

A daemon thread takes one ``SystemSample`` every ``interval`` seconds and hands it to the
run's ``EventWriter`` (which writes it off the training thread too), so ``attach`` from another
SSH session replays the history like any other event.

- Processes: this process and, under torchrun, the other ranks on this machine (the children of
  torchrun's agent that carry a ``RANK``); read from ``/proc`` (``stat``: CPU ticks, ``statm``:
  resident pages). psutil is not a dependency and would read the same two files. Ranks on other
  machines are not visible from here and are not reported.
- GPUs: NVML through ``pynvml`` (the ``nvidia-ml-py`` package, extra ``gpu``), imported on the
  first sample only. Without it, or without a driver or a device, ``gpu_note`` says so plainly
  and the sampler goes on with the processes; it never raises into the program.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from maou_tui.protocol import GpuSample, ProcessSample, SystemSample

log = logging.getLogger(__name__)

#: Seconds between two samples: a long run gets 720 an hour, a few bytes each in the store.
DEFAULT_INTERVAL_S = 5.0
NO_NVML = "no GPU: NVML not available"
NO_GPU = "no NVIDIA GPU"
_PROC = Path("/proc")
_TICKS_PER_S = os.sysconf("SC_CLK_TCK")
_PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")


class EventSink(Protocol):
    def emit(self, event: Any) -> Any: ...


# ---------------------------------------------------------------------------- processes


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of ``pid`` (``/proc/PID/stat`` fields 14 and 15)."""
    try:
        text = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: split after its last ")".
    fields = text[text.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS_PER_S


def _rss_bytes(pid: int) -> int | None:
    try:
        return int((_PROC / str(pid) / "statm").read_text().split()[1]) * _PAGE_BYTES
    except (OSError, IndexError, ValueError):
        return None


def _children(pid: int) -> list[int]:
    """Direct children of ``pid`` (``/proc/PID/task/*/children``)."""
    found: list[int] = []
    with contextlib.suppress(OSError):
        for task in (_PROC / str(pid) / "task").iterdir():
            with contextlib.suppress(OSError):
                found += [int(p) for p in (task / "children").read_text().split()]
    return found


def _rank_of(pid: int) -> int | None:
    """The ``RANK`` in ``pid``'s environment (a torchrun worker), None when it has none."""
    try:
        environ = (_PROC / str(pid) / "environ").read_bytes()
    except OSError:
        return None
    for entry in environ.split(b"\0"):
        if entry.startswith(b"RANK="):
            with contextlib.suppress(ValueError):
                return int(entry[5:])
    return None


def local_ranks() -> dict[int, int]:
    """pid -> rank of the training processes on this machine: this one, and under torchrun its
    sibling workers (children of the agent with a ``RANK``)."""
    own = int(os.environ.get("RANK", "0"))
    ranks = {os.getpid(): own}
    if "RANK" in os.environ and int(os.environ.get("LOCAL_WORLD_SIZE", "1")) > 1:
        for pid in _children(os.getppid()):
            rank = _rank_of(pid)
            if rank is not None:
                ranks[pid] = rank
    return ranks


@dataclass
class _CpuMark:
    cpu_s: float
    wall_s: float


class ProcessReader:
    """CPU % since the previous read and RSS of a changing set of processes."""

    def __init__(self, ranks: Callable[[], dict[int, int]] = local_ranks) -> None:
        self._ranks = ranks
        self._marks: dict[int, _CpuMark] = {}

    def read(self) -> list[ProcessSample]:
        now = time.monotonic()
        samples, marks = [], {}
        for pid, rank in sorted(self._ranks().items(), key=lambda item: item[1]):
            cpu_s = _cpu_seconds(pid)
            if cpu_s is None:
                continue  # it ended between listing and reading
            before = self._marks.get(pid)
            percent = None
            if before is not None and now > before.wall_s:
                percent = round(100 * (cpu_s - before.cpu_s) / (now - before.wall_s), 1)
            marks[pid] = _CpuMark(cpu_s, now)
            samples.append(
                ProcessSample(pid=pid, rank=rank, cpu_percent=percent, rss_bytes=_rss_bytes(pid))
            )
        self._marks = marks
        return samples


# ---------------------------------------------------------------------------- GPUs


def _visible_indices() -> set[int] | None:
    """The NVML indices ``CUDA_VISIBLE_DEVICES`` names, when it names them by number."""
    value = os.environ.get("CUDA_VISIBLE_DEVICES")
    if value is None:
        return None
    try:
        return {int(part) for part in value.split(",") if part.strip()}
    except ValueError:
        return None  # UUIDs or MIG names: report every device NVML sees


class GpuReader:
    """Per-GPU utilisation, memory, temperature and power from NVML; ``note`` when there is
    nothing to read. NVML is loaded on the first ``read``."""

    def __init__(self, nvml_module: str = "pynvml") -> None:
        self._module_name = nvml_module
        self._nvml: Any = None
        self._handles: list[tuple[int, Any, str]] = []
        self.note: str | None = None
        self._started = False

    def _start(self) -> None:
        self._started = True
        try:
            nvml = importlib.import_module(self._module_name)
        except ImportError:
            self.note = f"{NO_NVML} (pip install 'maou-tui[gpu]' for nvidia-ml-py)"
            return
        try:
            nvml.nvmlInit()
            count = nvml.nvmlDeviceGetCount()
        except Exception as exc:  # NVMLError_LibraryNotFound, _DriverNotLoaded, ...
            self.note = f"{NO_NVML} ({exc})"
            return
        wanted = _visible_indices()
        for index in range(count):
            if wanted is None or index in wanted:
                handle = nvml.nvmlDeviceGetHandleByIndex(index)
                self._handles.append((index, handle, _text(nvml.nvmlDeviceGetName(handle))))
        self._nvml = nvml
        self.note = None if self._handles else NO_GPU

    def read(self) -> list[GpuSample]:
        if not self._started:
            self._start()
        return [self._sample(*entry) for entry in self._handles]

    def _sample(self, index: int, handle: Any, name: str) -> GpuSample:
        nvml = self._nvml
        util = _ask(lambda: nvml.nvmlDeviceGetUtilizationRates(handle).gpu)
        memory = _ask(lambda: nvml.nvmlDeviceGetMemoryInfo(handle))
        temperature = _ask(lambda: nvml.nvmlDeviceGetTemperature(handle, nvml.NVML_TEMPERATURE_GPU))
        milliwatts = _ask(lambda: nvml.nvmlDeviceGetPowerUsage(handle))
        return GpuSample(
            index=index,
            name=name,
            util_percent=util,
            memory_used_bytes=memory.used if memory is not None else None,
            memory_total_bytes=memory.total if memory is not None else None,
            temperature_c=temperature,
            power_w=milliwatts / 1000 if milliwatts is not None else None,
        )

    def close(self) -> None:
        if self._nvml is not None:
            with contextlib.suppress(Exception):
                self._nvml.nvmlShutdown()
            self._nvml = None


def _ask(query: Callable[[], Any]) -> Any:
    """One NVML query; None where the device does not support it (NVMLError_NotSupported)."""
    try:
        return query()
    except Exception:
        return None


def _text(value: str | bytes) -> str:
    """Old nvidia-ml-py releases return bytes."""
    return value.decode() if isinstance(value, bytes) else value


# ---------------------------------------------------------------------------- the thread


class SystemSampler:
    """Emit a ``SystemSample`` now and every ``interval`` seconds until ``close``.

    ``step_of()`` gives the loop's current global step (read without a lock: an int)."""

    def __init__(
        self,
        events: EventSink,
        step_of: Callable[[], int | None],
        interval: float = DEFAULT_INTERVAL_S,
        processes: ProcessReader | None = None,
        gpus: GpuReader | None = None,
    ) -> None:
        self._events = events
        self._step_of = step_of
        self._interval = interval
        self._processes = processes or ProcessReader()
        self._gpus = gpus or GpuReader()
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._run, name="maou-system-sampler", daemon=True)

    def start(self) -> SystemSampler:
        self._thread.start()
        return self

    def sample(self) -> SystemSample:
        return SystemSample(
            step=self._step_of(),
            processes=self._processes.read(),
            gpus=self._gpus.read(),
            gpu_note=self._gpus.note,
        )

    def _run(self) -> None:
        while True:
            try:
                self._events.emit(self.sample())
            except Exception as exc:  # never into the program: report once and stop sampling
                log.error("system sampling stopped: %s: %s", type(exc).__name__, exc)
                return
            if self._closed.wait(self._interval):
                return

    def close(self) -> None:
        """Stop the thread (the sample in progress finishes first); safe to call twice."""
        self._closed.set()
        if self._thread.is_alive():
            self._thread.join()
        self._gpus.close()

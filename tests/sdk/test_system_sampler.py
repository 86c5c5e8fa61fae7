"""The system sampler on a CPU machine: real /proc figures of a real child process, NVML absent
said plainly, samples emitted from the thread with the loop's step."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import time

import pytest

from maou_tui.protocol import SystemSample, decode_event, encode
from maou_tui.sdk.system import NO_NVML, GpuReader, ProcessReader, SystemSampler

#: A child that holds 150 MB resident and spins on the CPU until killed.
_BUSY = "x = bytearray(150 << 20); print('ready', flush=True)\nwhile True: pass"


@pytest.fixture
def busy_child():
    child = subprocess.Popen([sys.executable, "-c", _BUSY], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline() == "ready\n"
        yield child
    finally:
        child.kill()
        child.wait()


def test_cpu_and_rss_of_a_real_process(busy_child):
    reader = ProcessReader(lambda: {busy_child.pid: 3})
    first = reader.read()
    assert [(p.pid, p.rank, p.cpu_percent) for p in first] == [(busy_child.pid, 3, None)]
    time.sleep(1.0)
    (second,) = reader.read()
    # A spinning process gets a good share of a core even on a loaded 2-core machine.
    assert second.cpu_percent is not None and 10 < second.cpu_percent <= 105
    assert second.rss_bytes is not None and second.rss_bytes >= 150 << 20


def test_a_process_that_ended_is_left_out(busy_child):
    reader = ProcessReader(lambda: {busy_child.pid: 1})
    busy_child.kill()
    busy_child.wait()
    assert reader.read() == []


def test_nvml_missing_is_said_plainly():
    reader = GpuReader(nvml_module="no_such_nvml_module")
    assert reader.read() == []
    assert reader.note is not None and reader.note.startswith(NO_NVML)
    assert "maou-tui[gpu]" in reader.note


@pytest.mark.skipif(importlib.util.find_spec("pynvml") is None, reason="nvidia-ml-py absent")
def test_real_nvml_without_a_driver_is_said_plainly():
    """CI machines have nvidia-ml-py (test extra) and no NVIDIA driver: NVML's own error."""
    reader = GpuReader()
    gpus = reader.read()
    if gpus:
        pytest.skip("this machine has an NVIDIA GPU")
    assert reader.note is not None
    assert reader.note.startswith(NO_NVML) or reader.note == "no NVIDIA GPU"
    reader.close()


class _Sink:
    def __init__(self) -> None:
        self.events: list[SystemSample] = []

    def emit(self, event: SystemSample) -> SystemSample:
        self.events.append(event)
        return event


def test_the_thread_samples_with_the_loops_step():
    sink, step = _Sink(), [0]
    sampler = SystemSampler(sink, lambda: step[0], interval=0.05).start()
    deadline = time.monotonic() + 20
    while len(sink.events) < 4 and time.monotonic() < deadline:
        step[0] += 1
        time.sleep(0.02)
    sampler.close()
    count = len(sink.events)
    time.sleep(0.2)
    assert len(sink.events) == count >= 4, "samples stop at close"
    assert sink.events[0].processes[0].rank == 0
    assert sink.events[-1].step is not None and sink.events[-1].step > 0
    again = decode_event(encode(sink.events[-1]))
    assert again == sink.events[-1]

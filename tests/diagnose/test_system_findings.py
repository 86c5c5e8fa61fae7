"""Run-level findings: throughput dropping in a real throttled run, a GPU idling while steps
advance (from ``system`` samples), and what must not be reported."""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import pytest

from maou_tui.diagnose import diagnose
from maou_tui.ingest import load_store
from maou_tui.protocol import GpuSample, RunStarted, StageStarted, SystemSample
from maou_tui.store import RunStore

torch = pytest.importorskip("torch")

FAST_STEPS, SLOW_STEPS = 60, 22


@pytest.mark.slow  # ~6 s on an idle 2-core machine, over a minute on a loaded one
def test_throughput_drop_of_a_real_throttled_run(tmp_path: Path):
    """A real tiny training loop whose data 'loader' becomes ~10x slower after 60 steps. The
    slow wait is ten times the fast steps' measured median, so a loaded machine (whose fast
    steps are slow too) still sees a tenfold drop."""
    from maou_tui.sdk import Monitor

    model = torch.nn.Sequential(torch.nn.Linear(32, 64), torch.nn.ReLU(), torch.nn.Linear(64, 4))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    with Monitor(tmp_path / "run", optimizer, batch_size=64, control=False) as mon:
        durations: list[float] = []
        for step in range(FAST_STEPS + SLOW_STEPS):
            started = time.monotonic()
            slow = 10 * statistics.median(durations) if step >= FAST_STEPS else 0.0
            time.sleep(max(0.012, slow))  # the loader's wait
            x, y = torch.randn(64, 32), torch.randint(0, 4, (64,))
            loss = torch.nn.functional.cross_entropy(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            mon.step(loss=loss.item())
            if step < FAST_STEPS:
                durations.append(time.monotonic() - started)
    findings = [
        f for f in diagnose(load_store(tmp_path / "run")) if f.kind == "throughput_collapse"
    ]
    assert len(findings) == 1
    assert findings[0].step > FAST_STEPS - 5
    assert findings[0].evidence["ratio"] < 0.3


def _gpu_run(utils: list[float], steps: list[int], interval: float = 5.0) -> RunStore:
    store = RunStore()
    store.apply(RunStarted(pid=1))
    store.apply(StageStarted(stage=3, name="POLICY_VALUE", metric="policy_accuracy"))
    for k, (util, step) in enumerate(zip(utils, steps, strict=True)):
        gpu = GpuSample(index=1, name="NVIDIA H200", util_percent=util, memory_total_bytes=1 << 37)
        store.apply(SystemSample(t=1000 + interval * k, step=step, gpus=[gpu]))
    return store


def test_gpu_idle_while_steps_advance():
    utils = [90.0] * 10 + [4.0] * 16 + [88.0] * 4
    store = _gpu_run(utils, [10 * k for k in range(30)])
    (finding,) = [f for f in diagnose(store) if f.kind == "gpu_idle"]
    assert finding.step == 100 and finding.stage == 3
    assert finding.evidence["gpu"] == 1 and finding.evidence["idle_seconds"] == 75.0
    assert "--dataloader-workers" in (finding.advice.note or "")


@pytest.mark.parametrize(
    ("utils", "steps"),
    [
        pytest.param([3.0] * 20, [500] * 20, id="paused-or-validating: no step advanced"),
        pytest.param([90.0] * 10 + [3.0] * 8 + [90.0] * 5, list(range(23)), id="40s-only"),
        pytest.param([12.0] * 30, list(range(30)), id="low-but-not-idle"),
    ],
)
def test_no_gpu_idle_finding(utils: list[float], steps: list[int]):
    assert not [f for f in diagnose(_gpu_run(utils, steps)) if f.kind == "gpu_idle"]

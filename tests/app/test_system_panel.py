"""The system panel (``y``): snapshots at 80x24 and 160x50 of the demo run with fixed samples,
and a real monitored run's samples replayed by ``attach``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from demo_run import write_demo_run
from pilot import loaded, wait_for

from maou_tui.app import MaouApp
from maou_tui.app.widgets.system import SystemPanel
from maou_tui.protocol import GpuSample, ProcessSample, SystemSample, encode
from maou_tui.sdk.system import NO_NVML

torch = pytest.importorskip("torch")

GIB = 1 << 30
#: Demo run steps 100..170; the GPU is busy, then waits for data for 70 s while steps advance.
SAMPLES = 30


def _sample(k: int, seq: int) -> SystemSample:
    busy = k < SAMPLES // 2
    return SystemSample(
        seq=seq,
        t=1_700_000_100.0 + 5 * k,
        step=100 + round(70 * k / (SAMPLES - 1)),
        processes=[
            ProcessSample(
                pid=4100, rank=0, cpu_percent=95 + k % 7, rss_bytes=3 * GIB + k * (GIB // 30)
            ),
            ProcessSample(pid=4101, rank=1, cpu_percent=90 + k % 5, rss_bytes=3 * GIB),
        ],
        gpus=[
            GpuSample(
                index=0,
                name="NVIDIA H200",
                util_percent=(85 + k % 10) if busy else (3 + k % 3),
                memory_used_bytes=(40 + k) * GIB,
                memory_total_bytes=141 * GIB,
                temperature_c=60 + k % 4,
                power_w=400.0 if busy else 120.0,
            )
        ],
    )


@pytest.fixture
def system_run(tmp_path: Path) -> Path:
    run = write_demo_run(tmp_path / "demo-run")
    events = run / "events.jsonl"
    seq = sum(1 for _ in events.open())
    with events.open("a") as handle:
        for k in range(SAMPLES):
            handle.write(encode(_sample(k, seq + k)) + "\n")
    return run


def panel_text(app: MaouApp) -> str:
    return app.main.query_one(SystemPanel).render().plain


async def _shown(pilot) -> None:
    app = pilot.app
    await loaded(pilot, app, min_steps=170)
    await wait_for(pilot, lambda: len(app.store.system) == SAMPLES, "the system samples")
    await wait_for(pilot, lambda: app.up_to_date, "findings and charts of every event")
    # gpu_idle comes from a diagnosis of the samples; the findings panel shows it at its pace
    findings = app.main.query_one("#findings-body")
    await wait_for(pilot, lambda: "gpu_idle" in str(findings.render()), "gpu_idle shown")
    await pilot.press("y")
    await wait_for(
        pilot,
        lambda: "NVIDIA H200" in panel_text(app) or "GPU0" in panel_text(app),
        "the system panel",
    )
    # shown before the first layout, it draws text for a guessed width, then again at its own:
    # the snapshot is of the panel laid out for the text it shows
    panel = app.main.query_one(SystemPanel)
    await wait_for(
        pilot,
        lambda: panel.content_size.height == len(panel_text(app).splitlines()),
        "the system panel laid out",
    )
    app.clear_notifications()
    await pilot.pause()


@pytest.mark.parametrize("size", [(80, 24), (160, 50)])
def test_system_panel(snap_compare, system_run: Path, size) -> None:
    app = MaouApp(system_run, mode="attach", theme="dark")
    assert snap_compare(app, terminal_size=size, run_before=_shown)


async def test_panel_toggles_and_reports_gpu_idle(system_run: Path) -> None:
    app = MaouApp(system_run, mode="attach", theme="dark")
    async with app.run_test(size=(160, 50)) as pilot:
        await _shown(pilot)
        text = panel_text(app)
        assert "rank 0" in text and "rank 1" in text and "pid 4101" in text
        assert "NVIDIA H200" in text and "of 141.0G" in text
        idle = [f for f in app.diagnoser.findings if f.kind == "gpu_idle"]
        assert len(idle) == 1 and idle[0].evidence["gpu"] == 0
        await pilot.press("y")
        await pilot.pause()
        assert not app.main.query_one(SystemPanel).display


async def test_attach_replays_a_real_runs_samples(tmp_path: Path) -> None:
    """A real monitored loop on this machine (no GPU driver): its samples come back on attach."""
    from maou_tui.sdk import Monitor

    model = torch.nn.Linear(16, 4)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    run = tmp_path / "run"
    with Monitor(run, optimizer, batch_size=8, control=False, system_interval=0.05) as mon:
        for _ in range(40):
            loss = model(torch.randn(8, 16)).pow(2).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            mon.step(loss=loss.item())
            torch.randn(256, 256) @ torch.randn(256, 256)
    lines = (run / "events.jsonl").read_text().splitlines()
    written = [e for e in map(json.loads, lines) if e["type"] == "system"]
    assert written
    app = MaouApp(run, mode="attach", theme="dark")
    async with app.run_test(size=(160, 50)) as pilot:
        await loaded(pilot, app, min_steps=40)
        await wait_for(pilot, lambda: len(app.store.system) == len(written), "every sample")
        await pilot.press("y")
        await wait_for(pilot, lambda: "rank 0" in panel_text(app), "the panel")
        text = panel_text(app)
        assert f"pid {written[0]['processes'][0]['pid']}" in text
        assert NO_NVML in text or "no NVIDIA GPU" in text

"""``RunStore.system``: system samples kept as columns, growing, with gaps as NaN."""

from __future__ import annotations

import numpy as np

from maou_tui.ingest.events_jsonl import EventsParser
from maou_tui.protocol import GpuSample, ProcessSample, SystemSample, encode
from maou_tui.store import RunStore


def _sample(k: int, gpus: int) -> SystemSample:
    return SystemSample(
        seq=k,
        t=100.0 + 5 * k,
        step=None if k == 0 else 10 * k,
        processes=[ProcessSample(pid=7, rank=0, cpu_percent=None if k == 0 else 50.0 + k)],
        gpus=[GpuSample(index=i, util_percent=float(k)) for i in range(gpus)],
    )


def test_columns_grow_and_a_gpu_seen_later_is_nan_before():
    store = RunStore()
    for k in range(300):  # past several growths of the 64-row start
        store.apply(_sample(k, gpus=1 if k < 150 else 2))
    history = store.system
    assert len(history) == 300 and history.times[-1] == 100.0 + 5 * 299
    assert history.steps[0] == -1 and history.steps[-1] == 2990
    cpu = history.column("rank0.cpu_percent")
    assert np.isnan(cpu[0]) and cpu[-1] == 50.0 + 299
    second = history.column("gpu1.util_percent")
    assert np.isnan(second[:150]).all() and second[150] == 150.0
    assert history.gpu_indices() == [0, 1]
    assert np.isnan(history.column("gpu9.power_w")).all()
    assert history.latest is not None and len(history.latest.gpus) == 2


def test_samples_come_back_from_events_jsonl_lines():
    lines = "".join(encode(_sample(k, gpus=1)) + "\n" for k in range(5)).encode()
    store = RunStore()
    store.apply_all(EventsParser().feed(lines))
    assert len(store.system) == 5
    assert store.system.column("gpu0.util_percent").tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]

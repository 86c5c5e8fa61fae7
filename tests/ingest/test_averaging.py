"""How each printed series was averaged, inferred from its values (maou_tui.averaging)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np

from maou_tui import averaging
from maou_tui.averaging import infer_averaging
from maou_tui.cli import main
from maou_tui.ingest import load_store
from maou_tui.ingest.summary import format_summary, summarize

LOGS = Path(__file__).parent / "trainer_logs"


def test_keras_bar_values_are_running_means() -> None:
    store = load_store(LOGS / "keras_verbose1.log")
    for name in ("loss", "accuracy"):
        found = store.series(name).averaging
        assert (found.kind, found.basis) == ("running_mean", "data"), found


def test_lightning_step_losses_stand_alone() -> None:
    series = load_store(LOGS / "lightning.log").series("loss")
    assert series.averaging.kind == "batch"
    # named like a running mean, the same values are still read as what they are
    renamed = infer_averaging("loss_cum", series.epochs, series.batches, series.values)
    assert renamed.kind == "batch" and "named *_cum but" in renamed.evidence


def test_an_exponential_average_is_told_from_both() -> None:
    rng = np.random.default_rng(7)
    raw = 2.0 * np.exp(-np.arange(400) / 150) + rng.normal(0, 0.2, 400)
    smoothed = np.empty_like(raw)
    smoothed[0] = raw[0]
    for i in range(1, raw.size):  # what a trainer printing "smooth loss" keeps (beta 0.9)
        smoothed[i] = 0.9 * smoothed[i - 1] + 0.1 * raw[i]
    epochs = np.repeat(np.arange(1, 5), 100)
    batches = np.tile(np.arange(1, 101), 4)
    assert infer_averaging("loss", epochs, batches, smoothed).kind == "ema"
    assert infer_averaging("loss", epochs, batches, raw).kind == "batch"
    running = np.concatenate(
        [np.cumsum(raw[e]) / np.arange(1, 101) for e in np.split(np.arange(400), 4)]
    )
    assert infer_averaging("loss", epochs, batches, running).kind == "running_mean"


def test_report_shows_the_inference_and_its_evidence() -> None:
    summary = summarize(load_store(LOGS / "keras_verbose1.log"))
    assert summary["averaging"]["loss"]["kind"] == "running_mean"
    text = format_summary(summary)
    assert "loss: running mean since epoch start (data: change ~ n^" in text


def test_export_writes_the_averaging_of_each_series(capsys) -> None:
    assert main(["export", str(LOGS / "keras_verbose1.log"), "--averaging"]) == 0
    rows = {r["name"]: r for r in csv.DictReader(io.StringIO(capsys.readouterr().out))}
    assert rows["loss"]["averaging"] == "running_mean" and rows["loss"]["points"] == "35"
    assert "change ~ n^" in rows["loss"]["evidence"]


def test_running_median_is_numpys_median_of_each_window() -> None:
    """The trend removed before the autocorrelation: the exchange network gives exactly
    ``np.median`` of each edge-padded window, ties and piece boundaries included."""
    rng = np.random.default_rng(3)
    for size in (9, 10, 17, 1000, averaging._MEDIAN_PIECE + 5):
        for values in (rng.normal(size=size), rng.integers(0, 3, size).astype(float)):
            windows = np.lib.stride_tricks.sliding_window_view(np.pad(values, 4, "edge"), 9)
            assert np.array_equal(averaging._running_median9(values), np.median(windows, 1))

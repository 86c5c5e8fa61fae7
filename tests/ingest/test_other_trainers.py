"""Logs of other trainers, captured from the real libraries (trainer_logs/make_logs.py): every
number a person reads in them comes out of the store, at the step the library logged it."""

from __future__ import annotations

import ast
import csv
import re
from pathlib import Path

import pytest

from maou_tui.ingest import load_store
from maou_tui.store import RunStore

LOGS = Path(__file__).parent / "trainer_logs"


def points(store: RunStore, name: str) -> dict[int, float]:
    series = store.series(name)
    return dict(zip(series.steps.tolist(), series.values.tolist(), strict=True))


def segments(name: str) -> list[str]:
    """The log's lines and ``\\r`` segments, without colour codes."""
    text = re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", (LOGS / name).read_text()).replace("\b", "")
    return [s for s in re.split(r"[\r\n]", text) if s.strip()]


def test_hf_trainer_dicts_come_out_whole_at_their_step() -> None:
    store = load_store(LOGS / "hf_trainer.log")
    dicts = [ast.literal_eval(s[s.index("{") :]) for s in segments("hf_trainer.log") if "{'" in s]
    assert len(dicts) == 11  # 8 training logs, 2 evaluations, the summary
    for logged in dicts:
        step = round(float(logged["epoch"]) * 20)  # 160 samples / batch 8 = 20 steps an epoch
        for key, value in logged.items():
            name = {"learning_rate": "lr"}.get(key, key.replace("eval_", "val_"))
            assert points(store, name)[step] == float(value), (key, step)
    assert sorted(points(store, "loss")) == [5, 10, 15, 20, 25, 30, 35, 40]  # logging_steps=5


def test_lightning_bar_agrees_with_its_metrics_csv() -> None:
    bar = load_store(LOGS / "lightning.log")
    rows = list(csv.DictReader((LOGS / "lightning_metrics.csv").open()))
    val_rows = [r for r in rows if r["val_loss"]]
    # The bar prints 3 decimals of what metrics.csv holds in full, once per epoch.
    assert list(points(bar, "val_loss").values()) == [
        round(float(r["val_loss"]), 3) for r in val_rows
    ]
    assert list(points(bar, "val_acc").values()) == [
        round(float(r["val_acc"]), 3) for r in val_rows
    ]
    assert "v_num" not in bar.names()  # Lightning's logger version is not a measurement
    series = bar.series("loss")  # train_loss_step, read as the loss
    assert len(series) >= 55  # a point per step where the value changed (60 steps)
    assert set(series.epochs.tolist()) == {0, 1, 2} and series.batches.max() == 20
    csv_store = load_store(LOGS / "lightning_metrics.csv")
    csv_points = points(csv_store, "loss")
    logged = {int(r["step"]): float(r["train_loss_step"]) for r in rows if r["train_loss_step"]}
    assert csv_points == logged


@pytest.mark.parametrize("verbose", ["1", "2"])
def test_keras_fit_lines_and_csv_logger(verbose: str) -> None:
    store = load_store(LOGS / f"keras_verbose{verbose}.log")
    epoch_lines = [s for s in segments(f"keras_verbose{verbose}.log") if "val_loss:" in s]
    assert len(epoch_lines) == 3
    for epoch, line in enumerate(epoch_lines, start=1):
        for key, value in re.findall(r"(\w+): ([\d.]+)", line):
            series = store.series(key)
            at_end = series.values[series.epochs == epoch][-1]
            assert at_end == float(value), (key, epoch)
    assert store.series("loss").steps.max() == 36  # 3 epochs of 12 batches
    logger = load_store(LOGS / f"keras_verbose{verbose}_keras_csvlogger.csv")
    assert logger.series("val_loss").epochs.tolist() == [0, 1, 2]  # CSVLogger counts from 0
    assert logger.series("val_loss").values == pytest.approx(
        store.series("val_loss").values, abs=5e-5
    )


def test_nanogpt_iter_and_eval_lines() -> None:
    store = load_store(LOGS / "nanogpt.log")
    lines = segments("nanogpt.log")
    for line in lines:
        if line.startswith("iter "):
            it, loss, ms, mfu = re.findall(r"[\d.]+", line)
            step = int(it)
            assert points(store, "loss")[step] == float(loss)
            assert points(store, "time_ms")[step] == float(ms)
            assert points(store, "mfu")[step] == pytest.approx(float(mfu) / 100)
        else:
            step_text, train, val = re.findall(r"[\d.]+", line)
            assert points(store, "train_loss")[int(step_text)] == float(train)
            assert points(store, "val_loss")[int(step_text)] == float(val)


@pytest.mark.parametrize("form", ["python_logging", "glog", "colour", "rank"])
def test_key_value_lines_under_any_prefix(form: str) -> None:
    store = load_store(LOGS / f"generic_{form}.log")
    text = (LOGS / f"generic_{form}.log").read_text()
    logged = [(int(s), float(v)) for s, v in re.findall(r"step=(\d+) loss=([\d.]+)", text)]
    assert len(logged) == 15 and list(points(store, "loss").items()) == logged
    assert store.series("loss").epochs.tolist() == [1] * 5 + [2] * 5 + [3] * 5
    assert list(points(store, "lr").values())[-1] == 0.0125  # StepLR halved it twice
    # "epoch 2 done: val_loss: .." is at the epoch's last step
    val = [float(v) for v in re.findall(r"val_loss: ([\d.]+)", text)]
    assert list(points(store, "val_loss").items()) == list(zip([20, 40, 60], val, strict=True))
    assert store.names() == ["loss", "lr", "val_loss"]  # nothing from the prefix

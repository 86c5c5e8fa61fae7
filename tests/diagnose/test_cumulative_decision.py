"""Telling a log's running-mean loss from a per-batch one (``signals.decide_cumulative``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from maou_tui.diagnose.signals import EpochEndLoss, decide_cumulative, looks_cumulative
from maou_tui.ingest import load_store

CORPUS = Path(__file__).parent / "corpus"


def _epoch(rng, n=35, every=3, level=0.32, noise=0.02):
    """One epoch of per-batch losses and the points a log prints (every ``every`` batches)."""
    per_batch = level + noise * rng.standard_normal(n)
    batches = np.arange(every, n + 1, every)
    if batches[-1] != n:
        batches = np.append(batches, n)
    running = np.cumsum(per_batch) / np.arange(1, n + 1)
    return per_batch, batches, running


def test_flat_running_mean_equal_to_the_epoch_loss_is_cumulative():
    per_batch, batches, running = _epoch(np.random.default_rng(0), noise=0.001)
    values = np.round(running[batches - 1], 4)  # printed with 4 decimals
    epochs = np.ones(batches.size, dtype=np.int64)
    end = EpochEndLoss(step=int(batches[-1]), loss=round(float(per_batch.mean()), 4))
    got = decide_cumulative(batches, epochs, values, final=True, steps=batches, epoch_end=end)
    assert got is True


def test_per_batch_values_differ_from_the_epoch_loss():
    per_batch, batches, _ = _epoch(np.random.default_rng(1))
    values = np.round(per_batch[batches - 1], 4)
    epochs = np.ones(batches.size, dtype=np.int64)
    end = EpochEndLoss(step=int(batches[-1]), loss=round(float(per_batch.mean()), 4))
    got = decide_cumulative(batches, epochs, values, final=True, steps=batches, epoch_end=end)
    assert got is False


def test_per_batch_log_whose_inversion_gives_negative_losses_is_per_batch():
    # a real per-batch digits log (Adam 0.1) whose first epoch passes the shape tests: read as a
    # running mean it inverts to losses of -7, so it is taken as per-batch
    store = load_store(CORPUS / "digits_per_batch_adam.maou.txt")
    loss = store.series("loss")
    first = loss.epochs == loss.epochs[0]
    b, e, v = loss.batches[first], loss.epochs[first], loss.values[first]
    assert looks_cumulative(b, e, v)
    assert decide_cumulative(b, e, v, final=True) is False

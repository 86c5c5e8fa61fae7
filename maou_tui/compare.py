"""Comparing runs: one line per run (status, stage, last metric, age), a series of several runs on
one x axis (global step or epoch), and what differs between their configurations.

No terminal here: the runs screen (``app/screens/runs.py``) shows what these functions return.

Where a run's configuration comes from:
- our runs: ``config.json`` in the run directory (the resolved configuration), else the
  ``run_started`` event's ``config``;
- a foreign log (maou, other trainers): only what the log printed about each stage, as the
  reader turned it into ``stage_started`` fields (architecture, batch size, base/effective LR,
  scheduler, epochs, warmup, threshold...), keyed ``stage1.batch_size`` and so on.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from maou_tui.layout import CONFIG_FILE
from maou_tui.store import RunStore

Align = Literal["step", "epoch"]
#: Series offered first on the overlay, in this order; the rest follow by name.
PREFERRED_SERIES = ("loss", "val_loss", "accuracy", "f1", "policy_accuracy", "lr")
#: Stage fields of a foreign log shown as its configuration (those the log printed).
STAGE_FIELDS = (
    "architecture", "batch_size", "base_lr", "lr_scale", "effective_lr", "scheduler",
    "max_epochs", "warmup_steps", "threshold", "gradient_accumulation_steps",
)  # fmt: skip


@dataclass(frozen=True)
class RunRow:
    """What the run list shows of one run."""

    path: Path
    status: str
    stage: str
    metric: str
    age_s: float | None
    error: str | None = None

    @property
    def name(self) -> str:
        return self.path.name


def run_row(path: Path, store: RunStore | None, now: float, error: str | None = None) -> RunRow:
    """The run list's line for ``path`` (``store`` None while it is read or when it failed)."""
    age = run_age(path, now)
    if store is None:
        return RunRow(path, "error" if error else "…", "", "", age, error)
    stage = store.current_stage
    started = store.stages.get(stage) if stage is not None else None
    stage_text = f"{stage} {started.name}" if started is not None else (str(stage or "") or "-")
    return RunRow(path, store.status, stage_text, last_metric(store), age)


def last_metric(store: RunStore) -> str:
    """``value name`` of the current stage's metric (validation, else its running mean, else
    the batch value, else the loss); the value first, so a narrow list cuts the name."""
    metric = store.metric_of(store.current_stage)
    for name in (f"val_{metric}", f"{metric}_cum", metric, "val_loss", "loss"):
        last = store.series(name).last() if name in store.names() else None
        if last is not None and math.isfinite(last[1]):
            return f"{last[1]:.4g} {name}"
    return "-"


def run_age(path: Path, now: float) -> float | None:
    """Seconds since anything of the run was last written."""
    try:
        files = [path, *path.iterdir()] if path.is_dir() else [path]
        return max(0.0, now - max(os.stat(f).st_mtime for f in files))
    except OSError:
        return None


def format_age(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit}"
    return f"{int(seconds)}s"


# ---------------------------------------------------------------------------- series


def overlay_names(stores: Iterable[RunStore]) -> list[str]:
    """Every series any of ``stores`` holds, the usual ones first."""
    names: dict[str, None] = {}
    for store in stores:
        names.update(dict.fromkeys(store.names()))
    first = [n for n in PREFERRED_SERIES if n in names]
    return first + sorted(n for n in names if n not in first)


def aligned(store: RunStore, name: str, align: Align) -> tuple[np.ndarray, np.ndarray]:
    """``(x, values)`` of a series: x the global step, or the epoch as a fraction (epoch 2.5
    = halfway through the third epoch of the run, counted across stages). Points without an
    epoch are left out of the epoch axis."""
    series = store.series(name)
    values = series.values.astype(np.float64)
    if align == "step":
        return series.steps.astype(np.float64), values
    keep = series.epochs >= 0
    stages, epochs, batches = series.stages[keep], series.epochs[keep], series.batches[keep]
    x = epoch_axis(store, stages, epochs, batches)
    return x, values[keep]


def epoch_axis(
    store: RunStore, stages: np.ndarray, epochs: np.ndarray, batches: np.ndarray
) -> np.ndarray:
    """Epochs completed before each point, plus the fraction of its own epoch done."""
    epoch_index = _epochs_before(store, stages, epochs)
    per_epoch = _batches_per_epoch(store, stages, epochs, batches)
    fraction = np.where(batches < 0, 1.0, np.clip(batches / per_epoch, 0.0, 1.0))
    return epoch_index + fraction


def _epochs_before(store: RunStore, stages: np.ndarray, epochs: np.ndarray) -> np.ndarray:
    """For each point, how many epochs of the run came before its own (stages in order)."""
    out = np.zeros(len(epochs), dtype=np.float64)
    offset = 0.0
    for stage in sorted(set(stages.tolist())):
        here = stages == stage
        first = int(epochs[here].min())
        out[here] = offset + (epochs[here] - first)
        offset += float(epochs[here].max() - first + 1)
    return out


def _batches_per_epoch(
    store: RunStore, stages: np.ndarray, epochs: np.ndarray, batches: np.ndarray
) -> np.ndarray:
    """The batches in each point's epoch: what its stage_started said, else the most seen."""
    out = np.ones(len(batches), dtype=np.float64)
    for stage in set(stages.tolist()):
        here = stages == stage
        started = store.stages.get(stage)
        known = started and (started.batches_per_epoch or started.steps_per_epoch)
        seen = batches[here & (batches >= 0)]
        out[here] = float(known or (seen.max() if len(seen) else 1) or 1)
    return out


def value_at(xs: np.ndarray, ys: np.ndarray, x: float) -> float | None:
    """The series' value at ``x``: its last point at or before ``x`` (None before the first)."""
    index = int(np.searchsorted(xs, x, side="right")) - 1
    return float(ys[index]) if index >= 0 and len(ys) else None


# ---------------------------------------------------------------------------- configuration


def run_config(path: Path, store: RunStore | None) -> tuple[dict[str, str], str]:
    """The run's configuration, flattened to ``a.b = value`` strings, and where it came from."""
    config_file = path / CONFIG_FILE if path.is_dir() else None
    if config_file is not None and config_file.is_file():
        try:
            return flatten(json.loads(config_file.read_text(encoding="utf-8"))), CONFIG_FILE
        except (OSError, ValueError):
            pass  # fall back on what the events say
    if store is not None and store.run is not None and store.run.config:
        return flatten(store.run.config), "run_started"
    if store is None:
        return {}, "not read"
    found = {
        f"stage{stage}.{name}": _text(getattr(started, name))
        for stage, started in sorted(store.stages.items())
        for name in STAGE_FIELDS
        if getattr(started, name, None) is not None
    }
    return found, "the log's stage lines"


def flatten(data: Any, prefix: str = "") -> dict[str, str]:
    if isinstance(data, dict):
        out: dict[str, str] = {}
        for key, value in data.items():
            out.update(flatten(value, f"{prefix}{key}."))
        return out
    return {prefix.rstrip("."): _text(data)}


def _text(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, (list, tuple)):
        return ",".join(_text(v) for v in value)
    return str(value)


#: Keys that differ between any two runs by nature, not by choice.
NOT_COMPARED = frozenset({"run_dir"})


def differences(configs: Sequence[dict[str, str]]) -> list[tuple[str, list[str]]]:
    """Keys whose value is not the same in every config (absent reads ``-``), sorted; the
    run's own directory is left out."""
    keys = sorted(set().union(*configs) - NOT_COMPARED) if configs else []
    rows = []
    for key in keys:
        values = [config.get(key, "-") for config in configs]
        if len(set(values)) > 1:
            rows.append((key, values))
    return rows

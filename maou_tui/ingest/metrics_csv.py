"""Metric CSV files that training libraries write: PyTorch Lightning's ``metrics.csv``
(``epoch,step,train_loss_step,val_loss,...``, one row per logging call, empty cells for the
metrics that call did not log) and Keras' ``CSVLogger`` (``epoch,accuracy,loss,val_loss,...``,
one row per epoch). Read with the standard ``csv`` module, incrementally (a live file grows by
rows).

Each column other than ``step`` and ``epoch`` is a series named as the header says (with
``series_name``'s renames); the step is the row's ``step``, else its ordinal (Keras has none);
the epoch is the row's ``epoch`` as written (both libraries count from 0). The header says
who wrote the file (Lightning's has a ``step`` column, Keras' only ``epoch``): a ``RunStarted``
naming the framework comes first, so advice names its LR setting.
"""

from __future__ import annotations

import csv
import math

from maou_tui.ingest.lines import decode
from maou_tui.ingest.other_trainers import framework_started, series_name
from maou_tui.store import NamedPoints, StoreItem


class MetricsCsvParser:
    """Complete lines of a metrics CSV in, ``NamedPoints`` out; the first line is the header."""

    def __init__(self) -> None:
        self.skipped_lines = 0
        self._header: list[str] | None = None
        self._rows = 0

    def feed(self, block: bytes, *, columns: bool = False) -> list[StoreItem]:
        points = NamedPoints()
        out: list[StoreItem] = []
        for row in csv.reader(decode(block).replace("\r", "\n").splitlines()):
            if not row:
                continue
            if self._header is None:
                self._header = [name.strip() for name in row]
                out += _writer(self._header)
                continue
            self._row(row, points)
        return [*out, points] if len(points) else out

    def finish(self, *, columns: bool = False) -> list[StoreItem]:
        return []

    def _row(self, row: list[str], points: NamedPoints) -> None:
        assert self._header is not None
        if len(row) != len(self._header):
            self.skipped_lines += 1
            return
        self._rows += 1
        cells = dict(zip(self._header, row, strict=True))
        try:
            step = int(float(cells.pop("step", "") or self._rows))
            epoch = int(float(cells.pop("epoch", "") or -1))
        except ValueError:
            self.skipped_lines += 1
            return
        for name, text in cells.items():
            value = _number(text)
            if value is not None:
                points.add(series_name(name), step, value, -1, epoch, -1)


def _writer(header: list[str]) -> list[StoreItem]:
    """The run as the header tells it: Lightning's CSVLogger writes ``epoch`` and ``step``,
    Keras' only ``epoch``."""
    if "step" in header:
        return [framework_started("lightning")]
    if "epoch" in header:
        return [framework_started("keras")]
    return []


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return None if math.isnan(value) and text.strip().lower() != "nan" else value

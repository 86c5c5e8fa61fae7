"""The cursor's readout: the step, the epoch, the LR and each visible series' value there."""

from __future__ import annotations

from collections.abc import Iterable

from rich.text import Text
from textual.widgets import Static

from maou_tui.app.widgets.charts import RunChart, value_at
from maou_tui.store import RunStore
from maou_tui.x_axis import EpochAxis


def readout_text(
    store: RunStore, step: int, epochs: EpochAxis | None, charts: Iterable[RunChart]
) -> str:
    """``step 812 · S2 epoch 2.45 · LR 0.0002 │ loss 0.4231 · EMA 0.4102 …``: values
    are the last point at or before the step."""
    parts = [f"step {step}"]
    if epochs is not None:
        stage, epoch = epochs.stage_epoch(step)
        parts.append(f"S{stage} epoch {epoch:.2f}" if stage >= 1 else f"epoch {epoch:.2f}")
    lr = value_at(store.series("lr"), step)
    if lr is not None:
        parts.append(f"LR {lr:.4g}")
    values = [
        f"{name} {format_value(value)}" for chart in charts for name, value in chart.readout(step)
    ]
    return " · ".join(parts) + (" │ " + " · ".join(values) if values else "")


def format_value(value: float) -> str:
    """Four significant digits; big numbers (samples/s) whole, with thousands separators."""
    return f"{value:,.0f}" if abs(value) >= 10_000 else f"{value:.4g}"


class Readout(Static):
    """One line (two on a narrow screen) above the charts while the cursor is on; ``Esc``
    removes the cursor and the charts follow the tail again."""

    DEFAULT_CSS = """
    Readout {
        height: auto;
        max-height: 3;
        padding: 0 1;
        background: $boost;
        color: $foreground;
        display: none;
    }
    """

    def show(
        self, store: RunStore, step: int, epochs: EpochAxis | None, charts: Iterable[RunChart]
    ) -> None:
        # Text, not markup: a series name may hold brackets.
        self.update(Text(readout_text(store, step, epochs, charts)))

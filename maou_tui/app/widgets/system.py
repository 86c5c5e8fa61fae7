"""The system panel: CPU and memory of each trainer rank and, per GPU, utilisation, memory,
temperature and power, each with a sparkline of its recent history (``y`` shows or hides it).

``build_system_text`` is a pure function of the store's ``SystemHistory`` and a width, so it is
testable without a terminal; the widget only re-renders it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from textual.markup import escape
from textual.widgets import Static

from maou_tui.app.widgets.repaint import show_text
from maou_tui.protocol import GpuSample, SystemSample
from maou_tui.system_history import SystemHistory, gpu_key, process_key

#: Eight heights of a sparkline cell. Written by hand: one Static draws every row of the panel
#: as text, where Textual's ``Sparkline`` widget would be one widget (and layout) per row.
_BARS = "▁▂▃▄▅▆▇█"
#: Content widths below this get one line per rank (the side panel of an 80-column terminal).
COMPACT_WIDTH = 40
_GIB = 1024**3
NO_SAMPLES = "no system samples yet (maou-train, Monitor and maou-tui run send one every 5 s)"


def sparkline(
    values: np.ndarray, width: int, low: float | None = None, high: float | None = None
) -> str:
    """The last ``width`` values as bar characters from ``low`` to ``high`` (default: the
    values' own range); a missing value is a space."""
    if width <= 0:
        return ""
    tail = values[-width:].astype(np.float64)
    finite = tail[np.isfinite(tail)]
    if not finite.size:
        return " " * len(tail)
    low = float(finite.min()) if low is None else low
    high = float(finite.max()) if high is None else high
    span = high - low
    cells = []
    for value in tail.tolist():
        if not math.isfinite(value):
            cells.append(" ")
        elif span <= 0:
            cells.append(_BARS[len(_BARS) // 2])  # flat: a level line, not a full or empty bar
        else:
            level = round((min(max(value, low), high) - low) / span * (len(_BARS) - 1))
            cells.append(_BARS[level])
    return "".join(cells)


def _gib(value: float) -> str:
    return f"{value / _GIB:.1f}G" if math.isfinite(value) else "–"


def _percent(value: float) -> str:
    return f"{value:.0f}%" if math.isfinite(value) else "–"


def _last(values: np.ndarray) -> float:
    finite = values[np.isfinite(values)]
    return float(finite[-1]) if finite.size else math.nan


def _spark(head: str, values: np.ndarray, width: int, low: float | None, high: float | None):
    return escape(head) + f"[$accent]{sparkline(values, width - len(head), low, high)}[/]"


@dataclass
class _Process:
    rank: int
    pid: int
    cpu: np.ndarray
    rss: np.ndarray

    @property
    def cpu_top(self) -> float:
        """CPU % is per core: the scale is one core, or more where the process used more."""
        finite = self.cpu[np.isfinite(self.cpu)]
        return max(100.0, float(finite.max())) if finite.size else 100.0


@dataclass
class _Gpu:
    sample: GpuSample
    util: np.ndarray
    used: np.ndarray
    total: float

    def extras(self) -> str:
        parts = []
        if self.sample.temperature_c is not None:
            parts.append(f"{self.sample.temperature_c:.0f}°C")
        if self.sample.power_w is not None:
            parts.append(f"{self.sample.power_w:.0f} W")
        return "  ".join(parts)


def _processes(history: SystemHistory, latest: SystemSample) -> list[_Process]:
    return [
        _Process(
            p.rank,
            p.pid,
            history.column(process_key(p.rank, "cpu_percent")),
            history.column(process_key(p.rank, "rss_bytes")),
        )
        for p in latest.processes
    ]


def _gpus(history: SystemHistory, latest: SystemSample) -> list[_Gpu]:
    return [
        _Gpu(
            gpu,
            history.column(gpu_key(gpu.index, "util_percent")),
            history.column(gpu_key(gpu.index, "memory_used_bytes")),
            _last(history.column(gpu_key(gpu.index, "memory_total_bytes"))),
        )
        for gpu in latest.gpus
    ]


def _wide_rows(processes: list[_Process], gpus: list[_Gpu], width: int) -> list[str]:
    lines = []
    for p in processes:
        lines.append(f"[b]rank {p.rank}[/] [$foreground-muted]pid {p.pid}[/]")
        lines.append(_spark(f" CPU {_percent(_last(p.cpu)):>6} ", p.cpu, width, 0.0, p.cpu_top))
        lines.append(_spark(f" RSS {_gib(_last(p.rss)):>6} ", p.rss, width, None, None))
    for g in gpus:
        lines.append(f"[b]GPU {g.sample.index}[/] {escape(g.sample.name)}")
        lines.append(_spark(f" util{_percent(_last(g.util)):>6} ", g.util, width, 0.0, 100.0))
        top = g.total if math.isfinite(g.total) else None
        lines.append(_spark(f" mem {_gib(_last(g.used)):>6} ", g.used, width, 0.0, top))
        lines.append(escape(f"      of {_gib(g.total)}  {g.extras()}".rstrip()))
    return lines


def _compact_rows(processes: list[_Process], gpus: list[_Gpu], width: int) -> list[str]:
    """One line per rank, two per GPU: for the narrow side panel of a small terminal."""
    lines = []
    for p in processes:
        head = f"r{p.rank} CPU{_percent(_last(p.cpu)):>5} {_gib(_last(p.rss)):>6} "
        lines.append(_spark(head, p.cpu, width, 0.0, p.cpu_top))
    for g in gpus:
        head = f"GPU{g.sample.index} util{_percent(_last(g.util)):>5} "
        lines.append(_spark(head, g.util, width, 0.0, 100.0))
        memory = f"{_gib(_last(g.used))}/{_gib(g.total)}"
        lines.append(escape(f"  {memory} {g.extras()}".rstrip()))
    return lines


def build_system_text(history: SystemHistory, width: int) -> str:
    """The panel's markup for a content ``width``: below ``COMPACT_WIDTH`` one line per rank
    and two per GPU, else three lines each with the GPU's name."""
    latest = history.latest
    if latest is None:
        return f"[$foreground-muted]{NO_SAMPLES}[/]"
    processes, gpus = _processes(history, latest), _gpus(history, latest)
    rows = _compact_rows if width < COMPACT_WIDTH else _wide_rows
    lines = rows(processes, gpus, width)
    if not gpus:
        lines.append(f"[$warning]{escape(latest.gpu_note or 'no GPU reported')}[/]")
    return "\n".join(lines)


class SystemPanel(Static):
    """Current CPU/RSS per rank and GPU figures with sparklines; hidden until ``y``."""

    DEFAULT_CSS = """
    SystemPanel {
        height: auto;
        max-height: 50%;
        border: round $accent 50%;
        padding: 0 1;
        display: none;
    }
    SystemPanel.-shown {
        display: block;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._history: SystemHistory | None = None
        self._text = ""

    def on_mount(self) -> None:
        self.border_title = "system"

    def show(self, history: SystemHistory) -> None:
        """Draw ``history`` when the panel is shown and its text changed (the status pace
        calls this often; a hidden or unchanged panel costs no repaint)."""
        self._history = history
        if not self.has_class("-shown"):
            return
        text = build_system_text(history, self.content_region.width or COMPACT_WIDTH)
        if text != self._text:
            self._text = text
            show_text(self, text)

    def on_resize(self) -> None:
        if self._history is not None:
            self.show(self._history)

    def toggle(self) -> bool:
        """Show or hide the panel; True when it is shown now."""
        self.toggle_class("-shown")
        return self.has_class("-shown")

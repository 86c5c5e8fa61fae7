"""Tailing a busy log repaints at a bounded rate: the renders are counted, not timed."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import pytest
from pilot import status_text, wait_for
from textual.screen import Screen

from maou_tui.app import MaouApp, maou_app
from maou_tui.app.widgets.charts import RunChart
from maou_tui.app.widgets.log_viewer import LogViewer
from maou_tui.app.widgets.status import StatusPanel

PREFIX = "2026-08-22T10:15:00+09:00 | INFO  | train.py | run | 1 | "
BURSTS = 60
LINES_PER_BURST = 20


def guide_lines(first: int, count: int) -> str:
    """This project's train.log batch lines (each one a point)."""
    return "".join(
        f"{PREFIX}Epoch 1 Batch {b}/100000: Loss={1 / (1 + b):.5f}, F1=75.{b % 100:02d}%\n"
        for b in range(first, first + count)
    )


async def test_tailing_repaints_each_panel_at_a_bounded_rate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    counts: Counter[str] = Counter()

    def counted(name: str, original):  # type: ignore[no-untyped-def]
        def wrapper(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            counts[name if name != "chart" else type(self).__name__] += 1
            return original(self, *args, **kwargs)

        return wrapper

    monkeypatch.setattr(RunChart, "_build_strips", counted("chart", RunChart._build_strips))
    monkeypatch.setattr(StatusPanel, "update", counted("status", StatusPanel.update))
    relayout = Screen._refresh_layout

    def counted_layout(self: Screen, size=None, scroll: bool = False) -> None:  # type: ignore[no-untyped-def]
        # A scroll (the log pane following its end) places nothing anew: not counted.
        counts["layout" if not scroll else "scroll"] += 1
        relayout(self, size, scroll)

    monkeypatch.setattr(Screen, "_refresh_layout", counted_layout)
    monkeypatch.setattr(LogViewer, "refresh_index", counted("log", LogViewer.refresh_index))
    log = tmp_path / "train.log"
    log.write_text(f"{PREFIX}STAGE 2: LEGAL MOVES LEARNING\n" + guide_lines(1, 50))
    app = MaouApp(log, mode="watch")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.store.last_step >= 50 and app.up_to_date, "the log")
        counts.clear()
        started = time.monotonic()
        batch = 51
        with open(log, "a", encoding="utf-8") as out:
            for _ in range(BURSTS):
                out.write(guide_lines(batch, LINES_PER_BURST))
                out.flush()
                batch += LINES_PER_BURST
                await pilot.pause(0.02)
        last = batch - 1
        await wait_for(pilot, lambda: app.store.last_step == last and app.up_to_date, "the tail")
        await wait_for(pilot, lambda: f"batch {last}/" in status_text(app), "the status")
        elapsed = time.monotonic() - started
        # A log that stopped growing repaints nothing (the pane was refreshed 4 times a second
        # regardless: 2.9 % of a core while idle).
        lines = 1 + last  # the stage line, then one line a batch
        await wait_for(pilot, lambda: app.main.log_pane.line_count == lines, "the log pane")
        await pilot.pause(2 * maou_app.STATUS_INTERVAL_S)
        idle_from = counts["log"]
        await pilot.pause(4 * maou_app.STATUS_INTERVAL_S)
        assert counts["log"] == idle_from, counts
    # Upper bounds from the pacing (a slower machine only makes fewer renders); the writes
    # came in BURSTS batches, each of which would have repainted everything before.
    assert counts["status"] <= 2 + elapsed / maou_app.STATUS_INTERVAL_S, (counts, elapsed)
    for chart in ("LossChart", "MetricChart", "LrChart"):
        assert 1 <= counts[chart] <= 2 + elapsed / maou_app.CHART_INTERVAL_S, (counts, elapsed)
    # New step numbers repaint the status panel alone; the log pane's new lines move its
    # scroll bar without a layout (issue 20: 4 layouts a second before); a chart redraw (its
    # page, the cursor readout) may lay the screen out at the charts' pace, and the status
    # panel when a line is added to it (a few times while a run starts).
    assert counts["layout"] <= 4 + elapsed / maou_app.CHART_INTERVAL_S, (counts, elapsed)
    assert counts["status"] < BURSTS and counts["layout"] < BURSTS, counts
    assert counts["LossChart"] < BURSTS / 4, counts


async def test_the_findings_panel_draws_the_first_findings_and_counts_the_rest() -> None:
    """A long history can hold hundreds of findings; the panel wraps and draws only the most
    severe and newest (issue 20: drawing ~900 of them cost 25 MB and a layout a second)."""
    from textual.app import App, ComposeResult

    from maou_tui.app.widgets.findings import SHOWN_FINDINGS, FindingsPanel
    from maou_tui.diagnose.models import Finding

    def finding(step: int, severity: str) -> Finding:
        return Finding(
            id=f"f{step}", kind="oscillation", severity=severity, stage=2, step=step,
            last_step=step, message=f"swings around step {step}",
        )  # fmt: skip

    findings = [finding(step, "info") for step in range(1, 200)] + [finding(500, "critical")]

    class Host(App):
        def compose(self) -> ComposeResult:
            yield FindingsPanel(id="findings")

    app = Host()
    async with app.run_test(size=(80, 40)) as pilot:
        panel = app.query_one(FindingsPanel)
        panel.show(findings)
        await pilot.pause()
        text = str(panel.query_one("#findings-body").render())
        assert panel.border_title == f"findings ({len(findings)})"
        shown = [step for step in range(1, 501) if f"swings around step {step}\n" in text + "\n"]
        # The critical one first, then the newest infos; the oldest are counted, not drawn.
        assert shown[-1] == 500 and len(shown) == SHOWN_FINDINGS
        assert min(shown) == 199 - (SHOWN_FINDINGS - 2)
        assert f"{len(findings) - SHOWN_FINDINGS} more: maou-tui report lists them all" in text

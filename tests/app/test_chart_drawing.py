"""The charts' faster plotext helpers and text conversion give exactly what plotext and Rich do."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from rich.text import Text
from textual.app import App, ComposeResult
from textual_plotext.plot import Plot

from maou_tui.app.widgets import plotext_speedups as speedups
from maou_tui.app.widgets.charts import ChartView, LossChart, LrChart, MetricChart, RunChart
from maou_tui.protocol import EpochEnd, Phase, StageStarted
from maou_tui.store import RunStore

_int = st.integers(-3, 80)
_coordinate = st.one_of(_int, st.just(math.nan))


def _dots(*extra: st.SearchStrategy, max_size: int) -> st.SearchStrategy:
    """Lists of (x, y, *extra): mostly integer coordinates (the fast paths), some with NaN."""
    return st.one_of(
        st.lists(st.tuples(_int, _int, *extra), min_size=1, max_size=max_size),
        st.lists(st.tuples(_coordinate, _coordinate, *extra), min_size=1, max_size=max_size),
    )


_colour = st.sampled_from([(200, 30, 40), (20, 200, 40), "default"])


@example([(0, 0), (16, 0), (0, 2**63 - 4)])  # cells too far apart to number in an int64
@given(_dots(max_size=300))
def test_braille_cells_match_plotexts_own_grouping(dots: list[tuple[float, float]]) -> None:
    x, y = [d[0] for d in dots], [d[1] for d in dots]
    factors = [2] * len(dots), [4] * len(dots)
    want = speedups.ORIGINALS["hd_group"](x, y, *factors)
    assert repr(speedups.hd_group(x, y, *factors)) == repr(want)


@given(
    st.lists(st.tuples(_int, _int, _colour), min_size=2, max_size=60),
    st.sampled_from([1, 2, 3]),
)
def test_line_dots_match_plotexts_own_lines(points: list, scale: int) -> None:
    x, y = [p[0] * scale for p in points], [p[1] * scale for p in points]
    markers, colours, styles = ["braille"] * len(x), [p[2] for p in points], ["default"] * len(x)
    want = speedups.ORIGINALS["get_lines"](x, y, markers, colours, styles)
    assert speedups.get_lines(x, y, markers, colours, styles) == want


@example([(0, 0, "⠁"), (4, 0, "⠁"), (0, 2**62 - 1, "⠁")], 5, 5)  # too far apart, as above
@given(_dots(st.sampled_from(["⠁", "⠂"]), max_size=200), _int, _int)
def test_distinct_dots_and_clipping_match_plotext(dots: list, width: int, height: int) -> None:
    x, y = [d[0] for d in dots], [d[1] for d in dots]
    for other in (["braille"] * len(x), [(1, 2, 3)] * len(x)), ([d[2] for d in dots], ["red"]):
        got = speedups.brush(x, y, *other)
        want = speedups.ORIGINALS["brush"](x, y, *other)
        assert sorted(map(repr, zip(*got, strict=True))) == sorted(
            map(repr, zip(*want, strict=True))
        )
        if len(other[1]) == len(x):
            got = speedups.remove_outsiders(x, y, width, height, *other)
            want = speedups.ORIGINALS["remove_outsiders"](x, y, width, height, *other)
            assert repr(got) == repr(want)


_value = st.one_of(
    st.integers(-(10**6), 10**6), st.floats(-1e6, 1e6, allow_nan=False), st.just(math.nan)
)


@example([0.49999999999, 2.5, 1e-9, 9.999999999, 3], (0, 10), 11)  # plotext's 8-decimal rounding
@example([5.0, 1.0], (0, 1.1e-308), 10)  # a subnormal range: plotext itself overflows
@given(
    st.lists(_value, max_size=50),
    st.tuples(_value, _value).filter(lambda lim: lim[0] != lim[1] and math.nan not in lim),
    st.integers(1, 700),
)
def test_canvas_coordinates_match_plotexts_own(data: list, lim: tuple, bins: int) -> None:
    want = _outcome(speedups.ORIGINALS["get_matrix_data"], data, list(lim), bins)
    assert _outcome(speedups.get_matrix_data, data, list(lim), bins) == want


def _outcome(function: Callable[..., object], *args: object) -> str:
    """What a call gives, or the error it raises: the same either way is agreement."""
    try:
        return repr(function(*args))
    except (OverflowError, ValueError, ZeroDivisionError) as error:
        return type(error).__name__


@contextmanager
def _plotexts_own_helpers() -> Iterator[None]:
    speedups.uninstall()
    try:
        yield
    finally:
        speedups.install()


def _chart(plt: Plot, seed: int) -> None:
    """A chart like the loss chart: a noisy zigzag band, a smooth line, points, marks, labels."""
    plt.clear_figure()
    plt.plotsize(100, 18)
    plt._set_size(100, 18)
    plt.title("loss")
    xs = list(range(0, 3_000, 7))
    band = [math.exp(-i / 900) + ((i * 7919 + seed) % 97) / 300 for i in xs]
    band[40] = math.nan  # a gap: plotext's own helpers draw it
    plt.plot(xs, band, marker="braille", color=(90, 90, 90))
    plt.plot(xs, [math.exp(-i / 900) + 0.15 for i in xs], marker="braille", color=(200, 30, 40))
    plt.scatter([500, 1_500], [0.8, 0.5], marker="◆", color=(20, 200, 40))
    plt.vline(1_000, (90, 90, 250))
    plt.text("S2", 1_000, 1.6, color=(90, 90, 250), background=(0, 0, 0), alignment="left")
    plt.xlim(0, 3_000)
    plt.ylim(-0.1, 1.7)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_chart_draws_the_same_text_as_plotext_and_rich(seed: int) -> None:
    with _plotexts_own_helpers():
        plt = Plot()
        _chart(plt, seed)
        want = Text.from_ansi(plt.build())
    plt = Plot()
    _chart(plt, seed)
    got = speedups.figure_text(plt)
    assert (got.plain, got.spans, got.end) == (want.plain, want.spans, want.end)
    assert "⣿" in got.plain or "⡇" in got.plain  # the band really is drawn


@pytest.mark.parametrize("theme", ["dark", "clear"])  # clear: cells with no colour at all
def test_matrix_text_keeps_styles_and_backgrounds(theme: str) -> None:
    plt = Plot()
    plt.clear_figure()
    plt.plotsize(40, 10)
    plt.theme(theme)
    plt.plot([1, 2, 3], [3, 1, 2], marker="braille", color="red+")
    plt.text("mark", 2, 2.5, color=(1, 2, 3), background="blue", style="italic")
    want = Text.from_ansi(plt.build())
    got = speedups.matrix_text(plt.monitor.matrix)
    assert (got.plain, got.spans) == (want.plain, want.spans)
    assert any(span.style.italic for span in got.spans)


def _dense_store() -> RunStore:
    """20,000 noisy steps of Stage 1 with warmup/decay, epochs, a NaN loss and val points."""
    store = RunStore()
    store.apply(StageStarted(stage=1, name="REACHABLE_SQUARES", metric="accuracy", start_step=0))
    store.apply(Phase(stage=1, phase="warmup", start_step=0, end_step=2_000))
    store.apply(Phase(stage=1, phase="decay", start_step=2_000, end_step=20_000))
    rng = np.random.default_rng(7)
    for epoch, step in enumerate(range(4_000, 20_000, 4_000), start=1):
        store.apply(EpochEnd(stage=1, epoch=epoch, global_step=step, train_loss=0.3))
        store.series("val_loss").append(step, 0.3 + 0.5 / epoch)
    for step in range(20_000):
        noise = float(rng.standard_normal())
        loss = math.nan if step == 9_000 else math.exp(-step / 6_000) + 0.1 * noise
        store.series("loss").append(step, loss)
        store.series("accuracy").append(step, min(1.0, 0.5 + step / 40_000 + 0.05 * noise))
        store.series("accuracy_cum").append(step, 0.5 + step / 40_000)
        store.series("lr").append(step, 1e-3 * (1 + math.cos(math.pi * step / 20_000)) / 2)
    store.last_step, store.current_stage = 19_999, 1
    return store


class _Charts(App):
    CSS = "LossChart, MetricChart, LrChart { height: 1fr; }"

    def compose(self) -> ComposeResult:
        store = _dense_store()
        yield from (LossChart(store), MetricChart(store), LrChart(store))


async def test_the_apps_charts_draw_the_same_with_plotexts_own_helpers() -> None:
    app = _Charts()
    async with app.run_test(size=(140, 45)) as pilot:
        await pilot.pause()
        for chart in app.query(RunChart):
            chart.replot(ChartView())
            got = chart.render()
            with _plotexts_own_helpers():
                chart.replot(ChartView())
                plt, (width, height) = chart.plt, chart.size
                plt.plotsize(width, height)
                plt._set_size(width, height)
                plt.theme(chart._get_plotext_theme_name(app.theme))
                want = Text.from_ansi(plt.build())  # what PlotextPlot.render does
            assert (got.plain, got.spans) == (want.plain, want.spans), type(chart).__name__
            assert sum("\u2801" <= c <= "\u28ff" for c in got.plain) > 100  # the curves are drawn
            assert isinstance(chart, LrChart) or got.plain.count("⣿") > 10  # and a dense band

"""The charts' faster plotext helpers and text conversion give exactly what plotext and Rich do."""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.text import Text
from textual_plotext.plot import Plot

import maou_tui.app.widgets.charts  # noqa: F401  (installs the speedups, as the app does)
from maou_tui.app.widgets import plotext_speedups as speedups

_int = st.integers(-3, 80)
_coordinate = st.one_of(_int, st.just(math.nan))
_colour = st.sampled_from([(200, 30, 40), (20, 200, 40), "default"])


@given(st.lists(st.tuples(_coordinate, _coordinate), min_size=1, max_size=300))
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


@given(st.lists(st.tuples(_coordinate, _coordinate), min_size=1, max_size=200))
def test_distinct_dots_and_clipping_match_plotext(dots: list[tuple[float, float]]) -> None:
    x, y = [d[0] for d in dots], [d[1] for d in dots]
    other = ["braille"] * len(x), [(1, 2, 3)] * len(x)
    got = speedups.brush(x, y, *other)
    want = speedups.ORIGINALS["brush"](x, y, *other)
    assert sorted(map(repr, zip(*got, strict=True))) == sorted(map(repr, zip(*want, strict=True)))
    got = speedups.remove_outsiders(x, y, 40, 20, *other)
    want = speedups.ORIGINALS["remove_outsiders"](x, y, 40, 20, *other)
    assert repr(got) == repr(want)


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

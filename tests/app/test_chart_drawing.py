"""The charts' faster braille grouping and ANSI decoding give exactly what plotext and Rich do."""

from __future__ import annotations

import math

import plotext
import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.text import Text

from maou_tui.app.widgets.charts import _plotext_hd_group, ansi_to_text, hd_group_by_cell

_coordinate = st.one_of(st.integers(-3, 80), st.just(math.nan))


@given(st.lists(st.tuples(_coordinate, _coordinate), min_size=1, max_size=300))
def test_braille_cells_match_plotexts_own_grouping(dots: list[tuple[float, float]]) -> None:
    x, y = [d[0] for d in dots], [d[1] for d in dots]
    ones = [2] * len(dots), [4] * len(dots)
    want_x, want_y, want_masks = _plotext_hd_group(x, y, *ones)
    got_x, got_y, got_masks = hd_group_by_cell(x, y, *ones)
    assert repr((list(got_x), list(got_y), got_masks)) == repr(
        (list(want_x), list(want_y), want_masks)
    )


def test_a_dense_braille_line_renders_the_same_text_with_either_grouping() -> None:
    def render() -> str:
        plotext.clear_figure()
        plotext.plotsize(60, 15)
        xs = list(range(2_000))
        plotext.plot(xs, [math.sin(i / 40) + (i % 7) / 10 for i in xs], marker="braille")
        return plotext.build()

    assert plotext._utility.hd_group is hd_group_by_cell  # importing the charts installs it
    fast = render()
    plotext._utility.hd_group = _plotext_hd_group
    try:
        assert render() == fast
    finally:
        plotext._utility.hd_group = hd_group_by_cell


def _colour_plot() -> str:
    plotext.clear_figure()
    plotext.plotsize(70, 18)
    plotext.title("loss")
    xs = list(range(500))
    plotext.plot(xs, [math.cos(i / 30) for i in xs], marker="braille", color=(200, 30, 40))
    plotext.scatter([10, 200], [0.5, -0.5], marker="◆", color=(20, 200, 40))
    plotext.vline(100, (90, 90, 250))
    plotext.text("S2", 100, 0.9, color=(90, 90, 250), background=(0, 0, 0))
    return plotext.build()


@pytest.mark.parametrize(
    "ansi",
    [
        _colour_plot(),
        "plain\n\nlines\n",
        "\x1b[1;38;5;3mbold\x1b[0m \x1b[48;2;1;2;3mbg\x1b[38;5;9m+fg\x1b[mreset",
        "\x1b[31mred\nstill red\x1b[0m",
        "cursor \x1b[2Kcleared\x1b[31mx\x1b[0m",  # not a colour: Rich decides
        "over\rwritten",
    ],
)
def test_chart_text_is_what_rich_decodes_from_plotexts_colours(ansi: str) -> None:
    want, got = Text.from_ansi(ansi), ansi_to_text(ansi)
    assert (got.plain, got.spans, got.end, got.tab_size) == (
        want.plain,
        want.spans,
        want.end,
        want.tab_size,
    )

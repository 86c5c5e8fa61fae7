"""The charts' faster braille grouping draws exactly what plotext's own does."""

from __future__ import annotations

import math

import plotext
from hypothesis import given
from hypothesis import strategies as st

from maou_tui.app.widgets.charts import _plotext_hd_group, hd_group_by_cell

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

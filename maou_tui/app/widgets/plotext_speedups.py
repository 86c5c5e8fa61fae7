"""Faster stand-ins for plotext's per-dot helpers, and a built figure straight to Rich ``Text``.

Why patch plotext: it turns every series into braille dots one Python call at a time (the line
between two points, duplicate removal, the grouping into cells, the clipping), several calls a
dot. A chart's per-batch band is ~5,000 dots, and drawing it was most of a 40-50 ms redraw.
Each stand-in computes the same result with numpy and hands anything it does not handle
(non-integer or NaN coordinates, varying markers or colours, mismatched lengths) to plotext's
own function. tests/app/test_chart_drawing.py compares each with plotext's original on random
input, and whole charts drawn both ways.

``figure_text`` replaces ``Text.from_ansi(plt.build())``: it reads plotext's character and
colour matrices directly instead of printing them as ANSI sequences and parsing those back.
"""

from __future__ import annotations

import itertools
from functools import lru_cache

import numpy as np
import plotext._utility as plotext_utility
from rich.ansi import AnsiDecoder
from rich.style import Style
from rich.text import Span, Text

#: plotext's own versions (the fallbacks, and what the tests compare with).
ORIGINALS = {
    name: getattr(plotext_utility, name)
    for name in ("get_matrix_data", "get_lines", "brush", "hd_group", "remove_outsiders")
}


def _ints(values: list) -> np.ndarray | None:
    """``values`` as an int64 array when every one is a Python int, else None."""
    if not isinstance(values, list) or not values:
        return None
    array = np.asarray(values)
    return array if array.dtype == np.int64 and array.ndim == 1 else None


def _constant(values: list) -> bool:
    return bool(values) and values.count(values[0]) == len(values)


#: Below this, int arithmetic and float64 arithmetic agree (plotext mixes the two).
_EXACT = 2**50


def get_matrix_data(data: list, lim: list, bins: int) -> list:
    """``plotext._utility.get_matrix_data``: values to canvas cells (or dots), with plotext's
    rounding to 8 decimals before the floor, in the same float operations."""
    values = np.asarray(data) if isinstance(data, list) and data else None
    lo, hi = lim
    if (
        values is None
        or values.dtype.kind not in "if"
        or not all(isinstance(v, int | float) for v in (lo, hi, bins))
        or not np.all(np.abs(values) < _EXACT)  # finite, and exact as float64 (no NaN)
        or not (abs(lo) < _EXACT and abs(hi) < _EXACT and lo != hi)
    ):
        return ORIGINALS["get_matrix_data"](data, lim, bins)
    with np.errstate(over="ignore", invalid="ignore"):  # an inf here falls back below
        scaled = (0.5 + (bins - 1) * (values - lo) / (hi - lo)) * 10**8
        floor = np.floor(scaled)
        cells = np.floor(np.where(scaled - floor < 0.5, floor, np.ceil(scaled)) * 10 ** (-8))
    if not np.all(np.abs(cells) < _EXACT):  # far off the canvas: Python ints, as plotext
        return ORIGINALS["get_matrix_data"](data, lim, bins)
    return cells.astype(np.int64).tolist()


def get_lines(x: list, y: list, *other: list) -> list[list]:
    """``plotext._utility.get_lines``: the dots of the straight lines between consecutive points
    (each segment without its end point, then the last point), ``other`` (markers, colours,
    styles) repeated to match."""
    xs, ys = _ints(x), _ints(y)
    if xs is None or ys is None or len(xs) < 2 or any(len(v) != len(xs) for v in (y, *other)):
        return ORIGINALS["get_lines"](x, y, *other)
    dx, dy = np.diff(xs), np.diff(ys)
    dots = np.maximum(np.abs(dx), np.abs(dy))  # per segment: plotext's linspace length - 1
    segment = np.repeat(np.arange(len(dots)), dots)
    k = np.arange(len(segment)) - np.repeat(np.cumsum(dots) - dots, dots)
    per_dot = np.maximum(dots, 1)
    # lower + k * slope, then int(): the same float operations as plotext's linspace.
    line_x = (xs[:-1][segment] + k * (dx / per_dot)[segment]).astype(np.int64)
    line_y = (ys[:-1][segment] + k * (dy / per_dot)[segment]).astype(np.int64)
    out = [[*line_x.tolist(), x[-1]], [*line_y.tolist(), y[-1]]]
    picks = None
    for values in other:
        if _constant(values):
            out.append([values[0]] * (len(segment) + 1))
            continue
        picks = segment.tolist() if picks is None else picks
        out.append([values[i] for i in picks] + [values[-1]])
    return out


def brush(*lists: list) -> list[list]:
    """``plotext._utility.brush``: the distinct (x, y, marker, colour, ...) tuples, as columns
    cut to the shortest. plotext's order is a set's (arbitrary); this keeps the first of each."""
    size = min(map(len, lists), default=0)
    lists = tuple(v[:size] for v in lists)
    xs, ys = (_ints(lists[0]), _ints(lists[1])) if len(lists) >= 2 else (None, None)
    if xs is None or ys is None:
        return ORIGINALS["brush"](*lists)
    first = _first_of_each(xs, ys)
    if first is not None and len(first) == size:  # distinct (x, y): so are the tuples
        return [list(v) for v in lists]
    if first is None or not all(_constant(v) for v in lists[2:]):
        return ORIGINALS["brush"](*lists)
    return [xs[first].tolist(), ys[first].tolist(), *([v[0]] * len(first) for v in lists[2:])]


def _first_of_each(xs: np.ndarray, ys: np.ndarray) -> np.ndarray | None:
    """Indices of the first occurrence of each distinct (x, y) pair, in order (None when the
    pairs are too far apart to number in an int64)."""
    key = _pair_keys(xs, ys)
    if key is None:
        return None
    _, first = np.unique(key, return_index=True)
    return np.sort(first)


def _pair_keys(xs: np.ndarray, ys: np.ndarray) -> np.ndarray | None:
    """One int64 per (x, y) pair, equal exactly when the pairs are."""
    height = int(ys.max()) - int(ys.min()) + 1
    if (int(xs.max()) - int(xs.min()) + 1) * height >= 2**62:
        return None
    return (xs - xs.min()) * height + (ys - ys.min())


def hd_group(x: list, y: list, xf: list, yf: list):
    """``plotext._utility.hd_group``: braille (or hd) dots to one marker per terminal cell: the
    cells in order of first appearance and each cell's dots as a tuple of 0/1."""
    xs, ys = _ints(x), _ints(y)
    if xs is None or ys is None or len(ys) != len(xs) or not (_constant(xf) and _constant(yf)):
        return ORIGINALS["hd_group"](x, y, xf, yf)
    fx, fy = xf[0], yf[0]
    cell_x, cell_y = xs // fx, ys // fy
    bits = np.left_shift(1, (fy - 1 - ys % fy) * fx + xs % fx)
    key = _pair_keys(cell_x, cell_y)
    if key is None:
        return ORIGINALS["hd_group"](x, y, xf, yf)
    _, first, cell = np.unique(key, return_index=True, return_inverse=True)
    masks = np.zeros(len(first), np.int64)
    np.bitwise_or.at(masks, cell, bits)
    order = np.argsort(first)
    table = _dot_tuples(fx * fy)
    return (
        cell_x[first[order]].tolist(),
        cell_y[first[order]].tolist(),
        [table[mask] for mask in masks[order].tolist()],
    )


@lru_cache(maxsize=8)
def _dot_tuples(dots: int) -> list[tuple[int, ...]]:
    """Each bit mask of ``dots`` dots as plotext's tuple of 0/1 (dot 0 first)."""
    return [tuple((mask >> i) & 1 for i in range(dots)) for mask in range(1 << dots)]


def remove_outsiders(x: list, y: list, width: int, height: int, *other: list) -> list[list]:
    """``plotext._utility.remove_outsiders``: only the cells inside the canvas."""
    xs, ys = _ints(x), _ints(y)
    if xs is None or ys is None or len(ys) != len(xs) or any(len(v) < len(xs) for v in other):
        return ORIGINALS["remove_outsiders"](x, y, width, height, *other)
    keep = (xs >= 0) & (xs < width) & (ys >= 0) & (ys < height)
    picks = np.flatnonzero(keep).tolist()
    out = [xs[keep].tolist(), ys[keep].tolist()]
    for values in other:
        out.append([values[0]] * len(picks) if _constant(values) else [values[i] for i in picks])
    return out


def install() -> None:
    """Make plotext use the stand-ins (plotext looks them up on its module at each build)."""
    for name in ORIGINALS:
        setattr(plotext_utility, name, globals()[name])


def uninstall() -> None:
    """Back to plotext's own helpers (for the tests that compare the two)."""
    for name, original in ORIGINALS.items():
        setattr(plotext_utility, name, original)


# ------------------------------------------------------------------------ matrix to Text


def figure_text(plt) -> Text:
    """``Text.from_ansi(plt.build())`` for a plotext figure, without the ANSI in between: the
    figure is built, then its matrix of characters and colours becomes text and spans."""
    matrix = built_matrix(plt)
    return Text.from_ansi(plt.build()) if matrix is None else matrix_text(matrix)


def matrix_text(matrix) -> Text:
    """A plotext matrix as the ``Text`` Rich decodes from its ``set_canvas()`` output: one span
    per run of cells of the same colours, rows top first, each ending with a newline."""
    plain: list[str] = []
    spans: list[Span] = []
    offset = 0
    for row in matrix_rows(matrix):
        for chunk, style in row:
            if style:
                spans.append(Span(offset, offset + len(chunk), style))
            plain.append(chunk)
            offset += len(chunk)
        plain.append("\n")
        offset += 1
    return Text("".join(plain), end="\n", tab_size=8, spans=spans)


def matrix_rows(matrix) -> list[list[tuple[str, Style | None]]]:
    """A plotext matrix's rows, top first, each as its runs of cells of the same colours:
    ``(characters, the style Rich gives those colours)``."""
    rows = []
    for row in reversed(range(matrix.rows)):
        markers = matrix.marker[row]
        colours = zip(
            matrix.fullground[row], matrix.style[row], matrix.background[row], strict=True
        )
        runs = []
        start = 0
        for colour, run in itertools.groupby(colours):
            end = start + len(list(run))
            chunk = "".join(markers[start:end])
            if chunk:
                runs.append((chunk, _style_of(colour)))
            start = end
        rows.append(runs)
    return rows


def built_matrix(plt):
    """Build a plotext figure (as ``plt.build()`` does, without printing it); its matrix, or
    None for a figure plotext only draws through ``build`` (``fast_plot``)."""
    if plt.monitor.fast_plot:
        return None
    plt._set_sizes()
    plt._build_matrix()
    return plt.monitor.matrix


@lru_cache(maxsize=512)
def _style_of(colour: tuple) -> Style | None:
    """The style Rich gives a cell of these plotext colours (Rich decides, once per colour)."""
    codes = plotext_utility.colors_to_ansi(*colour)
    if not codes:
        return None
    decoded = AnsiDecoder().decode_line(codes + "x")
    if not decoded.spans:
        return None
    style = decoded.spans[0].style
    return style if isinstance(style, Style) else Style.parse(style)

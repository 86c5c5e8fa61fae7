"""Helpers shared by the ingest tests."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from maou_tui.ingest.lines import LineBuffer
from maou_tui.ingest.maou_log import MaouLogParser
from maou_tui.store import NamedPoints

GOLDEN = Path(__file__).parent / "golden"


def compact(event) -> dict:
    """An event as a plain dict without transport fields; floats rounded, NaN as the string."""
    if isinstance(event, NamedPoints):
        return {"type": "points", **{name: _round(list(c)) for name, c in event.columns.items()}}
    data = event.model_dump(exclude={"v", "seq", "t"}, exclude_none=True)
    return {key: _round(value) for key, value in data.items()}


def _round(value):
    if isinstance(value, float):
        return "nan" if math.isnan(value) else round(value, 9)
    if isinstance(value, list | tuple):
        return [_round(v) for v in value]
    if isinstance(value, dict):
        return {k: _round(v) for k, v in value.items()}
    return value


def parse_pieces(pieces: list[bytes]) -> list[dict]:
    """Feed byte pieces through LineBuffer and MaouLogParser as a tail would."""
    lines, parser = LineBuffer(), MaouLogParser()
    events = []
    for piece in pieces:
        events += parser.feed(lines.feed(piece))
    events += parser.feed(lines.flush()) + parser.finish()
    return [compact(e) for e in events]


@pytest.fixture
def golden() -> Path:
    return GOLDEN

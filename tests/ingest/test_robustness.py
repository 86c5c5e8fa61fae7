"""Byte-level robustness: chunking never changes the result; damage never crashes."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from maou_tui.ingest.lines import MAX_LINE_BYTES, LineBuffer
from tests.ingest.conftest import GOLDEN, parse_pieces

LOGS = {
    name: (GOLDEN / f"{name}.log").read_bytes()
    for name in ("maou_stage12", "maou_stage3", "guide_lines", "maou_stage12.bare")
}
WHOLE = {name: parse_pieces([data]) for name, data in LOGS.items()}


def _split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    bounds = [0, *points, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(bounds)]


@settings(max_examples=60, deadline=None)
@given(name=st.sampled_from(sorted(LOGS)), cuts=st.lists(st.integers(0, 10**6), max_size=40))
def test_any_byte_split_gives_the_points_of_reading_whole(name: str, cuts: list[int]) -> None:
    assert parse_pieces(_split(LOGS[name], cuts)) == WHOLE[name]


@settings(max_examples=150, deadline=None)
@given(data=st.binary(max_size=3000), cuts=st.lists(st.integers(0, 3000), max_size=8))
def test_random_bytes_never_crash(data: bytes, cuts: list[int]) -> None:
    parse_pieces(_split(data, cuts))


@settings(max_examples=100, deadline=None)
@given(
    junk=st.lists(
        st.sampled_from(
            [
                b"\xff\xfe",
                b"\x1b[31m",
                b"\r",
                b"\n",
                b"Epoch 1 Batch ",
                b"Stage 2 Epoch 3/",
                b"%|",
                b"Loss=",
                b"nan",
                b"1e999",
                b"99999999999999999999",
                b"STAGE 9: ",
                b"EPOCH 0:",
                b"Training:  5%|#| 5/0 [00:00, 1it/s, acc=1%, loss=x]",
            ]
        ),
        max_size=30,
    )
)
def test_near_miss_lines_never_crash(junk: list[bytes]) -> None:
    parse_pieces([b"".join(junk)])


def test_crlf_ansi_and_invalid_utf8_are_cleaned() -> None:
    data = LOGS["maou_stage12"]
    damaged = data.replace(b"\n", b"\r\n").replace(b"Stage 1 Epoch", b"\x1b[32mStage 1 Epoch")
    damaged = damaged.replace(b"Traceback", b"\xff\xfeTraceback")  # damage in an unparsed line
    assert parse_pieces([damaged]) == WHOLE["maou_stage12"]


def test_a_half_written_last_line_waits_for_its_break() -> None:
    lines = LineBuffer()
    assert lines.feed(b"Epoch 1 Batch 1/5: Loss=0.5") == b""
    assert lines.feed(b"000, F1=1.00%\nEpoch 1 Ba") == b"Epoch 1 Batch 1/5: Loss=0.5000, F1=1.00%\n"
    assert lines.feed(b"tch 2/5: Loss=0.4\r") == b"Epoch 1 Batch 2/5: Loss=0.4\r"


def test_a_line_over_1_mib_is_cut_and_counted_and_the_next_line_survives() -> None:
    lines = LineBuffer()
    big = b"x" * (MAX_LINE_BYTES + 10)
    out = lines.feed(big[:700_000]) + lines.feed(big[700_000:] + b"\nStage 1 Epoch 1/2: Loss=1\n")
    first, second = out.split(b"\n")[:2]
    assert len(first) == MAX_LINE_BYTES and second == b"Stage 1 Epoch 1/2: Loss=1"
    assert lines.cut_lines == 1
    out = lines.feed(b"y" * (3 * MAX_LINE_BYTES) + b"\rz\n")
    assert [len(x) for x in out.replace(b"\r", b"\n").split(b"\n")[:2]] == [MAX_LINE_BYTES, 1]
    assert lines.cut_lines == 2

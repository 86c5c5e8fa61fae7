"""The hook's step marks are taken out of the program's output wherever the pty cuts it, and
their places in the output without them are exact."""

from __future__ import annotations

from maou_tui.hook.step_marks import MARK, MarkStripper

OUTPUT = b"abc" + MARK % 5 + b"xyz\r" + MARK % 16 + b"tail \x1b[0m\x1b]0;title\x07"


def test_marks_are_found_and_removed_however_the_output_is_cut() -> None:
    for first in range(len(OUTPUT) + 1):
        for second in range(first, len(OUTPUT) + 1):
            stripper = MarkStripper(100)
            pieces = [OUTPUT[:first], OUTPUT[first:second], OUTPUT[second:]]
            fed = [stripper.feed(piece) for piece in pieces]
            text = b"".join(out for out, _ in fed) + stripper.flush()
            assert text == b"abcxyz\rtail \x1b[0m\x1b]0;title\x07"
            assert [mark for _, marks in fed for mark in marks] == [(103, 5), (107, 16)]
            assert stripper.offset == 100 + len(text)

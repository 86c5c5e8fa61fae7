"""Step marks are written only ahead of output that follows a step, and place it exactly."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from contextlib import contextmanager

from maou_tui.hook.mark_writer import MarkWriter
from maou_tui.hook.step_marks import MarkStripper
from maou_tui.hook.supervise import open_terminal


def _read_all(master: int) -> bytes:
    chunks = []
    while True:
        os.set_blocking(master, False)
        try:
            chunks.append(os.read(master, 65536))
        except BlockingIOError:
            return b"".join(chunks)


@contextmanager
def _hooked_terminal() -> Iterator[tuple[io.TextIOWrapper, io.TextIOWrapper, MarkWriter, list]]:
    """stdout (line-buffered) and stderr on a terminal, as under ``maou-tui run``, with marks
    installed; after the block, the list holds what reached the terminal."""
    master, slave = open_terminal(80, 24)  # the supervisor's terminal
    stdout = io.TextIOWrapper(io.FileIO(slave, "w", closefd=False), line_buffering=True)
    stderr = io.TextIOWrapper(io.FileIO(slave, "w", closefd=False), write_through=True)
    marks = MarkWriter(slave)
    marks.install([stdout, stderr])
    output: list[bytes] = []
    try:
        yield stdout, stderr, marks, output
    finally:
        marks.uninstall()
        stdout.flush()
        output.append(_read_all(master))
        os.close(master)
        os.close(slave)


def test_a_mark_precedes_the_first_output_after_a_step_and_only_then() -> None:
    with _hooked_terminal() as (stdout, stderr, marks, output):
        print("before any step", file=stdout)
        marks.step = 1  # a step without output: no mark
        marks.step = 2
        print("loss 0.5", file=stdout)  # print writes twice (text, newline): one mark
        stderr.write("a warning\n")
        marks.step = 3
        stderr.write("\rbar 30%")  # the other stream: the mark comes first there
        print("iter 12: loss 0.25", file=stdout)  # after stderr's, no mark of its own
        marks.step = 7
        marks.uninstall()
        print("after the hook left", file=stdout)  # no mark: the streams are their own
    stripper = MarkStripper(0)
    text, found = stripper.feed(output[0])
    lines = text.decode()
    assert [step for _, step in found] == [2, 3]
    placed = {step: lines[offset:] for offset, step in found}
    assert placed[2].startswith("loss 0.5\na warning\n")
    assert placed[3].startswith("\rbar 30%iter 12: loss 0.25\nafter the hook left\n")
    assert lines.startswith("before any step\n")


def test_a_mark_waits_for_what_the_other_stream_buffered() -> None:
    """A partial line buffered in one stream goes out before the mark of the next step."""
    with _hooked_terminal() as (stdout, stderr, marks, output):
        stdout.write("epoch 1 ")  # buffered: no newline yet
        marks.step = 4
        stderr.write("warning\n")
    text, found = MarkStripper(0).feed(output[0])
    assert found == [(len("epoch 1 "), 4)]
    assert text == b"epoch 1 warning\n"

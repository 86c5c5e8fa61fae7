"""The log viewer's line index on real files: the same lines as a plain split, from the end
first, as the file grows, across block boundaries; search both ways; a growing log reported by
the run's one Tailer (``LogWatch``), including trainer.out until train.log exists."""

from __future__ import annotations

import random
import re
import threading
from pathlib import Path

import pytest

from maou_tui.ingest import Tailer
from maou_tui.ingest import line_index as line_index_module
from maou_tui.ingest.line_index import LineIndex
from maou_tui.ingest.log_watch import LogGrowth, LogWatch

REAL_CAPTURE = Path("/work/shared/reference/maou-real-output/learn-model-all-stages.typescript")
GOLDEN_CAPTURE = Path(__file__).parent / "golden" / "maou_real_all_stages.typescript"


def build(path: Path) -> LineIndex:
    index = LineIndex(path)
    if index.grow_to(path.stat().st_size):
        while index.step():
            pass
    return index


def all_lines(index: LineIndex) -> list[bytes]:
    return [index.line_bytes(k) for k in range(index.line_count)]


def expected(data: bytes) -> list[bytes]:
    lines = data.split(b"\n")
    return lines[:-1] if lines[-1] == b"" else lines


@pytest.fixture
def small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Blocks of a few hundred bytes, so a small file crosses many block boundaries."""
    monkeypatch.setattr(line_index_module, "FIRST_BLOCK", 97)
    monkeypatch.setattr(line_index_module, "BLOCK", 331)


def test_the_real_maou_capture_indexes_to_its_lines(small_blocks: None) -> None:
    capture = GOLDEN_CAPTURE if GOLDEN_CAPTURE.exists() else REAL_CAPTURE
    index = build(capture)
    data = capture.read_bytes()
    assert index.complete
    assert all_lines(index) == expected(data)  # CRLF lines keep their \r: the display drops it


@pytest.mark.parametrize("trailing_newline", [True, False])
def test_random_lines_with_bars_and_empty_lines(
    tmp_path: Path, small_blocks: None, trailing_newline: bool
) -> None:
    rng = random.Random(7)
    parts = []
    for _ in range(400):
        kind = rng.random()
        if kind < 0.1:
            parts.append(b"")
        elif kind < 0.3:  # a tqdm bar redrawn with \r, longer than a block
            parts.append(b"\r".join(b"bar %d%%" % p + b" " * 40 for p in range(0, 101, 10)))
        else:
            parts.append(b"x" * rng.randrange(1, 120))
    data = b"\n".join(parts) + (b"\n" if trailing_newline else b"")
    path = tmp_path / "train.log"
    path.write_bytes(data)
    index = build(path)
    assert all_lines(index) == expected(data)


def test_the_last_lines_come_first_and_earlier_ones_are_counted_as_prepended(
    tmp_path: Path, small_blocks: None
) -> None:
    path = tmp_path / "train.log"
    path.write_bytes(b"".join(b"line %04d\n" % n for n in range(300)))
    index = LineIndex(path)
    assert index.grow_to(path.stat().st_size)
    assert index.step()  # one small block: the end of the file, not its top
    assert not index.complete and 0 < index.line_count < 300
    assert index.line_bytes(index.line_count - 1) == b"line 0299"
    first_known = index.line_bytes(0)
    count = index.line_count
    while index.step():
        pass
    assert index.complete and index.line_count == 300
    assert index.lines_prepended == 300 - count
    assert index.line_bytes(index.lines_prepended) == first_known


def test_growth_is_indexed_forwards_and_a_half_written_line_is_shown(
    tmp_path: Path, small_blocks: None
) -> None:
    path = tmp_path / "train.log"
    path.write_bytes(b"one\ntwo\n")
    index = build(path)
    assert all_lines(index) == [b"one", b"two"]
    with path.open("ab") as handle:
        handle.write(b"three\nbar 10%\rbar 20%")  # a bar still being drawn: no \n yet
    assert index.grow_to(path.stat().st_size)
    while index.step():
        pass
    assert all_lines(index) == [b"one", b"two", b"three", b"bar 10%\rbar 20%"]
    assert not index.grow_to(path.stat().st_size)  # nothing new: no scan to start


def test_a_long_bar_line_is_read_as_its_last_render(tmp_path: Path) -> None:
    bar = b"\r".join(b"Epoch 1: %6d/100000" % n for n in range(0, 100000, 7))
    path = tmp_path / "train.log"
    path.write_bytes(b"before\n" + bar + b"\r\nafter\n")
    index = build(path)
    assert len(bar) > line_index_module.LINE_READ_CAP
    shown = index.line_bytes(1)
    assert len(shown) <= line_index_module.LINE_READ_CAP
    assert shown.rstrip(b"\r").rsplit(b"\r", 1)[-1] == bar.rsplit(b"\r", 1)[-1]


def test_find_forward_backward_and_line_at(tmp_path: Path, small_blocks: None) -> None:
    path = tmp_path / "train.log"
    lines = [b"Epoch %d Batch %d" % (e, b) for e in range(1, 4) for b in range(50)]
    lines[70] = b"WARNING Non-finite loss"
    lines[120] = b"warning again"
    path.write_bytes(b"\n".join(lines) + b"\n")
    index = build(path)
    pattern = re.compile(rb"warning", re.IGNORECASE)
    assert index.find(pattern, -1) == 70
    assert index.find(pattern, 70) == 120
    assert index.find(pattern, 120) is None
    assert index.find(pattern, index.line_count, backwards=True) == 120
    assert index.find(pattern, 120, backwards=True) == 70
    assert index.find(pattern, 70, backwards=True) is None
    start, end = index.line_span(70)
    assert index.line_at(start) == index.line_at(end) == 70


def test_log_watch_follows_trainer_out_until_train_log_exists_and_sees_truncation(
    tmp_path: Path,
) -> None:
    log, output = tmp_path / "train.log", tmp_path / "trainer.out"
    watch = LogWatch(log, fallback=output)
    assert watch.check() is None  # neither exists yet
    output.write_text("loading data\n")
    assert watch.check() == LogGrowth(output, 13, restarted=True)
    assert watch.check() is None
    log.write_text("Stage 1\n")
    assert watch.check() == LogGrowth(log, 8, restarted=True)
    log.write_text("Stage 1\nEpoch 1\n")
    assert watch.check() == LogGrowth(log, 16, restarted=False)
    log.write_text("new\n")  # truncated and rewritten
    assert watch.check() == LogGrowth(log, 4, restarted=True)


def test_the_run_tailer_reports_the_log_growing_beside_events(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    (run / "events.jsonl").write_text("")
    log = run / "train.log"
    seen: list[LogGrowth] = []
    grew = threading.Condition()

    def on_log(growth: LogGrowth) -> None:
        with grew:
            seen.append(growth)
            grew.notify_all()

    with Tailer(run, lambda events: None, log_watch=LogWatch(log), on_log=on_log):
        log.write_text("first line\n")
        with grew:
            assert grew.wait_for(lambda: seen and seen[-1].size == 11, 10)
        with log.open("a") as handle:
            handle.write("second\n")
        with grew:
            assert grew.wait_for(lambda: seen[-1].size == 18, 10)
    assert seen[0].restarted and not seen[-1].restarted

"""Tailer with real files and a real watchdog observer: growth, half lines, truncation,
rotation, deletion, late creation."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from maou_tui.ingest import Tailer, load_store
from maou_tui.ingest.reader import FileFollower
from maou_tui.protocol import Step
from maou_tui.store import RunStore, StepBatch
from tests.ingest.test_fast_paths import _same_store


class Collector:
    def __init__(self) -> None:
        self.events: list = []
        self._changed = threading.Condition()

    def __call__(self, events: list) -> None:
        with self._changed:
            self.events += events
            self._changed.notify_all()

    def batches(self) -> list[int]:
        return [e.batch for e in self.events if getattr(e, "type", None) == "step"]

    def kinds(self) -> list[str]:
        return [e.kind for e in self.events if e.type == "warning"]

    def wait_for(self, predicate, timeout: float = 3.0) -> bool:
        with self._changed:
            return self._changed.wait_for(predicate, timeout)


def line(batch: int, epoch: int = 1) -> bytes:
    return f"Epoch {epoch} Batch {batch}/1000: Loss=0.5, F1=50.00%\n".encode()


def append(path: Path, data: bytes) -> None:
    with open(path, "ab") as f:
        f.write(data)


def test_growth_is_read_and_a_half_line_waits_for_its_break(tmp_path: Path) -> None:
    path = tmp_path / "train.log"
    path.write_bytes(line(1))
    got = Collector()
    with Tailer(path, got, poll_interval=0.1):
        assert got.wait_for(lambda: got.batches() == [1])
        append(path, line(2) + line(3)[:12])
        assert got.wait_for(lambda: got.batches() == [1, 2])
        time.sleep(0.3)
        assert got.batches() == [1, 2]
        append(path, line(3)[12:])
        assert got.wait_for(lambda: got.batches() == [1, 2, 3])


def test_late_creation_then_deletion_then_a_new_file(tmp_path: Path) -> None:
    path = tmp_path / "later" / "train.log"
    got = Collector()
    with Tailer(path, got, poll_interval=0.1):
        time.sleep(0.2)
        path.parent.mkdir()
        path.write_bytes(line(1) + line(2))
        assert got.wait_for(lambda: got.batches() == [1, 2])
        path.unlink()
        time.sleep(0.3)
        path.write_bytes(line(3))
        assert got.wait_for(lambda: got.batches() == [1, 2, 3])


def test_copytruncate_restarts_from_the_top_and_is_noted(tmp_path: Path) -> None:
    path = tmp_path / "train.log"
    path.write_bytes(line(1) + line(2) + line(3))
    got = Collector()
    with Tailer(path, got, poll_interval=0.1):
        assert got.wait_for(lambda: got.batches() == [1, 2, 3])
        with open(path, "r+b") as f:  # what logrotate's copytruncate does
            f.truncate(0)
        append(path, line(4))
        assert got.wait_for(lambda: got.batches() == [1, 2, 3, 4])
        assert got.kinds() == ["log_truncated"]


def test_rotation_finishes_the_old_file_then_follows_the_new_one(tmp_path: Path) -> None:
    path = tmp_path / "train.log"
    writer = open(path, "ab", buffering=0)  # noqa: SIM115 - the trainer's open log
    try:
        writer.write(line(1))
        got = Collector()
        with Tailer(path, got, poll_interval=0.1):
            assert got.wait_for(lambda: got.batches() == [1])
            writer.write(line(2) + line(3)[:-1])
            os.rename(path, tmp_path / "train.log.1")
            path.write_bytes(line(4))
            assert got.wait_for(lambda: got.batches() == [1, 2, 3, 4])
            assert "log_rotated" in got.kinds()
    finally:
        writer.close()


def test_rotation_reads_what_the_writer_added_to_the_old_file_after_the_rename(
    tmp_path: Path,
) -> None:
    path = tmp_path / "train.log"
    follower = FileFollower(path)
    with open(path, "ab", buffering=0) as writer:
        writer.write(line(1))
        assert follower.read() == [line(1)]
        os.rename(path, tmp_path / "train.log.1")
        writer.write(line(2) + line(3)[:-1])  # the writer has not reopened its log yet
        path.write_bytes(line(4))
        data = b"".join(follower.read())
    assert data == line(2) + line(3) + line(4)
    assert "rotated" in follower.notes[0]
    follower.close()


def test_a_long_history_arrives_in_pieces_and_a_failing_consumer_does_not_stop_the_tail(
    tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setattr("maou_tui.ingest.tailer.READ_BYTES", 4096)
    path = tmp_path / "train.log"
    path.write_bytes(b"".join(line(b) for b in range(1, 501)))  # ~25 KB of history
    got, calls = Collector(), []

    def consumer(events: list) -> None:
        calls.append(len(events))
        if len(calls) == 1:
            raise RuntimeError("a bug in the consumer")
        got(events)

    with Tailer(path, consumer, poll_interval=0.1) as tailer:
        assert got.wait_for(lambda: got.batches()[-1:] == [500])
        append(path, line(501))
        assert got.wait_for(lambda: got.batches()[-1:] == [501])
    assert len(calls) >= 6 and "a bug in the consumer" in (tailer.error or "")


def test_columns_tail_builds_the_store_a_whole_read_builds(tmp_path: Path) -> None:
    """The app tails with ``columns=True``: runs of steps arrive as StepBatch columns, and the
    store they build, written in pieces while tailing, equals reading the finished file."""
    path = tmp_path / "train.log"
    path.write_bytes(b"STAGE 2: LEGAL MOVES LEARNING\n" + line(1))
    got = Collector()
    with Tailer(path, got, poll_interval=0.1, columns=True):
        for batch in range(2, 200, 22):  # batches 2..199 in 9 writes
            append(path, b"".join(line(b) for b in range(batch, batch + 22)))
            time.sleep(0.02)
        assert got.wait_for(lambda: _steps(got.events) == 199), _steps(got.events)
    assert all(not isinstance(e, Step) for e in got.events)
    store = RunStore()
    store.apply_all(got.events)
    _same_store(store, load_store(path))


def _steps(events: list) -> int:
    return sum(len(e) for e in events if isinstance(e, StepBatch))


def test_a_busy_log_is_polled_and_a_quiet_one_watched(tmp_path: Path) -> None:
    """While every read finds new lines the observer is off (polling follows the file at a
    fraction of the observer's cost); once a read finds none it is back, and nothing written
    in between is lost or read twice."""
    path = tmp_path / "train.log"
    path.write_bytes(line(1))
    got = Collector()
    with Tailer(path, got, poll_interval=0.05) as tailer:
        assert got.wait_for(lambda: got.batches() == [1])
        assert tailer._watching is not None
        batch, deadline, polled = 1, time.monotonic() + 10, False
        while time.monotonic() < deadline and not polled:  # a trainer writing every 10 ms
            batch += 1
            append(path, line(batch))
            time.sleep(0.01)
            polled = tailer._watching is None
        assert polled, "the observer stayed on for a busy log"
        deadline = time.monotonic() + 5
        while tailer._watching is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert tailer._watching is not None, "the observer did not come back for a quiet log"
        append(path, line(batch + 1))
        assert got.wait_for(lambda: got.batches()[-1:] == [batch + 1])
    assert got.batches() == list(range(1, batch + 2))

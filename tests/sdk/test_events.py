"""EventWriter: numbering, prompt flushing, concurrency, and failures that must not crash."""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from pathlib import Path

import pytest

from maou_tui.protocol import EpochEnd, Step, decode_event
from maou_tui.sdk import EventWriter
from tests.full_disk import fill, free, small_filesystem


def step(n: int) -> Step:
    return Step(stage=1, epoch=1, batch=n, global_step=n, loss=1.0 / n, metric=0.5, lr=1e-3)


def read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_events_are_numbered_stamped_and_decodable(tmp_path: Path):
    writer = EventWriter(tmp_path / "events.jsonl")
    before = time.time()
    returned = [writer.emit(step(n)) for n in range(1, 4)]
    writer.close()
    assert [e.seq for e in returned] == [0, 1, 2]
    lines = (tmp_path / "events.jsonl").read_text().splitlines()
    decoded = [decode_event(line) for line in lines]
    assert [e.seq for e in decoded] == [0, 1, 2]
    assert all(before <= e.t <= time.time() for e in decoded)
    assert decoded[2].global_step == 3


def test_appending_on_resume_continues_the_sequence(tmp_path: Path):
    path = tmp_path / "events.jsonl"
    first = EventWriter(path)
    for n in range(1, 6):
        first.emit(step(n))
    first.close()
    with path.open("a") as handle:
        handle.write('{"v": 1, "seq": 4, "type": "st')  # a half-written last line (killed writer)
    second = EventWriter(path)
    assert second.emit(step(6)).seq == 5
    second.close()


def test_steps_reach_the_file_within_about_100_ms_without_flush(tmp_path: Path):
    writer = EventWriter(tmp_path / "events.jsonl")
    try:
        writer.emit(step(1))
        deadline = time.monotonic() + 1.0
        while not (tmp_path / "events.jsonl").read_text() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert read(tmp_path / "events.jsonl")[0]["global_step"] == 1
    finally:
        writer.close()


def test_boundary_events_are_written_immediately(tmp_path: Path):
    writer = EventWriter(tmp_path / "events.jsonl", flush_interval=60)
    try:
        writer.emit(step(1))
        assert (tmp_path / "events.jsonl").read_text() == ""  # buffered: no write per step
        writer.emit(EpochEnd(stage=1, epoch=1, global_step=1, train_loss=0.5))
        assert [e["type"] for e in read(tmp_path / "events.jsonl")] == ["step", "epoch_end"]
    finally:
        writer.close()


def test_concurrent_emitters_get_unique_sequence_numbers(tmp_path: Path):
    writer = EventWriter(tmp_path / "events.jsonl")

    def emit_many() -> None:
        for n in range(1, 501):
            writer.emit(step(n))

    threads = [threading.Thread(target=emit_many) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    writer.close()
    seqs = [e["seq"] for e in read(tmp_path / "events.jsonl")]
    assert seqs == list(range(2000))


def test_full_disk_is_reported_once_and_writing_resumes_with_the_gap_marked(
    caplog: pytest.LogCaptureFixture,
):
    with small_filesystem("1m") as disk:
        path = disk / "events.jsonl"
        writer = EventWriter(path)
        writer.emit(EpochEnd(stage=1, epoch=0, global_step=0, train_loss=0.1))
        fill(disk)
        with caplog.at_level(logging.ERROR):
            for n in range(1, 50):
                writer.emit(step(n))
                writer.emit(EpochEnd(stage=1, epoch=n, global_step=n, train_loss=0.1))
        assert writer.losing
        errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
        assert len(errors) == 1, [r.getMessage() for r in errors]
        assert "No space left on device" in errors[0].getMessage()
        assert "training continues" in errors[0].getMessage()
        assert path.read_bytes().endswith(b"}\n"), "no half line left behind"
        free(disk)
        writer.emit(EpochEnd(stage=1, epoch=50, global_step=50, train_loss=0.1))
        writer.close()
        events = read(path)
    assert not writer.losing
    gap = [e for e in events if e["type"] == "warning"]
    assert len(gap) == 1 and gap[0]["kind"] == "events_lost"
    lost = re.search(r"(\d+) events \(seq (\d+)\.\.(\d+)\) were lost", gap[0]["message"])
    assert lost, gap[0]["message"]
    count, first, last = map(int, lost.groups())
    assert count == last - first + 1 > 50
    written = [e["seq"] for e in events]
    assert sorted(written + list(range(first, last + 1))) == list(range(max(written) + 1))
    assert events[-2]["epoch"] == 50 and events[-1] == gap[0]


def test_removed_run_directory_is_reported_once(tmp_path: Path, caplog):
    run = tmp_path / "run"
    run.mkdir()
    writer = EventWriter(run / "events.jsonl")
    writer.emit(step(1))
    writer.flush()
    (run / "events.jsonl").unlink()
    run.rmdir()
    with caplog.at_level(logging.ERROR):
        for n in range(2, 20):
            writer.emit(EpochEnd(stage=1, epoch=n, global_step=n, train_loss=0.1))
        writer.close()
    assert writer.failed
    assert len([r for r in caplog.records if "was removed" in r.getMessage()]) == 1


def test_emit_after_close_is_a_clear_error(tmp_path: Path):
    writer = EventWriter(tmp_path / "events.jsonl")
    writer.close()
    writer.close()
    with pytest.raises(RuntimeError, match="closed"):
        writer.emit(step(1))


def test_non_finite_values_are_written_as_null(tmp_path: Path):
    writer = EventWriter(tmp_path / "events.jsonl")
    writer.emit(Step(stage=1, epoch=1, batch=1, global_step=1, loss=float("nan"), lr=1e-3))
    writer.close()
    assert read(tmp_path / "events.jsonl")[0]["loss"] is None


def test_deferred_events_keep_their_place_and_bad_ones_are_dropped_once(tmp_path: Path, caplog):
    writer = EventWriter(tmp_path / "events.jsonl")
    fields = {"stage": 1, "epoch": 1, "batch": 1, "global_step": 1, "loss": 0.25}
    with caplog.at_level(logging.ERROR):
        assert writer.emit_later(Step, fields) == 0
        assert writer.emit(step(2)).seq == 1
        assert writer.emit_later(Step, {**fields, "stage": 7}) == 2  # invalid: stage 1..3
        assert writer.emit_later(Step, {**fields, "loss": "lots"}) == 3  # invalid
        assert writer.emit_later(Step, {**fields, "global_step": 5}) == 4
        writer.close()
    lines = read(tmp_path / "events.jsonl")
    assert [(e["seq"], e["global_step"]) for e in lines] == [(0, 1), (1, 2), (4, 5)]
    assert lines[0]["loss"] == 0.25 and lines[0]["t"] > 0
    assert len([r for r in caplog.records if "dropped an invalid Step" in r.getMessage()]) == 1

"""Sources and load_store: events.jsonl, run directories, directories of runs, read_tail."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from maou_tui.ingest import IngestError, find_runs, load_store, open_source, read_tail
from maou_tui.ingest.source import FileSource, RunDirSource, RunsDirectory
from maou_tui.protocol import EpochEnd, RunStarted, StageStarted, Step, encode
from tests.ingest.conftest import GOLDEN


def _events_lines() -> list[str]:
    events = [RunStarted(pid=7), StageStarted(stage=1, name="reachable_squares", metric="accuracy")]
    events += [
        Step(stage=1, epoch=1, batch=b, global_step=b, loss=1 / b, metric_cum=0.9, lr=1e-3)
        for b in range(1, 6)
    ]
    events.append(EpochEnd(stage=1, epoch=1, global_step=5, train_loss=0.3, train_metric=0.95))
    return [encode(e) for e in events]


def test_events_jsonl_loads_and_corrupt_lines_are_counted_not_fatal(tmp_path: Path) -> None:
    lines = _events_lines()
    lines.insert(3, '{"type": "step", "stage": 9}')  # invalid
    lines.insert(4, "not json at all")
    lines.append('{"v": 1, "type": "from_the_future", "x": 1}')  # unknown: skipped quietly
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(lines) + "\n")
    store = load_store(path)
    assert store.series("loss").steps.tolist() == [1, 2, 3, 4, 5]
    assert store.series("accuracy_cum").values.tolist() == [0.9] * 5
    assert store.series("train_accuracy").values.tolist() == [0.95]
    assert store.skipped_lines == 2 and store.run is not None and store.run.pid == 7


def test_a_live_events_file_with_a_half_written_last_line_reads_cleanly(tmp_path: Path) -> None:
    lines = _events_lines()
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(lines[:-1]) + "\n" + lines[-1][:20])
    store = load_store(path)
    assert len(store.series("loss")) == 5 and store.skipped_lines == 0
    path.write_text("\n".join(lines))  # complete, just no final newline
    assert len(load_store(path).series("train_loss")) == 1


def test_a_run_dir_prefers_events_jsonl_over_train_log(tmp_path: Path) -> None:
    (tmp_path / "events.jsonl").write_text("\n".join(_events_lines()) + "\n")
    (tmp_path / "train.log").write_bytes((GOLDEN / "guide_lines.log").read_bytes())
    assert isinstance(open_source(tmp_path), RunDirSource)
    assert load_store(tmp_path).series("loss").steps.tolist() == [1, 2, 3, 4, 5]
    (tmp_path / "events.jsonl").unlink()
    assert load_store(tmp_path).series("loss").steps.tolist() == [100, 200, 300, 400, 565, 631]


def test_format_is_detected_from_content_not_name(tmp_path: Path) -> None:
    path = tmp_path / "whatever.txt"
    path.write_text("\n".join(_events_lines()) + "\n")
    source = open_source(path)
    assert isinstance(source, FileSource)
    assert len(source.read_new()) == 8 and source.format == "events"


def test_a_directory_of_runs_lists_newest_first_and_picks_up_new_ones(tmp_path: Path) -> None:
    old, new = tmp_path / "20260101-a", tmp_path / "20260102-b"
    for i, run in enumerate((old, new)):
        run.mkdir()
        (run / "train.log").write_bytes((GOLDEN / "guide_lines.log").read_bytes())
        os.utime(run / "train.log", (1000 + i, 1000 + i))
    (tmp_path / "notes.md").write_text("not a run")
    assert find_runs(tmp_path) == [new, old]
    runs = open_source(tmp_path)
    assert isinstance(runs, RunsDirectory)
    assert all(events for events in runs.read_new().values())
    later = tmp_path / "maou.log"
    later.write_bytes((GOLDEN / "maou_stage3.log").read_bytes())
    assert later in runs.read_new() and runs.runs()[0] == later
    with pytest.raises(IngestError, match="holds 3 runs; pass one of them"):
        load_store(tmp_path)


def test_missing_path_is_one_clear_line(tmp_path: Path) -> None:
    with pytest.raises(IngestError) as info:
        load_store(tmp_path / "nope.log")
    assert "no such file" in str(info.value) and "\n" not in str(info.value)


def test_read_tail_gives_a_first_screenful_from_a_full_line(tmp_path: Path) -> None:
    path = tmp_path / "train.log"
    body = (GOLDEN / "guide_lines.log").read_bytes()
    path.write_bytes(b"x" * 5000 + b"\n" + body)
    store, start = read_tail(path, max_bytes=len(body) + 10)
    assert start == path.stat().st_size - (len(body) + 10)
    assert len(store.series("loss")) == 6  # all batch lines of the tail, none from the junk
    whole = load_store(path)
    assert whole.series("loss").values.tolist()[-1] == store.series("loss").values.tolist()[-1]

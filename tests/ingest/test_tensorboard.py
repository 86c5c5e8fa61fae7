"""TensorBoard event files written by a real ``SummaryWriter``, read as a source."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from maou_tui.cli import main
from maou_tui.diagnose import diagnose
from maou_tui.ingest import Tailer, load_store, open_source, read_tail
from maou_tui.ingest.summary import summarize
from maou_tui.ingest.tensorboard import TensorBoardSource
from maou_tui.ingest.tfrecord import RecordFile
from maou_tui.store import RunStore
from tests.ingest.tb_writers import SummaryWriter, write_maou_run


def f32(value: float) -> float:
    """What a ``simple_value`` (float32) keeps of ``value``."""
    return float(np.float32(value))


def points(store: RunStore, name: str) -> dict[int, float]:
    series = store.series(name)
    return dict(zip(series.steps.tolist(), series.values.tolist(), strict=True))


def wait_for(condition, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the tail")
        time.sleep(0.05)


def cli(capsys, *args: str) -> tuple[int, str, str]:
    """``maou-tui ARGS`` in this process: (exit status, stdout, stderr)."""
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


# ------------------------------------------------------------------------- every scalar


def test_every_scalar_exported_with_step_value_and_wall_time(tmp_path: Path, capsys) -> None:
    run = tmp_path / "runs" / "hf"
    writer = SummaryWriter(str(run))
    for step in range(1, 21):
        wall = 1_700_000_000.0 + step
        writer.add_scalar("train/loss", 3.0 / step, step, walltime=wall)
        writer.add_scalar("train/learning_rate", 1e-4 * step, step, walltime=wall)
        writer.add_scalar("grad_norm", 0.5 + step, step, walltime=wall)
        if step % 5 == 0:
            writer.add_scalar("eval/loss", 2.0 / step, step, walltime=wall)
            writer.add_scalars(
                "acc", {"train": 0.1 * step, "val": 0.05 * step}, step, walltime=wall
            )
    writer.add_scalar("new_style", 7.25, 3, new_style=True)
    writer.close()

    code, out, err = cli(capsys, "export", str(run), "--format", "jsonl")
    assert code == 0, err
    rows = [json.loads(line) for line in out.splitlines()]
    got = {(r["name"], r["step"]): (r["value"], r["wall_time"]) for r in rows}
    for step in range(1, 21):
        wall = 1_700_000_000.0 + step
        assert got["loss", step] == (f32(3.0 / step), wall)
        assert got["lr", step] == (f32(1e-4 * step), wall)
        assert got["grad_norm", step] == (f32(0.5 + step), wall)
    for step in range(5, 21, 5):
        assert got["val_loss", step][0] == f32(2.0 / step)
        assert got["accuracy", step][0] == f32(0.1 * step)
        assert got["val_accuracy", step][0] == f32(0.05 * step)
    assert got["new_style", 3][0] == 7.25
    assert len(rows) == 20 * 3 + 4 * 3 + 1  # nothing more, nothing twice


def test_a_log_dir_of_runs_exports_each_run(tmp_path: Path, capsys) -> None:
    for name, scale in (("a", 1.0), ("b", 2.0)):
        with SummaryWriter(str(tmp_path / "logs" / name)) as writer:
            for step in range(5):
                writer.add_scalar("loss", scale * step, step)
    code, out, err = cli(capsys, "export", str(tmp_path / "logs"))
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("run,stage,epoch,batch,step,name,value")
    assert {line.split(",")[0] for line in lines[1:]} == {"a", "b"}
    assert len(lines) == 1 + 10


# ------------------------------------------------------------------------- maou's layout


def test_maou_run_reads_the_same_from_its_event_files_and_its_log(tmp_path: Path) -> None:
    run = write_maou_run(tmp_path)
    from_events = load_store(run.run_dir)
    from_log = load_store(run.log)

    assert set(from_events.names()) <= set(from_log.names())
    assert set(from_log.names()) - set(from_events.names()) <= {"policy_empty_target_rate"}
    assert points(from_events, "loss") == {s: f32(v) for s, v in run.losses.items()}
    ends_events = [(e.epoch, e.global_step) for e in from_events.epoch_ends]
    assert ends_events == [(e.epoch, e.global_step) for e in from_log.epoch_ends]
    assert [round(e.val_loss, 5) for e in from_events.epoch_ends] == [
        round(e.val_loss, 5) for e in from_log.epoch_ends
    ]

    summary_events, summary_log = summarize(from_events), summarize(from_log)
    for key in ("status", "last_step", "current"):
        assert summary_events[key] == summary_log[key], key
    kinds_events = [(f.kind, f.stage, f.epoch) for f in diagnose(from_events)]
    kinds_log = [(f.kind, f.stage, f.epoch) for f in diagnose(from_log)]
    assert kinds_events == kinds_log
    assert ("overfitting", 3, 4) in kinds_events

    stage = from_events.stages[3]  # the hparams give the configuration
    assert (stage.architecture, stage.base_lr, stage.batch_size) == ("vit", 0.001, 128)
    assert (stage.scheduler, stage.max_epochs, stage.steps_per_epoch) == (
        "warmup_cosine_decay",
        run.epochs,
        run.batches,
    )


def test_log_and_event_files_of_one_run_merge_without_double_points(tmp_path: Path) -> None:
    run = write_maou_run(tmp_path)
    merged = load_store(tmp_path)  # the folder holding train.log and the TensorBoard run
    for name in merged.names():
        steps = merged.series(name).steps
        assert len(np.unique(steps)) == len(steps), name
    assert [e.epoch for e in merged.epoch_ends] == list(range(1, run.epochs + 1))
    assert merged.stages[3].architecture == "vit"  # from the hparams, the rest from the log
    assert len(merged.series("loss")) == len(run.losses)

    two_paths = load_store(run.log, run.run_dir)  # `maou-tui report LOG EVENTS`
    for name in merged.names():
        assert points(two_paths, name) == points(merged, name), name


def test_two_paths_that_are_not_a_log_and_event_files_are_one_line(tmp_path: Path, capsys):
    run = write_maou_run(tmp_path, epochs=1)
    code, out, err = cli(capsys, "report", str(run.run_dir), str(run.log))
    assert (code, out) == (2, "")
    assert err.count("\n") == 1 and "not a log file" in err


# ------------------------------------------------------------------------- tailing


def test_tail_picks_up_points_and_new_add_scalars_folders(tmp_path: Path) -> None:
    run = tmp_path / "live"
    writer = SummaryWriter(str(run), flush_secs=1)
    for step in range(10):
        writer.add_scalar("loss", 1.0 / (step + 1), step)
    writer.flush()
    store = RunStore()
    lock = threading.Lock()

    def on_events(events: list) -> None:
        with lock:
            store.apply_all(events)

    def count(name: str) -> int:
        with lock:
            return len(store.series(name))

    with Tailer(run, on_events, poll_interval=0.1, columns=True):
        wait_for(lambda: count("loss") == 10)
        for step in range(10, 25):
            writer.add_scalar("loss", 1.0 / (step + 1), step)
        writer.add_scalars("metrics", {"f1": 0.5, "top5": 0.7}, 24)  # new subfolders
        writer.flush()
        wait_for(lambda: count("loss") == 25 and count("metrics/top5") == 1)
    writer.close()
    assert points(store, "loss")[24] == f32(1.0 / 25)
    assert points(store, "metrics/f1") == {24: 0.5}


def test_a_maou_run_read_in_small_pieces_gives_the_store_of_one_read(tmp_path: Path) -> None:
    run = write_maou_run(tmp_path, epochs=4)
    whole = load_store(run.run_dir)
    source = TensorBoardSource(run.run_dir)
    pieces = RunStore()
    while True:
        before = source.bytes_read
        pieces.apply_all(source.read_new(300))  # a few records a read, as a live tail sees them
        if source.bytes_read == before:
            break
    pieces.apply_all(source.finish())
    assert pieces.names() == whole.names()
    for name in whole.names():
        assert points(pieces, name) == points(whole, name), name
    assert [e.model_dump() for e in pieces.epoch_ends] == [e.model_dump() for e in whole.epoch_ends]


def test_a_record_still_being_written_is_waited_for(tmp_path: Path) -> None:
    whole = tmp_path / "whole"
    with SummaryWriter(str(whole)) as writer:
        for step in range(6):
            writer.add_scalar("loss", float(step), step)
    data = next(whole.glob("*tfevents*")).read_bytes()
    live = tmp_path / "live"
    live.mkdir()
    target = live / "events.out.tfevents.1.host"
    target.write_bytes(data[:-7])  # the last record cut inside
    source = TensorBoardSource(live)
    store = RunStore()
    store.apply_all(source.read_new())
    assert sorted(points(store, "loss")) == [0, 1, 2, 3, 4]
    assert source.skipped_lines == 0  # not corrupt: unfinished
    with open(target, "ab") as out:
        out.write(data[-7:])
    store.apply_all(source.read_new())
    assert sorted(points(store, "loss")) == [0, 1, 2, 3, 4, 5]


# ------------------------------------------------------------------------- restarts


def test_a_restart_replaces_the_steps_it_writes_again(tmp_path: Path) -> None:
    run = tmp_path / "run"
    with SummaryWriter(str(run), filename_suffix=".a") as first:
        for step in range(10):
            first.add_scalar("loss", 1.0, step)
    with SummaryWriter(str(run), filename_suffix=".b") as second:
        for step in range(5, 8):
            second.add_scalar("loss", 2.0, step)
    store = load_store(run)
    assert points(store, "loss") == {**{s: 1.0 for s in range(5)}, **{s: 2.0 for s in (5, 6, 7)}}


def test_purge_step_drops_every_tag_from_that_step(tmp_path: Path) -> None:
    run = tmp_path / "run"
    with SummaryWriter(str(run)) as first:
        for step in range(10):
            first.add_scalar("loss", 1.0, step)
            first.add_scalar("lr", 0.1, step)
    with SummaryWriter(str(run), purge_step=6) as second:
        second.add_scalar("loss", 3.0, 6)
    store = load_store(run)
    assert points(store, "loss") == {**{s: 1.0 for s in range(6)}, 6: 3.0}
    assert sorted(points(store, "lr")) == list(range(6))  # lr 6..9 purged too


# ------------------------------------------------------------------------- bad input


def _one_run(tmp_path: Path, n: int = 20) -> Path:
    run = tmp_path / "run"
    with SummaryWriter(str(run)) as writer:
        for step in range(n):
            writer.add_scalar("loss", float(step), step)
    return next(run.glob("*tfevents*"))


@pytest.mark.parametrize("budget, chunk", [(1, 1 << 20), (13, 1 << 20), (None, 1), (None, 20)])
def test_records_come_whole_whatever_the_read_size(tmp_path: Path, budget, chunk) -> None:
    path = _one_run(tmp_path)
    whole = RecordFile(path).read()
    reader, got = RecordFile(path, chunk_bytes=chunk), []
    while True:
        before = reader.bytes_read
        got += reader.read(budget)
        if reader.bytes_read == before:
            break
    assert got == whole and len(whole) == 21  # the file_version record and 20 scalars
    assert reader.leftover() == 0


def test_corrupt_records_are_skipped_and_counted(tmp_path: Path) -> None:
    path = _one_run(tmp_path)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF  # inside one record
    data[100] ^= 0xFF  # another
    path.write_bytes(bytes(data))
    store = load_store(path.parent)
    assert store.skipped_lines >= 1
    assert 16 <= len(store.series("loss")) < 20
    assert [w.kind for w in store.warnings] == ["corrupt_record"]
    assert all(points(store, "loss")[s] == s for s in points(store, "loss"))


def test_a_truncated_file_gives_what_it_holds_and_a_note(tmp_path: Path) -> None:
    path = _one_run(tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 10])
    store = load_store(path)
    assert sorted(points(store, "loss")) == list(range(19))
    assert store.skipped_lines == 1
    assert [w.kind for w in store.warnings] == ["truncated_record"]


def test_garbage_between_records_is_resynced(tmp_path: Path) -> None:
    path = _one_run(tmp_path)
    data = path.read_bytes()
    middle = len(data) // 2
    path.write_bytes(data[:middle] + b"\x00garbage!" * 5 + data[middle:])
    store = load_store(path)
    assert len(store.series("loss")) >= 18
    assert store.skipped_lines >= 1


@pytest.mark.parametrize("command", ["export", "report"])
def test_a_directory_with_nothing_readable_is_one_line_exit_2(
    tmp_path: Path, command: str, capsys
) -> None:
    (tmp_path / "notes.md").write_text("nothing here\n")
    code, out, err = cli(capsys, command, str(tmp_path))
    assert (code, out) == (2, "")
    assert len(err.strip().splitlines()) == 1
    assert "no runs found" in err


# ------------------------------------------------------------------------- first screen


def test_read_tail_reads_the_end_of_a_big_run(tmp_path: Path) -> None:
    run = tmp_path / "run"
    with SummaryWriter(str(run), max_queue=5000) as writer:
        for step in range(4000):
            writer.add_scalar("loss", float(step), step)
    store, _start = read_tail(run, max_bytes=8 << 10)  # starts mid-record: resyncs
    steps = store.series("loss").steps
    assert 0 < len(steps) < 4000
    assert steps[-1] == 3999
    assert store.skipped_lines == 0
    assert isinstance(open_source(run), TensorBoardSource)


# ------------------------------------------------------------------------- tag names


@pytest.mark.parametrize(
    "tag, name",
    [
        ("train/loss", "loss"),  # HF Trainer
        ("loss", "loss"),
        ("train_loss_step", "loss"),  # Lightning's on_step name
        ("Loss/train", "loss"),
        ("lr", "lr"),
        ("train/learning_rate", "lr"),  # HF Trainer
        ("lr-Adam", "lr"),  # Lightning's LearningRateMonitor
        ("eval/loss", "val_loss"),  # HF Trainer
        ("val_loss", "val_loss"),
        ("validation/loss", "val_loss"),
        ("train_acc", "accuracy"),
        ("val_acc", "val_accuracy"),
        ("eval/accuracy", "val_accuracy"),
        ("grad_norm", None),
        ("train/epoch", None),
        ("loss_scale", None),
    ],
)
def test_common_tags_are_recognised(tag: str, name: str | None) -> None:
    from maou_tui.ingest.tb_tags import common_name

    assert common_name(tag) == name


def test_a_second_tag_for_a_common_name_keeps_its_own() -> None:
    from maou_tui.ingest.tb_tags import TagNames

    names = TagNames(maou=False)
    assert names.name("train/loss") == "loss"
    assert names.name("eval/loss") == "val_loss"
    assert names.name("loss") == "tag:loss"  # its own name is taken by train/loss
    assert names.name("val_loss") == "tag:val_loss"
    assert names.name("train_loss") == "train_loss"
    assert names.name("train/loss") == "loss"

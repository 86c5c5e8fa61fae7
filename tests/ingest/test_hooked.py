"""A hooked run read back: what the program printed lands at the hook's step of its step mark
(or, without marks, of the time the supervisor received it), under the program's own names."""

from __future__ import annotations

from pathlib import Path

from maou_tui.hook.step_marks import MARK
from maou_tui.hook.supervise import LogWriter
from maou_tui.ingest import load_store
from maou_tui.layout import LOG_FILE, LOG_TIMES_FILE
from maou_tui.protocol import RunStarted, Step
from maou_tui.sdk import EventWriter

T0 = 1_700_000_000.0


def _hooked_run(run_dir: Path, output: list[bytes], steps: int) -> None:
    """The hook's step events and the program's output through the supervisor's LogWriter."""
    run_dir.mkdir()
    events = EventWriter(run_dir / "events.jsonl")
    events.emit(RunStarted(pid=1, config={"hook": True}, t=T0))
    for n in range(1, steps + 1):
        fields = {"stage": 1, "epoch": 0, "batch": n, "global_step": n, "loss": 1.0 / n}
        events.emit_later(Step, fields | {"lr": 0.1}, T0 + n)
    events.close()
    with (
        open(run_dir / LOG_FILE, "ab") as log,
        open(run_dir / LOG_TIMES_FILE, "a", encoding="utf-8") as times,
    ):
        writer = LogWriter(log, times)
        for piece in output:
            writer.write(piece)
        writer.close()


def test_printed_values_land_at_the_step_of_their_mark(tmp_path: Path) -> None:
    output = [MARK % 1, MARK % 2 + b"iter 8: loss 0.75, lr 0.1\n" + MARK % 3]
    output += [MARK % 4 + b"Epoch 1 Batch 16/40: Loss=0.5000, F1=90.00%\n" + MARK % 5, MARK % 6]
    _hooked_run(tmp_path / "run", output, steps=6)
    assert MARK[:3] not in (tmp_path / "run" / LOG_FILE).read_bytes()
    store = load_store(tmp_path / "run")
    loss = store.series("loss")  # the program's: nanoGPT's form, then the LR guide's line
    assert (loss.steps.tolist(), loss.values.tolist()) == ([2, 4], [0.75, 0.5])
    assert store.series("logged_lr").steps.tolist() == [2]
    assert store.series("backward_loss").steps.tolist() == [1, 2, 3, 4, 5, 6]
    assert store.series("lr").values.tolist() == [0.1] * 6


def test_without_marks_a_write_lands_at_the_step_done_when_it_arrived(tmp_path: Path) -> None:
    _hooked_run(tmp_path / "run", [], steps=6)
    with open(tmp_path / "run" / LOG_FILE, "ab") as log:
        log.write(b"step 3: loss=0.25\n")
    with open(tmp_path / "run" / LOG_TIMES_FILE, "a", encoding="utf-8") as times:
        times.write(f"18 {T0 + 4.5}\n")  # received between the hook's steps 4 and 5
    loss = load_store(tmp_path / "run").series("loss")
    assert (loss.steps.tolist(), loss.values.tolist()) == ([4], [0.25])

"""TensorBoard files a program writes outside its working directory reach the charts when it
names the directory: in its command line or in a line it prints."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from maou_tui.hook.named_boards import NamedBoards
from maou_tui.ingest import load_store
from maou_tui.layout import BOARD_DIRS_FILE
from tests.hook.conftest import PROGRAMS, run_finished, start_run, wait_for

MAOU_LINE = (
    b"2026-12-03T17:30:03+09:00 | INFO  |           dl.py |              __train | 608 | "
    b"TensorBoard log directory: logs_all_pty/vit-75.5k_training_log_20261203_083003 "
    b"(model: vit-75.5k)\n"
)


def test_directories_named_in_arguments_and_printed_lines_are_recorded(tmp_path: Path) -> None:
    listing = tmp_path / BOARD_DIRS_FILE
    command = ["python", "train.py", "--lr", "0.1", "--log-dir", "/data/tb", "--logdir=runs/a"]
    boards = NamedBoards(listing, Path("/work/exp"), command)
    for cut in (30, 141):  # maou's real line, cut by the terminal anywhere
        boards.feed(b"\x1b[32m" + MAOU_LINE[:cut])
        boards.feed(MAOU_LINE[cut:] + b"\r 10%|###  | loss=0.5\r")
    boards.feed(b"[rank 0] tensorboard logging dir: ../elsewhere/tb\n")
    boards.feed(b"epoch 1 loss 0.5 (no directory)\n" + b"x" * 10_000)
    assert listing.read_text().splitlines() == [
        "/data/tb",
        "/work/exp/runs/a",
        "/work/exp/logs_all_pty/vit-75.5k_training_log_20261203_083003",
        "/work/elsewhere/tb",
    ]


@pytest.mark.slow  # a torch + tensorboard start-up under maou-tui run (~10-25 s loaded)
def test_summary_writer_files_outside_the_cwd_are_charted(tmp_path: Path) -> None:
    pytest.importorskip("tensorboard")
    elsewhere = tmp_path / "elsewhere"
    named, printed = elsewhere / "named", elsewhere / "printed" / "tiny_training_log"
    run_dir = tmp_path / "run"
    program = PROGRAMS / "tensorboard_elsewhere.py"
    start_run(run_dir, sys.executable, str(program), "--log-dir", str(named),
              "--printed-dir", str(printed), "--steps", "12")  # fmt: skip
    finished = wait_for(lambda: run_finished(run_dir), timeout=120, what="run_finished")
    assert finished["status"] == "completed", finished
    assert (run_dir / BOARD_DIRS_FILE).read_text().splitlines() == [str(named), str(printed)]
    store = load_store(run_dir)
    # The program's TensorBoard tags under their usual names: train/loss is the loss (the one
    # the hook saw backpropagated, at the same steps), train/lr the LR it logged.
    norms = [store.series(name) for name in store.names() if name.endswith("weight_norm")]
    assert len(norms) == 1 and norms[0].steps.tolist() == list(range(1, 13))
    loss, logged_lr = store.series("loss"), store.series("logged_lr")
    backward = store.series("backward_loss")
    assert loss.steps.tolist() == backward.steps.tolist() == list(range(1, 13))
    assert loss.values.tolist() == pytest.approx(backward.values.tolist(), rel=1e-6)
    assert logged_lr.steps.tolist() == list(range(1, 13))
    assert logged_lr.values.tolist() == pytest.approx([0.05] * 12)

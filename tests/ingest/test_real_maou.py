"""The real output of ``maou learn-model``: its status, its numbers, and the same numbers
whatever prefix its lines carry."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import numpy as np
import pytest

from maou_tui.ingest import load_store
from maou_tui.ingest.summary import summarize
from maou_tui.store import RunStore
from tests.ingest.conftest import GOLDEN

# A copy of shared/reference/maou-real-output/learn-model-all-stages.typescript: maou b40d0910's
# own training, logging and tqdm code under `script`, CRLF line ends.
REAL = GOLDEN / "maou_real_all_stages.typescript"

MAOU_PREFIX = re.compile(rb"^\S+ \| [A-Z]+ *\| *\S+ \| *\w+ \| *\d+ \| ", re.M)
PREFIXES = {
    # the message after another logger's prefix; continuation lines as each tool prints them
    "glog": (b"I1203 17:27:41.012142 48213 learn.py:88] ", b""),
    "python_logging": (b"2026-12-03 17:27:41,018 - maou - INFO - ", b""),
    "colour": (b"\x1b[2m[17:27:41]\x1b[0m \x1b[32mINFO\x1b[0m     ", b""),
    "torchrun": (b"[rank0]: 2026-12-03 17:27:41 | INFO | ", b"[rank0]: "),  # every line
    "bare": (b"", b""),
}


def rows(store: RunStore) -> list[tuple[str, int, int, int, int, float]]:
    out = []
    for name in store.names():
        s = store.series(name)
        for row in zip(s.stages, s.epochs, s.batches, s.steps, s.values, strict=True):
            out.append((name, *(int(v) for v in row[:4]), float(row[4])))
    return out


def test_a_completed_run_is_completed_with_its_setup() -> None:
    store = load_store(REAL)
    assert store.status == "finished" and store.finished.status == "completed"
    assert store.stages[3].batch_size == 128 and store.stages[3].max_epochs == 3
    summary = summarize(store)
    assert [s["completed"]["reason"] for s in summary["stages"][:2]] == ["threshold"] * 2
    gaps = store.series("gap").values.tolist()
    assert gaps == [0.1342, 0.2153, 0.5493]
    assert store.series("policy_empty_target_rate").values.tolist() == [0.44789915966386556] * 3
    assert set(store.names()) == {  # every number of the log's data lines, and nothing else
        "train_loss", "train_accuracy", "train_f1", "lr", "val_loss", "gap",
        "policy_cross_entropy", "policy_f1_score", "policy_top5_accuracy", "value_brier_score",
        "value_high_confidence_rate", "policy_empty_target_rate", "policy_move_label_ce",
        "policy_top1_win_rate", "policy_expected_win_rate",
    }  # fmt: skip


def test_lr_phases_end_with_their_stage_and_never_overlap() -> None:
    store = load_store(REAL)
    spans = sorted(store.phase_spans(), key=lambda p: p.first)
    for before, after in itertools.pairwise(spans):
        assert before.last < after.first, (before, after)
    ends = {1: 70, 2: 108}  # Stage 1 met its threshold at epoch 2, Stage 2 at epoch 1
    for span in spans:
        assert span.last <= ends.get(span.stage, store.last_step), span


@pytest.mark.parametrize("form", sorted(PREFIXES))
def test_any_prefix_gives_the_same_points(form: str, tmp_path: Path) -> None:
    first, rest = PREFIXES[form]
    text = REAL.read_bytes()
    lines = [
        MAOU_PREFIX.sub(first, line) if MAOU_PREFIX.match(line) else rest + line
        for line in text.split(b"\n")
    ]
    path = tmp_path / f"{form}.log"
    path.write_bytes(b"\n".join(lines))
    original, other = load_store(REAL), load_store(path)
    assert rows(other) == rows(original)
    assert other.finished is not None and other.finished.status == "completed"
    assert [p.model_dump() for p in other.phases] == [p.model_dump() for p in original.phases]


FAILURE = (
    b"2026-12-03T17:28:50+09:00 | ERROR |       common.py |              wrapper | 196 | "
    b"Error occurred\r\n"
    b"Traceback (most recent call last):\r\n"
    b'  File "/maou/src/maou/interface/learn.py", line 1290, in learn_multi_stage\r\n'
    b"    raise RuntimeError(\r\n"
    b"RuntimeError: Stage 1 failed to meet accuracy threshold after 2 epochs.\r\n"
    b"  achieved: 90.21% / required: 99.00% (reached 91.1% of target)\r\n"
)


def test_a_failed_run_says_why(tmp_path: Path) -> None:
    text = REAL.read_bytes()
    stage1 = text[: text.index(b"Stage 1 Accuracy threshold achieved")]
    log = tmp_path / "failed.log"
    log.write_bytes(stage1[: stage1.rindex(b"\n") + 1] + FAILURE)
    store = load_store(log)
    assert store.status == "failed"
    assert store.finished.reason == (
        "Stage 1 failed to meet accuracy threshold after 2 epochs. "
        "achieved: 90.21% / required: 99.00% (reached 91.1% of target)"
    )
    # the planned decay (to step 141) ends where the run did
    assert max(span.last for span in store.phase_spans()) == 70


def test_validation_bar_and_both_train_losses_come_out(tmp_path: Path) -> None:
    log = tmp_path / "bars.log"
    val = "Validation: {p}|#####     | {n}/2 [00:00<00:00, 5.0it/s, loss={v}]"
    log.write_text(
        "EPOCH 1:\n\rTraining:   0%|          | 0/3 [00:00<?, ?it/s, loss=4.5]"
        "\rTraining: 100%|##########| 3/3 [00:03<00:00, 1.0it/s, loss=4.4]\n\r"
        + "\r".join(val.format(p=" 50%", n=n, v=v) for n, v in ((1, 4.7), (2, 4.6), (2, 4.6)))
        + "\nLOSS train 4.4 valid 4.6 gap +0.2\n"
        "Epoch 2/3: Loss=0.5, F1=50.0%\nEpoch 2: Train Loss=0.45, Val Loss=0.6, Val F1=40.0%\n"
    )
    store = load_store(log)
    loss = store.series("loss")
    assert loss.batches.tolist() == [1, 3]  # the 0/3 render holds batch 1's postfix
    bar = store.series("val_loss_bar")
    assert (bar.steps.tolist(), bar.batches.tolist(), bar.values.tolist()) == ([3], [2], [4.6])
    assert store.series("train_loss").values.tolist()[-1] == 0.5
    assert store.series("train_loss_at_validation").values.tolist() == [0.45]


def test_renders_after_a_nan_keep_their_batches(tmp_path: Path) -> None:
    bar = "Training: {p}|###       | {n}/200 [00:01<00:02, 1.0it/s, acc=60.0%, loss={v}]"
    renders = [("25%", 50, "0.6"), ("30%", 51, "nan"), ("40%", 80, "nan"), ("50%", 101, "nan")]
    log = tmp_path / "nan.log"
    log.write_text(
        "STAGE 1: REACHABLE SQUARES LEARNING\n\r"
        + "\r".join(bar.format(p=p, n=n, v=v) for p, n, v in [*renders, renders[-1]])
        + "\n"
    )
    loss = load_store(log).series("loss")
    assert loss.batches.tolist() == [50, 51, 80, 101]  # one NaN point per render, not one
    assert np.isnan(loss.values[1:]).all()

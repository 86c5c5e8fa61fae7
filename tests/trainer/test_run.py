"""Real trainer runs on small sizes: events, threshold advance, fail-fast, maou's log lines."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.trainer.conftest import of_type, read_events, run_trainer

PREFIX = re.compile(
    r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+09:00 "  # JST ISO-8601 to the second
    r"\| (INFO |WARNING|ERROR) \| +[\w.]+\.py \| +\w+ \| +\d+ \| "
)


@pytest.fixture(scope="module")
def stage1_run(
    tmp_path_factory: pytest.TempPathFactory, cache_dir: Path
) -> tuple[Path, subprocess.CompletedProcess[str]]:
    run_dir = tmp_path_factory.mktemp("stage1") / "run"
    result = run_trainer(
        run_dir, cache_dir, "--stage", "1", "--stage1-threshold", "0.5", "--stage1-max-epochs", "3"
    )
    return run_dir, result


def test_stage1_reaches_threshold_and_advances(stage1_run) -> None:  # type: ignore[no-untyped-def]
    run_dir, result = stage1_run
    assert result.returncode == 0, result.stderr
    events = read_events(run_dir)
    kinds = [e["type"] for e in events]
    assert kinds[0] == "run_started" and kinds[-1] == "run_finished"
    assert events[-1]["status"] == "completed"
    (started,) = of_type(events, "stage_started")
    assert started["metric"] == "accuracy" and started["threshold"] == 0.5
    assert started["steps_per_epoch"] == 5 and started["batch_size"] == 256
    steps = of_type(events, "step")
    assert [s["global_step"] for s in steps] == list(range(1, len(steps) + 1))
    assert all(s["lr"] == pytest.approx(0.001) for s in steps)
    (reached,) = of_type(events, "threshold_reached")
    assert reached["value"] >= 0.5
    (completed,) = of_type(events, "stage_completed")
    assert completed["reason"] == "threshold" and completed["epochs"] == reached["epoch"]
    saved = {Path(e["path"]).name.rsplit("_", 2)[0] for e in of_type(events, "checkpoint_saved")}
    assert saved == {"stage1_reachable_head", "stage1_backbone"}
    assert len(list((run_dir / "checkpoints").glob("stage1_*.pt"))) == 2


def test_epoch_metric_is_the_running_mean_of_the_batches(stage1_run) -> None:  # type: ignore[no-untyped-def]
    run_dir, _ = stage1_run
    events = read_events(run_dir)
    first_epoch = [s for s in of_type(events, "step") if s["epoch"] == 1]
    end = of_type(events, "epoch_end")[0]
    assert first_epoch[-1]["metric_cum"] == pytest.approx(end["train_metric"])
    mean_loss = sum(s["loss"] for s in first_epoch) / len(first_epoch)
    assert end["train_loss"] == pytest.approx(mean_loss)


def test_log_lines_match_maous_formats(stage1_run) -> None:  # type: ignore[no-untyped-def]
    run_dir, _ = stage1_run
    lines = (run_dir / "train.log").read_text(encoding="utf-8").splitlines()
    assert all(PREFIX.match(line) for line in lines), [ln for ln in lines if not PREFIX.match(ln)]
    messages = [PREFIX.sub("", line) for line in lines]
    expected = [
        r"^={60}$",
        r"^STAGE 1: REACHABLE SQUARES LEARNING$",
        r"^Starting REACHABLE_SQUARES \(TrainingLoop\): max_epochs=3, threshold=50\.0%$",
        r"^LR sqrt scaling: base_lr=0\.001000, scale=1\.00, effective_lr=0\.001000$",
        r"^Epoch 1 Batch 5/5: Loss=\d+\.\d{4}, Accuracy=\d+\.\d\d%$",
        r"^Stage 1 Epoch 1/3: Loss=\d+\.\d{4}, Accuracy=\d+\.\d\d%$",
        r"^Stage 1 Epoch 1: LR = 0\.001000$",
        r"^Stage 1 Accuracy threshold achieved! \(\d+\.\d\d% >= 50\.00%\)$",
        r"^Saved REACHABLE_SQUARES head: .*stage1_reachable_head_\d{8}_\d{6}\.pt$",
        r"^Saved REACHABLE_SQUARES backbone: .*stage1_backbone_\d{8}_\d{6}\.pt$",
        r"^Stage 1 completed successfully: accuracy=\d+\.\d\d%,epochs=\d+$",
    ]
    for pattern in expected:
        assert any(re.match(pattern, m) for m in messages), pattern


@pytest.mark.slow  # 8-27 s on 2 cores: kept out of the default run's 5 minutes
def test_stage2_sqrt_scaling_line_is_exact(tmp_path: Path, cache_dir: Path) -> None:
    run_dir = tmp_path / "run"
    result = run_trainer(
        run_dir, cache_dir,
        "--stage", "2", "--stage2-learning-rate", "0.0001", "--stage2-batch-size", "4096",
        "--stage2-max-epochs", "1", "--stage2-threshold", "0", "--stage2-test-ratio", "0.2",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    log = (run_dir / "train.log").read_text(encoding="utf-8")
    assert "| LR sqrt scaling: base_lr=0.000100, scale=4.00, effective_lr=0.000400\n" in log
    assert "Using Warmup+CosineDecay scheduler (warmup_steps=1, total_steps=1)" in log
    # --stage2-test-ratio builds a validation set that IS evaluated (maou's is not).
    assert re.search(
        r"\| Epoch 1: Train Loss=\d+\.\d{4}, Val Loss=\d+\.\d{4}, Val F1=\d+\.\d\d%\n", log
    )
    (end,) = of_type(read_events(run_dir), "epoch_end")
    assert end["val_loss"] is not None and 0 <= end["val_metric"] <= 1
    (started,) = of_type(read_events(run_dir), "stage_started")
    assert started["effective_lr"] == pytest.approx(0.0004) and started["lr_scale"] == 4.0
    assert started["metric"] == "f1" and started["scheduler"] == "Warmup+CosineDecay"
    phases = of_type(read_events(run_dir), "phase")
    assert [p["phase"] for p in phases] == ["warmup"]


def test_a_finished_run_directory_is_not_trained_into_again(stage1_run, cache_dir: Path) -> None:  # type: ignore[no-untyped-def]
    """A second run into the same --run-dir would append its events to the first run's history
    (two runs mixed in every chart and report): refused in one line, the history untouched."""
    run_dir, _ = stage1_run
    before = (run_dir / "events.jsonl").read_bytes()
    again = run_trainer(run_dir, cache_dir, "--stage", "1")
    assert again.returncode == 2
    assert again.stderr.strip().splitlines() == [
        f"maou-train: error: --run-dir {run_dir} already holds a run; continue it with "
        f"--resume {run_dir} or choose a new --run-dir"
    ]
    assert (run_dir / "events.jsonl").read_bytes() == before

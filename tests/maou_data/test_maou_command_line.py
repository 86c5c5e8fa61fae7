"""A maou ``learn-model`` command line, unchanged, trains all three stages from maou-format data
under ``maou-train`` and ``maou-tui run``: maou's log lines, TensorBoard tags and model files."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from tests.maou_data.conftest import MaouData
from tests.trainer.conftest import of_type, read_events, send, wait_for_event

REPO = Path(__file__).resolve().parents[2]

#: The issue's command line (relative paths, as a maou user's script has them).
MAOU_LINE = [
    "--stage", "all",
    "--stage1-data-path", "../data/stage1",
    "--stage2-data-path", "../data/stage2",
    "--stage3-data-path", "../data/stage3",
    "--stage3-validation-data-path", "../data/stage3_val",
    "--log-dir", "./logs",
    "--model-dir", "./models",
]  # fmt: skip
#: Sizes for 2 busy CPU cores (every one a maou option).
SMALL = [
    "--stage1-batch-size", "560", "--stage1-max-epochs", "1", "--stage1-threshold", "0.3",
    "--stage2-batch-size", "120", "--stage2-max-epochs", "1", "--stage2-threshold", "0.01",
    "--stage3-batch-size", "256", "--epoch", "2",
]  # fmt: skip


def _workdir(tmp_path: Path, maou_data: MaouData) -> Path:
    """``<tmp>/data/stage*`` as maou writes them, and ``<tmp>/work`` to run in."""
    shutil.copytree(maou_data.root, tmp_path / "data", ignore=shutil.ignore_patterns("cache"))
    work = tmp_path / "work"
    work.mkdir()
    return work


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}


def _scalars(run_dir: Path) -> dict[str, list[float]]:
    """Every TensorBoard scalar under ``run_dir`` by tag (add_scalars groups: ``group_member``)."""
    found: dict[str, list[float]] = {}
    for events in sorted(run_dir.rglob("events.out.tfevents.*")):
        accumulator = EventAccumulator(str(events.parent))
        accumulator.Reload()
        prefix = "" if events.parent == run_dir else events.parent.name + "/"
        for tag in accumulator.Tags()["scalars"]:
            found[prefix + tag] = [e.value for e in accumulator.Scalars(tag)]
    return found


@pytest.mark.slow  # 8-27 s on 2 cores: kept out of the default run's 5 minutes
def test_maou_command_line_trains_all_stages_from_maou_files(
    tmp_path: Path, maou_data: MaouData
) -> None:
    work = _workdir(tmp_path, maou_data)
    result = subprocess.run(
        [sys.executable, "-m", "trainer", *MAOU_LINE, *SMALL, "--run-dir", "run"],
        cwd=work, env=_env(), capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    events = read_events(work / "run")
    started = {e["stage"]: e for e in of_type(events, "stage_started")}
    assert [started[s]["train_samples"] for s in (1, 2, 3)] == [
        1105,
        240,
        len(maou_data.stage3) - 100,
    ]
    assert started[3]["val_samples"] == 100
    log = (work / "run" / "train.log").read_text(encoding="utf-8")
    for line in (
        "STAGE 1: REACHABLE SQUARES LEARNING",
        "Saved REACHABLE_SQUARES backbone: models/stage1_backbone_",
        "Saved LEGAL_MOVES head: models/stage2_legal_moves_head_",
        "TensorBoard log directory: logs/resnet-",
        "EPOCH 2:",
        "LOSS train ",
        "Stage 3 Epoch 2: LR = ",
    ):
        assert line in log
    models = sorted(p.name for p in (work / "models").iterdir())
    assert [m.split("_2026")[0] for m in models if m.startswith("stage")] == [
        "stage1_backbone", "stage1_reachable_head", "stage2_backbone", "stage2_legal_moves_head",
    ]  # fmt: skip
    assert any(m.startswith("model_") and m.endswith("_1.pt") for m in models)
    (tb_dir,) = (work / "logs").iterdir()
    assert tb_dir.name.startswith("resnet-") and "_training_log_" in tb_dir.name
    scalars = _scalars(tb_dir)
    assert len(scalars["Learning Rate"]) == 2 and len(scalars["Train-Validation Gap"]) == 2
    assert scalars["Loss/train"]
    for member in (
        "Training vs. Validation Loss_Training/Training vs. Validation Loss",
        "Validation Loss Metrics_Value Brier Score/Validation Loss Metrics",
        "Validation Accuracy Metrics_Policy Top-5 Accuracy/Validation Accuracy Metrics",
    ):
        assert len(scalars[member]) == 2, sorted(scalars)


def test_a_wrong_data_file_stops_the_run_in_one_line(tmp_path: Path, maou_data: MaouData) -> None:
    work = _workdir(tmp_path, maou_data)
    result = subprocess.run(
        [sys.executable, "-m", "trainer", "--stage", "3",
         "--stage3-data-path", "../data/stage2", "--run-dir", "run"],
        cwd=work, env=_env(), capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "stage2_chunk0000.feather is not maou preprocessed Stage 3 data" in result.stderr
    assert not (work / "run").exists()


@pytest.mark.slow
def test_under_maou_tui_run_the_control_channel_works_with_maous_runtime_options(
    tmp_path: Path, maou_data: MaouData
) -> None:
    work = _workdir(tmp_path, maou_data)
    options = [
        "--stage", "3", "--stage3-data-path", "../data/stage3", "--model-dir", "./models",
        "--log-dir", "./logs", "--stage3-batch-size", "32", "--epoch", "40",
        "--dataloader-workers", "2", "--prefetch-factor", "2", "--pin-memory",
        "--early-stopping-patience", "30", "--early-stopping-metric", "policy",
        "--trainable-layers", "1", "--adaptive-batch", "--adaptive-batch-interval", "2",
        "--detect-anomaly", "--save-split-params",
    ]  # fmt: skip
    started = subprocess.run(
        [sys.executable, "-m", "maou_tui", "run", "--no-tui", "--run-dir", "run", *options],
        cwd=work, env=_env(), capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert started.returncode == 0, started.stderr
    run = work / "run"
    wait_for_event(run, lambda e: e["type"] == "step", 300, "a Stage 3 step")
    reply = send(run, "scale_lr", factor=0.5)
    assert reply["ok"], reply
    assert send(run, "pause")["ok"]
    wait_for_event(run, lambda e: e["type"] == "paused", 120, "paused")
    assert send(run, "resume")["ok"]
    wait_for_event(run, lambda e: e["type"] == "resumed", 120, "resumed")
    assert send(run, "stop")["ok"]
    finished = wait_for_event(run, lambda e: e["type"] == "run_finished", 300, "run_finished")
    assert finished["status"] == "stopped"
    log = (run / "train.log").read_text(encoding="utf-8")
    assert "Frozen backbone parameters:" in log and "(trainable_layers=1)" in log


@pytest.mark.slow
@pytest.mark.timeout(1800)  # torch.compile builds C++ kernels: minutes on a busy 2-core box
def test_compilation_options_train_compiled_models(tmp_path: Path, maou_data: MaouData) -> None:
    work = _workdir(tmp_path, maou_data)
    result = subprocess.run(
        [sys.executable, "-m", "trainer", *MAOU_LINE, *SMALL, "--epoch", "1",
         "--stage12-compilation", "--compilation", "true", "--run-dir", "run"],
        cwd=work, env=_env(), capture_output=True, text=True, timeout=1700,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    log = (work / "run" / "train.log").read_text(encoding="utf-8")
    for stage in (1, 2, 3):
        assert f"Stage {stage} model compiled with torch.compile" in log
    assert "Stage 3 completed: epochs=1" in log

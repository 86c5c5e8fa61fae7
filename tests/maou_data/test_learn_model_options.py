"""Every option of ``maou learn-model --help`` is accepted by maou-train with maou's meaning, or
refused in one line with exit status 2 (maou's cloud upload)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.maou_data.conftest import MaouData
from trainer.cli import main, parse_config

REPO = Path(__file__).resolve().parents[2]
#: ``maou learn-model --help`` at maou b40d0910 (a copy of reference/maou-learn-model-help.txt).
HELP = REPO / "tests" / "maou_data" / "maou-learn-model-help.txt"

#: option -> (value given, field, value expected in the config). ``None`` value = a switch.
HONOURED: dict[str, tuple[str | None, str, Any]] = {
    "--gpu": ("cpu", "gpu", "cpu"),
    "--model-architecture": ("vit", "model_architecture", "vit"),
    "--vit-embed-dim": ("64", "vit_embed_dim", 64),
    "--vit-num-layers": ("2", "vit_num_layers", 2),
    "--vit-num-heads": ("4", "vit_num_heads", 4),
    "--vit-mlp-ratio": ("2.0", "vit_mlp_ratio", 2.0),
    "--vit-dropout": ("0.05", "vit_dropout", 0.05),
    "--gradient-checkpointing": (None, "gradient_checkpointing", True),
    "--compilation": ("true", "compilation", True),
    "--detect-anomaly": (None, "detect_anomaly", True),
    "--test-ratio": ("0.1", "test_ratio", 0.1),
    "--epoch": ("3", "epoch", 3),
    "--batch-size": ("512", "batch_size", 512),
    "--gradient-accumulation-steps": ("4", "gradient_accumulation_steps", 4),
    "--adaptive-batch": (None, "adaptive_batch", True),
    "--adaptive-batch-min-steps": ("4", "adaptive_batch_min_steps", 4),
    "--adaptive-batch-max-steps": ("16", "adaptive_batch_max_steps", 16),
    "--adaptive-batch-interval": ("10", "adaptive_batch_interval", 10),
    "--adaptive-batch-smoothing": ("0.5", "adaptive_batch_smoothing", 0.5),
    "--adaptive-batch-measurement-interval": ("2", "adaptive_batch_measurement_interval", 2),
    "--dataloader-workers": ("2", "dataloader_workers", 2),
    "--pin-memory": (None, "pin_memory", True),
    "--prefetch-factor": ("2", "prefetch_factor", 2),
    "--policy-loss-ratio": ("0.5", "policy_loss_ratio", 0.5),
    "--value-loss-ratio": ("2.0", "value_loss_ratio", 2.0),
    "--learning-ratio": ("0.002", "learning_ratio", 0.002),
    "--lr-scheduler": ("cosineannealinglr", "lr_scheduler", "CosineAnnealingLR"),
    "--momentum": ("0.8", "momentum", 0.8),
    "--optimizer": ("sgd", "optimizer", "sgd"),
    "--optimizer-beta1": ("0.8", "optimizer_beta1", 0.8),
    "--optimizer-beta2": ("0.998", "optimizer_beta2", 0.998),
    "--optimizer-eps": ("1e-07", "optimizer_eps", 1e-7),
    "--resume-backbone-from": ("{file}", "resume_backbone_from", "{file}"),
    "--save-split-params": (None, "save_split_params", True),
    "--freeze-backbone": (None, "freeze_backbone", True),
    "--trainable-layers": ("2", "trainable_layers", 2),
    "--stage": ("all", "stage", "all"),
    "--stage1-data-path": ("{stage1}", "stage1_data_path", "{stage1}"),
    "--stage2-data-path": ("{stage2}", "stage2_data_path", "{stage2}"),
    "--stage3-data-path": ("{stage3}", "stage3_data_path", ["{stage3}"]),
    "--stage3-validation-data-path": (
        "{stage3_val}",
        "stage3_validation_data_path",
        "{stage3_val}",
    ),
    "--early-stopping-patience": ("3", "early_stopping_patience", 3),
    "--early-stopping-metric": ("value", "early_stopping_metric", "value"),
    "--stage1-threshold": ("0.9", "stage1_threshold", 0.9),
    "--stage2-threshold": ("0.7", "stage2_threshold", 0.7),
    "--stage1-max-epochs": ("20", "stage1_max_epochs", 20),
    "--stage2-max-epochs": ("5", "stage2_max_epochs", 5),
    "--stage1-batch-size": ("32", "stage1_batch_size", 32),
    "--stage2-batch-size": ("64", "stage2_batch_size", 64),
    "--stage3-batch-size": ("96", "stage3_batch_size", 96),
    "--stage1-learning-rate": ("0.003", "stage1_learning_rate", 0.003),
    "--stage2-learning-rate": ("0.004", "stage2_learning_rate", 0.004),
    "--stage12-lr-scheduler": ("none", "stage12_lr_scheduler", "none"),
    "--stage12-compilation": (None, "stage12_compilation", True),
    "--no-stage12-compilation": (None, "stage12_compilation", False),
    "--stage1-pos-weight": ("2.0", "stage1_pos_weight", 2.0),
    "--stage2-pos-weight": ("3.0", "stage2_pos_weight", 3.0),
    "--stage2-gamma-pos": ("0.5", "stage2_gamma_pos", 0.5),
    "--stage2-gamma-neg": ("2.0", "stage2_gamma_neg", 2.0),
    "--stage2-clip": ("0.02", "stage2_clip", 0.02),
    "--stage2-hidden-dim": ("128", "stage2_hidden_dim", 128),
    "--stage2-head-dropout": ("0.1", "stage2_head_dropout", 0.1),
    "--stage2-test-ratio": ("0.1", "stage2_test_ratio", 0.1),
    "--no-streaming": (None, "no_streaming", True),
    "--policy-target-mode": ("weighted", "policy_target_mode", "weighted"),
    "--log-dir": ("{dir}", "log_dir", "{dir}"),
    "--model-dir": ("{dir}", "model_dir", "{dir}"),
}
#: maou's cloud upload: refused (value given, or None for a switch).
REFUSED = {
    "--output-gcs": None,
    "--gcs-bucket-name": "bucket",
    "--gcs-base-path": "base",
    "--output-s3": None,
    "--s3-bucket-name": "bucket",
    "--s3-base-path": "base",
}
#: Options that need another one to mean anything in maou.
NEEDS = {"--stage2-head-dropout": ["--stage2-hidden-dim", "64"]}


def maou_options() -> list[str]:
    """Every option name in maou's ``learn-model --help`` (both halves of a --x/--no-x pair)."""
    text = HELP.read_text(encoding="utf-8")
    names = re.findall(r"^  (--[a-z0-9-]+)(?: / (--[a-z0-9-]+))?", text, flags=re.M)
    return [name for pair in names for name in pair if name and name != "--help"]


def test_the_list_covers_every_maou_option() -> None:
    options = maou_options()
    assert len(options) == 73
    assert set(options) == set(HONOURED) | set(REFUSED)


def _fill(value: Any, paths: dict[str, Path]) -> Any:
    if isinstance(value, list):
        return [_fill(item, paths) for item in value]
    if isinstance(value, str) and value.startswith("{"):
        return paths[value.strip("{}")]
    return value


@pytest.mark.parametrize("option", sorted(HONOURED))
def test_option_is_honoured_with_maous_meaning(
    option: str, tmp_path: Path, maou_data: MaouData
) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "backbone.pt").write_bytes(b"")
    paths = {
        "file": tmp_path / "backbone.pt",
        "dir": tmp_path / "data",
        "stage1": maou_data.stage1_dir,
        "stage2": maou_data.stage2_dir,
        "stage3": maou_data.stage3_dir,
        "stage3_val": maou_data.stage3_val_dir,
    }
    given, field, expected = HONOURED[option]
    argv = [option] if given is None else [option, str(_fill(given, paths))]
    config = parse_config([*argv, *NEEDS.get(option, []), "--run-dir", str(tmp_path / "r")])
    assert getattr(config, field) == _fill(expected, paths)


@pytest.mark.parametrize("option", sorted(REFUSED))
def test_cloud_option_is_refused_in_one_line(
    option: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    value = REFUSED[option]
    argv = [option] if value is None else [option, value]
    assert main([*argv, "--run-dir", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith(f"maou-train: error: {option} uploads to maou's cloud storage")
    assert not (tmp_path / "r").exists()


def test_maou_preset_uses_maous_stage_and_output_defaults() -> None:
    config = parse_config(["--preset", "maou", "--run-dir", "x"])
    assert config.stage == "3" and config.policy_target_mode == "win-rate"
    assert (config.log_dir, config.model_dir) == (Path("logs"), Path("models"))
    assert config.early_stopping_patience == 0 and config.prefetch_factor == 4


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--compilation", "maybe"], "argument --compilation: 'maybe' is not a boolean"),
        (["--adaptive-batch-min-steps", "1"], "--adaptive-batch-min-steps must be >= 2"),
        (["--adaptive-batch-smoothing", "0"], "--adaptive-batch-smoothing must be in [0.01, 1.0]"),
        (
            ["--adaptive-batch-min-steps", "8", "--adaptive-batch-max-steps", "4"],
            "--adaptive-batch-max-steps 4 is below --adaptive-batch-min-steps 8",
        ),
        (["--early-stopping-metric", "f1"], "--early-stopping-metric input should be"),
        (["--stage1-data-path", "/no/such/dir"], "--stage1-data-path /no/such/dir does not exist"),
    ],
)
def test_bad_maou_option_is_one_line(
    argv: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*argv, "--run-dir", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err


def test_help_shows_the_tiny_and_maou_defaults_side_by_side() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "trainer", "--help"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
    )
    # One entry per option, its wrapped help joined into one line.
    entries = ["--" + " ".join(e.split()) for e in result.stdout.split("\n  --")[1:]]
    lines = {entry.split()[0]: entry for entry in entries}
    assert "[tiny: 4096 | maou: 4096]" not in lines["--batch-size"]
    assert "[tiny: 128 | maou: 4096]" in lines["--batch-size"]
    assert "[tiny: 0.001 | maou: 0.01]" in lines["--learning-ratio"]
    assert "[tiny: 2 | maou: 10]" in lines["--epoch"]
    assert "[tiny: all | maou: 3]" in lines["--stage"]
    assert "[tiny: 0.6 | maou: 0.85]" in lines["--stage2-threshold"]
    assert "[tiny: - | maou: logs]" in lines["--log-dir"]

"""maou-train's options: presets, inheritance, and one-line errors with exit status 2."""

import subprocess
import sys
from pathlib import Path

import pytest

from trainer.cli import main, parse_config
from trainer.config import stage_settings

REPO = Path(__file__).resolve().parents[2]


def test_defaults_are_the_tiny_preset_for_all_stages() -> None:
    config = parse_config([])
    assert config.preset == "tiny" and config.stages() == [1, 2, 3]
    assert config.run_dir is not None and config.run_dir.name.endswith("-resnet-tiny")
    s1 = stage_settings(config, 1)
    assert (s1.batch_size, s1.base_lr, s1.threshold) == (32, 0.001, 0.99)
    assert config.num_threads == 1 and parse_config(["--num-threads", "2"]).num_threads == 2


def test_maou_preset_is_maous_cli_defaults() -> None:
    config = parse_config(["--preset", "maou", "--run-dir", "x"])
    s1, s2, s3 = (stage_settings(config, n) for n in (1, 2, 3))
    assert s1.batch_size == s2.batch_size == s3.batch_size == 4096
    assert s1.base_lr == s3.base_lr == 0.01
    assert (s1.max_epochs, s2.max_epochs, s3.max_epochs) == (10, 10, 10)
    assert (s1.threshold, s2.threshold, s3.threshold) == (0.99, 0.85, None)
    assert (s2.weight_decay, s3.weight_decay) == (0.0, 0.01)


def test_a_general_option_beats_the_presets_stage_value() -> None:
    config = parse_config(["--batch-size", "128", "--stage2-batch-size", "512", "--run-dir", "x"])
    assert stage_settings(config, 1).batch_size == 128
    assert stage_settings(config, 2).batch_size == 512


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--stage1-threshold", "1.5"], "--stage1-threshold must be in [0, 1], got 1.5"),
        (["--stage2-threshold", "-0.1"], "--stage2-threshold must be in [0, 1], got -0.1"),
        (["--stage1-batch-size", "0"], "--stage1-batch-size must be in [1, 1048576], got 0"),
        (["--learning-ratio", "nan"], "--learning-ratio must be in (0, 10], got nan"),
        (["--stage", "4"], "--stage input should be '1', '2', '3' or 'all', got '4'"),
        (["--optimizer", "adam"], "--optimizer input should be 'adamw' or 'sgd', got 'adam'"),
        (["--epoch", "two"], "argument --epoch: invalid int value: 'two'"),
        (["--no-such-option"], "unrecognized arguments: --no-such-option"),
        (["--stage2-head-dropout", "0.1"], "--stage2-head-dropout needs --stage2-hidden-dim"),
        (
            ["--stage3-data-path", "/no/such.hcpe"],
            "--stage3-data-path /no/such.hcpe does not exist",
        ),
    ],
)
def test_bad_option_is_one_line_with_exit_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main([*argv, "--run-dir", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("maou-train: error: ")
    assert message in err
    assert not (tmp_path / "run").exists()  # nothing created, nothing lost


def test_bad_option_exits_2_fast_without_importing_torch(tmp_path: Path) -> None:
    probe = (
        "import sys; from trainer.cli import main; status = main(sys.argv[1:]); "
        "assert 'torch' not in sys.modules; raise SystemExit(status)"
    )
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            probe,
            "--stage1-threshold",
            "1.5",
            "--run-dir",
            str(tmp_path / "r"),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr == "maou-train: error: --stage1-threshold must be in [0, 1], got 1.5\n"


def test_resume_of_a_directory_without_config_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--resume", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("maou-train: error: --resume ") and err.count("\n") == 1


def test_gpu_n_is_cuda_device_n_as_readme_says() -> None:
    import torch

    from trainer.context import pick_device

    config = parse_config(["--gpu", "0", "--run-dir", "x"])
    if torch.cuda.is_available():
        assert pick_device(config) == torch.device("cuda:0")
    else:  # not "Invalid device string: '0'": the reason, and what to do
        with pytest.raises(RuntimeError, match="--gpu 0: CUDA is not available here"):
            pick_device(config)
    assert pick_device(parse_config(["--gpu", "cpu", "--run-dir", "x"])).type == "cpu"

"""``maou-tui recommend`` as a user runs it: the figures printed, the recipes, the errors."""

from __future__ import annotations

import json

import pytest

from maou_tui.cli import main
from maou_tui.lrtools.recipes import RECIPES, TASKS


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["recommend", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_worked_example_printed(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "--arch", "vit", "--stage", "2", "--batch-size", "4096")
    assert code == 0
    assert "recommended effective LR : 0.0002" in out
    assert "sqrt scale               : 4.00" in out
    assert "--stage2-learning-rate 0.00005 --stage2-batch-size 4096" in out
    assert "--vit-dropout 0.1" in out


def test_json_output_is_the_recommendation(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(
        capsys, "--arch", "resnet", "--stage", "3", "--batch-size", "1024", "--json"
    )
    assert code == 0
    data = json.loads(out)
    assert data["option"] == "--learning-ratio"
    assert data["cli_value"] == data["recommended_effective_lr"] == 0.001
    assert any("実効LR = 0.002" in n for n in data["notes"])


@pytest.mark.parametrize("task", TASKS)
def test_every_task_prints_its_optimizer(capsys: pytest.CaptureFixture[str], task: str) -> None:
    code, out, _ = run_cli(capsys, "--task", task)
    assert code == 0
    assert RECIPES[task].optimizer in out


def test_gan_recipe_has_the_unusual_beta1(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run_cli(capsys, "--task", "gan")
    assert "0.0002" in out and "β1=0.5" in out


def test_batch_change_prints_linear_and_sqrt_scaling(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(
        capsys, "--task", "image-classification", "--from-batch", "256", "--to-batch", "1024"
    )
    assert code == 0
    assert "linear rule  lr × k  : 0.4   <- fits this optimizer" in out
    assert "sqrt rule    lr × √k : 0.2" in out


def test_large_batch_task_needs_an_lr_to_scale(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(
        capsys, "--task", "large-batch-cnn", "--from-batch", "256", "--to-batch", "4096"
    )
    assert code == 2
    assert err.count("\n") == 1 and "--lr" in err
    code, out, _ = run_cli(
        capsys,
        "--task",
        "large-batch-cnn",
        "--lr",
        "0.1",
        "--from-batch",
        "256",
        "--to-batch",
        "4096",
    )
    assert code == 0 and "1.6" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--arch", "cnn", "--stage", "1", "--batch-size", "32"], "unknown architecture 'cnn'"),
        (["--arch", "vit", "--stage", "2"], "--arch needs --batch-size"),
        (["--arch", "vit", "--stage", "5", "--batch-size", "32"], "stage must be 1, 2 or 3"),
        (["--task", "nlp"], "unknown task 'nlp'"),
        (["--task", "gan", "--from-batch", "64"], "both --from-batch and --to-batch"),
        ([], "give --arch/--stage/--batch-size, --task"),
        (
            ["--arch", "vit", "--stage", "2", "--batch-size", "256", "--to-batch", "4096"],
            "give the new --batch-size instead",
        ),
    ],
)
def test_bad_input_is_one_line_error(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, out, err = run_cli(capsys, *argv)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert message in err

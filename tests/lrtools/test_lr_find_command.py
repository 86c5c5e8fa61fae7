"""``maou-tui lr-find`` end to end: a real detached trainer sweeps, the result is printed."""

from __future__ import annotations

from pathlib import Path

import pytest

from maou_tui.cli import main


@pytest.mark.slow  # a real trainer process: ~10 s on an idle 2-core machine, ~40 s under load
def test_headless_lr_find_prints_suggestions_and_the_option(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # stdout is not a terminal under pytest: the command prints instead of opening the TUI.
    argv = ["lr-find", "--runs-root", str(tmp_path), "--stage", "1", "--cpu"]
    argv += ["--num-threads", "1", "--lr-find-iterations", "20"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "iteration 10: lr" in out and "iteration 20: lr" in out
    assert "Recommended: valley" in out or "Recommended: steepest" in out
    assert "Pass: --stage1-learning-rate " in out
    assert "Guide's table (resnet Stage 1, batch 16-32)" in out
    (run_dir,) = tmp_path.iterdir()
    assert run_dir.name.endswith("-resnet-tiny-lr-find")
    assert main(["lr-find", "--show", str(run_dir)]) == 0
    assert "Pass: --stage1-learning-rate" in capsys.readouterr().out


def test_bad_trainer_option_is_one_line_error_and_leaves_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["lr-find", "--runs-root", str(tmp_path), "--stage", "7"])
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("maou-tui lr-find: error:") and err.count("\n") == 1
    assert "--stage" in err
    assert list(tmp_path.iterdir()) == []

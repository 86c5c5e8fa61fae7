"""What the user reads after a sweep: suggestions, the option to pass, the guide's row."""

from __future__ import annotations

from pathlib import Path

import pytest

from maou_tui.cli import main
from maou_tui.ingest.events_jsonl import EventsParser
from maou_tui.lrtools.sweep_report import SweepProgress, format_sweep_result
from tests.lrtools.sweep_fixture import write_sweep


def progress_of(run_dir: Path) -> SweepProgress:
    progress = SweepProgress()
    progress.add(EventsParser().feed((run_dir / "events.jsonl").read_bytes()))
    return progress


def test_result_names_every_suggestion_and_the_option(tmp_path: Path) -> None:
    write_sweep(tmp_path)
    progress = progress_of(tmp_path)
    assert progress.done and progress.finished is not None
    text = format_sweep_result(progress)
    for name in ("valley *", "steepest", "minimum"):
        assert name in text
    assert f"Pass: --stage1-learning-rate {progress.finished.cli_value:.3g}"[:30] in text
    assert "Guide's table (resnet Stage 1, batch 16-32)" in text
    assert "search 0.0005 - 0.01 -> inside the guide's range" in text


def test_curve_is_log_lr_and_skips_missing_points(tmp_path: Path) -> None:
    write_sweep(tmp_path)
    progress = progress_of(tmp_path)
    xs, ys = progress.curve()
    assert xs[0] == pytest.approx(-7)
    assert len(xs) == len(ys) == len(progress.lrs)
    progress.smoothed[3] = None
    assert len(progress.curve()[0]) == len(progress.lrs) - 1


def test_status_line_counts_iterations(tmp_path: Path) -> None:
    write_sweep(tmp_path, finished=False)
    progress = progress_of(tmp_path)
    assert progress.status_line().startswith(
        f"LR range test Stage 1 running: iteration {len(progress.lrs)}/100"
    )
    assert format_sweep_result(progress) == "No result yet: still running"


def test_show_prints_an_earlier_result(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_sweep(tmp_path)
    assert main(["lr-find", "--show", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "Recommended: valley" in out and "--stage1-learning-rate" in out


def test_show_of_a_directory_without_a_sweep_is_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["lr-find", "--show", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no LR range test there" in err


def test_result_outside_the_guides_range_says_so(tmp_path: Path) -> None:
    write_sweep(tmp_path)
    progress = progress_of(tmp_path)
    assert progress.finished is not None
    progress.finished.cli_value = 0.05
    assert "-> OUTSIDE the guide's range" in format_sweep_result(progress)


def test_lr_tools_never_load_torch() -> None:
    """recommend, lr-find's screen and its report run in the TUI process: no torch there."""
    import subprocess
    import sys

    code = (
        "import sys; from maou_tui.cli import main; "
        "main(['recommend', '--arch', 'vit', '--stage', '2', '--batch-size', '4096']); "
        "import maou_tui.app.lr_find_screen, maou_tui.commands.lr_find, "
        "maou_tui.lrtools.range_test, maou_tui.lrtools.sweep_report; "
        "assert 'torch' not in sys.modules and 'trainer' not in sys.modules, 'torch loaded'"
    )
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr

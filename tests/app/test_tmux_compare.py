"""Two real tiny runs with different LRs, compared in a real terminal: ``r`` opens the runs
screen, ``space`` adds the second run to the overlay, the overlay's cursor goes back to a
chosen step, and the legend's value of each run is the loss its events.jsonl has there.

The value is read from the overlay's own cursor and legend (the main charts' value cursor is
another piece of work, issue 18 item 3)."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from test_tmux_e2e import Tmux, maou_tui_command, read_events, wait_for_event

pytestmark = [pytest.mark.slow, *__import__("test_tmux_e2e").pytestmark]

LRS = {"lr-1e-3": 0.001, "lr-4e-3": 0.004}
#: Stage 1 only, two epochs of 35 batches: about a minute on two busy cores.
OPTIONS = ["--stage", "1", "--stage1-max-epochs", "2", "--num-threads", "1"]


def start_run(cwd: Path, name: str, lr: float) -> Path:
    command = [
        sys.executable, "-m", "maou_tui", "run", "--no-tui", "--run-dir", f"runs/{name}",
        *OPTIONS, "--stage1-learning-rate", str(lr),
    ]  # fmt: skip
    subprocess.run(command, cwd=cwd, check=True, capture_output=True, timeout=60)
    return cwd / "runs" / name


def loss_at(run_dir: Path, step: int) -> float:
    """The loss of the last step event at or before ``step`` (what the legend reads)."""
    steps = [e for e in read_events(run_dir) if e["type"] == "step" and e["global_step"] <= step]
    return steps[-1]["loss"]


def test_compare_two_runs_and_read_a_value_at_a_step(tmp_path: Path) -> None:
    runs = {name: start_run(tmp_path, name, lr) for name, lr in LRS.items()}
    for run_dir in runs.values():
        wait_for_event(run_dir, lambda e: e["type"] == "run_finished", "the run's end", 300)
    tmux = Tmux(tmp_path / "tmux.sock", tmp_path)
    try:
        shown = runs["lr-1e-3"]
        tmux.type_line(f"{maou_tui_command()} attach {shlex.quote(str(shown))} --runs-root runs")
        tmux.wait_for_screen(lambda s: "REACHABLE" in s, "the run on screen", 60)
        tmux.press("r")
        listed = tmux.wait_for_screen(lambda s: s.count("lr-4e-3") >= 1 and "Step/epoch" in s,
                                      "the runs screen", 30)  # fmt: skip
        # The run on show is selected and under the cursor; the other is above or below it.
        other_first = listed.index("lr-4e-3") < listed.index("lr-1e-3")
        tmux.press("k" if other_first else "j")
        tmux.press("Space")
        tmux.wait_for_screen(
            lambda s: len(re.findall(r"━━ lr-\de-3", s)) == 2, "two legend lines", 30
        )
        tmux.press("G")  # the end of the list, then past it: the overlay
        tmux.press("j")
        # The run list's keys leave the footer when it loses the focus.
        tmux.wait_for_screen(lambda s: "Select" not in s, "the overlay focused", 20)
        for _ in range(3):
            tmux.press("b")  # ten columns back
        screen = tmux.wait_for_screen(lambda s: "(cursor)" in s, "the cursor's reading", 30)
        step = int(re.search(r"loss at step (\d+) \(cursor\)", screen).group(1))
        assert 10 <= step < 70
        for name, run_dir in runs.items():
            value = float(re.search(rf"━━ {name}\s+(\S+)", screen).group(1))
            assert value == pytest.approx(loss_at(run_dir, step), rel=1e-4), (name, screen)
        # The LR is all that differs (the runs' own directories are not compared).
        config = tmux.wait_for_screen(lambda s: "config: 1 differ" in s, "the config diff", 10)
        assert re.search(r"stage1_learning_rate\s+0\.004\s+0", config), config
        tmux.press("q")  # back to the main screen (Escape then q would read as alt+q)
        tmux.wait_for_screen(lambda s: "Step/epoch" not in s and "LR½" in s, "the main screen", 20)
        tmux.press("q")
        tmux.wait_for_screen(lambda s: "run directory:" in s, "the shell again", 20)
    finally:
        tmux.kill()

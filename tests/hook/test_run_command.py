"""``maou-tui run -- CMD`` for any command: captured on a sized terminal, its exit recorded."""

from __future__ import annotations

import sys
from pathlib import Path

from tests.hook.conftest import maou_tui, read_events, run_finished, start_run, wait_for

SHOW_TERMINAL = (
    "import shutil, sys; size = shutil.get_terminal_size(); "
    "print(sys.stdout.isatty(), size.columns, size.lines); "
    "sys.stderr.write('bar 1/2\\rbar 2/2\\n\\x1b[31mred\\x1b[0m\\n'); sys.exit(3)"
)


def test_output_captured_as_a_terminal_gets_it_and_the_exit_recorded(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    start_run(run_dir, sys.executable, "-c", SHOW_TERMINAL)
    finished = wait_for(lambda: run_finished(run_dir), timeout=60, what="run_finished")
    assert finished["status"] == "failed"
    assert finished["reason"].endswith("exited with status 3")
    log = (run_dir / "train.log").read_bytes()
    assert log.startswith(b"True 100 30\n")  # a terminal of --terminal-size, \n left alone
    assert b"bar 1/2\rbar 2/2\n\x1b[31mred\x1b[0m\n" in log
    started = read_events(run_dir)[0]
    assert started["type"] == "run_started" and started["config"]["command"][1] == "-c"


def test_bad_command_lines_are_one_line_and_exit_2(tmp_path: Path) -> None:
    for args, message in (
        (["--", "no-such-command-xyz"], "no-such-command-xyz: command not found"),
        (["--"], "nothing after --"),
    ):
        done = maou_tui("run", "--no-tui", "--runs-root", str(tmp_path / "runs"), *args)
        assert done.returncode == 2
        [line] = done.stderr.strip().splitlines()
        assert line.startswith(f"maou-tui run: error: {message}")
    assert not (tmp_path / "runs").exists()

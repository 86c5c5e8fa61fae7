"""Fixtures for the app tests: a deterministic run directory and live control-loop processes."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from demo_run import write_demo_run  # noqa: E402
from processes import LiveLoop  # noqa: E402


@pytest.fixture(autouse=True)
def _isolated_themes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No test reads the user's own theme directory."""
    theme_dir = tmp_path / "user-themes"
    monkeypatch.setenv("MAOU_TUI_THEME_DIR", str(theme_dir))
    return theme_dir


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test has its own (empty) config and state homes: no settings file, no view
    remembered by another test."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config-home"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state-home"))
    monkeypatch.delenv("MAOU_TUI_SETTINGS", raising=False)
    return tmp_path / "config-home" / "maou-tui"


@pytest.fixture(autouse=True)
def _utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Log times are shown in the viewer's own zone: every app test runs in UTC."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def demo_dir(tmp_path: Path) -> Path:
    return write_demo_run(tmp_path / "runs" / "demo-run")


@pytest.fixture
def diverged_log() -> Path:
    """A real run's log with findings: a digits MLP thrown to chance by SGD at LR 1.5 (a
    divergence at batch 9; tests/diagnose/corpus)."""
    return Path(__file__).parents[1] / "diagnose" / "corpus" / "digits_lr_high_dead.maou.txt"


@pytest.fixture
def live_loop(tmp_path: Path) -> Iterator[Callable[..., LiveLoop]]:
    """Start live loops on demand (``live_loop(*args)``); all are ended after the test."""
    loops: list[LiveLoop] = []

    def start(*args: str) -> LiveLoop:
        loop = LiveLoop(tmp_path / f"run{len(loops)}", *args)
        loops.append(loop)
        return loop

    yield start
    for loop in loops:
        loop.close()

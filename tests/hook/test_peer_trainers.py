"""HF Trainer and Lightning, unmodified, steered through the hook (slow; skipped without them).

The programs run under ``MAOU_TUI_PEER_PYTHON`` when set (an interpreter that has transformers
or lightning, e.g. a scratch venv), else under this one.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from maou_tui.ingest import load_store
from tests.hook.conftest import PROGRAMS, read_events, run_finished, send, start_run, wait_for

PYTHON = os.environ.get("MAOU_TUI_PEER_PYTHON", sys.executable)


def _has(module: str) -> bool:
    check = f"import importlib.util, sys; sys.exit(importlib.util.find_spec({module!r}) is None)"
    return subprocess.run([PYTHON, "-c", check], capture_output=True).returncode == 0


def _steps(run_dir: Path) -> list[dict[str, object]]:
    return [e for e in read_events(run_dir) if e["type"] == "step"]


def _steer(run_dir: Path) -> dict[str, object]:
    """Pause (no step for a second), halve the LR, resume, stop; the stop reply."""
    wait_for(lambda: len(_steps(run_dir)) >= 5, timeout=180, what="5 optimizer steps")
    paused = send(run_dir, "pause")
    assert paused["ok"], paused
    time.sleep(1.5)  # the event writer flushes every 0.1 s
    assert len(_steps(run_dir)) == paused["step"]
    assert send(run_dir, "scale_lr", factor=0.5)["ok"]
    assert send(run_dir, "resume")["ok"]
    wait_for(lambda: len(_steps(run_dir)) >= paused["step"] + 5, timeout=60, what="5 more")
    stopped = send(run_dir, "stop")
    assert stopped["ok"], stopped
    wait_for(lambda: run_finished(run_dir), timeout=120, what="run_finished")
    steps = _steps(run_dir)
    after = [e for e in steps if e["global_step"] > paused["step"]]
    assert after and all(e["lr_multiplier"] == 0.5 for e in after)
    assert all(e["loss"] is not None for e in steps)
    return stopped


@pytest.mark.slow
@pytest.mark.skipif(not _has("transformers"), reason="transformers is not installed")
def test_hf_trainer_paused_halved_and_stopped(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    start_run(run_dir, PYTHON, str(PROGRAMS / "hf_trainer_tiny.py"), str(tmp_path / "out"))
    _steer(run_dir)
    log = (run_dir / "train.log").read_text(errors="replace")
    assert "KeyboardInterrupt: model saved to" in log
    assert (tmp_path / "out" / "model.safetensors").exists()
    assert run_finished(run_dir)["status"] == "stopped"
    # HF's own loss dicts (every 3 steps, a mean over them) chart at the hook's steps 3, 6, ...
    logged = log.count("{'loss': ")
    loss = load_store(run_dir).series("loss")
    assert logged >= 2 and len(loss) == logged
    assert loss.steps.tolist() == [3 * (i + 1) for i in range(logged)]


@pytest.mark.slow
@pytest.mark.skipif(not _has("lightning"), reason="lightning is not installed")
def test_lightning_paused_halved_and_stopped(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    start_run(run_dir, PYTHON, str(PROGRAMS / "lightning_tiny.py"), str(tmp_path / "out"))
    _steer(run_dir)
    log = (run_dir / "train.log").read_text(errors="replace")
    assert "Detected KeyboardInterrupt, attempting graceful shutdown" in log
    assert run_finished(run_dir)["status"] == "stopped"

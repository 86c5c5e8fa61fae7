"""Every control command against a real trainer process over its socket; stop, SIGTERM, resume."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import pytest

from maou_tui.protocol import EVENT_TYPES, decode_event, decode_reply, undeclared_fields
from tests.trainer.conftest import (
    of_type,
    read_events,
    resume_trainer,
    run_trainer,
    send,
    start_trainer,
    wait_for_event,
)
from tests.trainer.conftest import send as send_request

FAIL_AT_END = ("--stage", "1", "--stage1-max-epochs", "1", "--stage1-threshold", "1.0")


def _finish(process: subprocess.Popen[str], timeout: float = 180) -> tuple[int, str]:
    _, err = process.communicate(timeout=timeout)
    return process.returncode, err


def _losses(events: list[dict]) -> dict[int, float]:
    """global_step -> loss; a resumed run's later line for a step wins."""
    return {e["global_step"]: e["loss"] for e in of_type(events, "step")}


def test_control_commands_tour(tmp_path: Path, cache_dir: Path) -> None:
    run_dir = tmp_path / "run"
    process = start_trainer(
        run_dir, cache_dir,
        "--stage1-max-epochs", "200", "--stage1-threshold", "1.0", "--stage2-max-epochs", "5",
    )  # fmt: skip
    replies: list[dict] = []

    def send(run_dir: Path, kind: str, **fields: object) -> dict:
        replies.append(send_request(run_dir, kind, **fields))
        return replies[-1]

    try:
        wait_for_event(run_dir, lambda e: e["type"] == "step", what="the first step")
        reply = send(run_dir, "pause")
        assert reply["ok"] and reply["status"] == "applied" and reply["state"]["paused"]
        paused_at = reply["step"]
        wait_for_event(run_dir, lambda e: e["type"] == "paused", what="paused")
        assert send(run_dir, "status")["state"]["paused"] is True
        time.sleep(0.5)
        assert max(s["global_step"] for s in of_type(read_events(run_dir), "step")) == paused_at

        reply = send(run_dir, "scale_lr", factor=0.5)
        assert reply["ok"] and reply["state"]["lr_multiplier"] == pytest.approx(0.5)
        reply = send(run_dir, "set_lr", value=0.0002)
        assert reply["ok"] and reply["state"]["lr_multiplier"] == pytest.approx(0.2)
        reply = send(run_dir, "set_threshold", stage=2, value=0.0, action="stop")
        assert reply["ok"] and reply["state"]["thresholds"]["2"] == {"value": 0.0, "action": "stop"}
        assert send(run_dir, "checkpoint")["ok"]
        bad = send(run_dir, "scale_lr", factor=-1)
        assert not bad["ok"] and bad["status"] == "rejected"
        assert send(run_dir, "resume")["ok"]

        saved = wait_for_event(
            run_dir, lambda e: e["type"] == "checkpoint_saved" and e["reason"] == "control"
        )
        assert Path(saved["path"]).name == "latest.pt" and Path(saved["path"]).exists()
        after = wait_for_event(
            run_dir, lambda e: e["type"] == "step" and e["global_step"] > paused_at
        )
        assert after["lr_multiplier"] == pytest.approx(0.2)
        assert after["lr"] == pytest.approx(0.0002)

        assert send(run_dir, "skip_stage")["ok"]
        code, err = _finish(process)
    finally:
        if process.poll() is None:
            process.kill()
    assert code == 0, err
    events = read_events(run_dir)
    controls = [e["command"] for e in of_type(events, "control")]
    assert controls == [
        "pause", "scale_lr", "set_lr", "set_threshold", "checkpoint", "resume", "skip_stage"
    ]  # fmt: skip
    assert of_type(events, "control")[1]["before"]["lr_multiplier"] == 1.0
    assert of_type(events, "control")[1]["after"]["lr_multiplier"] == 0.5
    assert of_type(events, "resumed")[0]["paused_s"] >= 0.5
    stage1_done, stage2_done = of_type(events, "stage_completed")
    assert (stage1_done["stage"], stage1_done["reason"]) == (1, "skipped")
    assert stage2_done["stage"] == 2 and stage2_done["reason"] == "threshold"
    (reached,) = of_type(events, "threshold_reached")
    assert (reached["stage"], reached["action"]) == (2, "stop")
    assert [e["stage"] for e in of_type(events, "stage_started")] == [1, 2]
    # The LR set in Stage 1 was for Stage 1: Stage 2 starts at its own LR, and the log says so.
    stage2_steps = [e for e in of_type(events, "step") if e["stage"] == 2]
    assert stage2_steps and {e["lr_multiplier"] for e in stage2_steps} == {1.0}
    log = (run_dir / "train.log").read_text()
    assert "Stage 2 starts at its own LR: the LR multiplier 0.2 set during the previous" in log
    finished = events[-1]
    assert finished["type"] == "run_finished" and finished["status"] == "stopped"
    # The contract is whole: every field this run wrote or answered is declared (issue 11).
    decoded = [decode_event(json.dumps(e)) for e in events]
    assert {e.type for e in decoded} <= EVENT_TYPES
    assert [f"{e.type}.{f}" for e in decoded for f in undeclared_fields(e)] == []
    assert {r["state"] is not None for r in replies} == {True}
    assert [f for r in replies for f in undeclared_fields(decode_reply(json.dumps(r)))] == []


@pytest.mark.slow  # 8-27 s on 2 cores: kept out of the default run's 5 minutes
def test_stop_then_resume_gives_the_same_losses_as_an_uninterrupted_run(
    tmp_path: Path, cache_dir: Path
) -> None:
    reference_dir = tmp_path / "reference"
    reference = run_trainer(reference_dir, cache_dir, *FAIL_AT_END)
    # The uninterrupted run also shows maou's fail-fast: exit 1, one line naming the option.
    assert reference.returncode == 1
    err = reference.stderr.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("maou-train: error: Stage 1 failed")
    assert "--stage1-max-epochs" in err[0] and "--stage1-threshold" in err[0]
    reference_events = read_events(reference_dir)
    assert reference_events[-1]["status"] == "failed"
    # The failure says where: the last step trained (the app marks the end there).
    assert reference_events[-1]["step"] == of_type(reference_events, "step")[-1]["global_step"]

    run_dir = tmp_path / "run"
    process = start_trainer(run_dir, cache_dir, *FAIL_AT_END)
    try:
        wait_for_event(run_dir, lambda e: e["type"] == "step" and e["global_step"] >= 2)
        assert send(run_dir, "pause")["ok"]
        stop = send(run_dir, "stop")
        assert stop["ok"] and stop["status"] == "applied"
        code, err = _finish(process)
    finally:
        if process.poll() is None:
            process.kill()
    assert code == 0, err
    events = read_events(run_dir)
    assert events[-1]["type"] == "run_finished" and events[-1]["status"] == "stopped"
    stopped_at = events[-1]["step"]
    assert 2 <= stopped_at < 5
    assert (run_dir / "checkpoints" / "latest.pt").exists()

    resumed = resume_trainer(run_dir)
    assert resumed.returncode == 1, resumed.stderr  # the same fail-fast end as the reference
    events = read_events(run_dir)
    assert [e["resumed"] for e in of_type(events, "run_started")] == [False, True]
    first_resumed = next(
        e for e in of_type(events, "step") if e["seq"] > of_type(events, "run_started")[1]["seq"]
    )
    assert first_resumed["global_step"] == stopped_at + 1
    expected, got = _losses(read_events(reference_dir)), _losses(events)
    assert sorted(got) == sorted(expected) == list(range(1, 6))
    for step in expected:
        assert got[step] == pytest.approx(expected[step], rel=1e-6, abs=1e-7), step
    ref_end, got_end = (
        of_type(read_events(reference_dir), "epoch_end"),
        of_type(events, "epoch_end"),
    )
    assert [e["train_metric"] for e in got_end] == pytest.approx(
        [e["train_metric"] for e in ref_end]
    )


@pytest.mark.slow  # 8-27 s on 2 cores: kept out of the default run's 5 minutes
def test_sigterm_finishes_the_step_checkpoints_and_exits_0(tmp_path: Path, cache_dir: Path) -> None:
    run_dir = tmp_path / "run"
    process = start_trainer(
        run_dir, cache_dir, "--stage1-max-epochs", "200", "--stage1-threshold", "1.0"
    )
    try:
        wait_for_event(run_dir, lambda e: e["type"] == "step", what="the first step")
        process.send_signal(signal.SIGTERM)
        code, err = _finish(process)
    finally:
        if process.poll() is None:
            process.kill()
    assert code == 0, err
    events = read_events(run_dir)
    finished = events[-1]
    assert finished["type"] == "run_finished" and finished["status"] == "stopped"
    assert "SIGTERM" in finished["reason"]
    saved = of_type(events, "checkpoint_saved")[-1]
    assert saved["reason"] == "SIGTERM" and Path(saved["path"]).exists()
    assert not (run_dir / "control.sock").exists()

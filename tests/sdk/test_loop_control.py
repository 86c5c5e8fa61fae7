"""LoopControl: commands applied at step boundaries, pause blocking, the audit trail."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from maou_tui.protocol import Threshold
from maou_tui.sdk import ControlServer, EventWriter, LoopControl, RunDir
from tests.sdk.conftest import RawClient, StepLoop


def wait_until(predicate, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.005)
    return False


def test_scale_lr_is_applied_at_a_step_and_audited(step_loop: StepLoop, raw_client: RawClient):
    reply = raw_client.ask({"type": "scale_lr", "id": "half", "factor": 0.5})
    assert reply["ok"] and reply["status"] == "applied"
    assert reply["state"]["lr_multiplier"] == 0.5 and reply["state"]["lr"] == pytest.approx(0.005)
    (event,) = [e for e in step_loop.event_lines() if e["type"] == "control"]
    assert event["id"] == "half" and event["command"] == "scale_lr"
    assert event["applied_at_step"] == reply["step"]
    assert event["before"] == {"lr_multiplier": 1.0, "lr": 0.01}
    assert event["after"] == {"lr_multiplier": 0.5, "lr": 0.005}


def test_set_lr_makes_the_current_lr_the_requested_value(step_loop, raw_client):
    reply = raw_client.ask({"type": "set_lr", "id": "s", "value": 0.002})
    assert reply["ok"]
    assert step_loop.control.lr_multiplier * 0.01 == pytest.approx(0.002)


def test_scaling_past_an_lr_of_one_is_rejected(step_loop, raw_client):
    assert raw_client.ask({"type": "scale_lr", "id": "a", "factor": 10})["ok"]  # LR 0.1
    assert raw_client.ask({"type": "scale_lr", "id": "b", "factor": 10})["ok"]  # LR 1.0
    reply = raw_client.ask({"type": "scale_lr", "id": "c", "factor": 1.5})  # would be 1.5
    assert not reply["ok"] and "above 1" in reply["error"]
    assert step_loop.control.lr_multiplier == 100


def test_set_threshold_replaces_a_stage_threshold(step_loop, raw_client):
    reply = raw_client.ask(
        {"type": "set_threshold", "id": "t", "stage": 2, "value": 0.8, "action": "stop"}
    )
    assert reply["ok"]
    assert step_loop.control.thresholds[2] == Threshold(value=0.8, action="stop")
    assert reply["state"]["thresholds"]["2"] == {"value": 0.8, "action": "stop"}


def test_pause_blocks_the_loop_while_the_server_keeps_answering(step_loop, raw_client):
    reply = raw_client.ask({"type": "pause", "id": "p"})
    assert reply["ok"] and reply["state"]["paused"]
    frozen = step_loop.step
    assert not step_loop.advances(1, timeout=0.3)
    assert step_loop.step == frozen
    status = raw_client.ask({"type": "status", "id": "s"})
    assert status["state"]["paused"] and status["state"]["step"] == frozen
    scaled = raw_client.ask({"type": "scale_lr", "id": "while-paused", "factor": 0.5})
    assert scaled["ok"] and scaled["step"] == frozen
    again = raw_client.ask({"type": "pause", "id": "p2"})
    assert not again["ok"] and "already paused" in again["error"]
    assert raw_client.ask({"type": "resume", "id": "r"})["ok"]
    assert step_loop.advances()
    assert step_loop.control.paused_seconds_total >= 0.3
    events = step_loop.event_lines()
    paused = next(e for e in events if e["type"] == "paused")
    resumed = next(e for e in events if e["type"] == "resumed")
    assert paused["step"] == resumed["step"] == frozen
    assert resumed["paused_s"] >= 0.3


def test_resume_when_not_paused_is_rejected(step_loop, raw_client):
    reply = raw_client.ask({"type": "resume", "id": "r"})
    assert not reply["ok"] and "not paused" in reply["error"]


def test_stop_while_paused_ends_the_pause_and_the_loop(step_loop, raw_client):
    assert raw_client.ask({"type": "pause", "id": "p"})["ok"]
    reply = raw_client.ask({"type": "stop", "id": "x"})
    assert reply["ok"] and reply["state"]["stopping"] and not reply["state"]["paused"]
    assert wait_until(lambda: not step_loop._thread.is_alive())
    assert [e["type"] for e in step_loop.event_lines()][-2:] == ["control", "resumed"]


def test_checkpoint_and_skip_are_flags_for_the_loop(step_loop, raw_client):
    assert raw_client.ask({"type": "checkpoint", "id": "c"})["ok"]
    assert step_loop.control.checkpoint_requested
    step_loop.control.checkpoint_done("/runs/r/checkpoints/step-10.pt")
    assert not step_loop.control.checkpoint_requested
    state = raw_client.ask({"type": "status", "id": "s"})["state"]
    assert state["last_checkpoint"] == "/runs/r/checkpoints/step-10.pt"
    assert raw_client.ask({"type": "skip_stage", "id": "k"})["ok"]
    assert step_loop.control.skip_requested
    step_loop.control.clear_skip()
    assert not step_loop.control.skip_requested


def test_restore_brings_back_a_checkpointed_multiplier(step_loop, raw_client):
    step_loop.control.restore(lr_multiplier=0.25, thresholds={1: Threshold(value=0.9)})
    state = raw_client.ask({"type": "status", "id": "s"})["state"]
    assert state["lr_multiplier"] == 0.25
    assert state["thresholds"] == {"1": {"value": 0.9, "action": "advance"}}


def test_without_a_server_poll_does_nothing(tmp_path: Path):
    control = LoopControl(None, None, thresholds={1: Threshold(value=0.5)})
    control.poll(1, schedule_lr=0.1)
    assert control.lr_multiplier == 1.0 and not control.paused
    control.close()


def test_set_lr_at_zero_schedule_lr_is_rejected(short_dir: Path):
    with RunDir.create(short_dir / "r") as run:
        server = ControlServer(run.socket_path).start()
        control = LoopControl(server, None)
        client = RawClient(run.socket_path)
        client.send({"type": "set_lr", "id": "z", "value": 0.001})
        assert wait_until(lambda: server.has_pending)
        control.poll(1, schedule_lr=0.0)
        reply = client.read_reply()
        assert not reply["ok"] and "schedule's LR is 0" in reply["error"]
        assert control.lr_multiplier == 1.0
        client.close()
        control.close()


def test_refused_commands_are_answered_at_once(short_dir: Path):
    with RunDir.create(short_dir / "r") as run:
        server = ControlServer(run.socket_path).start()
        control = LoopControl(server, None, refuse={"skip_stage": "no stages here"})
        client = RawClient(run.socket_path)
        reply = client.ask({"type": "skip_stage", "id": "k"})  # nobody polls: still answered
        assert not reply["ok"] and reply["error"] == "no stages here"
        client.close()
        control.close()


def test_commands_still_queued_at_close_are_rejected(short_dir: Path):
    with RunDir.create(short_dir / "r") as run:
        events = EventWriter(run.events_path)
        server = ControlServer(run.socket_path).start()
        control = LoopControl(server, events)
        client = RawClient(run.socket_path)
        client.send({"type": "pause", "id": "late"})
        assert wait_until(lambda: server.has_pending)
        closer = threading.Thread(target=control.close)
        closer.start()
        reply = client.read_reply()
        closer.join()
        assert reply["id"] == "late" and not reply["ok"] and "shutting down" in reply["error"]
        client.close()
        events.close()
        assert not run.socket_path.exists()

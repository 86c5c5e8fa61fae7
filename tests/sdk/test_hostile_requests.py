"""Issue 16's control-channel cases: each hostile line is refused, changes nothing, and the server
goes on answering every client (one request never takes the control thread down)."""

from __future__ import annotations

import pytest

from maou_tui.sdk import server as server_module
from tests.sdk.conftest import RawClient, StepLoop
from tests.sdk.test_control_server import assert_rejected, assert_unchanged

DEEP = b'{"v":1,"id":"a","type":"status","x":' + b"[" * 1100 + b"]" * 1100 + b"}"

HOSTILE_LINES = [
    # (line, a fragment of the error): the attacks of issue 16, verbatim where it gives them
    (b'{"v":1,"id":"a","type":["status"]}', "unknown command type"),
    (b'{"v":1,"id":"a","type":{}}', "unknown command type"),
    (DEEP, "nested 1101 levels deep"),
    (b'{"v":1,"id":"a","type":"status","type":"stop"}', "'type' twice"),
    (b'{"v":1,"id":"a","type":"stop","type":"status"}', "'type' twice"),
    (b'{"v":1,"id":"a","type":"scale_lr","factor":"0.5"}', "factor"),
    (b'{"v":1,"id":"a","type":"scale_lr","factor":true}', "factor"),
    (b'{"v":1,"id":"a","type":"set_lr","value":"0.001"}', "value"),
    (b'{"v":1,"id":"a","type":"set_threshold","stage":"1","value":0.5}', "stage"),
    (b'{"v":1,"id":"a","type":"set_threshold","stage":1,"value":"0.5"}', "value"),
    (b'{"v":1,"id":"a","type":"set_threshold","stage":1.0,"value":0.5}', "stage"),
    (b'{"v":"1","id":"a","type":"pause"}', "v"),
    (b'{"v":1,"id":"\xff\xfe","type":"scale_lr","factor":0.5}', "not valid UTF-8 at byte 13"),
    (b'{"v":1,"id":"a","type":"scale_lr","factor":5e-324}', "[0.001, 10]"),
    (b'{"v":1,"id":"a","type":"set_lr","value":1e-300}', "[1e-08, 1]"),
]


@pytest.mark.parametrize(("line", "fragment"), HOSTILE_LINES)
def test_hostile_line_is_refused_and_the_server_still_serves(
    step_loop: StepLoop, raw_client: RawClient, line: bytes, fragment: str
) -> None:
    raw_client.send_raw(line + b"\n")
    assert_rejected(raw_client.read_reply(), fragment)
    assert_unchanged(step_loop)
    with RawClient(step_loop.socket_path) as other:
        assert other.ask({"v": 1, "id": "other", "type": "status"})["ok"]
    assert raw_client.ask({"v": 1, "id": "same", "type": "status"})["ok"]


def test_invalid_utf8_id_leaves_no_audit_event(step_loop: StepLoop, raw_client: RawClient):
    raw_client.send_raw(b'{"v":1,"id":"\xff\xfe","type":"pause"}\n')
    reply = raw_client.read_reply()
    assert reply["ok"] is False and reply["id"] is None
    assert not step_loop.control.paused
    assert not [e for e in step_loop.event_lines() if e["type"] == "control"]


def test_lr_multiplier_floor_keeps_the_lr_recoverable(step_loop: StepLoop, raw_client: RawClient):
    for n in range(4):  # 1e-3 ** 2 = 1e-6 would pass the floor of 1e-4: the second is refused
        reply = raw_client.ask({"v": 1, "id": f"s{n}", "type": "scale_lr", "factor": 0.001})
        if n == 0:
            assert reply["ok"], reply
        else:
            assert_rejected(reply, "multiplier would become", "outside [0.0001, 10000]")
    assert step_loop.control.lr_multiplier == pytest.approx(1e-3)
    for n in range(3):
        assert raw_client.ask({"v": 1, "id": f"u{n}", "type": "scale_lr", "factor": 10})["ok"]
    assert step_loop.control.lr_multiplier == pytest.approx(1.0)


def test_a_fault_inside_one_request_harms_no_other(
    step_loop: StepLoop, raw_client: RawClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unforeseen exception while decoding one request answers it and serves the rest."""
    real_decode = server_module.decode_command

    def faulty(line: bytes):  # type: ignore[no-untyped-def]
        if b"boom" in line:
            raise TypeError("unhashable type: 'list'")
        return real_decode(line)

    monkeypatch.setattr(server_module, "decode_command", faulty)
    raw_client.send_raw(b'{"v":1,"id":"boom","type":"status"}\n')
    assert_rejected(raw_client.read_reply(), "not understood", "nothing was changed")
    assert raw_client.ask({"v": 1, "id": "after", "type": "status"})["ok"]
    with RawClient(step_loop.socket_path) as other:
        assert other.ask({"v": 1, "id": "other", "type": "status"})["ok"]
    assert_unchanged(step_loop)

"""The control socket under bad input: every case is refused clearly, changes nothing, and the
loop keeps stepping."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import stat
import struct
import threading
import time
from pathlib import Path

import pytest

from maou_tui.protocol import MAX_MESSAGE_BYTES
from tests.sdk.conftest import RawClient, StepLoop


def assert_unchanged(loop: StepLoop) -> None:
    assert loop.control.lr_multiplier == 1.0
    assert loop.control.thresholds[1].value == 0.99
    assert not loop.control.paused and not loop.control.stop_requested
    assert loop.advances(), "the training loop stalled"
    assert not [e for e in loop.event_lines() if e["type"] == "control"]


def assert_rejected(reply: dict, *fragments: str) -> None:
    assert reply["ok"] is False
    assert reply["status"] == "rejected"
    assert "\n" not in reply["error"]
    for fragment in fragments:
        assert fragment in reply["error"], reply["error"]


def test_socket_is_private(step_loop: StepLoop) -> None:
    mode = stat.S_IMODE(step_loop.socket_path.stat().st_mode)
    assert mode == 0o600
    assert stat.S_IMODE(step_loop.socket_path.parent.stat().st_mode) & 0o077 == 0


def test_status_answers_with_the_published_state(step_loop: StepLoop, raw_client: RawClient):
    assert step_loop.advances()
    reply = raw_client.ask({"type": "status", "id": "s1"})
    assert reply["ok"] and reply["id"] == "s1" and reply["status"] == "applied"
    state = reply["state"]
    assert state["stage"] == 1 and state["stage_name"] == "REACHABLE_SQUARES"
    assert state["step"] >= 3 and state["lr"] == pytest.approx(0.01)
    assert state["thresholds"] == {"1": {"value": 0.99, "action": "advance"}}


@pytest.mark.parametrize(
    ("line", "fragments"),
    [
        (b"{not json", ("not valid JSON",)),
        (b"[1, 2]", ("must be a JSON object",)),
        (b'{"id": "x", "type": "launch_missiles"}', ("unknown command type", "scale_lr")),
        (b'{"id": "x"}', ("unknown command type",)),
        (b'{"type": "scale_lr", "id": "x"}', ("factor",)),
        (b'{"type": "pause"}', ("id",)),
        (b'{"type": "scale_lr", "id": "x", "factor": NaN}', ("finite",)),
        (b'{"type": "scale_lr", "id": "x", "factor": Infinity}', ("finite",)),
        (b'{"type": "scale_lr", "id": "x", "factor": -0.5}', ("[0.001, 10]",)),
        (b'{"type": "scale_lr", "id": "x", "factor": 0}', ("[0.001, 10]",)),
        (b'{"type": "scale_lr", "id": "x", "factor": 1e9}', ("[0.001, 10]",)),
        (b'{"type": "scale_lr", "id": "x", "factor": "half"}', ("factor",)),
        (b'{"type": "set_lr", "id": "x", "value": NaN}', ("finite",)),
        (b'{"type": "set_lr", "id": "x", "value": -1e-3}', ("[1e-08, 1]",)),
        (b'{"type": "set_lr", "id": "x", "value": 5.0}', ("[1e-08, 1]",)),
        (b'{"type": "set_threshold", "id": "x", "stage": 1, "value": 1.5}', ("[0, 1]",)),
        (b'{"type": "set_threshold", "id": "x", "stage": 1, "value": -0.1}', ("[0, 1]",)),
        (b'{"type": "set_threshold", "id": "x", "stage": 4, "value": 0.5}', ("stage",)),
        (
            b'{"type": "set_threshold", "id": "x", "stage": 1, "value": 0.5, "action": "x"}',
            ("action",),
        ),
        (b'{"type": "pause", "id": "x", "extra": 1}', ("extra",)),
        (b'{"type": "pause", "id": "x", "v": 2}', ("v",)),
    ],
)
def test_bad_requests_are_rejected_and_change_nothing(
    step_loop: StepLoop, raw_client: RawClient, line: bytes, fragments: tuple[str, ...]
) -> None:
    raw_client.send_raw(line + b"\n")
    reply = raw_client.read_reply()
    assert_rejected(reply, *fragments)
    if b'"id": "x"' in line:
        assert reply["id"] == "x"
    assert_unchanged(step_loop)
    assert raw_client.ask({"type": "status", "id": "after"})["ok"], "connection still usable"


def test_line_over_the_size_cap_is_rejected(step_loop: StepLoop, raw_client: RawClient):
    huge = {"type": "pause", "id": "big", "pad": "x" * MAX_MESSAGE_BYTES}
    raw_client.send(huge)
    assert_rejected(raw_client.read_reply(), "exceeds", str(MAX_MESSAGE_BYTES))
    assert raw_client.ask({"type": "status", "id": "after"})["ok"]
    assert_unchanged(step_loop)


def test_half_line_does_not_block_others_and_times_out(short_dir: Path):
    loop = StepLoop(short_dir / "run", partial_line_timeout=1.0)
    try:
        hanger = RawClient(loop.socket_path)
        hanger.send_raw(b'{"type": "pause", "id": "half"')  # no newline, then silence
        other = RawClient(loop.socket_path)
        started = time.monotonic()
        assert other.ask({"type": "status", "id": "s"})["ok"]
        assert time.monotonic() - started < 0.9  # long before the half line times out
        assert loop.advances()
        refusal = hanger.read_reply()
        assert_rejected(refusal, "incomplete message")
        with pytest.raises(ConnectionError):
            hanger.read_reply()
        assert_unchanged(loop)
        other.close()
        hanger.close()
    finally:
        loop.close()


def test_client_disconnecting_mid_reply(step_loop: StepLoop):
    for _ in range(20):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(str(step_loop.socket_path))
        sock.sendall(b'{"type": "status", "id": "a"}\n' * 100)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()  # reset while the server is writing replies
    assert step_loop.advances()
    with RawClient(step_loop.socket_path) as client:
        assert client.ask({"type": "status", "id": "s"})["ok"]
    assert_unchanged(step_loop)


def test_queued_command_of_a_departed_client_still_applies(step_loop: StepLoop):
    with RawClient(step_loop.socket_path) as client:
        client.send({"type": "scale_lr", "id": "gone", "factor": 0.5})
    deadline = time.monotonic() + 5
    while step_loop.control.lr_multiplier == 1.0 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert step_loop.control.lr_multiplier == 0.5
    assert step_loop.advances()


def test_client_that_half_closes_still_gets_its_replies(step_loop: StepLoop):
    """Like `echo '{...}' | socat - UNIX-CONNECT:control.sock`: send, shut writing, read."""
    with RawClient(step_loop.socket_path) as client:
        client.send_raw(b'{"id": "h", "type": "scale_lr", "factor": 0.5}\n{"id": "s", "type": "st')
        client.send_raw(b'atus"}')  # the last line has no newline: the end of input ends it
        client.sock.shutdown(socket.SHUT_WR)
        replies = {reply["id"]: reply for reply in (client.read_reply(), client.read_reply())}
        assert replies["h"]["ok"] and replies["h"]["status"] == "applied"
        assert replies["s"]["ok"]
        with pytest.raises(ConnectionError):
            client.read_reply()  # then the server closes
    assert step_loop.control.lr_multiplier == 0.5
    assert step_loop.advances()


def test_fifty_clients_at_once(step_loop: StepLoop):
    clients = [RawClient(step_loop.socket_path) for _ in range(50)]
    try:
        for index, client in enumerate(clients):
            client.send({"type": "status", "id": f"c{index}"})
        for index, client in enumerate(clients):
            reply = client.read_reply()
            assert reply["ok"] and reply["id"] == f"c{index}"
        assert step_loop.advances()
    finally:
        for client in clients:
            client.close()


def test_connection_cap_refuses_with_one_line(short_dir: Path):
    loop = StepLoop(short_dir / "run", max_connections=3)
    clients = [RawClient(loop.socket_path) for _ in range(3)]
    try:
        for client in clients:
            assert client.ask({"type": "status", "id": "s"})["ok"]
        extra = RawClient(loop.socket_path)
        assert_rejected(extra.read_reply(), "too many control connections")
        with pytest.raises(ConnectionError):
            extra.read_reply()
        extra.close()
        assert loop.advances()
    finally:
        for client in clients:
            client.close()
        loop.close()


def test_rate_limit_rejects_excess_without_hanging(short_dir: Path):
    loop = StepLoop(short_dir / "run", rate_per_s=5, burst=10)
    client = RawClient(loop.socket_path)
    try:
        client.send_raw(b"".join(b'{"type": "status", "id": "r%d"}\n' % i for i in range(40)))
        replies = [client.read_reply() for _ in range(40)]
        assert [r["id"] for r in replies] == [f"r{i}" for i in range(40)]
        rejected = [r for r in replies if not r["ok"]]
        assert 20 <= len(rejected) <= 30  # 10 of burst, then ~5/s while the 40 are handled
        assert_rejected(rejected[0], "rate limit")
        assert_unchanged(loop)
    finally:
        client.close()
        loop.close()


def test_client_that_never_reads_is_dropped_not_waited_for(step_loop: StepLoop):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(str(step_loop.socket_path))
    request = b'{"type": "status", "id": "flood"}\n'
    sock.settimeout(5)
    try:
        for _ in range(90):  # within the burst: every request gets a ~400-byte reply
            sock.sendall(request)
    except OSError:
        pass
    assert step_loop.advances()
    with RawClient(step_loop.socket_path) as client:
        assert client.ask({"type": "status", "id": "s"})["ok"]
    sock.close()


def test_peer_with_another_uid_is_refused(short_dir: Path):
    loop = StepLoop(short_dir / "run", expected_uid=os.geteuid() + 4242)
    try:
        client = RawClient(loop.socket_path)
        reply = client.read_reply()
        assert_rejected(reply, "peer uid", "not the trainer's uid")
        with pytest.raises(ConnectionError):
            client.read_reply()
        client.close()
        assert_unchanged(loop)
    finally:
        loop.close()


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to act as another user")
def test_real_other_user_is_refused(short_dir: Path):
    """A child running as 'nobody' reaches the socket (permissions opened for this test only)."""
    loop = StepLoop(short_dir / "run")
    try:
        for directory in (short_dir, loop.run.path):
            directory.chmod(0o711)
        loop.socket_path.chmod(0o666)
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # child: become nobody, ask for a pause, report what came back
            os.close(read_end)
            outcome = b"no reply"
            try:
                os.setgid(65534)
                os.setuid(65534)
                client = RawClient(loop.socket_path, timeout=3)
                with contextlib.suppress(OSError):  # the server may have hung up already
                    client.send({"type": "pause", "id": "evil"})
                outcome = json.dumps(client.read_reply()).encode()
            except Exception as exc:
                outcome = repr(exc).encode()
            finally:
                os.write(write_end, outcome)
                os._exit(0)
        os.close(write_end)
        os.waitpid(pid, 0)
        with os.fdopen(read_end, "rb") as pipe:
            reply = json.loads(pipe.read())
        assert_rejected(reply, "peer uid 65534")
        assert_unchanged(loop)
    finally:
        loop.close()


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to act as another user")
def test_other_user_cannot_even_reach_the_default_socket(step_loop: StepLoop):
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.setgid(65534)
            os.setuid(65534)
            RawClient(step_loop.socket_path, timeout=2)
        except PermissionError:
            code = 0
        except BaseException:
            code = 2
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


def test_commands_from_many_threads_apply_in_order_once(step_loop: StepLoop):
    def scale(index: int) -> None:
        with RawClient(step_loop.socket_path) as client:
            reply = client.ask({"type": "scale_lr", "id": f"t{index}", "factor": 0.9})
            assert reply["ok"] and reply["status"] == "applied"

    threads = [threading.Thread(target=scale, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert step_loop.control.lr_multiplier == pytest.approx(0.9**8)
    controls = [e for e in step_loop.event_lines() if e["type"] == "control"]
    assert sorted(c["id"] for c in controls) == sorted(f"t{i}" for i in range(8))

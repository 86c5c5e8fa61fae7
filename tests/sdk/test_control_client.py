"""The asyncio ControlClient against a real server: replies by id, timeouts, reconnects."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest

from maou_tui.control import ControlClient, ControlTimeout, ControlUnavailable
from maou_tui.protocol import ScaleLrCommand
from maou_tui.sdk import ControlServer, LoopControl
from tests.sdk.conftest import StepLoop


async def test_request_round_trip(step_loop: StepLoop):
    async with ControlClient(step_loop.socket_path) as client:
        reply = await client.request("scale_lr", factor=0.5)
        assert reply.ok and reply.status == "applied" and reply.step is not None
        assert reply.state is not None and reply.state.lr_multiplier == 0.5
        reply = await client.send(ScaleLrCommand(id="mine", factor=0.5))
        assert reply.id == "mine" and reply.state.lr_multiplier == 0.25


async def test_a_run_directory_is_accepted_as_the_address(step_loop: StepLoop):
    async with ControlClient(step_loop.run.path) as client:
        assert (await client.request("status")).state.stage == 1


async def test_concurrent_requests_are_matched_by_id(step_loop: StepLoop):
    async with ControlClient(step_loop.socket_path) as client:
        replies = await asyncio.gather(
            *(client.request("status", id=f"q{i}") for i in range(20)),
            client.request("set_threshold", id="t", stage=2, value=0.9),
        )
    assert [r.id for r in replies] == [f"q{i}" for i in range(20)] + ["t"]
    assert all(r.ok for r in replies)


async def test_bad_request_is_refused_before_sending(step_loop: StepLoop):
    async with ControlClient(step_loop.socket_path) as client:
        with pytest.raises(ValueError, match="factor must be a finite number"):
            await client.request("scale_lr", factor=float("nan"))
        with pytest.raises(ValueError, match="unknown command type"):
            await client.request("explode")
        assert (await client.request("status")).ok
    assert step_loop.control.lr_multiplier == 1.0


async def test_rejection_comes_back_as_a_reply(step_loop: StepLoop):
    async with ControlClient(step_loop.socket_path) as client:
        reply = await client.request("resume")
    assert not reply.ok and reply.status == "rejected" and "not paused" in reply.error


async def test_no_socket_is_unavailable_with_one_line(short_dir: Path):
    client = ControlClient(short_dir / "control.sock")
    with pytest.raises(ControlUnavailable, match="not running") as info:
        await client.connect()
    assert "\n" not in str(info.value)
    with pytest.raises(ControlUnavailable, match="no control socket in"):
        await ControlClient(short_dir).connect()


async def test_stale_socket_is_unavailable(short_dir: Path):
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(str(short_dir / "control.sock"))
    stale.close()
    with pytest.raises(ControlUnavailable, match="stopped or crashed"):
        await ControlClient(short_dir / "control.sock").connect()


async def test_loop_that_never_reaches_a_boundary_times_out(short_dir: Path):
    server = ControlServer(short_dir / "control.sock").start()
    LoopControl(server, None)  # nobody polls: a step that never ends
    try:
        async with ControlClient(server.socket_path, timeout=0.3) as client:
            with pytest.raises(ControlTimeout, match=r"no reply to pause within 0\.3 s"):
                await client.request("pause")
            assert (await client.request("status")).ok  # status never waits for the loop
    finally:
        server.close()


async def test_reconnects_after_the_trainer_restarts(short_dir: Path):
    first = StepLoop(short_dir / "run")
    client = ControlClient(first.socket_path, timeout=2)
    try:
        await client.connect()
        assert (await client.request("status")).ok
        first.close()
        with pytest.raises(ControlUnavailable):
            await client.request("status")
        second = StepLoop(short_dir / "run")
        try:
            reply = await client.request("scale_lr", factor=0.5)
            assert reply.ok and second.control.lr_multiplier == 0.5
        finally:
            second.close()
    finally:
        await client.close()


async def test_refused_connection_reports_the_servers_reason(short_dir: Path):
    server = ControlServer(short_dir / "control.sock", expected_uid=12345).start()
    try:
        client = ControlClient(server.socket_path)
        with pytest.raises(ControlUnavailable, match="peer uid"):
            await client.request("status")
        await client.close()
    finally:
        server.close()


async def test_concurrent_first_requests_share_one_connection(step_loop: StepLoop):
    client = ControlClient(step_loop.socket_path)
    try:
        replies = await asyncio.gather(*(client.request("status") for _ in range(10)))
        assert all(r.ok for r in replies)
        assert len(step_loop.server._connections) == 1
    finally:
        await client.close()


async def test_set_lr_in_a_loop_that_reports_no_lr_is_rejected(short_dir: Path):
    server = ControlServer(short_dir / "control.sock").start()
    control = LoopControl(server, None)
    try:
        async with ControlClient(server.socket_path) as client:
            pending = asyncio.create_task(client.request("set_lr", value=0.01))
            while not server.has_pending:
                await asyncio.sleep(0.005)
            control.poll(3)  # like an LR range test: no schedule LR given
            reply = await pending
        assert not reply.ok and "does not report its LR" in reply.error
        assert control.lr_multiplier == 1.0
    finally:
        control.close()

"""Asyncio client of a trainer's control socket (used by the app).

```python
client = ControlClient(run.socket_path, timeout=2.0)
await client.connect()
reply = await client.request("scale_lr", factor=0.5)   # protocol.Reply
await client.close()
```
Requests carry a fresh id; a background reader matches replies to requests by id, so several
requests may be in flight. A lost connection is re-opened by the next request.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from maou_tui.protocol import (
    MAX_MESSAGE_BYTES,
    AnyCommand,
    CommandBase,
    ProtocolError,
    Reply,
    command_from_fields,
    decode_reply,
    encode,
)
from maou_tui.sdk.sockets import find_socket


class ControlError(RuntimeError):
    """Base of the control client's errors; the message is one line."""


class ControlUnavailable(ControlError):
    """No trainer answers on the socket (none running, crashed, or the connection was refused)."""


class ControlTimeout(ControlError):
    """The trainer did not answer in time (e.g. busy inside a long step)."""


def new_request_id() -> str:
    return uuid.uuid4().hex[:12]


def build_command(command_type: str, **fields: Any) -> AnyCommand:
    """A validated command model; raises ProtocolError (one line) on bad input."""
    payload = {"type": command_type, "id": fields.pop("id", None) or new_request_id(), **fields}
    return command_from_fields(payload)


class ControlClient:
    """Send commands to one trainer and await their replies. ``socket_path`` may be a run dir."""

    def __init__(self, socket_path: str | os.PathLike[str], timeout: float = 2.0) -> None:
        self.socket_path = Path(socket_path)
        self.timeout = timeout
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._reader_task: asyncio.Task[None] | None = None
        self._waiting: dict[str, asyncio.Future[Reply]] = {}
        self._connecting = asyncio.Lock()  # concurrent requests share one connection

    @property
    def connected(self) -> bool:
        return self._writer is not None and not self._writer.is_closing()

    def _resolve_path(self) -> Path:
        if self.socket_path.is_dir():
            found = find_socket(self.socket_path, check_alive=False)
            if found is None:
                raise ControlUnavailable(
                    f"no control socket in {self.socket_path}; the trainer is not running"
                )
            return found
        return self.socket_path

    async def connect(self) -> None:
        """Open the connection; ControlUnavailable with a one-line reason if nobody listens."""
        async with self._connecting:
            if not self.connected:
                await self._open()

    async def _open(self) -> None:
        path = self._resolve_path()
        try:
            reader, self._writer = await asyncio.wait_for(
                asyncio.open_unix_connection(os.fspath(path), limit=4 * MAX_MESSAGE_BYTES),
                self.timeout,
            )
        except FileNotFoundError:
            raise ControlUnavailable(
                f"no control socket at {path}; the trainer is not running"
            ) from None
        except ConnectionRefusedError:
            raise ControlUnavailable(
                f"nobody listens on {path}; the trainer has stopped or crashed"
            ) from None
        except (OSError, asyncio.TimeoutError) as exc:
            raise ControlUnavailable(f"cannot connect to {path}: {exc or 'timed out'}") from None
        self._reader = reader
        self._reader_task = asyncio.create_task(self._read_replies(reader))

    async def send(self, command: BaseModel) -> Reply:
        """Send a command model and await its reply (ControlTimeout after ``timeout`` s)."""
        if not isinstance(command, CommandBase):
            raise TypeError(f"expected a protocol command, got {type(command).__name__}")
        await self.connect()
        assert self._writer is not None
        request_id = command.id
        future: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
        self._waiting[request_id] = future
        try:
            self._writer.write((encode(command) + "\n").encode())
            await self._writer.drain()
        except (ConnectionError, OSError) as exc:
            await self._settle_reader()  # it may have read why the trainer hung up
            if not future.done():
                future.set_exception(ControlUnavailable(f"lost the connection: {exc}"))
        try:
            return await asyncio.wait_for(future, self.timeout)
        except asyncio.TimeoutError:
            raise ControlTimeout(
                f"no reply to {command.type} within {self.timeout:g} s; "
                "the trainer may be inside a long step"
            ) from None
        finally:
            self._waiting.pop(request_id, None)

    async def request(self, command_type: str, **fields: Any) -> Reply:
        """Build, validate and send a command by name: ``request("set_lr", value=1e-4)``."""
        try:
            command = build_command(command_type, **fields)
        except ProtocolError as exc:
            raise ValueError(str(exc)) from None
        return await self.send(command)

    async def close(self) -> None:
        await self._disconnect()

    async def __aenter__(self) -> ControlClient:
        await self.connect()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def _read_replies(self, reader: asyncio.StreamReader) -> None:
        error = "the trainer closed the control connection"
        try:
            while line := await reader.readline():
                try:
                    reply = decode_reply(line)
                except ProtocolError:
                    continue
                if reply.id is None and not reply.ok:
                    error = reply.error or error  # a refusal of the whole connection
                    continue
                future = self._waiting.get(reply.id or "")
                if future is not None and not future.done():
                    future.set_result(reply)
        except (ConnectionError, OSError, ValueError) as exc:
            error = f"lost the connection to the trainer: {exc}"
        finally:
            self._fail_waiting(ControlUnavailable(error))
            if self._reader is reader:
                await self._forget_connection()

    def _fail_waiting(self, exc: ControlError) -> None:
        for future in self._waiting.values():
            if not future.done():
                future.set_exception(exc)

    async def _forget_connection(self) -> None:
        writer, self._writer, self._reader = self._writer, None, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await writer.wait_closed()

    async def _settle_reader(self) -> None:
        """Give the reader a moment to reach end-of-stream after a failed write."""
        if self._reader_task is not None:
            with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(asyncio.shield(self._reader_task), 0.5)
        await self._disconnect()

    async def _disconnect(self) -> None:
        task, self._reader_task = self._reader_task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._forget_connection()

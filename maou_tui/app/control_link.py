"""The app's side of the control channel: sends a command, reports what happened in one line.

Runs inside async workers on the app's loop, so the UI never waits on the trainer; every
outcome (applied at step N, queued, rejected, timeout, no trainer) becomes a notification.
Requests go one at a time (a lock): a command waits for the previous one's reply, so the
pause toggle always decides from the trainer's state after every earlier key took effect.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported on first use: the control client and sdk are not needed to start
    from maou_tui.control import ControlClient, ControlError
    from maou_tui.protocol import RunState

Notify = Callable[..., None]

#: A command waits for the next step boundary: allow for a slow step (a big batch on a CPU).
REPLY_TIMEOUT_S = 10.0

READ_ONLY = "read-only: no control socket for this log"


class ControlLink:
    """One run's control client, what its last reply said, and whether control is possible."""

    def __init__(self, run_dir: Path | None, notify: Notify, *, watch: bool) -> None:
        self.run_dir = run_dir
        self.watch = watch
        self._notify = notify
        self._client: ControlClient | None = None
        self._lost_reported = False
        self._one_at_a_time = asyncio.Lock()
        self.state: RunState | None = None

    def unavailable_reason(self) -> str | None:
        """Why control keys cannot work here, or None when they may."""
        if self.run_dir is None:
            return READ_ONLY
        if self.watch:
            from maou_tui.sdk import find_socket

            if find_socket(self.run_dir) is None:
                return READ_ONLY
        return None

    def _connected_client(self) -> ControlClient:
        """The client, made on the first command (it connects, and reconnects, by itself)."""
        if self._client is None:
            from maou_tui.control import ControlClient

            assert self.run_dir is not None
            self._client = ControlClient(self.run_dir, timeout=REPLY_TIMEOUT_S)
        return self._client

    async def send(self, command: str, what: str, **fields: object) -> bool:
        """Send ``command``; notify ``what: applied at step N`` or the error. True when ok."""
        async with self._one_at_a_time:
            return await self._send(command, what, quiet=False, **fields)

    async def toggle_pause(self) -> bool:
        """Resume a paused trainer, pause a running one: decided from a ``status`` asked after
        every earlier command was answered (the store's events may lag behind the socket)."""
        async with self._one_at_a_time:
            if not await self._send("status", "pause/resume", quiet=True):
                return False
            command = "resume" if self.state is not None and self.state.paused else "pause"
            return await self._send(command, command)

    async def _send(self, command: str, what: str, quiet: bool = False, **fields: object) -> bool:
        from maou_tui.control import ControlError, ControlTimeout, ControlUnavailable

        try:
            reply = await self._connected_client().request(command, **fields)
        except ValueError as exc:  # the command itself is invalid (validated before sending)
            self._notify(f"{what}: {exc}", severity="error")
            return False
        except ControlTimeout as exc:
            self._notify(f"{what}: {exc}", severity="error")
            return False
        except ControlUnavailable as exc:
            self._report_lost(what, exc)
            return False
        except ControlError as exc:
            self._notify(f"{what}: {exc}", severity="error")
            return False
        self._lost_reported = False
        if reply.state is not None:
            self.state = reply.state
        if not reply.ok:
            self._notify(f"{what} rejected: {reply.error}", severity="error")
            return False
        if quiet:
            return True
        if reply.status == "queued":
            self._notify(f"{what}: queued at step {reply.step} (applies at the next step)")
        else:
            self._notify(f"{what}: applied at step {reply.step}")
        return True

    def _report_lost(self, what: str, exc: ControlError) -> None:
        # The client reconnects by itself at the next request: say so once, not on every key.
        if not self._lost_reported:
            self._notify(f"{what}: {exc}. Will reconnect on the next command.", severity="error")
            self._lost_reported = True
        else:
            self._notify(f"{what}: trainer not reachable", severity="warning", timeout=2)

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()

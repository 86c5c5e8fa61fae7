"""The control socket server: a background thread serving newline-delimited JSON commands.

One thread multiplexes every connection with ``selectors`` on non-blocking sockets, so a client
that sends half a line and hangs, reads nothing, or disconnects mid-reply costs the others (and
the training loop) nothing. Hand-written on purpose: asyncio would need its own loop thread and
gives no peer-credential hook, and ``socketserver`` uses a thread per connection.

What the thread does itself: peer checks (same uid only, via SO_PEERCRED), the connection cap,
the size cap, per-connection rate limits, validation (``protocol.decode_command``) and ``status``
(answered from the published state). Everything else is queued for the training loop, which
takes it at a step boundary (``pending()``) and answers through ``reply()``.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import os
import selectors
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from maou_tui.protocol import (
    MAX_MESSAGE_BYTES,
    AnyCommand,
    ProtocolError,
    Reply,
    RunState,
    decode_command,
)
from maou_tui.sdk.connection import Connection, TokenBucket, guess_id
from maou_tui.sdk.sockets import MAX_SOCKET_PATH_BYTES, make_private, remove_stale_socket

log = logging.getLogger(__name__)

MAX_CONNECTIONS = 64
RATE_PER_S = 50.0
RATE_BURST = 100
MAX_PENDING = 256
PARTIAL_LINE_TIMEOUT_S = 10.0
#: A client that stops reading its replies is dropped once this much is waiting for it.
MAX_UNSENT_BYTES = 1024 * 1024
_SELECT_TIMEOUT_S = 0.25
#: How long a refused connection is drained before it is closed.
_REFUSED_LINGER_S = 2.0
_PEERCRED = struct.Struct("3i")


@dataclass
class PendingCommand:
    """A validated command waiting for the training loop."""

    command: AnyCommand
    connection_id: int


class ControlServer:
    """Serve a run's control socket from a daemon thread. ``start()``, then ``close()``."""

    def __init__(
        self,
        socket_path: str | os.PathLike[str],
        *,
        max_connections: int = MAX_CONNECTIONS,
        rate_per_s: float = RATE_PER_S,
        burst: int = RATE_BURST,
        max_pending: int = MAX_PENDING,
        partial_line_timeout: float = PARTIAL_LINE_TIMEOUT_S,
        expected_uid: int | None = None,
    ) -> None:
        self.socket_path = Path(socket_path)
        if len(os.fsencode(self.socket_path)) > MAX_SOCKET_PATH_BYTES:
            raise ValueError(
                f"socket path {self.socket_path} is longer than {MAX_SOCKET_PATH_BYTES} bytes; "
                "use RunDir.socket_path, which moves it to a private runtime directory"
            )
        self.max_connections = max_connections
        self.rate_per_s = rate_per_s
        self.burst = burst
        self.max_pending = max_pending
        self.partial_line_timeout = partial_line_timeout
        self.expected_uid = os.geteuid() if expected_uid is None else expected_uid
        self._state_provider: Callable[[], RunState] = RunState
        self._refused: dict[str, str] = {}
        self._queue: collections.deque[PendingCommand] = collections.deque()
        self._queue_ready = threading.Condition()
        self._outgoing: collections.deque[tuple[int, bytes]] = collections.deque()
        self._connections: dict[int, Connection] = {}
        self._refused_socks: dict[socket.socket, float] = {}
        self._next_connection_id = 0
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._listener: socket.socket | None = None
        self._bound_inode: int | None = None
        self._wake_r, self._wake_w = socket.socketpair()
        self._selector = selectors.DefaultSelector()

    # ---- API for the training loop ------------------------------------------------------------

    def set_state_provider(self, provider: Callable[[], RunState]) -> None:
        """``provider()`` gives what ``status`` returns and every reply carries."""
        self._state_provider = provider

    def refuse(self, command_type: str, reason: str) -> None:
        """Reject ``command_type`` at once with ``reason`` (a command this loop cannot apply)."""
        self._refused[command_type] = reason

    @property
    def has_pending(self) -> bool:
        return bool(self._queue)

    def pending(self) -> list[PendingCommand]:
        """Take every queued command, oldest first."""
        taken = []
        while self._queue:
            taken.append(self._queue.popleft())
        return taken

    def wait_for_pending(self, timeout: float) -> bool:
        """Block up to ``timeout`` seconds until a command is queued; True if one is."""
        with self._queue_ready:
            return self._queue_ready.wait_for(lambda: bool(self._queue), timeout)

    def reply(self, pending: PendingCommand, reply: Reply) -> None:
        """Send ``reply`` for a queued command (dropped if its client has gone)."""
        self._outgoing.append((pending.connection_id, (reply.model_dump_json() + "\n").encode()))
        self._wake()

    # ---- lifecycle -----------------------------------------------------------------------------

    def start(self) -> ControlServer:
        """Bind the socket (replacing a stale one) and start serving."""
        remove_stale_socket(self.socket_path)
        make_private(self.socket_path.parent)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(os.fspath(self.socket_path))
        os.chmod(self.socket_path, 0o600)
        self._bound_inode = self.socket_path.stat().st_ino
        listener.listen(128)
        listener.setblocking(False)
        self._listener = listener
        self._wake_r.setblocking(False)
        self._selector.register(listener, selectors.EVENT_READ, "listener")
        self._selector.register(self._wake_r, selectors.EVENT_READ, "wake")
        self._thread = threading.Thread(target=self._serve, name="maou-control", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        """Reject what is still queued, stop the thread, remove the socket; safe to call twice."""
        if self._stopping.is_set():
            return
        for pending in self.pending():
            self.reply(pending, self.rejection(pending.command.id, "the trainer is shutting down"))
        self._stopping.set()
        self._wake()
        if self._thread is not None:
            self._thread.join(timeout=5)
        for conn in list(self._connections.values()):
            self._drop(conn)
        for sock in list(self._refused_socks):
            self._forget_refused(sock)
        if self._listener is not None:
            self._listener.close()
            self._remove_socket_file()
        self._selector.close()
        self._wake_r.close()
        self._wake_w.close()

    def rejection(self, request_id: str | None, error: str) -> Reply:
        state = self._safe_state()
        return Reply(
            id=request_id, ok=False, status="rejected", step=state.step, error=error, state=state
        )

    # ---- the server thread ---------------------------------------------------------------------

    def _serve(self) -> None:
        while not self._stopping.is_set():
            for key, mask in self._selector.select(_SELECT_TIMEOUT_S):
                if key.data == "listener":
                    self._accept_all()
                elif key.data == "wake":
                    self._drain_wake()
                elif key.data == "refused" and isinstance(key.fileobj, socket.socket):
                    self._drain_refused(key.fileobj)
                else:
                    self._service_isolated(key.data, mask)
            self._deliver_outgoing()
            self._expire_partial_lines()
            self._expire_refused()
        self._deliver_outgoing()

    def _service_isolated(self, conn: Connection, mask: int) -> None:
        """Serve one connection; a fault it triggers drops that connection, never the thread."""
        try:
            self._service(conn, mask)
        except Exception:  # the thread must outlive any request: others still need it
            log.exception("control connection %d dropped after an internal error", conn.id)
            self._drop(conn)

    def _service(self, conn: Connection, mask: int) -> None:
        if mask & selectors.EVENT_READ:
            self._read(conn)
        if mask & selectors.EVENT_WRITE and conn.id in self._connections:
            self._write(conn)

    def _accept_all(self) -> None:
        assert self._listener is not None
        while True:
            try:
                sock, _ = self._listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return
            self._admit(sock)

    def _admit(self, sock: socket.socket) -> None:
        sock.setblocking(False)
        uid = self._peer_uid(sock)
        if uid != self.expected_uid:
            self._refuse_connection(
                sock, f"refused: peer uid {uid} is not the trainer's uid {self.expected_uid}"
            )
        elif len(self._connections) >= self.max_connections:
            self._refuse_connection(
                sock, f"refused: too many control connections (limit {self.max_connections})"
            )
        else:
            self._next_connection_id += 1
            bucket = TokenBucket(self.rate_per_s, self.burst)
            conn = Connection(self._next_connection_id, sock, bucket)
            self._connections[conn.id] = conn
            self._selector.register(sock, selectors.EVENT_READ, conn)

    @staticmethod
    def _peer_uid(sock: socket.socket) -> int | None:
        try:
            creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _PEERCRED.size)
        except OSError:
            return None
        return _PEERCRED.unpack(creds)[1]

    def _refuse_connection(self, sock: socket.socket, error: str) -> None:
        """Send one refusal line, then read and discard until the client hangs up.

        Closing at once would make the kernel answer the client's pending request with a reset,
        and a reset makes the client lose the refusal line it has not read yet.
        """
        with contextlib.suppress(OSError):
            sock.send((self.rejection(None, error).model_dump_json() + "\n").encode())
            sock.shutdown(socket.SHUT_WR)
        if len(self._refused_socks) >= self.max_connections:
            sock.close()
            return
        self._refused_socks[sock] = time.monotonic() + _REFUSED_LINGER_S
        self._selector.register(sock, selectors.EVENT_READ, "refused")

    def _drain_refused(self, sock: socket.socket) -> None:
        try:
            if sock.recv(MAX_MESSAGE_BYTES):
                return
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            pass
        self._forget_refused(sock)

    def _expire_refused(self) -> None:
        now = time.monotonic()
        for sock, deadline in list(self._refused_socks.items()):
            if now > deadline:
                self._forget_refused(sock)

    def _forget_refused(self, sock: socket.socket) -> None:
        self._refused_socks.pop(sock, None)
        with contextlib.suppress(KeyError, ValueError):
            self._selector.unregister(sock)
        sock.close()

    def _read(self, conn: Connection) -> None:
        try:
            data = conn.sock.recv(MAX_MESSAGE_BYTES)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self._hang_up(conn)
            return
        conn.inbox += data
        while conn.id in self._connections:
            newline = conn.inbox.find(b"\n")
            if newline < 0:
                break
            line = bytes(conn.inbox[:newline]).rstrip(b"\r")
            del conn.inbox[: newline + 1]
            if conn.discarding:
                conn.discarding = False
            else:
                self._handle_line(conn, line)
        if conn.id not in self._connections:
            return
        if len(conn.inbox) > MAX_MESSAGE_BYTES and not conn.discarding:
            self._send(conn, self.rejection(None, self._too_big(len(conn.inbox))))
            conn.discarding = True
        if conn.discarding:
            conn.inbox.clear()
        conn.partial_since = (conn.partial_since or time.monotonic()) if conn.inbox else None

    def _hang_up(self, conn: Connection) -> None:
        """The client sent all it will: answer what it asked, then close."""
        conn.hung_up = True
        if conn.inbox and not conn.discarding:  # a last line without its newline
            self._handle_line(conn, bytes(conn.inbox).rstrip(b"\r"))
        conn.inbox.clear()
        conn.partial_since = None
        self._settle(conn)

    @staticmethod
    def _too_big(size: int) -> str:
        return (
            f"message of {'over ' if size > MAX_MESSAGE_BYTES else ''}{size} bytes exceeds the "
            f"{MAX_MESSAGE_BYTES}-byte limit; send one JSON object per line"
        )

    def _handle_line(self, conn: Connection, line: bytes) -> None:
        if not line.strip():
            return
        if len(line) > MAX_MESSAGE_BYTES:
            self._send(conn, self.rejection(guess_id(line[:4096]), self._too_big(len(line))))
            return
        if not conn.bucket.take():
            error = f"rate limit: at most {self.rate_per_s:g} requests/s per connection; slow down"
            self._send(conn, self.rejection(guess_id(line), error))
            return
        try:
            command = decode_command(line)
        except ProtocolError as exc:
            self._send(conn, self.rejection(guess_id(line), str(exc)))
            return
        except Exception as exc:  # a decoder bug answers this request and harms no other
            log.exception("control request not decoded")
            error = f"request not understood ({type(exc).__name__}); nothing was changed"
            self._send(conn, self.rejection(None, error))
            return
        self._dispatch(conn, command)

    def _dispatch(self, conn: Connection, command: AnyCommand) -> None:
        kind, request_id = command.type, command.id
        if kind == "status":
            state = self._safe_state()
            self._send(
                conn, Reply(id=request_id, ok=True, status="applied", step=state.step, state=state)
            )
        elif kind in self._refused:
            self._send(conn, self.rejection(request_id, self._refused[kind]))
        elif len(self._queue) >= self.max_pending:
            error = f"too many commands waiting ({self.max_pending}); retry after the next step"
            self._send(conn, self.rejection(request_id, error))
        else:
            conn.awaiting += 1
            with self._queue_ready:
                self._queue.append(PendingCommand(command, conn.id))
                self._queue_ready.notify_all()

    def _safe_state(self) -> RunState:
        try:
            return self._state_provider()
        except Exception:  # a broken provider must not take the control channel down
            return RunState()

    def _send(self, conn: Connection, reply: Reply) -> None:
        conn.outbox += (reply.model_dump_json() + "\n").encode()
        self._write(conn)

    def _write(self, conn: Connection) -> None:
        try:
            sent = conn.sock.send(conn.outbox)
            del conn.outbox[:sent]
        except (BlockingIOError, InterruptedError):
            pass
        except OSError:  # the client went away mid-reply
            self._drop(conn)
            return
        if len(conn.outbox) > MAX_UNSENT_BYTES:
            self._drop(conn)
            return
        self._settle(conn)

    def _settle(self, conn: Connection) -> None:
        """Close a finished hung-up connection, or watch for what the connection needs next."""
        if conn.id not in self._connections:
            return
        if conn.hung_up and not conn.outbox and conn.awaiting == 0:
            self._drop(conn)
            return
        interest = (0 if conn.hung_up else selectors.EVENT_READ) | (
            selectors.EVENT_WRITE if conn.outbox else 0
        )
        if interest == conn.interest:
            return
        if interest == 0:
            self._selector.unregister(conn.sock)
        elif conn.interest == 0:
            self._selector.register(conn.sock, interest, conn)
        else:
            self._selector.modify(conn.sock, interest, conn)
        conn.interest = interest

    def _deliver_outgoing(self) -> None:
        while self._outgoing:
            connection_id, data = self._outgoing.popleft()
            conn = self._connections.get(connection_id)
            if conn is not None:
                conn.awaiting = max(0, conn.awaiting - 1)
                conn.outbox += data
                self._write(conn)

    def _expire_partial_lines(self) -> None:
        now = time.monotonic()
        for conn in list(self._connections.values()):
            since = conn.partial_since
            if since is not None and now - since > self.partial_line_timeout:
                error = (
                    f"incomplete message: no newline within {self.partial_line_timeout:g} s; "
                    "closing this connection"
                )
                self._send(conn, self.rejection(None, error))
                self._drop(conn)

    def _drop(self, conn: Connection) -> None:
        if self._connections.pop(conn.id, None) is None:
            return
        with contextlib.suppress(KeyError, ValueError):
            self._selector.unregister(conn.sock)
        conn.sock.close()

    def _wake(self) -> None:
        with contextlib.suppress(OSError):
            self._wake_w.send(b"\0")

    def _drain_wake(self) -> None:
        with contextlib.suppress(OSError):
            while self._wake_r.recv(4096):
                pass

    def _remove_socket_file(self) -> None:
        """Unlink the socket only if it is still ours (a successor may have replaced it)."""
        with contextlib.suppress(OSError):
            if self.socket_path.stat().st_ino == self._bound_inode:
                self.socket_path.unlink()

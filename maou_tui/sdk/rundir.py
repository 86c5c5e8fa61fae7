"""The run directory: its layout, the lock that gives it one trainer, and its socket path.

```
<run>/config.json  events.jsonl  train.log  control.sock  trainer.pid  trainer.lock  checkpoints/
```
The lock is an ``fcntl.flock`` on ``trainer.lock``; the kernel drops it when the process dies,
so a crashed trainer never leaves the directory locked (only, perhaps, a stale socket file,
which the next owner replaces).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Any

from maou_tui.layout import (
    CHECKPOINTS_DIR,
    CONFIG_FILE,
    EVENTS_FILE,
    LOCK_FILE,
    LOG_FILE,
    PID_FILE,
)
from maou_tui.processes import read_pid
from maou_tui.sdk.private_files import (
    check_private_dir,
    make_private_dir,
    open_private,
    open_private_append,
)
from maou_tui.sdk.sockets import (
    SOCKET_POINTER_NAME,
    SocketInUseError,
    make_private,
    remove_stale_socket,
    socket_path_for,
)

LOCK_NAME = LOCK_FILE


class RunDirLockedError(RuntimeError):
    """Another live process owns the run directory."""


def _atomic_write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


class RunDir:
    """An owned run directory. Use ``RunDir.create`` (new or empty) or ``RunDir.open`` (resume)."""

    def __init__(self, path: Path, lock_fd: int) -> None:
        self.path = path
        self._lock_fd: int | None = lock_fd
        self.config_path = path / CONFIG_FILE
        self.events_path = path / EVENTS_FILE
        self.log_path = path / LOG_FILE
        self.pid_path = path / PID_FILE
        self.checkpoints_dir = path / CHECKPOINTS_DIR
        self.socket_path = socket_path_for(path)

    @classmethod
    def create(cls, path: str | os.PathLike[str]) -> RunDir:
        """Create (or take over an existing) run directory and lock it for this process."""
        run_path = Path(path).absolute()
        if run_path.exists() and not run_path.is_dir():
            raise NotADirectoryError(f"{run_path} is not a directory; choose another run path")
        run_path.parent.mkdir(parents=True, exist_ok=True)
        make_private_dir(run_path)
        return cls._take(run_path)

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> RunDir:
        """Lock an existing run directory (to resume it)."""
        run_path = Path(path).absolute()
        if not run_path.is_dir():
            raise FileNotFoundError(f"run directory {run_path} does not exist; check the path")
        check_private_dir(run_path)
        return cls._take(run_path)

    @classmethod
    def _take(cls, run_path: Path) -> RunDir:
        lock_fd = _acquire_lock(run_path)
        try:
            run = cls(run_path, lock_fd)
            run._prepare_layout()
        except BaseException:
            os.close(lock_fd)
            raise
        return run

    def _prepare_layout(self) -> None:
        make_private(self.path)
        make_private_dir(self.checkpoints_dir, "checkpoint directory")
        for path in (self.events_path, self.log_path):
            os.close(open_private_append(path))
        if not self.config_path.exists():
            self.write_config({})
        _atomic_write(self.pid_path, f"{os.getpid()}\n")
        try:
            remove_stale_socket(self.socket_path)
        except SocketInUseError as exc:
            raise RunDirLockedError(f"run directory {self.path}: {exc}") from None
        pointer = self.path / SOCKET_POINTER_NAME
        if self.socket_path.parent != self.path:
            _atomic_write(pointer, f"{self.socket_path}\n")
        else:
            pointer.unlink(missing_ok=True)

    def write_config(self, config: dict[str, Any]) -> None:
        """Write config.json atomically (readers never see half a file)."""
        _atomic_write(self.config_path, json.dumps(config, indent=2, default=str) + "\n")

    def close(self) -> None:
        """Release the lock and remove the socket files; safe to call twice."""
        if self._lock_fd is None:
            return
        self.socket_path.unlink(missing_ok=True)
        (self.path / SOCKET_POINTER_NAME).unlink(missing_ok=True)
        os.close(self._lock_fd)
        self._lock_fd = None

    def __enter__(self) -> RunDir:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @staticmethod
    def is_active(path: str | os.PathLike[str]) -> bool:
        """True while some process holds the run directory's lock (its trainer is alive)."""
        lock_path = Path(path) / LOCK_NAME
        try:
            fd = os.open(lock_path, os.O_RDONLY)
        except OSError:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(fd)
        return False


def _acquire_lock(run_path: Path) -> int:
    fd = open_private(run_path / LOCK_NAME, os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        owner = read_pid(run_path)
        who = f"pid {owner}" if owner is not None else "another process"
        raise RunDirLockedError(
            f"run directory {run_path} is in use by {who}; stop that trainer or choose another "
            "run directory"
        ) from None
    return fd

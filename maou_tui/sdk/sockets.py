"""Where a run's control socket lives, and whether a socket file there is live or stale.

A Unix socket path is limited to 108 bytes including the final NUL. A run directory deep enough
to push ``<run>/control.sock`` past that gets its socket in a private runtime directory (0700)
instead, and ``<run>/control.sock.path`` records where, so clients find it either way.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import socket
import stat
import tempfile
from pathlib import Path

from maou_tui.layout import SOCKET_FILE as SOCKET_NAME
from maou_tui.layout import SOCKET_POINTER_FILE as SOCKET_POINTER_NAME

#: Longest usable AF_UNIX path in bytes (sun_path is 108 bytes with the terminating NUL).
MAX_SOCKET_PATH_BYTES = 107


class SocketInUseError(RuntimeError):
    """Another live process is serving the control socket."""


def runtime_dir() -> Path:
    """A directory only this user can enter, for sockets whose natural path is too long."""
    base = os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir()
    path = Path(base) / f"maou-tui-{os.geteuid()}"
    path.mkdir(mode=0o700, exist_ok=True)
    info = path.lstat()
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid():
        raise PermissionError(f"{path} is not a directory owned by you; remove it and retry")
    make_private(path)
    return path


def socket_path_for(run_dir: Path) -> Path:
    """The socket path of ``run_dir``: inside it when short enough, else in ``runtime_dir()``."""
    natural = run_dir / SOCKET_NAME
    if len(os.fsencode(natural)) <= MAX_SOCKET_PATH_BYTES:
        return natural
    digest = hashlib.sha1(os.fsencode(run_dir.resolve())).hexdigest()[:16]
    return runtime_dir() / f"{digest}.sock"


def make_private(directory: Path) -> None:
    """Make a directory we own enterable by its owner only (group/other bits cleared)."""
    info = directory.stat()
    if info.st_uid == os.geteuid() and info.st_mode & 0o077:
        directory.chmod(stat.S_IMODE(info.st_mode) & 0o700)


def is_live_socket(path: Path, timeout: float = 0.5) -> bool:
    """True when something accepts connections on ``path`` (a stale file refuses them)."""
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.settimeout(timeout)
    try:
        probe.connect(os.fspath(path))
    except OSError:
        return False
    finally:
        probe.close()
    return True


def remove_stale_socket(path: Path) -> bool:
    """Remove a socket file nobody listens on; True if one was removed.

    Raises SocketInUseError when a live process serves it, and FileExistsError when the path
    is something other than a socket (we never delete a user's regular file).
    """
    try:
        info = path.lstat()
    except FileNotFoundError:
        return False
    if not stat.S_ISSOCK(info.st_mode):
        raise FileExistsError(f"{path} exists and is not a socket; move it away and retry")
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.settimeout(0.5)
    try:
        probe.connect(os.fspath(path))
    except ConnectionRefusedError:
        pass  # nobody listens: stale (only this error proves it; EACCES proves nothing)
    except OSError as exc:
        raise SocketInUseError(f"cannot tell whether {path} is in use ({exc}); remove it") from None
    else:
        raise SocketInUseError(
            f"control socket {path} is served by another live process; stop that trainer first"
        )
    finally:
        probe.close()
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    return True


def find_socket(run_dir: Path, *, check_alive: bool = True) -> Path | None:
    """The control socket of a run directory, or None when there is no live one.

    Looks at ``<run>/control.sock`` and then at the runtime path recorded in
    ``<run>/control.sock.path``. With ``check_alive`` a stale file (crashed trainer) gives None.
    """
    run_dir = Path(run_dir)
    candidates = [run_dir / SOCKET_NAME]
    pointer = run_dir / SOCKET_POINTER_NAME
    with contextlib.suppress(OSError, UnicodeDecodeError):
        recorded = pointer.read_text(encoding="utf-8").strip()
        if recorded:
            candidates.append(Path(recorded))
    for candidate in candidates:
        try:
            if not stat.S_ISSOCK(candidate.lstat().st_mode):
                continue
        except OSError:
            continue
        if not check_alive or is_live_socket(candidate):
            return candidate
    return None

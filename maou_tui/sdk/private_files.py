"""Files and directories of a run that no other user may plant, swap or read.

A run directory another user created (or left writable) lets them point ``train.log`` at a file
of ours with a symlink, read our events, or swap a checkpoint for a pickle. So a run directory
must be ours and not writable by group or others; files in it are opened with ``O_NOFOLLOW``
(a symlink is refused, never followed), must be regular files we own, and are 0600.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from pathlib import Path

PRIVATE_FILE_MODE = 0o600
PRIVATE_DIR_MODE = 0o700
_WRITABLE_BY_OTHERS = stat.S_IWGRP | stat.S_IWOTH


class UnsafePathError(PermissionError):
    """A path another user could control; the message is one line naming it and what to do."""


def check_private_dir(path: Path, what: str = "run directory") -> None:
    """Refuse a directory that is not ours or that group/others may write into."""
    info = os.stat(path)
    if not stat.S_ISDIR(info.st_mode):
        raise NotADirectoryError(f"{what} {path} is not a directory; choose another path")
    _refuse_not_ours(info, f"{what} {path}", "use a directory of your own")
    _refuse_writable_by_others(
        info, f"{what} {path}", "they may have planted files in it: use a new directory"
    )


def make_private_dir(path: Path, what: str = "run directory") -> None:
    """Create ``path`` (0700) or accept an existing one of ours (see ``check_private_dir``)."""
    try:
        path.mkdir(mode=PRIVATE_DIR_MODE)
    except FileExistsError:
        if path.is_symlink():
            raise UnsafePathError(
                f"{what} {path} is a symbolic link; remove it or choose another path"
            ) from None
    check_private_dir(path, what)
    os.chmod(path, PRIVATE_DIR_MODE)


def open_private(path: Path, flags: int, *, read_only: bool = False) -> int:
    """``os.open`` without following a symlink, then check the file is a regular one of ours.

    Creates missing files 0600 and narrows an existing file we own to 0600 (``read_only``:
    check only, and refuse a file group/others may write). Returns the descriptor.
    """
    try:
        fd = os.open(path, flags | os.O_NOFOLLOW | os.O_CLOEXEC, PRIVATE_FILE_MODE)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise UnsafePathError(
                f"{path} is a symbolic link; it was not followed: remove it and retry"
            ) from None
        raise
    try:
        _check_own_regular_file(fd, path, read_only)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _check_own_regular_file(fd: int, path: Path, read_only: bool) -> None:
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        raise UnsafePathError(f"{path} is not a regular file; move it away and retry")
    _refuse_not_ours(info, str(path), "it was not used: remove it and retry")
    if read_only:
        _refuse_writable_by_others(info, str(path), "it was not used")
    elif stat.S_IMODE(info.st_mode) != PRIVATE_FILE_MODE:
        os.fchmod(fd, PRIVATE_FILE_MODE)


def _refuse_not_ours(info: os.stat_result, named: str, advice: str) -> None:
    if info.st_uid != os.geteuid():
        raise UnsafePathError(
            f"{named} belongs to uid {info.st_uid}, not to you (uid {os.geteuid()}); {advice}"
        )


def _refuse_writable_by_others(info: os.stat_result, named: str, advice: str) -> None:
    if info.st_mode & _WRITABLE_BY_OTHERS:
        mode = stat.S_IMODE(info.st_mode)
        raise UnsafePathError(f"{named} is writable by other users (mode {mode:o}); {advice}")


def open_private_append(path: Path) -> int:
    """An append-only descriptor of ``path`` (created 0600), safe against planted links."""
    return open_private(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND)


def read_private(path: Path) -> bytes:
    """The bytes of a file of ours that only we can write (FileNotFoundError when missing)."""
    fd = open_private(path, os.O_RDONLY, read_only=True)
    with os.fdopen(fd, "rb") as handle:
        return handle.read()


def append_whole(fd: int, data: bytes) -> None:
    """Append ``data`` to an ``O_APPEND`` descriptor completely or not at all.

    On an error (a full disk) whatever part was written is cut off again, so a reader never
    sees half a line and the next append starts on a line of its own; the error is re-raised.
    One writer per file is assumed (the run directory's lock gives that).
    """
    start = os.fstat(fd).st_size
    view = memoryview(data)
    try:
        while view:
            view = view[os.write(fd, view) :]
    except OSError:
        with contextlib.suppress(OSError):
            os.ftruncate(fd, start)
        raise

"""A real small file system to fill up: a tmpfs mounted for one test (root only; else skip)."""

from __future__ import annotations

import contextlib
import errno
import os
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

FILLER = ".filler"


@contextlib.contextmanager
def small_filesystem(size: str = "8m") -> Iterator[Path]:
    """Mount a ``size`` tmpfs on a fresh directory for the duration; skips when that is refused."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small file system to fill needs root")
    mount_point = Path(tempfile.mkdtemp(prefix="fulldisk-"))
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        mount_point.rmdir()
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)
        mount_point.rmdir()


def fill(mount_point: Path) -> None:
    """Write a filler file until the file system has no byte left."""
    chunk = b"\0" * 65536
    fd = os.open(mount_point / FILLER, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        while True:
            try:
                os.write(fd, chunk)
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise
                if len(chunk) == 1:
                    return
                chunk = chunk[: len(chunk) // 2]
    finally:
        os.close(fd)


def free(mount_point: Path) -> None:
    """Give the space back."""
    (mount_point / FILLER).unlink(missing_ok=True)

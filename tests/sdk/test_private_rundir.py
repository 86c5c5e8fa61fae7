"""Issue 16, another user on the box: run directories and files nobody else can plant or read."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from maou_tui.sdk import RunDir
from maou_tui.sdk.private_files import UnsafePathError

NOBODY = 65534
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="acting as another user needs root")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def victim_file(short_dir: Path) -> Path:
    victim = short_dir / "victim.txt"
    victim.write_text("mine\n")
    return victim


def as_other_user_read(path: Path) -> str:
    """Run ``action`` ('read') on ``path`` as uid 65534 in a forked child; what happened."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: drop to nobody, try, report one word
        outcome = b"error"
        try:
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            path.read_bytes()
            outcome = b"allowed"
        except PermissionError:
            outcome = b"denied"
        finally:
            os.write(write_end, outcome)
            os._exit(0)
    os.close(write_end)
    os.waitpid(pid, 0)
    with os.fdopen(read_end, "rb") as pipe:
        return pipe.read().decode()


@needs_root
def test_run_directory_made_by_another_user_is_refused(short_dir: Path):
    """The issue's attack: their 0777 dir with train.log linked to the victim's file."""
    victim = victim_file(short_dir)
    planted = short_dir / "run"
    planted.mkdir()
    os.chown(planted, NOBODY, NOBODY)
    planted.chmod(0o777)
    (planted / "train.log").symlink_to(victim)
    os.lchown(planted / "train.log", NOBODY, NOBODY)
    with pytest.raises(UnsafePathError, match=f"belongs to uid {NOBODY}, not to you"):
        RunDir.create(planted)
    with pytest.raises(UnsafePathError, match=f"belongs to uid {NOBODY}"):
        RunDir.open(planted)
    assert victim.read_text() == "mine\n"
    assert sorted(p.name for p in planted.iterdir()) == ["train.log"], "nothing created in it"


def test_own_directory_writable_by_others_is_refused(short_dir: Path):
    run = short_dir / "run"
    run.mkdir()
    run.chmod(0o777)
    with pytest.raises(UnsafePathError, match=r"writable by other users \(mode 777\)"):
        RunDir.create(run)
    assert list(run.iterdir()) == []


@pytest.mark.parametrize("name", ["train.log", "events.jsonl", "trainer.lock"])
def test_planted_symlink_inside_the_run_is_never_followed(short_dir: Path, name: str):
    victim = victim_file(short_dir)
    run = short_dir / "run"
    run.mkdir(mode=0o700)
    (run / name).symlink_to(victim)
    with pytest.raises(UnsafePathError, match=f"{name} is a symbolic link; it was not followed"):
        RunDir.create(run)
    assert victim.read_text() == "mine\n" and mode(victim) == 0o644


def test_symlinked_checkpoint_directory_is_refused(short_dir: Path):
    elsewhere = short_dir / "elsewhere"
    elsewhere.mkdir()
    run = short_dir / "run"
    run.mkdir(mode=0o700)
    (run / "checkpoints").symlink_to(elsewhere)
    with pytest.raises(UnsafePathError, match=r"checkpoint directory .* is a symbolic link"):
        RunDir.create(run)


def test_every_file_is_private_whatever_the_umask(short_dir: Path):
    old = os.umask(0)
    try:
        with RunDir.create(short_dir / "run") as run:
            run.write_config({"a": 1})
            files = [run.events_path, run.log_path, run.config_path, run.pid_path]
            assert all(mode(path) == 0o600 for path in files), [oct(mode(p)) for p in files]
            assert mode(run.path / "trainer.lock") == 0o600
            assert mode(run.path) == 0o700 and mode(run.checkpoints_dir) == 0o700
    finally:
        os.umask(old)


def test_resumed_run_narrows_loose_files_of_ours(short_dir: Path):
    with RunDir.create(short_dir / "run") as run:
        path = run.path
    (path / "events.jsonl").chmod(0o644)
    (path / "checkpoints").chmod(0o755)
    with RunDir.open(path) as run:
        assert mode(run.events_path) == 0o600 and mode(run.checkpoints_dir) == 0o700


@needs_root
def test_another_user_cannot_read_the_events(short_dir: Path):
    short_dir.chmod(0o755)  # let them reach the run directory itself
    with RunDir.create(short_dir / "run") as run:
        run.events_path.write_text('{"v": 1}\n')
        run.path.chmod(0o711)  # even if they could traverse it, the file is 0600
        assert as_other_user_read(run.events_path) == "denied"
        run.events_path.chmod(0o644)
        assert as_other_user_read(run.events_path) == "allowed", "the check itself can fail"

"""Run directory layout, the one-trainer lock, stale sockets and long paths."""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from maou_tui.sdk import ControlServer, RunDir, RunDirLockedError, SocketInUseError, find_socket
from maou_tui.sdk.sockets import MAX_SOCKET_PATH_BYTES


def test_create_makes_the_layout(short_dir: Path):
    with RunDir.create(short_dir / "runs" / "r1") as run:
        for path in (run.config_path, run.events_path, run.log_path, run.pid_path):
            assert path.is_file()
        assert run.checkpoints_dir.is_dir()
        assert run.pid_path.read_text().strip() == str(os.getpid())
        assert run.socket_path == run.path / "control.sock"
        assert stat.S_IMODE(run.path.stat().st_mode) == 0o700
        run.write_config({"stage": "all", "lr": 1e-3, "path": Path("/x")})
        written = json.loads(run.config_path.read_text())
        assert written == {"stage": "all", "lr": 0.001, "path": "/x"}


def test_second_owner_in_the_same_process_is_refused(short_dir: Path):
    with RunDir.create(short_dir / "r"):
        with pytest.raises(RunDirLockedError, match=rf"in use by pid {os.getpid()}"):
            RunDir.create(short_dir / "r")
        assert RunDir.is_active(short_dir / "r")
    assert not RunDir.is_active(short_dir / "r")
    RunDir.open(short_dir / "r").close()  # free again once released


def test_second_trainer_process_is_refused_with_one_line(short_dir: Path):
    with RunDir.create(short_dir / "r"):
        code = (
            "import sys\n"
            "from maou_tui.sdk import RunDir, RunDirLockedError\n"
            "try:\n    RunDir.create(sys.argv[1])\n"
            "except RunDirLockedError as exc:\n    print(exc); sys.exit(3)\n"
        )
        result = subprocess.run(
            [sys.executable, "-c", code, str(short_dir / "r")],
            capture_output=True,
            text=True,
            cwd=Path(__file__).parents[2],
            timeout=30,
        )
    assert result.returncode == 3
    assert result.stdout.count("\n") == 1
    assert f"in use by pid {os.getpid()}" in result.stdout


def test_lock_dies_with_its_process(short_dir: Path):
    code = (
        "import os, sys\nfrom maou_tui.sdk import RunDir\n"
        "RunDir.create(sys.argv[1])\nos._exit(0)  # no close: the kernel must drop the lock"
    )
    subprocess.run(
        [sys.executable, "-c", code, str(short_dir / "r")],
        check=True,
        cwd=Path(__file__).parents[2],
        timeout=30,
    )
    RunDir.open(short_dir / "r").close()


def test_open_missing_directory_is_a_clear_error(short_dir: Path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        RunDir.open(short_dir / "nope")


def test_create_on_a_file_is_a_clear_error(short_dir: Path):
    (short_dir / "file").write_text("x")
    with pytest.raises(NotADirectoryError, match="not a directory"):
        RunDir.create(short_dir / "file")


def test_stale_socket_of_a_crashed_trainer_is_replaced(short_dir: Path):
    run_path = short_dir / "r"
    run_path.mkdir()
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(str(run_path / "control.sock"))
    stale.close()  # the file stays, nobody listens: what a killed trainer leaves
    assert (run_path / "control.sock").exists()
    assert find_socket(run_path) is None
    with RunDir.create(run_path) as run:
        assert not run.socket_path.exists()
        server = ControlServer(run.socket_path).start()
        assert find_socket(run_path) == run.socket_path
        server.close()
    assert not (run_path / "control.sock").exists()


def test_live_socket_means_another_trainer(short_dir: Path):
    path = short_dir / "control.sock"
    first = ControlServer(path).start()
    try:
        with pytest.raises(SocketInUseError, match="another live process"):
            ControlServer(path).start()
        assert find_socket(short_dir) == path  # the first one keeps serving
    finally:
        first.close()


def test_regular_file_at_the_socket_path_is_not_deleted(short_dir: Path):
    (short_dir / "control.sock").write_text("precious")
    with pytest.raises(FileExistsError, match="not a socket"):
        ControlServer(short_dir / "control.sock").start()
    assert (short_dir / "control.sock").read_text() == "precious"


def test_deep_run_directory_gets_its_socket_in_a_private_runtime_dir(short_dir: Path):
    deep = short_dir / ("d" * 60) / ("e" * 60) / "run"
    with RunDir.create(deep) as run:
        assert len(os.fsencode(deep / "control.sock")) > MAX_SOCKET_PATH_BYTES
        assert run.socket_path.parent != run.path
        assert len(os.fsencode(run.socket_path)) <= MAX_SOCKET_PATH_BYTES
        assert stat.S_IMODE(run.socket_path.parent.stat().st_mode) == 0o700
        assert (deep / "control.sock.path").read_text().strip() == str(run.socket_path)
        server = ControlServer(run.socket_path).start()
        assert find_socket(deep) == run.socket_path
        server.close()
    assert not (deep / "control.sock.path").exists()
    assert find_socket(deep) is None


def test_too_long_socket_path_is_refused_by_the_server(short_dir: Path):
    with pytest.raises(ValueError, match="longer than 107 bytes"):
        ControlServer(short_dir / ("x" * 120) / "control.sock")


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to act as another user")
def test_a_socket_we_cannot_probe_is_never_removed(short_dir: Path):
    """Another user's trainer: connect gives EACCES, which proves nothing, so keep the socket."""
    server = ControlServer(short_dir / "control.sock").start()
    try:
        short_dir.chmod(0o777)  # writable by all, so only the check protects the socket
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                os.setgid(65534)
                os.setuid(65534)
                from maou_tui.sdk.sockets import remove_stale_socket

                remove_stale_socket(short_dir / "control.sock")
            except SocketInUseError:
                code = 0
            except BaseException:
                code = 2
            os._exit(code)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        assert find_socket(short_dir) == short_dir / "control.sock"
    finally:
        short_dir.chmod(0o700)
        server.close()

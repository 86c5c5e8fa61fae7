"""What a training process embeds to be watched and controlled by maou-tui.

- ``RunDir``: the run directory's layout and its one-trainer lock.
- ``EventWriter``: buffered, thread-safe ``events.jsonl`` appends.
- ``ControlServer`` + ``LoopControl``: the control socket and the step-boundary API a loop calls.
- ``Monitor``: all of the above around any PyTorch optimizer, in three lines.
- ``SystemSampler``: CPU, memory and GPU samples as ``system`` events, from a thread.
- ``find_socket``: where a run's live control socket is (for clients).

Nothing here imports torch or textual.
"""

from maou_tui.sdk.events import EventWriter
from maou_tui.sdk.loop_control import CommandRejected, LoopControl
from maou_tui.sdk.monitor import Monitor
from maou_tui.sdk.rundir import RunDir, RunDirLockedError
from maou_tui.sdk.server import ControlServer, PendingCommand
from maou_tui.sdk.sockets import SocketInUseError, find_socket
from maou_tui.sdk.system import SystemSampler

__all__ = [
    "CommandRejected",
    "ControlServer",
    "EventWriter",
    "LoopControl",
    "Monitor",
    "PendingCommand",
    "RunDir",
    "RunDirLockedError",
    "SocketInUseError",
    "SystemSampler",
    "find_socket",
]

"""The run directory's layout: the name of every file in it, defined once.

```
<run>/config.json  events.jsonl  train.log  train.log.times  tensorboard.dirs  trainer.out
      trainer.pid  trainer.lock  control.sock  control.sock.path  checkpoints/
```
``control.sock.path`` exists only when the socket path would be too long for a Unix socket: it
names where the socket lives instead (``maou_tui.sdk.sockets``). Plain names, no imports: the
app reads these before anything else is loaded.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

CONFIG_FILE = "config.json"
EVENTS_FILE = "events.jsonl"
LOG_FILE = "train.log"
#: ``maou-tui run -- CMD`` only: when each piece of ``train.log`` arrived, one ``END_OFFSET
#: UNIX_TIME`` line per write, so what the program printed is placed at the hook's step then.
LOG_TIMES_FILE = "train.log.times"
#: ``maou-tui run -- CMD`` only: the directories CMD named for its TensorBoard files (in its
#: arguments or a printed line), absolute, one a line.
BOARD_DIRS_FILE = "tensorboard.dirs"
#: The trainer's stdout and stderr as ``maou-tui run`` captured them.
TRAINER_OUTPUT = "trainer.out"
PID_FILE = "trainer.pid"
LOCK_FILE = "trainer.lock"
SOCKET_FILE = "control.sock"
SOCKET_POINTER_FILE = "control.sock.path"
CHECKPOINTS_DIR = "checkpoints"

#: Any of these makes a directory a run directory.
RUN_MARKERS = (EVENTS_FILE, LOG_FILE, CONFIG_FILE)

#: maou-train's defaults of the two options a new run directory is named after; its own
#: option definitions (trainer/config.py) take them from here, so ``maou-tui run`` names the
#: directory as the trainer would without importing the trainer.
DEFAULT_ARCHITECTURE: Final = "resnet"
DEFAULT_PRESET: Final = "tiny"


def run_dir_name(architecture: str, preset: str, now: datetime) -> str:
    """``<YYYYmmdd-HHMMSS>-<architecture>-<preset>``: a new maou-train run directory's name."""
    return f"{now.strftime('%Y%m%d-%H%M%S')}-{architecture}-{preset}"

"""Shared test configuration. Areas keep their own fixtures in tests/<area>/conftest.py."""

import os
import tempfile

# Never let a test pick up a user's environment-specific settings or colours.
os.environ.setdefault("MAOU_LOG_LEVEL", "INFO")

# Nor the user's settings file or remembered views (maou_tui.settings, app/view_memory): a
# private config and state home for the whole session, subprocesses included.
_HOME = tempfile.mkdtemp(prefix="maou-tui-tests-")
os.environ["XDG_CONFIG_HOME"] = os.path.join(_HOME, "config")
os.environ["XDG_STATE_HOME"] = os.path.join(_HOME, "state")
os.environ.pop("MAOU_TUI_SETTINGS", None)

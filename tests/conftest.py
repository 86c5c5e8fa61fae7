"""Shared test configuration. Areas keep their own fixtures in tests/<area>/conftest.py."""

import os

# Never let a test pick up a user's environment-specific settings or colours.
os.environ.setdefault("MAOU_LOG_LEVEL", "INFO")

#!/usr/bin/env bash
# Installs maou-tui with its test tools into the venv (MAOU_TUI_VENV, default .venv, as
# setup-env.sh), checks lint, format and types, runs the test suite.
# Extra arguments go to pytest (e.g. scripts/test.sh -m slow).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${MAOU_TUI_VENV:-.venv}"
scripts/setup-env.sh test
"$VENV/bin/python" -m ruff check .
"$VENV/bin/python" -m ruff format --check .
"$VENV/bin/python" -m mypy
exec "$VENV/bin/python" -m pytest "$@"

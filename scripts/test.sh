#!/usr/bin/env bash
# Installs maou-tui with its test tools into .venv, checks lint and format, runs the test suite.
# Extra arguments go to pytest (e.g. scripts/test.sh -m slow).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-env.sh test
.venv/bin/python -m ruff check .
.venv/bin/python -m ruff format --check .
exec .venv/bin/python -m pytest "$@"

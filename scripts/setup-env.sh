#!/usr/bin/env bash
# Creates .venv (seeing system site-packages, so a GPU box keeps the torch it has), installs
# torch 2.13.0 only when no torch is importable, then installs maou-tui with the given extras.
# Usage: scripts/setup-env.sh [EXTRAS]   e.g. scripts/setup-env.sh test
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
VENV="${MAOU_TUI_VENV:-.venv}"
if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv --system-site-packages "$VENV"
fi
if ! "$VENV/bin/python" -c "import torch" >/dev/null 2>&1; then
  "$VENV/bin/python" -m pip install -q "torch==2.13.0"
fi
extras="${1:-}"
target="."
[ -n "$extras" ] && target=".[$extras]"
"$VENV/bin/python" -m pip install -q -e "$target"

#!/usr/bin/env bash
# Installs maou-tui into .venv and runs the embedded default: `maou-tui run` (tiny models on
# generated shogi positions, Stages 1 -> 2 -> 3, CPU or GPU). Extra arguments go to `maou-tui run`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-env.sh
exec .venv/bin/maou-tui run "$@"

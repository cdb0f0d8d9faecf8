#!/usr/bin/env bash
# The README's first command: set everything up, start the project's own PostGIS, and run the demo.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/gi db up
.venv/bin/gi demo "$@"

#!/usr/bin/env bash
# The README's second command (and CI's): set everything up, start PostGIS, run the whole test suite.
# GI_REQUIRE_DB=1 makes a PostGIS test that cannot reach its database fail instead of skipping.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/gi db up
export GI_REQUIRE_DB=1
exec .venv/bin/python -m pytest -n 2 --dist loadfile -q "$@"

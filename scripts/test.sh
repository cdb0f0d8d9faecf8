#!/usr/bin/env bash
# The README's second command (and CI's): set everything up, run the gates (lint, format, types), start
# PostGIS, run the whole test suite. Any gate that fails stops the run before the tests.
# GI_REQUIRE_DB=1 makes a PostGIS test that cannot reach its database fail instead of skipping.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
echo "==> ruff check" && .venv/bin/ruff check .
echo "==> ruff format --check" && .venv/bin/ruff format --check .
echo "==> mypy" && .venv/bin/mypy
# The suite's data is thrown away: its own cluster may run without crash safety (GI_LOCAL_FAST).
export GI_LOCAL_FAST=1
.venv/bin/gi db up
export GI_REQUIRE_DB=1
exec .venv/bin/python -m pytest -n 2 --dist loadfile -q "$@"

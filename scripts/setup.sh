#!/usr/bin/env bash
# One-time set-up on Debian 12: system packages (PostgreSQL 15 + PostGIS 3, Chromium, poppler, a CJK font),
# the virtual environment and the project with its test extras. Safe to run again: it only does what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(postgresql-15 postgresql-15-postgis-3 chromium poppler-utils fonts-wqy-zenhei python3-venv gdal-bin)
missing=()
for pkg in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "==> installing Debian packages: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # The Debian package starts a cluster of its own on port 5432; the project runs its own and needs none.
fi

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv"
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "==> installing the project into .venv"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e ".[test,bench]"
  touch "$stamp"
fi

# ODK's form engine for the field-collection tests (tests/odk, pinned by its package-lock.json). It needs Node
# 20.19 or newer; without Node the ODK engine test skips, except in CI, where it fails (tests/test_field_odk.py).
if command -v node >/dev/null && command -v npm >/dev/null; then
  if [ ! -f tests/odk/node_modules/.package-lock.json ] || [ tests/odk/package-lock.json -nt tests/odk/node_modules/.package-lock.json ]; then
    echo "==> installing ODK's form engine (npm ci in tests/odk)"
    (cd tests/odk && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  fi
fi

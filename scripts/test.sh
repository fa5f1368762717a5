#!/usr/bin/env bash
# Set up everything the tests need on a fresh machine and run them:
# the venv, a private PostgreSQL on loopback, Chromium + the Agents Playground for the browser test,
# then lint (ruff), types (mypy) and pytest (on SQLite and PostgreSQL).
#   SAMVERKAN_SKIP_BROWSER=1  skip installing/running the browser test
#   SAMVERKAN_TEST_WORKERS=N  pytest processes (pytest-xdist; default: the CPU count, at most 4)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh dev

# Byte-compiled modules are kept (__pycache__, ignored by git): with PYTHONDONTWRITEBYTECODE set,
# as on some CI machines, every test process and every server a test starts compiled the
# project again (collection 4.1 s -> 1.5 s per process).
unset PYTHONDONTWRITEBYTECODE

export SAMVERKAN_TEST_POSTGRES_URL="$(bash scripts/pg-test-server.sh start)"
export SAMVERKAN_REQUIRE_POSTGRES=1

if [ "${SAMVERKAN_SKIP_BROWSER:-0}" != 1 ]; then
  bash scripts/browser-deps.sh
  export SAMVERKAN_REQUIRE_BROWSER=1
fi

echo "== ruff"; .venv/bin/ruff check .
echo "== mypy"; .venv/bin/mypy
echo "== lint-imports"; .venv/bin/lint-imports --no-cache
workers="${SAMVERKAN_TEST_WORKERS:-$(n=$(nproc 2>/dev/null || echo 2); [ "$n" -gt 4 ] && n=4; echo "$n")}"
echo "== pytest ($workers workers)"; .venv/bin/python -m pytest -q -n "$workers" "$@"

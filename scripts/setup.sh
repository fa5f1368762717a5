#!/usr/bin/env bash
# Create .venv (Python 3.11) and install the project with its development tools. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

pick_python() {
  local c
  for c in "${PYTHON:-}" python3.11 python3 python; do
    [ -n "$c" ] || continue
    if command -v "$c" >/dev/null 2>&1 && "$c" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else 1)' 2>/dev/null; then
      echo "$c"; return 0
    fi
  done
  return 1
}

if [ ! -x .venv/bin/python ]; then
  py="$(pick_python)" || { echo "Python 3.11 behövs (sätt PYTHON=/sökväg/till/python3.11)." >&2; exit 1; }
  "$py" -m venv .venv
fi
stamp=.venv/.installed-$(cat pyproject.toml | sha256sum | cut -c1-16)
if [ ! -f "$stamp" ]; then
  .venv/bin/python -m pip install -q --upgrade pip 2>&1 | grep -v "^WARNING: Location" || true
  .venv/bin/python -m pip install -q -e ".[${1:-dev}]" 2>&1 | grep -v "^WARNING: Location" || true
  .venv/bin/python -c "import botbuilder.core, sqlalchemy, rapidfuzz" # fail loudly if the install did not work
  rm -f .venv/.installed-*; touch "$stamp"
fi

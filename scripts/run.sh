#!/usr/bin/env bash
# Set up (first time) and run Samverkansboten on http://127.0.0.1:3978/api/messages
# with an embedded SQLite database (./samverkan.sqlite3) and the bundled knowledge base.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh dev
exec .venv/bin/samverkan serve "$@"

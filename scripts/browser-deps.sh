#!/usr/bin/env bash
# Chromium (Debian package) and the Node packages for the Agents Playground browser test.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
if ! command -v chromium >/dev/null 2>&1; then
  echo "Installerar Chromium från Debians paket…" >&2
  $SUDO apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >&2
fi
if ! command -v node >/dev/null 2>&1; then
  echo "Installerar Node.js från Debians paket…" >&2
  $SUDO apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq nodejs npm >&2
fi
if [ ! -d tests/browser/node_modules/@microsoft/m365agentsplayground ] || [ ! -d tests/browser/node_modules/playwright-core ]; then
  (cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)
fi

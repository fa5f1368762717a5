#!/usr/bin/env bash
# Start (or reuse) a throwaway PostgreSQL server for the tests, on loopback, owned by this checkout.
# Prints the SQLAlchemy URL to use. Installs PostgreSQL from Debian's packages if it is missing.
#   usage: scripts/pg-test-server.sh [start|stop|url]
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
dir="${SAMVERKAN_PG_DIR:-$here/.tmp/pg}"
action="${1:-start}"
# The port is chosen once per checkout (a free one) and remembered, so several checkouts can
# each run their own server.
mkdir -p "$dir"
if [ -n "${SAMVERKAN_PG_PORT:-}" ]; then
  port="$SAMVERKAN_PG_PORT"
elif [ -f "$dir/port" ]; then
  port="$(cat "$dir/port")"
else
  port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  echo "$port" > "$dir/port"
fi

find_bin() {
  local b
  for b in "$(command -v pg_ctl 2>/dev/null || true)" /usr/lib/postgresql/*/bin/pg_ctl; do
    [ -n "$b" ] && [ -x "$b" ] && { dirname "$b"; return 0; }
  done
  return 1
}

if ! bindir="$(find_bin)"; then
  echo "PostgreSQL saknas: installerar från Debians paket…" >&2
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >&2
  bindir="$(find_bin)"
fi

# PostgreSQL refuses to run as root: run it as the owner of the data directory.
as_owner() {
  if [ "$(id -u)" = 0 ]; then
    id -u postgres >/dev/null 2>&1 || useradd --system --home-dir /nonexistent --shell /usr/sbin/nologin postgres
    mkdir -p "$dir"; chown -R postgres "$dir"
    su -s /bin/sh postgres -c "$(printf '%q ' "$@")"
  else
    "$@"
  fi
}

url="postgresql+asyncpg://samverkan@127.0.0.1:${port}/postgres"
case "$action" in
  url) echo "$url"; exit 0 ;;
  stop) [ -f "$dir/data/postmaster.pid" ] && as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast stop >&2; exit 0 ;;
  start) ;;
  *) echo "usage: $0 [start|stop|url]" >&2; exit 2 ;;
esac

if [ ! -f "$dir/data/PG_VERSION" ]; then
  as_owner "$bindir/initdb" -D "$dir/data" -U samverkan --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
fi
# synchronous_commit stays on: a commit the bot was told about is a commit (the fault tests kill
# the bot, not the database, and must see every acknowledged write). fsync is off: the test
# machine's disk is not what is tested, and the server is thrown away afterwards.
if ! as_owner "$bindir/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
  as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-p $port -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=on -c full_page_writes=off -c max_connections=200" start >&2
fi
echo "$url"

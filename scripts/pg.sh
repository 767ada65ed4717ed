#!/usr/bin/env bash
# Start (or reuse) a private PostgreSQL cluster on loopback for the test suite.
#   scripts/pg.sh start   -> prints the SQLAlchemy URL of a fresh-able server
#   scripts/pg.sh stop
# Data lives in ${CCPLANE_PG_DIR:-/var/tmp/ccplane-pg} (postgres must be able to reach it); port ${CCPLANE_PG_PORT:-55432}.
set -euo pipefail
PGDIR=${CCPLANE_PG_DIR:-/var/tmp/ccplane-pg}
PORT=${CCPLANE_PG_PORT:-55432}
BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
[ -x "$BIN/initdb" ] || { echo "pg.sh: PostgreSQL server binaries not found (apt-get install postgresql)" >&2; exit 1; }
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

case "${1:-start}" in
  start)
    if [ ! -s "$PGDIR/PG_VERSION" ]; then
      mkdir -p "$PGDIR"
      [ "$(id -u)" = 0 ] && chown postgres:postgres "$PGDIR"
      as_pg "$BIN/initdb" -D "$PGDIR" --auth=trust --username=postgres --encoding=UTF8 >/dev/null
    fi
    if ! as_pg "$BIN/pg_ctl" -D "$PGDIR" status >/dev/null 2>&1; then
      as_pg "$BIN/pg_ctl" -D "$PGDIR" -w -t 60 -l "$PGDIR/server.log" \
        -o "-p $PORT -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start >/dev/null \
        || { echo "pg.sh: PostgreSQL failed to start; log:" >&2; tail -n 20 "$PGDIR/server.log" >&2; exit 1; }
    fi
    echo "postgresql+psycopg://postgres@127.0.0.1:$PORT/postgres"
    ;;
  stop)
    as_pg "$BIN/pg_ctl" -D "$PGDIR" -w stop >/dev/null 2>&1 || true
    ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac

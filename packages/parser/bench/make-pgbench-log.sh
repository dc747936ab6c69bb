#!/usr/bin/env bash
# Makes large real PostgreSQL logs for the parse benchmark (issue 19): a private PostgreSQL 15
# (scratch directory under /tmp, its own port; never the shared server) runs pgbench (TPC-B-like,
# 4 clients) with log_statement = 'all', logging stderr, csvlog and jsonlog at once, until the
# stderr log reaches the wanted size. Run as root; takes a few minutes per GB.
#
#   make-pgbench-log.sh <out-dir> [stderr-size-MB=1024]
#
# Writes <out-dir>/postgresql.log, postgresql.csv, postgresql.json (the csv/json logs hold the
# same statements, so they are larger). The logs are NOT committed: this script is.
set -euo pipefail
OUT="${1:?usage: make-pgbench-log.sh <out-dir> [size-MB]}"
SIZE_MB="${2:-1024}"
mkdir -p "$OUT"
# shellcheck source=private-pg.sh
. "$(dirname "$0")/private-pg.sh"
PRIVATE_PG_ON_EXIT='[ -n "${BENCH_PID:-}" ] && kill "$BENCH_PID" 2>/dev/null || true'
private_pg_start stb-pgbench-log "${PGPORT:-55471}" "log_destination = 'stderr,csvlog,jsonlog'
log_statement = 'all'"
PGB="pgbench -h 127.0.0.1 -p $PGB_PORT -U postgres"
$PGB -i -s 10 postgres >/dev/null 2>&1
# Start the measured log after initialisation (its COPY is not a statement mix anyone parses).
runuser -u postgres -- psql -h 127.0.0.1 -p "$PGB_PORT" -U postgres -qc 'SELECT pg_rotate_logfile()' >/dev/null
sleep 1
: >"$WORK/pg/log/pg"; : >"$WORK/pg/log/pg.csv"; : >"$WORK/pg/log/pg.json"
$PGB -n -c 4 -j 2 -T 3600 postgres >"$WORK/pgbench.txt" 2>&1 &
BENCH_PID=$!
LIMIT=$((SIZE_MB * 1024 * 1024))
while kill -0 "$BENCH_PID" 2>/dev/null; do
  sz=$(stat -c %s "$WORK/pg/log/pg")
  [ "$sz" -ge "$LIMIT" ] && break
  sleep 2
done
# SIGTERM: a background job of a non-interactive shell ignores SIGINT.
kill -TERM "$BENCH_PID" 2>/dev/null || true
wait "$BENCH_PID" 2>/dev/null || true
BENCH_PID=
runuser -u postgres -- "$PGBIN/pg_ctl" -D "$WORK/pg" -w stop >/dev/null
mv "$WORK/pg/log/pg" "$OUT/postgresql.log"
mv "$WORK/pg/log/pg.csv" "$OUT/postgresql.csv"
mv "$WORK/pg/log/pg.json" "$OUT/postgresql.json"
ls -l "$OUT"

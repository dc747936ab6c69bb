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
PGBIN=/usr/lib/postgresql/15/bin
PGPORT=${PGPORT:-55471}
WORK="$(mktemp -d /tmp/stb-pgbench-log.XXXXXX)"
chmod 755 "$WORK"
mkdir -p "$OUT"
cleanup() {
  [ -n "${BENCH_PID:-}" ] && kill "$BENCH_PID" 2>/dev/null || true
  runuser -u postgres -- "$PGBIN/pg_ctl" -D "$WORK/pg" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

mkdir -p "$WORK/pg" && chown postgres:postgres "$WORK/pg" && chmod 700 "$WORK/pg"
runuser -u postgres -- "$PGBIN/initdb" -D "$WORK/pg" -A trust -U postgres >/dev/null
cat >>"$WORK/pg/postgresql.conf" <<CONF
port = $PGPORT
listen_addresses = '127.0.0.1'
unix_socket_directories = '$WORK/pg'
fsync = off
synchronous_commit = off
logging_collector = on
log_destination = 'stderr,csvlog,jsonlog'
log_directory = 'log'
log_filename = 'pg'
log_rotation_size = 0
log_statement = 'all'
log_line_prefix = '%m [%p] %q%u@%d '
log_timezone = 'UTC'
CONF
runuser -u postgres -- "$PGBIN/pg_ctl" -D "$WORK/pg" -l "$WORK/pg/server.log" -w start >/dev/null
PGB="pgbench -h 127.0.0.1 -p $PGPORT -U postgres"
$PGB -i -s 10 postgres >/dev/null 2>&1
# Start the measured log after initialisation (its COPY is not a statement mix anyone parses).
runuser -u postgres -- psql -h 127.0.0.1 -p "$PGPORT" -U postgres -qc 'SELECT pg_rotate_logfile()' >/dev/null
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

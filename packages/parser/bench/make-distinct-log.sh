#!/usr/bin/env bash
# Makes a real PostgreSQL stderr log of N distinct statements for the parse benchmark's memory per
# template (issue 19): a private PostgreSQL 15 (scratch directory under /tmp, its own port; never
# the shared server) with log_statement = 'all' runs N point selects on pgbench's tables through
# psql, statement i naming its 1 to 6 columns with aliases of its own (a_<i>_<k>), so that every
# statement is its own template, as in a log of hand-written or generated SQL. Values vary too.
# Run as root; about a minute per 100 000 statements.
#
#   make-distinct-log.sh <out-file> <statements>
#
# The log is NOT committed: this script is.
set -euo pipefail
OUT="${1:?usage: make-distinct-log.sh <out-file> <statements>}"
N="${2:?usage: make-distinct-log.sh <out-file> <statements>}"
# shellcheck source=private-pg.sh
. "$(dirname "$0")/private-pg.sh"
private_pg_start stb-distinct-log "${PGPORT:-55472}" "log_destination = 'stderr'
log_statement = 'none'"
pgbench -h 127.0.0.1 -p "$PGB_PORT" -U postgres -i -s 1 postgres >/dev/null 2>&1
# Only the statements below are logged (ALTER SYSTEM and the reload are not).
psql -h 127.0.0.1 -p "$PGB_PORT" -U postgres -qc "ALTER SYSTEM SET log_statement = 'all'" \
  -c 'SELECT pg_reload_conf()' >/dev/null
sleep 1
awk -v n="$N" 'BEGIN {
  for (i = 0; i < n; i++) {
    cols = ""
    for (k = 0; k <= i % 6; k++)
      cols = cols (k ? ", " : "") (k % 2 ? "abalance" : "aid") " AS a_" i "_" k
    printf "SELECT %s FROM pgbench_accounts WHERE aid = %d AND bid = %d;\n", cols, 1 + (i * 7919) % 100000, 1
  }
}' | psql -h 127.0.0.1 -p "$PGB_PORT" -U postgres -q -v ON_ERROR_STOP=1 -o /dev/null postgres
runuser -u postgres -- "$PGBIN/pg_ctl" -D "$WORK/pg" -w stop >/dev/null
mkdir -p "$(dirname "$OUT")"
mv "$WORK/pg/log/pg" "$OUT"
ls -l "$OUT"

# Sourced by the bench log makers (make-pgbench-log.sh, make-distinct-log.sh): a private
# PostgreSQL 15 in a scratch directory under /tmp on its own port, never the shared server.
#
#   private_pg_start <name> <port> <postgresql.conf lines>
#
# Sets WORK (the scratch directory: the data directory is $WORK/pg, the logging collector writes
# $WORK/pg/log/pg[.csv|.json]) and PGB_PORT, starts the server and stops it and removes WORK on
# exit (an EXIT trap; a caller's own clean-up goes in PRIVATE_PG_ON_EXIT, run first).
PGBIN=/usr/lib/postgresql/15/bin

private_pg_cleanup() {
  [ -n "${PRIVATE_PG_ON_EXIT:-}" ] && eval "$PRIVATE_PG_ON_EXIT"
  runuser -u postgres -- "$PGBIN/pg_ctl" -D "$WORK/pg" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$WORK"
}

private_pg_start() {
  WORK="$(mktemp -d "/tmp/$1.XXXXXX")"
  PGB_PORT="$2"
  chmod 755 "$WORK"
  trap private_pg_cleanup EXIT
  mkdir -p "$WORK/pg" && chown postgres:postgres "$WORK/pg" && chmod 700 "$WORK/pg"
  runuser -u postgres -- "$PGBIN/initdb" -D "$WORK/pg" -A trust -U postgres >/dev/null
  cat >>"$WORK/pg/postgresql.conf" <<CONF
port = $PGB_PORT
listen_addresses = '127.0.0.1'
unix_socket_directories = '$WORK/pg'
fsync = off
synchronous_commit = off
logging_collector = on
log_directory = 'log'
log_filename = 'pg'
log_rotation_size = 0
log_line_prefix = '%m [%p] %q%u@%d '
log_timezone = 'UTC'
$3
CONF
  runuser -u postgres -- "$PGBIN/pg_ctl" -D "$WORK/pg" -l "$WORK/pg/server.log" -w start >/dev/null
}

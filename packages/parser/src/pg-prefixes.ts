/**
 * `log_line_prefix` values tried when none is given, most specific first: PostgreSQL's default,
 * Debian's, pgBadger's recommended ones, RDS/Aurora's, and common ones with `%c`/`%x`/`%v`.
 */
export const COMMON_PG_PREFIXES: readonly string[] = [
  // Heroku Postgres (heroku/cli#2992), Cloud SQL and AlloyDB (pgBadger #699), Azure flexible
  // server's default (pgBadger #642).
  ' sql_error_code = %e time_ms = "%m" pid="%p" proc_start_time="%s" session_id="%c" vtid="%v" tid="%x" log_line="%l" database="%d" connection_source="%r" user="%u" application_name="%a" ',
  '%m [%p]: [%l-1] db=%d,user=%u ',
  '%t-%c-',
  '%m [%p] %q%u@%d/%a ',
  '%m [%p] %q%u@%d ',
  '%m [%p] ',
  '%t [%p] ',
  '%t [%p]: [%l-1] user=%u,db=%d,app=%a,client=%h ',
  '%m [%p]: [%l-1] user=%u,db=%d,app=%a,client=%h ',
  '%t [%p]: [%l-1] user=%u,db=%d ',
  '%t [%p]: [%l-1] db=%d,user=%u ',
  '%t [%p]: [%l-1] ',
  '%m [%p]: [%l-1] ',
  '%t [%p]: user=%u,db=%d,app=%a,client=%h ',
  '%t [%p-%l] %q%u@%d ',
  '%m [%p-%l] %q%u@%d ',
  '%t:%r:%u@%d:[%p]:',
  '%m:%r:%u@%d:[%p]:',
  '%m [%p] %c %x %v %q%u@%d/%a ',
  '%m [%p] [%c] [%x] %q%u@%d/%a ',
  '%m [%c] [%x] [%v] %q%u@%d ',
  '%m [%p] %c ',
  '%m %c %x ',
  '%m [%p] [%c] ',
  '%m [%p] %x ',
  '%m [%p] %v ',
  '%t [%p] %q%u@%d ',
  '%n [%p] ',
  '%m ',
  '%t ',
];

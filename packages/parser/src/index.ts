/**
 * `@stb/parser`: streams PostgreSQL and MySQL/MariaDB logs (and plain SQL files) into
 * `RawQueryEvent`s.
 * @packageDocumentation
 */

/** Identity helper that pins a log-format plugin's option type. */
export { defineLogFormat } from './log-format';
/** The log-format plugin interface and the context a plugin parses with. */
export type { LogFormat, LogFormatContext } from './log-format';
/** Format detection: ranked candidates, `STB_PARSE_UNKNOWN_FORMAT` when none fits. */
export { detectLogFormat, MIN_DETECT_CONFIDENCE } from './detect';
/** A detection candidate, and a plugin of any option type. */
export type { LogFormatCandidate, AnyLogFormat } from './detect';
/** Parses logs into a stream of events with a summary. */
export { emptyParseSummary, parseLogBatches, parseLogs } from './parse-logs';
/** Options, progress, filters and summary of {@link parseLogs}. */
export type {
  ParseLogsOptions,
  ParseProgress,
  ParseFilters,
  ParseRun,
  ParseBatchRun,
  ParseSummary,
  FileParseSummary,
  InvalidLine,
} from './parse-logs';
/** One-line diagnosis of a parse that found no statement. */
export { explainNoStatements } from './diagnose';
/** Loads log-format plugin packages (`--format-package`) and merges them with the built-ins. */
export { loadFormatPackage, withFormats } from './format-package';
/** Options of {@link loadFormatPackage}. */
export type { LoadFormatPackageOptions } from './format-package';
/** Every built-in log format. */
export { builtinLogFormats } from './formats/builtin';
/** PostgreSQL stderr log with any `log_line_prefix`. */
export { postgresStderr } from './formats/postgres-stderr';
/** Options of `postgres-stderr`. */
export type { PostgresStderrOptions } from './formats/postgres-stderr';
/** PostgreSQL csvlog. */
export { postgresCsvlog } from './formats/postgres-csvlog';
/** Options of `postgres-csvlog`. */
export type { PostgresCsvlogOptions } from './formats/postgres-csvlog';
/** PostgreSQL 15+ jsonlog. */
export { postgresJsonlog } from './formats/postgres-jsonlog';
/** Options of `postgres-jsonlog`. */
export type { PostgresJsonlogOptions } from './formats/postgres-jsonlog';
/** MySQL/MariaDB general query log. */
export { mysqlGeneral } from './formats/mysql-general';
/** Options of `mysql-general`. */
export type { MysqlGeneralOptions } from './formats/mysql-general';
/** MySQL/MariaDB slow query log. */
export { mysqlSlow } from './formats/mysql-slow';
/** Options of `mysql-slow`. */
export type { MysqlSlowOptions } from './formats/mysql-slow';
/** Plain SQL files. */
export { plainSql } from './formats/plain-sql';
/** Options of `plain-sql`. */
export type { PlainSqlOptions } from './formats/plain-sql';
/** Cloud SQL for PostgreSQL / AlloyDB logs exported from Google Cloud Logging. */
export {
  gcpPostgres,
  gcpMysql,
  CLOUDSQL_PG_PREFIX,
} from './formats/gcp-logging';
/** Options of `gcp-postgres` and `gcp-mysql`. */
export type { GcpLoggingOptions } from './formats/gcp-logging';
/** Azure Database for PostgreSQL flexible server logs (diagnostic settings, Log Analytics). */
export { azurePostgres } from './formats/azure-postgres';
/** Options of `azure-postgres`. */
export type { AzurePostgresOptions } from './formats/azure-postgres';
/** Azure Database for MySQL flexible server slow and audit logs (diagnostic settings, Log Analytics). */
export { azureMysql } from './formats/azure-mysql';
/** Options of `azure-mysql`. */
export type { AzureMysqlOptions } from './formats/azure-mysql';
/** RDS/Aurora logs exported from CloudWatch Logs. */
export { awsPostgres, awsMysql } from './formats/aws-cloudwatch';
/** Options of `aws-postgres` and `aws-mysql`. */
export type { AwsCloudwatchOptions } from './formats/aws-cloudwatch';
/** Heroku Postgres logs from logplex. */
export { herokuPostgres } from './formats/heroku-postgres';
/** Options of `heroku-postgres`. */
export type { HerokuPostgresOptions } from './formats/heroku-postgres';
/** `mysql.general_log` / `mysql.slow_log` table dumps. */
export { mysqlTable } from './formats/mysql-table';
/** Options of `mysql-table`. */
export type { MysqlTableOptions } from './formats/mysql-table';
/** The common `log_line_prefix` values tried when none is given. */
export { COMMON_PG_PREFIXES } from './pg-prefixes';
/**
 * Byte-range parsing of one PostgreSQL stderr log (`stb parse --workers`): the plan, a range's
 * parse and the main thread's stitching of the ranges into the one-thread parse.
 * @internal
 */
export {
  findPgRangeStart,
  parsePgRange,
  pgRangeInputChanged,
  pgRangeTag,
  planPgRanges,
  PgRangeStitcher,
} from './pg-ranges';
/** @internal */
export type {
  PgBoundaryState,
  PgKeyStart,
  PgRangeEnd,
  PgRangePlan,
  PgRangeSpec,
  PgRangeVerdict,
  PgSessionState,
} from './pg-ranges';

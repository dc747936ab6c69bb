/**
 * Statements that switch the server's statement logging itself (the capture tool's, not the
 * workload's): MySQL/MariaDB `SET [SESSION|GLOBAL] sql_log_off | general_log | slow_query_log |
 * log_output | …_file`, PostgreSQL `SET log_statement | log_min_duration_statement | log_duration`
 * and `ALTER SYSTEM SET` of those. A capture that ends by turning its log off leaves such a
 * statement, in a session of its own, as the last one of the log; a model that learns it makes
 * up a session the workload never had. They are counted as skipped (`logging-control`).
 */
const SETTING =
  '(?:sql_log_off|general_log|general_log_file|slow_query_log|slow_query_log_file|log_output|log_statement|log_min_duration_statement|log_duration)';
const LOGGING_CONTROL = new RegExp(
  `^\\s*(?:SET\\s+(?:(?:SESSION|GLOBAL|LOCAL)\\s+)?(?:@@(?:SESSION|GLOBAL)\\.)?|ALTER\\s+SYSTEM\\s+SET\\s+)${SETTING}\\s*(?:=|TO\\b)`,
  'i',
);

/** True when `sql` only switches the server's statement logging. */
export function isLoggingControl(sql: string): boolean {
  // Most statements cannot match: skip the regex unless the first word starts with S or A.
  let i = 0;
  let c = sql.charCodeAt(0);
  while (c === 32 || (c >= 9 && c <= 13) || c === 0xa0 || c === 0xfeff)
    c = sql.charCodeAt(++i);
  if (c !== 83 && c !== 115 && c !== 65 && c !== 97 && !(c > 127))
    return false;
  return LOGGING_CONTROL.test(sql);
}

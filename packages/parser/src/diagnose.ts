import type { FileParseSummary, ParseSummary } from './parse-logs';

/** Entry kinds that only show the server logged something other than statements. */
const NON_STATEMENT = new Set([
  'connection',
  'disconnection',
  'checkpoint',
  'other',
  'header',
  'blank',
  'init-db',
  'error',
  'other-instance',
  'logging-control',
]);

const ENVELOPES = new Set([
  'gcp-postgres',
  'gcp-mysql',
  'azure-postgres',
  'aws-postgres',
  'aws-mysql',
  'heroku-postgres',
  'mysql-table',
]);

function counts(skipped: Record<string, number>): string {
  const parts = Object.entries(skipped)
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${k} ${n}`);
  return parts.length > 0 ? parts.join(', ') : 'nothing skipped';
}

function fileCause(f: FileParseSummary): string {
  const invalid = f.skipped['invalid'] ?? 0;
  const total = Object.values(f.skipped).reduce((a, b) => a + b, 0);
  if (f.format === 'none') return 'the input is empty';
  if (invalid > 0 && invalid * 2 >= total) {
    if (f.format === 'postgres-stderr')
      return "most lines do not start with a known log_line_prefix: pass the server's `log_line_prefix` with `--prefix` (it needs a time escape, %m or %t, and %p or %c to tell sessions apart)";
    if (ENVELOPES.has(f.format))
      return `most records of the \`${f.format}\` export could not be read: an envelope variant it does not know, a truncated export, or a log of another server inside it`;
    return `most lines are not valid \`${f.format}\`: force the right format with \`--format\``;
  }
  if (
    (f.skipped['other-instance'] ?? 0) > 0 &&
    total === (f.skipped['other-instance'] ?? 0)
  )
    return 'every entry belongs to another instance than the one selected (`instance` option)';
  const onlyOther = Object.keys(f.skipped).every((k) => NON_STATEMENT.has(k));
  if (f.dialect === 'postgres') {
    if ((f.skipped['parse'] ?? 0) + (f.skipped['bind'] ?? 0) > 0)
      return 'only parse/bind steps were logged, no execute: set `log_min_duration_statement = 0` (or `log_statement = all`) so executions are logged';
    if (onlyOther)
      return `the server logged no statements${(f.skipped['error'] ?? 0) > 0 ? ' (only errors)' : ''}: set \`log_statement = 'all'\` or \`log_min_duration_statement = 0\` (see docs/quick-start.md for your provider)`;
  }
  if (f.format === 'mysql-general' || (f.format.endsWith('mysql') && onlyOther))
    return 'the general log holds connections but no Query or Execute entries: check `general_log = ON` while the workload ran';
  if (f.format === 'mysql-slow')
    return 'the slow log holds no entries: set `long_query_time = 0` to log every statement';
  return 'no entry was a statement';
}

/**
 * Explains a parse that found no statement, in one line: per input the format it detected, how
 * many lines it skipped by kind, and the most likely cause (statement logging off, a prefix the
 * parser does not know, an envelope it cannot read, filters that dropped everything).
 * @example
 * const run = parseLogs(files, { onInvalid: 'collect' });
 * for await (const _ of run) …;
 * if (run.summary().events === 0) console.error(explainNoStatements(run.summary()));
 */
export function explainNoStatements(summary: ParseSummary): string {
  if (summary.filtered > 0)
    return `all ${summary.filtered} statement(s) were dropped by the filters (database, user, application, time window, excluded sessions); loosen them`;
  if (summary.files.length === 0) return 'there was no input';
  return summary.files
    .map(
      (f) =>
        `\`${f.file}\` read as ${f.format}${f.format === 'none' ? '' : ` (confidence ${f.confidence.toFixed(2)})`}, ${f.linesRead} line(s) (${counts(f.skipped)}): ${fileCause(f)}`,
    )
    .join('; ');
}

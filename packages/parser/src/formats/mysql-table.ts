import { z } from 'zod';
import type { InputLine, RawQueryEvent } from '@stb/core';
import { defineLogFormat } from '../log-format';
import type { LogFormatContext } from '../log-format';
import { parseInner } from '../internal/envelope';
import type { InnerChoice } from '../internal/envelope';
import {
  generalEntryLines,
  isUtcOffset,
  offsetOptionUs,
  slowEntryLines,
} from '../internal/mysql-common';
import { mysqlGeneral } from './mysql-general';
import { mysqlSlow } from './mysql-slow';

const options = z
  .object({
    /**
     * The server's UTC offset (e.g. `+02:00`): `event_time`/`start_time` are in the server's time
     * zone without a zone. Default UTC (RDS runs on UTC unless `time_zone` is changed).
     */
    utcOffset: z
      .string()
      .refine(isUtcOffset, 'an offset like `+02:00`')
      .optional(),
  })
  .strict();

/** Options of the `mysql-table` format. */
export type MysqlTableOptions = z.infer<typeof options>;

const GENERAL = [
  'event_time',
  'user_host',
  'thread_id',
  'server_id',
  'command_type',
  'argument',
];
const SLOW = [
  'start_time',
  'user_host',
  'query_time',
  'lock_time',
  'rows_sent',
  'rows_examined',
  'db',
  'last_insert_id',
  'insert_id',
  'server_id',
  'sql_text',
  'thread_id',
];
const DATETIME = /^(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?$/;
const TIME = /^(-?)(\d+):(\d\d):(\d\d)(?:\.(\d{1,6}))?$/;

/** How the dump's fields are written. */
interface Dialect {
  readonly sep: string;
  /** `mysql --batch` writes NULL as `NULL` and escapes `\n`; INTO OUTFILE writes `\N` and escapes the newline itself. */
  readonly quoted: boolean;
}

/**
 * Splits one row of a `mysql --batch` or `SELECT … INTO OUTFILE` dump into unescaped fields
 * (`\t \n \\ \0 \N`, and `\<newline>`/`\<tab>` of INTO OUTFILE; CSV fields optionally in `"…"`).
 * Returns undefined when a quote is left open. @internal
 */
export function splitTableRow(
  text: string,
  d: Dialect,
): (string | null)[] | undefined {
  if (!text.includes('\\') && !(d.quoted && text.includes('"')))
    // No escapes and no quotes: a plain split (the common row, and long junk lines).
    return text.split(d.sep).map((f) => (!d.quoted && f === 'NULL' ? null : f));
  const out: (string | null)[] = [];
  let i = 0;
  const n = text.length;
  for (;;) {
    let v = '';
    let raw = '';
    let quoted = false;
    if (d.quoted && text[i] === '"') {
      quoted = true;
      i++;
    }
    for (;;) {
      if (i >= n) {
        if (quoted) return undefined;
        break;
      }
      const c = text[i] as string;
      if (c === '\\' && i + 1 < n) {
        const e = text[i + 1] as string;
        raw += c + e;
        v +=
          e === 'n'
            ? '\n'
            : e === 't'
              ? '\t'
              : e === 'r'
                ? '\r'
                : e === '0'
                  ? '\u0000'
                  : e === 'Z'
                    ? '\u001a'
                    : e === 'b'
                      ? '\b'
                      : e;
        i += 2;
        continue;
      }
      if (quoted && c === '"') {
        if (text[i + 1] === '"') {
          v += '"';
          i += 2;
          continue;
        }
        quoted = false;
        i++;
        continue;
      }
      if (!quoted && c === d.sep) break;
      raw += c;
      v += c;
      i++;
    }
    out.push(raw === '\\N' || (!d.quoted && raw === 'NULL') ? null : v);
    if (i >= n) return out;
    i++; // separator
    if (i === n) {
      out.push('');
      return out;
    }
  }
}

/** Which table a row belongs to, by header names or field count. */
type Table = 'general' | 'slow';

function tableOfHeader(fields: readonly (string | null)[]): Table | undefined {
  const names = fields.map((f) => (f ?? '').toLowerCase());
  if (GENERAL.every((c, i) => names[i] === c)) return 'general';
  if (SLOW.every((c, i) => names[i] === c)) return 'slow';
  return undefined;
}

function tableOfRow(fields: readonly (string | null)[]): Table | undefined {
  if (!DATETIME.test(fields[0] ?? '')) return undefined;
  if (fields.length === GENERAL.length && /^\d+$/.test(fields[2] ?? ''))
    return 'general';
  if (
    (fields.length === 12 || fields.length === 13) &&
    TIME.test(fields[2] ?? '')
  )
    return 'slow';
  return undefined;
}

/** A dump starts with a header naming the first column, or a row starting with its time. */
const ROW_START =
  /^(?:event_time|start_time)\b|^"?\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/;
const TSV: Dialect = { sep: '\t', quoted: false };
const CSV: Dialect = { sep: ',', quoted: true };

function seconds(text: string): number {
  const m = TIME.exec(text);
  if (!m) return NaN;
  const s =
    +(m[2] as string) * 3600 +
    +(m[3] as string) * 60 +
    +(m[4] as string) +
    Number(`0.${m[5] ?? '0'}`);
  return m[1] === '-' ? -s : s;
}

/** `2024-01-01 10:00:00.123456` in the server's zone → epoch µs (NaN when unreadable). */
function usOf(text: string, offsetUs: number): number {
  const m = DATETIME.exec(text);
  if (!m) return NaN;
  const ms = Date.UTC(
    +(m[1] as string),
    +(m[2] as string) - 1,
    +(m[3] as string),
    +(m[4] as string),
    +(m[5] as string),
    +(m[6] as string),
  );
  return ms * 1000 + Number((m[7] ?? '').padEnd(6, '0')) - offsetUs;
}

/** The general or slow log lines that a table row stands for. @internal */
export function tableRowLines(
  table: Table,
  f: readonly (string | null)[],
  offsetUs: number,
): string[] | string {
  if (table === 'general') {
    const t = usOf(f[0] ?? '', offsetUs);
    if (Number.isNaN(t)) return 'unreadable `event_time`';
    return generalEntryLines({
      timeUs: t,
      thread: f[2] ?? '',
      command: f[4] ?? '',
      argument: f[5] ?? '',
    });
  }
  const startUs = usOf(f[0] ?? '', offsetUs);
  const q = seconds(f[2] ?? '');
  const lock = seconds(f[3] ?? '');
  if (Number.isNaN(startUs) || Number.isNaN(q) || Number.isNaN(lock))
    return 'unreadable `start_time`, `query_time` or `lock_time`';
  return slowEntryLines({
    startUs,
    querySeconds: q,
    lockSeconds: lock,
    userHost: f[1] ?? '',
    thread: f[11] ?? '',
    db: f[6] ?? '',
    rowsSent: f[4] ?? '',
    rowsExamined: f[5] ?? '',
    sql: f[10] ?? '',
  });
}

/** True when a line ends in an escaping backslash: INTO OUTFILE's escaped newline. */
function endsEscaped(text: string): boolean {
  let bs = 0;
  for (let i = text.length - 1; i >= 0 && text[i] === '\\'; i--) bs++;
  return (bs & 1) === 1;
}

/** Physical lines → rows (a row continues while its line ends in an escaping backslash or inside quotes). */
class RowReader {
  private pending: string[] = [];
  private line = 0;

  push(
    text: string,
    line: number,
    d: Dialect,
  ): { fields: (string | null)[] | undefined; line: number } | undefined {
    if (this.pending.length === 0) this.line = line;
    this.pending.push(text);
    if (endsEscaped(text) && this.pending.length < 100_000) return undefined;
    const joined = this.pending.join('\n');
    const fields = splitTableRow(joined, d);
    if (fields === undefined && this.pending.length < 100_000) return undefined;
    this.pending = [];
    return { fields, line: this.line };
  }

  end(): number | undefined {
    if (this.pending.length === 0) return undefined;
    this.pending = [];
    return this.line;
  }
}

function choiceFor(table: Table | undefined): InnerChoice {
  return { candidates: table === 'slow' ? [mysqlSlow] : [mysqlGeneral] };
}

/** Detection and parsing share this: the table and field layout from the first row (tab-separated first, then CSV: a CSV value may hold a tab). */
function sniff(first: string): {
  d: Dialect;
  table: Table | undefined;
  header: boolean;
} {
  if (!ROW_START.test(first))
    return { d: TSV, table: undefined, header: false };
  let fallback:
    { d: Dialect; table: Table | undefined; header: boolean } | undefined;
  for (const d of [TSV, CSV]) {
    const fields = splitTableRow(first, d) ?? [];
    const byHeader = tableOfHeader(fields);
    if (byHeader) return { d, table: byHeader, header: true };
    const table = tableOfRow(fields);
    if (table) return { d, table, header: false };
    fallback ??= { d, table: undefined, header: false };
  }
  return fallback as { d: Dialect; table: Table | undefined; header: boolean };
}

async function* unwrap(
  lines: AsyncIterable<InputLine>,
  ctx: LogFormatContext,
  run: { readonly offsetUs: number; found: { table: Table | undefined } },
): AsyncGenerator<InputLine> {
  const { offsetUs, found } = run;
  let layout: ReturnType<typeof sniff> | undefined;
  const rows = new RowReader();
  const handle = function* (r: {
    fields: (string | null)[] | undefined;
    line: number;
  }): Generator<InputLine> {
    if (!layout?.table) {
      ctx.report(
        'invalid',
        r.line,
        'not a mysql.general_log or mysql.slow_log row',
      );
      return;
    }
    const want = layout.table === 'general' ? GENERAL.length : SLOW.length;
    if (!r.fields || r.fields.length < want || r.fields.length > want + 1) {
      ctx.report(
        'invalid',
        r.line,
        `not a ${layout.table}_log row (${r.fields?.length ?? 0} fields)`,
      );
      return;
    }
    const out = tableRowLines(layout.table, r.fields, offsetUs);
    if (typeof out === 'string') {
      ctx.report('invalid', r.line, out);
      return;
    }
    for (const text of out) yield { text, line: r.line };
  };
  /** Lines of the first row, which may continue over escaped newlines. */
  const first: InputLine[] = [];
  for await (const l of lines) {
    if (!layout) {
      if (first.length === 0 && l.text === '') {
        ctx.report('blank', l.line);
        continue;
      }
      first.push(l);
      if (endsEscaped(l.text) && first.length < 100_000) continue;
      layout = sniff(first.map((x) => x.text).join('\n'));
      found.table = layout.table;
      if (layout.header) {
        ctx.report('header', (first[0] as InputLine).line);
        first.length = 0;
        continue;
      }
      for (const x of first) {
        const r = rows.push(x.text, x.line, layout.d);
        if (r) yield* handle(r);
      }
      first.length = 0;
      continue;
    }
    const r = rows.push(l.text, l.line, layout.d);
    if (r) yield* handle(r);
  }
  if (first.length > 0)
    ctx.report(
      'invalid',
      (first[0] as InputLine).line,
      'row cut at the end of input',
    );
  const cut = rows.end();
  if (cut !== undefined)
    ctx.report('invalid', cut, 'row cut at the end of input');
}

/**
 * `mysql.general_log` and `mysql.slow_log` tables (`log_output = TABLE`, RDS/Aurora MySQL's
 * default) dumped with `mysql --batch` (tab-separated with a header) or `SELECT … INTO OUTFILE`
 * (tab-separated, or CSV with `FIELDS TERMINATED BY ','`). Rows become general or slow log entries.
 */
export const mysqlTable = defineLogFormat<MysqlTableOptions>({
  kind: 'log-format',
  name: 'mysql-table',
  apiVersion: 1,
  dialect: 'mysql',
  description:
    'mysql.general_log / mysql.slow_log tables (log_output = TABLE) dumped with mysql --batch or SELECT … INTO OUTFILE.',
  options,
  timeResolutionUs: 1,
  detect(sample) {
    const start = sample.findIndex((l) => l !== '');
    if (start === -1) return 0;
    let end = start;
    while (end < sample.length - 1 && endsEscaped(sample[end] as string)) end++;
    const layout = sniff(sample.slice(start, end + 1).join('\n'));
    if (!layout.table) return 0;
    const rows = new RowReader();
    const inner: string[] = [];
    let ok = 0;
    let tried = 0;
    for (let i = start + (layout.header ? 1 : 0); i < sample.length; i++) {
      const r = rows.push(sample[i] as string, i + 1, layout.d);
      if (!r) continue;
      tried++;
      if (!r.fields) continue;
      const out = tableRowLines(layout.table, r.fields, 0);
      if (typeof out === 'string') continue;
      if (!layout.header && tableOfRow(r.fields) !== layout.table) continue;
      ok++;
      inner.push(...out);
    }
    // The rows' shape (a time, ids, a server command) is specific: no inner score needed.
    if (layout.header) return tried === 0 ? 0.6 : 0.6 + (0.35 * ok) / tried;
    return tried === 0 || inner.length === 0 ? 0 : (0.95 * ok) / tried;
  },
  parse(lines, opts, ctx): AsyncIterable<RawQueryEvent> {
    const found: { table: Table | undefined } = { table: undefined };
    return parseInner(
      unwrap(lines, ctx, { offsetUs: offsetOptionUs(opts.utcOffset), found }),
      () => choiceFor(found.table),
      ctx,
    );
  },
});

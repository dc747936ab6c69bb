import { parse as parseCsv } from 'csv-parse/sync';
import { z } from 'zod';
import type { InputLine, RawQueryEvent } from '@stb/core';
import { defineLogFormat } from '../log-format';
import type { LogFormatContext } from '../log-format';
import { PG_SEVERITIES, PgProcessor } from '../internal/pg-processor';
import type { PgEntry } from '../internal/pg-processor';
import { parsePgTimestamp } from '../internal/time';

const options = z
  .object({
    /** Longest record accepted, in lines; a quoted field left open longer is reported invalid. */
    maxRecordLines: z.number().int().positive().optional(),
  })
  .strict();

/** Options of the `postgres-csvlog` log format. */
export type PostgresCsvlogOptions = z.infer<typeof options>;

// Column positions of PostgreSQL's csvlog (stable since 9.0; later versions only append).
const C_TIME = 0;
const C_USER = 1;
const C_DB = 2;
const C_PID = 3;
const C_FROM = 4;
const C_SESSION = 5;
const C_VXID = 9;
const C_XID = 10;
const C_SEVERITY = 11;
const C_STATE = 12;
const C_MESSAGE = 13;
const C_DETAIL = 14;
const C_QUERY = 19;
const C_APP = 22;
const MIN_COLUMNS = 23;

const CSV_OPTIONS = {
  relax_column_count: true,
  record_delimiter: '\n',
} as const;
const BATCH = 256;

/** Splits CSV text into records of fields with csv-parse. */
function splitCsv(text: string): string[][] {
  const rows: string[][] = parseCsv(text, CSV_OPTIONS);
  return rows;
}

function countQuotes(text: string): number {
  let n = 0;
  let i = text.indexOf('"');
  while (i !== -1) {
    n++;
    i = text.indexOf('"', i + 1);
  }
  return n;
}

/**
 * A line that starts a csvlog record: the log time in column 1 (`2024-05-01 12:00:00.123 UTC,`).
 * Used to resynchronise after a record whose quoted field never closed.
 */
const RECORD_START =
  /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(?:\.\d+)? ?[A-Za-z0-9:+-]*,/;

function opt(v: string | undefined): string | undefined {
  return v === undefined || v === '' ? undefined : v;
}

/** Turns csvlog fields into an entry, or returns why it cannot. @internal */
export function csvEntry(f: readonly string[], line: number): PgEntry | string {
  if (f.length < MIN_COLUMNS)
    return `expected at least ${MIN_COLUMNS} columns, found ${f.length}`;
  const timeUs = parsePgTimestamp(f[C_TIME] as string, 0);
  if (Number.isNaN(timeUs)) return 'first column is not a timestamp';
  const severity = f[C_SEVERITY] as string;
  if (!PG_SEVERITIES.has(severity)) return 'unknown error severity';
  return {
    line,
    timeUs,
    pid: opt(f[C_PID]),
    sessionKey: opt(f[C_SESSION]),
    user: opt(f[C_USER]),
    database: opt(f[C_DB]),
    application: opt(f[C_APP]),
    client: opt(f[C_FROM]),
    vxid: f[C_VXID] ?? '',
    xid: opt(f[C_XID]),
    sqlstate: opt(f[C_STATE]),
    severity,
    message: f[C_MESSAGE] ?? '',
    detail: opt(f[C_DETAIL]),
    statement: opt(f[C_QUERY]),
  };
}

async function* parseCsvlog(
  lines: AsyncIterable<InputLine>,
  opts: PostgresCsvlogOptions,
  ctx: LogFormatContext,
): AsyncGenerator<RawQueryEvent> {
  const maxLines = opts.maxRecordLines ?? 100_000;
  const proc = new PgProcessor(ctx);
  const out = proc.out;
  let parts: string[] = [];
  let start = 0;
  let odd = false;
  // Records (quotes balanced) are split into fields by csv-parse in batches; a batch that fails
  // is split record by record so that only the bad records are reported.
  let batch: string[] = [];
  let batchLines: number[] = [];
  const one = (text: string, line: number) => {
    let rows: string[][];
    try {
      rows = splitCsv(text);
    } catch (err) {
      ctx.report(
        'invalid',
        line,
        `malformed CSV (${(err as { code?: string }).code ?? 'error'})`,
      );
      return;
    }
    if (rows.length !== 1 || !rows[0]) {
      ctx.report('invalid', line, 'malformed CSV record');
      return;
    }
    entry(rows[0], line);
  };
  const entry = (fields: readonly string[], line: number) => {
    const e = csvEntry(fields, line);
    if (typeof e === 'string') ctx.report('invalid', line, e);
    else proc.entry(e);
  };
  const flushBatch = () => {
    const texts = batch;
    const starts = batchLines;
    batch = [];
    batchLines = [];
    let rows: string[][] | undefined;
    try {
      rows = splitCsv(texts.join('\n'));
    } catch {
      rows = undefined;
    }
    if (rows?.length === texts.length) {
      for (let i = 0; i < rows.length; i++)
        entry(rows[i] as string[], starts[i] as number);
    } else {
      for (let i = 0; i < texts.length; i++)
        one(texts[i] as string, starts[i] as number);
    }
  };
  const record = (text: string, line: number) => {
    batch.push(text);
    batchLines.push(line);
    if (batch.length >= BATCH) flushBatch();
  };
  for await (const { text, line } of lines) {
    // Inside a quoted field that is still open, a line starting with a record's timestamp means
    // the field was never closed (a truncated or corrupt record): drop the broken record, count
    // the lines it swallowed, and start again here instead of losing the rest of the file.
    if (odd && RECORD_START.test(text)) {
      const why = `quoted field opened here never closed; skipped ${parts.length} line(s), resynchronised at line ${line}`;
      if (ctx.reportInvalidSpan) ctx.reportInvalidSpan(start, line - 1, why);
      else ctx.report('invalid', start, why);
      parts = [];
      odd = false;
    }
    if (parts.length === 0) {
      start = line;
      if (text.length === 0) {
        ctx.report('blank', line);
        continue;
      }
    }
    parts.push(text);
    if (countQuotes(text) & 1) odd = !odd;
    if (!odd) {
      record(parts.length === 1 ? text : parts.join('\n'), start);
      parts = [];
    } else if (parts.length > maxLines) {
      const why = `quoted field never closed within ${maxLines} lines`;
      if (ctx.reportInvalidSpan) ctx.reportInvalidSpan(start, line, why);
      else ctx.report('invalid', start, why);
      parts = [];
      odd = false;
    }
    if (out.length > 0) {
      for (const ev of out) yield ev;
      out.length = 0;
    }
  }
  if (parts.length > 0) {
    const why = 'record cut short (unclosed quoted field)';
    if (ctx.reportInvalidSpan)
      ctx.reportInvalidSpan(start, start + parts.length - 1, why);
    else ctx.report('invalid', start, why);
  }
  if (batch.length > 0) flushBatch();
  proc.finish();
  for (const ev of out) yield ev;
  out.length = 0;
}

/** Sample check shared with detection: how many lines start a csvlog record. */
function detectCsv(sample: readonly string[]): number {
  let tried = 0;
  let ok = 0;
  let odd = false;
  let parts: string[] = [];
  let start = -1;
  for (let i = 0; i < sample.length && tried < 50; i++) {
    const text = sample[i] as string;
    if (parts.length === 0) start = i;
    parts.push(text);
    if (countQuotes(text) & 1) odd = !odd;
    if (odd) continue;
    tried++;
    try {
      const rows = splitCsv(parts.join('\n'));
      if (rows[0] && typeof csvEntry(rows[0], start + 1) !== 'string') ok++;
    } catch {
      // not CSV
    }
    parts = [];
  }
  return tried === 0 ? 0 : ok / tried;
}

/** PostgreSQL's csvlog (`log_destination = 'csvlog'`), multi-line quoted fields included. */
export const postgresCsvlog = defineLogFormat<PostgresCsvlogOptions>({
  kind: 'log-format',
  name: 'postgres-csvlog',
  apiVersion: 1,
  dialect: 'postgres',
  description: 'PostgreSQL csvlog (any version since 9.0).',
  options,
  timeResolutionUs: 1000,
  dependencies: ['csv-parse'],
  detect: detectCsv,
  parse: parseCsvlog,
});

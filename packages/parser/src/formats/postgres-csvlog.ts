import { parse as parseCsv } from 'csv-parse/sync';
import { z } from 'zod';
import type { InputLine, RawQueryEvent } from '@stb/core';
import { defineLogFormat } from '../log-format';
import type { LogFormatContext } from '../log-format';
import { PG_SEVERITIES, PgProcessor } from '../internal/pg-processor';
import type { PgEntry } from '../internal/pg-processor';
import { parsePgTimestamp } from '../internal/time';
import { parseLineBatches, parseLines } from '../internal/line-parser';
import type { LineParser } from '../internal/line-parser';
import { splitCsvlogRecord } from './csvlog-split';
import { CUT_REASON } from '../internal/lines';

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

/**
 * Splits CSV text into records of fields: the csvlog splitter for one record as PostgreSQL
 * writes it, csv-parse for anything else (which throws on malformed CSV).
 */
function splitCsv(text: string): string[][] {
  const fields = splitCsvlogRecord(text);
  if (fields !== undefined) return [fields];
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

/**
 * The csvlog reader: lines grouped into records (a quoted field may hold newlines), records
 * split into fields, fields into entries for the PostgreSQL processor.
 */
class CsvlogParser implements LineParser {
  readonly proc: PgProcessor;
  readonly out: RawQueryEvent[];
  readonly #maxLines: number;
  #parts: string[] = [];
  #start = 0;
  #odd = false;

  constructor(
    opts: PostgresCsvlogOptions,
    readonly ctx: LogFormatContext,
  ) {
    this.#maxLines = opts.maxRecordLines ?? 100_000;
    this.proc = new PgProcessor(ctx);
    this.out = this.proc.out;
  }

  #invalidSpan(first: number, last: number, why: string): void {
    if (this.ctx.reportInvalidSpan)
      this.ctx.reportInvalidSpan(first, last, why);
    else this.ctx.report('invalid', first, why);
  }

  /** One complete record (quotes balanced). */
  #record(text: string, line: number): void {
    let rows: string[][];
    try {
      rows = splitCsv(text);
    } catch (err) {
      this.ctx.report(
        'invalid',
        line,
        `malformed CSV (${(err as { code?: string }).code ?? 'error'})`,
      );
      return;
    }
    if (rows.length !== 1 || !rows[0]) {
      this.ctx.report('invalid', line, 'malformed CSV record');
      return;
    }
    const e = csvEntry(rows[0], line);
    if (typeof e === 'string') this.ctx.report('invalid', line, e);
    else this.proc.entry(e);
  }

  line(text: string, line: number, unterminated = false): void {
    // Inside a quoted field that is still open, a line starting with a record's timestamp means
    // the field was never closed (a truncated or corrupt record): drop the broken record, count
    // the lines it swallowed, and start again here instead of losing the rest of the file.
    if (this.#odd && RECORD_START.test(text)) {
      this.#invalidSpan(
        this.#start,
        line - 1,
        `quoted field opened here never closed; skipped ${this.#parts.length} line(s), resynchronised at line ${line}`,
      );
      this.#parts = [];
      this.#odd = false;
    }
    const parts = this.#parts;
    if (unterminated) {
      // The server ends every record with a line end: the record this line starts or continues
      // was cut (a log still being written).
      this.ctx.report(
        'truncated',
        parts.length > 0 ? this.#start : line,
        CUT_REASON,
      );
      this.#parts = [];
      this.#odd = false;
      return;
    }
    if (parts.length === 0) {
      this.#start = line;
      if (text.length === 0) {
        this.ctx.report('blank', line);
        return;
      }
      // The usual record: one line, quotes balanced.
      if ((countQuotes(text) & 1) === 0) {
        this.#record(text, line);
        return;
      }
      parts.push(text);
      this.#odd = true;
      return;
    }
    parts.push(text);
    if (countQuotes(text) & 1) this.#odd = !this.#odd;
    if (!this.#odd) {
      this.#record(parts.join('\n'), this.#start);
      this.#parts = [];
    } else if (parts.length > this.#maxLines) {
      this.#invalidSpan(
        this.#start,
        line,
        `quoted field never closed within ${this.#maxLines} lines`,
      );
      this.#parts = [];
      this.#odd = false;
    }
  }

  finish(): void {
    const parts = this.#parts;
    if (parts.length > 0)
      this.#invalidSpan(
        this.#start,
        this.#start + parts.length - 1,
        'record cut short (unclosed quoted field)',
      );
    this.#parts = [];
    this.#odd = false;
    this.proc.finish();
  }
}

function parseCsvlog(
  lines: AsyncIterable<InputLine>,
  opts: PostgresCsvlogOptions,
  ctx: LogFormatContext,
): AsyncGenerator<RawQueryEvent> {
  return parseLines(lines, new CsvlogParser(opts, ctx));
}

function parseCsvlogBatches(
  lines: AsyncIterable<InputLine[]>,
  opts: PostgresCsvlogOptions,
  ctx: LogFormatContext,
): AsyncGenerator<RawQueryEvent[]> {
  return parseLineBatches(lines, new CsvlogParser(opts, ctx));
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
  parseBatches: parseCsvlogBatches,
});

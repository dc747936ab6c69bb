import { z } from 'zod';
import type { Dialect, InputLine, RawQueryEvent } from '@stb/core';
import { defineLogFormat } from '../log-format';
import type { LogFormat, LogFormatContext } from '../log-format';
import {
  envelopeConfidence,
  parseInner,
  payloadLines,
} from '../internal/envelope';
import type { InnerChoice } from '../internal/envelope';
import {
  JsonRecordScanner,
  sampleJsonRecords,
  str,
} from '../internal/json-records';
import type { JsonRecord } from '../internal/json-records';
import {
  CsvRecords,
  sampleEnvelopeRecords,
  splitCsv,
} from '../internal/csv-records';
import { isoToUs } from '../internal/envelope';
import { mysqlGeneral } from './mysql-general';
import { mysqlSlow } from './mysql-slow';
import { postgresStderr } from './postgres-stderr';

const options = z
  .object({
    /** PostgreSQL only: the `log_line_prefix` inside the messages (detected when absent; RDS uses `%t:%r:%u@%d:[%p]:`). */
    prefix: z.string().min(1).optional(),
    /** MySQL only: the server's UTC offset for `YYMMDD HH:MM:SS` general-log times (e.g. `+02:00`). */
    utcOffset: z.string().optional(),
  })
  .strict();

/** Options of the `aws-postgres` and `aws-mysql` formats. */
export type AwsCloudwatchOptions = z.infer<typeof options>;

/** The timestamp CloudWatch's S3 export writes before each event's message. */
const S3_STAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?Z /;

/** The message of a `filter-log-events`/`get-log-events` event (or a Logs Insights row). @internal */
export function cloudwatchMessage(
  o: Record<string, unknown>,
): string | undefined {
  const message = str(o['message']) ?? str(o['@message']);
  if (message === undefined) return undefined;
  const t = o['timestamp'] ?? o['@timestamp'];
  if (typeof t !== 'number' && typeof t !== 'string') return undefined;
  return message;
}

function choiceFor(dialect: Dialect, opts: AwsCloudwatchOptions): InnerChoice {
  if (dialect === 'postgres')
    return {
      candidates: [postgresStderr],
      options:
        opts.prefix === undefined
          ? {}
          : { 'postgres-stderr': { prefix: opts.prefix } },
    };
  const my = opts.utcOffset === undefined ? {} : { utcOffset: opts.utcOffset };
  return {
    candidates: [mysqlSlow, mysqlGeneral],
    options: { 'mysql-slow': my, 'mysql-general': my },
  };
}

/**
 * The header of a CloudWatch Logs Insights result downloaded as CSV from the console: the query's
 * fields, `@message` among them (`fields @timestamp, @message`).
 */
function isInsightsHeader(text: string): boolean {
  return /(^|,)"?@message"?(,|$)/.test(text) && splitCsv(text) !== undefined;
}

/**
 * Logs Insights rows, in order: a row older than the one before means the query sorted by
 * `@timestamp desc` (the console's default), which would put continuation lines before their
 * entry. Such rows are reported, never reordered (bounded memory).
 */
class InsightsRows {
  private readonly csv = new CsvRecords();
  private lastUs = -Infinity;

  *push(
    text: string,
    line: number,
    ctx: LogFormatContext,
  ): Generator<InputLine> {
    const r = this.csv.push(
      line === 1 ? text.replace(/^\uFEFF/, '') : text,
      line,
    );
    if (r) yield* this.handle(r, ctx);
  }

  *end(ctx: LogFormatContext): Generator<InputLine> {
    const r = this.csv.end();
    if (r) yield* this.handle(r, ctx);
  }

  private *handle(
    r: { value?: Record<string, string>; error?: string; line: number },
    ctx: LogFormatContext,
  ): Generator<InputLine> {
    if (r.error !== undefined) return ctx.report('invalid', r.line, r.error);
    if (r.value === undefined) return ctx.report('header', r.line);
    const message = r.value['@message'] ?? '';
    const t = isoToUs(r.value['@timestamp'] ?? '');
    if (t < this.lastUs)
      return ctx.report(
        'invalid',
        r.line,
        'Logs Insights row older than the row before (sorted by `@timestamp desc`?): run the query with `| sort @timestamp asc`',
      );
    if (!Number.isNaN(t)) this.lastUs = t;
    for (const text of payloadLines(message)) yield { text, line: r.line };
  }
}

function isJsonStart(text: string): boolean {
  const t = text.trimStart();
  return t.startsWith('{') || t.startsWith('[');
}

/**
 * The payload lines of a CloudWatch export, whichever of its shapes (chosen on the first non-blank
 * line): S3 export lines without their timestamp, the messages of filter-log-events/get-log-events
 * JSON and of Logs Insights CSV, or the pages of download-db-log-file-portion JSON joined.
 */
async function* unwrap(
  lines: AsyncIterable<InputLine>,
  ctx: LogFormatContext,
): AsyncGenerator<InputLine> {
  let mode: 'json' | 's3' | 'insights' | undefined;
  const scanner = new JsonRecordScanner();
  const insights = new InsightsRows();
  const out: JsonRecord[] = [];
  let inEvent = false;
  /** The unterminated last line of a DownloadDBLogFilePortion page (continues on the next page). */
  let tail: { text: string; line: number } | undefined;
  const handle = function* (r: JsonRecord): Generator<InputLine> {
    if ('error' in r) {
      ctx.report('invalid', r.line, r.error);
      return;
    }
    const portion = str(r.value['LogFileData']);
    if (portion !== undefined) {
      // `aws rds download-db-log-file-portion --output json`, one object per page.
      const parts = portion.split('\n');
      if (tail) parts[0] = tail.text + (parts[0] as string);
      const last = parts.pop() as string;
      for (const [i, text] of parts.entries())
        yield { text, line: i === 0 && tail ? tail.line : r.line };
      tail =
        last === ''
          ? undefined
          : {
              text: last,
              line: parts.length === 0 && tail ? tail.line : r.line,
            };
      return;
    }
    const message = cloudwatchMessage(r.value);
    if (message === undefined) {
      // `searchedLogStreams` entries and other non-events.
      if (
        r.value['logStreamName'] !== undefined &&
        r.value['searchedCompletely'] !== undefined
      )
        ctx.report('header', r.line);
      else
        ctx.report(
          'invalid',
          r.line,
          'event without `message` and `timestamp`',
        );
      return;
    }
    for (const text of payloadLines(message)) yield { text, line: r.line };
  };
  for await (const { text, line } of lines) {
    if (mode === undefined) {
      if (text.trim() === '') {
        ctx.report('blank', line);
        continue;
      }
      mode = isJsonStart(text)
        ? 'json'
        : isInsightsHeader(text.replace(/^\uFEFF/, ''))
          ? 'insights'
          : 's3';
    }
    if (mode === 'insights') {
      yield* insights.push(text, line, ctx);
      continue;
    }
    if (mode === 's3') {
      const m = S3_STAMP.exec(text);
      if (m) {
        inEvent = true;
        yield { text: text.slice(m[0].length), line };
      } else if (inEvent) {
        // The rest of a multi-line message (the export keeps its newlines).
        yield { text, line };
      } else if (text === '') ctx.report('blank', line);
      else
        ctx.report(
          'invalid',
          line,
          'line without the CloudWatch export timestamp',
        );
      continue;
    }
    if (text.trim() === '') {
      ctx.report('blank', line);
      continue;
    }
    scanner.push(text, line, out);
    for (const r of out) yield* handle(r);
    out.length = 0;
  }
  scanner.end(out);
  for (const r of out) yield* handle(r);
  yield* insights.end(ctx);
  if (tail) yield tail;
}

/** How sure the sample is an AWS export of `dialect`'s logs: the envelope, then its payload. */
function detectAws(sample: readonly string[], dialect: Dialect): number {
  const first = sample.find((l) => l.trim() !== '');
  if (first === undefined) return 0;
  const inner: string[] = [];
  let ok = 0;
  let tried = 0;
  if (isInsightsHeader(first.replace(/^\uFEFF/, ''))) {
    const rows = sampleEnvelopeRecords(sample, isInsightsHeader);
    tried = rows.tried;
    for (const r of rows.records) {
      const m = cloudwatchMessage(r);
      if (m === undefined) continue;
      ok++;
      inner.push(...payloadLines(m));
    }
  } else if (isJsonStart(first)) {
    const records = sampleJsonRecords(sample);
    for (const r of records) {
      if (r['searchedCompletely'] !== undefined) continue;
      tried++;
      const portion = str(r['LogFileData']);
      if (portion !== undefined) {
        ok++;
        inner.push(...payloadLines(portion));
        continue;
      }
      const m = cloudwatchMessage(r);
      if (m === undefined) continue;
      ok++;
      inner.push(...payloadLines(m));
    }
  } else {
    let started = false;
    for (const text of sample) {
      if (text === '') continue;
      const m = S3_STAMP.exec(text);
      if (m) {
        started = true;
        tried++;
        ok++;
        inner.push(text.slice(m[0].length));
      } else if (started) inner.push(text);
      else tried++;
    }
  }
  return envelopeConfidence(
    { recognised: ok, tried },
    inner,
    choiceFor(dialect, {}),
  );
}

/** The plugin of one dialect: detection, then the inner format over the unwrapped lines. */
function defineAws(dialect: Dialect): LogFormat<AwsCloudwatchOptions> {
  return defineLogFormat<AwsCloudwatchOptions>({
    kind: 'log-format',
    name: `aws-${dialect}`,
    apiVersion: 1,
    dialect,
    description:
      dialect === 'postgres'
        ? 'RDS/Aurora PostgreSQL logs from CloudWatch Logs (S3 export, filter-log-events/get-log-events JSON, Logs Insights CSV) or download-db-log-file-portion JSON.'
        : 'RDS/Aurora MySQL general/slow logs from CloudWatch Logs (S3 export, filter-log-events/get-log-events JSON, Logs Insights CSV) or download-db-log-file-portion JSON.',
    options,
    timeResolutionUs: dialect === 'postgres' ? 1000 : 1_000_000,
    detect: (sample) => detectAws(sample, dialect),
    parse(lines, opts, ctx): AsyncIterable<RawQueryEvent> {
      return parseInner(unwrap(lines, ctx), choiceFor(dialect, opts), ctx);
    },
  });
}

/** RDS/Aurora PostgreSQL logs exported from CloudWatch Logs. */
export const awsPostgres = defineAws('postgres');
/** RDS/Aurora MySQL general and slow logs exported from CloudWatch Logs. */
export const awsMysql = defineAws('mysql');

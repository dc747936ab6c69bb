import { z } from 'zod';
import type { InputLine, RawQueryEvent } from '@stb/core';
import { defineLogFormat } from '../log-format';
import type { LogFormatContext } from '../log-format';
import { PG_SEVERITIES, PgProcessor } from '../internal/pg-processor';
import type { PgEntry } from '../internal/pg-processor';
import { parsePgTimestamp } from '../internal/time';
import { parseLineBatches, parseLines } from '../internal/line-parser';
import type { LineParser } from '../internal/line-parser';
import { CUT_REASON } from '../internal/lines';

const options = z.object({}).strict();

/** Options of the `postgres-jsonlog` log format (none). */
export type PostgresJsonlogOptions = z.infer<typeof options>;

function str(v: unknown): string | undefined {
  if (typeof v === 'string') return v === '' ? undefined : v;
  if (typeof v === 'number') return String(v);
  return undefined;
}

/** Turns one jsonlog line into an entry, or returns why it cannot. @internal */
export function jsonEntry(text: string, line: number): PgEntry | string {
  let o: Record<string, unknown>;
  try {
    const v: unknown = JSON.parse(text);
    if (typeof v !== 'object' || v === null || Array.isArray(v))
      return 'not a JSON object';
    o = v as Record<string, unknown>;
  } catch {
    return 'not valid JSON';
  }
  const ts = o['timestamp'];
  const severity = o['error_severity'];
  if (typeof ts !== 'string' || typeof severity !== 'string')
    return 'missing `timestamp` or `error_severity`';
  const timeUs = parsePgTimestamp(ts, 0);
  if (Number.isNaN(timeUs)) return 'unreadable `timestamp`';
  if (!PG_SEVERITIES.has(severity)) return 'unknown `error_severity`';
  const host = str(o['remote_host']);
  const port = str(o['remote_port']);
  return {
    line,
    timeUs,
    pid: str(o['pid']),
    sessionKey: str(o['session_id']),
    user: str(o['user']),
    database: str(o['dbname']),
    application: str(o['application_name']),
    client:
      host === undefined
        ? undefined
        : port === undefined
          ? host
          : `${host}:${port}`,
    vxid: str(o['vxid']) ?? '',
    xid: str(o['txid']),
    sqlstate: str(o['state_code']),
    severity,
    message: typeof o['message'] === 'string' ? o['message'] : '',
    detail: str(o['detail']),
    statement: str(o['statement']),
  };
}

/** The jsonlog reader: one JSON object per line into entries for the PostgreSQL processor. */
class JsonlogParser implements LineParser {
  readonly proc: PgProcessor;
  readonly out: RawQueryEvent[];

  constructor(readonly ctx: LogFormatContext) {
    this.proc = new PgProcessor(ctx);
    this.out = this.proc.out;
  }

  line(text: string, line: number, unterminated = false): void {
    if (unterminated) {
      // The server ends every record with a line end: this one was cut (a log still being
      // written).
      this.ctx.report('truncated', line, CUT_REASON);
      return;
    }
    if (text.length === 0) {
      this.ctx.report('blank', line);
      return;
    }
    const e = jsonEntry(text, line);
    if (typeof e === 'string') this.ctx.report('invalid', line, e);
    else this.proc.entry(e);
  }

  finish(): void {
    this.proc.finish();
  }
}

function parseJsonlog(
  lines: AsyncIterable<InputLine>,
  _opts: PostgresJsonlogOptions,
  ctx: LogFormatContext,
): AsyncGenerator<RawQueryEvent> {
  return parseLines(lines, new JsonlogParser(ctx));
}

function parseJsonlogBatches(
  lines: AsyncIterable<InputLine[]>,
  _opts: PostgresJsonlogOptions,
  ctx: LogFormatContext,
): AsyncGenerator<RawQueryEvent[]> {
  return parseLineBatches(lines, new JsonlogParser(ctx));
}

/** PostgreSQL 15+'s jsonlog (`log_destination = 'jsonlog'`): one JSON object per line. */
export const postgresJsonlog = defineLogFormat<PostgresJsonlogOptions>({
  kind: 'log-format',
  name: 'postgres-jsonlog',
  apiVersion: 1,
  dialect: 'postgres',
  description: 'PostgreSQL 15+ jsonlog.',
  options,
  timeResolutionUs: 1000,
  detect(sample) {
    let tried = 0;
    let ok = 0;
    for (const text of sample) {
      if (text.length === 0) continue;
      if (++tried > 50) break;
      if (text.charCodeAt(0) === 123 && typeof jsonEntry(text, 1) !== 'string')
        ok++;
    }
    return tried === 0 ? 0 : ok / Math.min(tried, 50);
  },
  parse: parseJsonlog,
  parseBatches: parseJsonlogBatches,
});

import { z } from 'zod';
import type { Dialect, InputLine, RawQueryEvent } from '@stb/core';
import { defineLogFormat } from '../log-format';
import type { LogFormat, LogFormatContext } from '../log-format';
import {
  isoToUs,
  pickInner,
  parseInner,
  payloadLines,
  pgMillisUtc,
} from '../internal/envelope';
import type { InnerChoice } from '../internal/envelope';
import {
  JsonRecordScanner,
  obj,
  sampleJsonRecords,
  str,
} from '../internal/json-records';
import type { JsonRecord } from '../internal/json-records';
import { mysqlGeneral } from './mysql-general';
import { mysqlSlow } from './mysql-slow';
import { postgresStderr } from './postgres-stderr';

const options = z
  .object({
    /**
     * Keep only the entries of this instance (`resource.labels.database_id`, or AlloyDB's
     * `cluster_id:instance_id`). Default: the first instance seen; entries of others are counted
     * `other-instance`.
     */
    instance: z.string().min(1).optional(),
    /** The `log_line_prefix` inside the payloads (Cloud SQL and AlloyDB fix it; see docs). */
    prefix: z.string().min(1).optional(),
  })
  .strict();

/** Options of the `gcp-postgres` and `gcp-mysql` formats. */
export type GcpLoggingOptions = z.infer<typeof options>;

/** Cloud SQL's and AlloyDB's fixed `log_line_prefix` (pgBadger #699, pganalyze collector #302). */
export const CLOUDSQL_PG_PREFIX = '%m [%p]: [%l-1] db=%d,user=%u ';

const SERVICE = /(?:cloudsql|alloydb)\.googleapis\.com/;
const NO_TIME = /^\[\d+\]: /;
const HAS_TIME = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/;
/** AlloyDB writes the C source position after the severity: `LOG:  [postgres.c:1234]  …`. */
const ALLOYDB_SOURCE =
  /^(.*?(?:LOG|ERROR|WARNING|NOTICE|INFO|DEBUG[1-5]?|FATAL|PANIC|DETAIL|HINT|CONTEXT|STATEMENT|QUERY|LOCATION): {2})\[[\w.-]+\.[ch]:\d+\] {2}/;

/** What one LogEntry carries. */
interface GcpEntry {
  readonly payload: string;
  readonly timeUs: number;
  readonly instance: string | undefined;
  readonly logName: string;
}

/** Reads one LogEntry, or says why it is not one. @internal */
export function gcpEntry(o: Record<string, unknown>): GcpEntry | string {
  const payload =
    str(o['textPayload']) ?? str(obj(o['jsonPayload'])?.['message']);
  if (payload === undefined)
    return 'LogEntry without `textPayload` or `jsonPayload.message`';
  const logName = str(o['logName']) ?? '';
  const resource = obj(o['resource']);
  const type = str(resource?.['type']) ?? '';
  if (
    !SERVICE.test(logName) &&
    type !== 'cloudsql_database' &&
    !type.startsWith('alloydb.')
  )
    return 'not a Cloud SQL or AlloyDB LogEntry (`logName`, `resource.type`)';
  const labels = obj(resource?.['labels']);
  const cluster = str(labels?.['cluster_id']);
  const inst = str(labels?.['instance_id']);
  const instance =
    str(labels?.['database_id']) ??
    (cluster !== undefined ? `${cluster}:${inst ?? ''}` : undefined);
  const ts = str(o['timestamp']);
  const timeUs = ts === undefined ? NaN : isoToUs(ts);
  return { payload, timeUs, instance, logName };
}

function dialectOf(logName: string): Dialect | 'error-log' | undefined {
  const name = decodeURIComponent(logName.slice(logName.lastIndexOf('/') + 1));
  if (name.includes('postgres')) return 'postgres';
  if (name.endsWith('mysql.err')) return 'error-log';
  if (name.includes('mysql')) return 'mysql';
  return undefined;
}

/** The server log lines of one entry, as the plain format reads them. @internal */
export function gcpLines(e: GcpEntry, dialect: Dialect): string[] {
  const lines = payloadLines(e.payload);
  if (dialect !== 'postgres') return lines;
  const first = lines[0] as string;
  if (NO_TIME.test(first) && !Number.isNaN(e.timeUs))
    // Older exports drop the `%m ` of the prefix: the envelope's timestamp replaces it.
    lines[0] = `${pgMillisUtc(e.timeUs)} ${first}`;
  else if (
    !HAS_TIME.test(first) &&
    !NO_TIME.test(first) &&
    !first.startsWith('\t')
  )
    // A continuation line of a statement split across entries.
    lines[0] = `\t${first}`;
  for (let i = 1; i < lines.length; i++) {
    // Inside one payload every further line continues the entry (an export may drop the tabs).
    const l = lines[i] as string;
    if (!l.startsWith('\t') && !HAS_TIME.test(l)) lines[i] = `\t${l}`;
  }
  for (let i = 0; i < lines.length; i++) {
    const m = ALLOYDB_SOURCE.exec(lines[i] as string);
    if (m)
      lines[i] = (m[1] as string) + (lines[i] as string).slice(m[0].length);
  }
  return lines;
}

function choiceFor(
  dialect: Dialect,
  opts: GcpLoggingOptions,
  logName = '',
): InnerChoice {
  if (dialect === 'postgres')
    return {
      candidates: [postgresStderr],
      options: {
        'postgres-stderr': { prefix: opts.prefix ?? CLOUDSQL_PG_PREFIX },
      },
    };
  // Cloud SQL names the log: `mysql-slow.log` or `mysql-general.log`.
  if (logName.includes('slow')) return { candidates: [mysqlSlow] };
  if (logName.includes('general')) return { candidates: [mysqlGeneral] };
  return { candidates: [mysqlSlow, mysqlGeneral] };
}

function defineGcp(dialect: Dialect): LogFormat<GcpLoggingOptions> {
  const name = `gcp-${dialect}`;
  async function* unwrap(
    lines: AsyncIterable<InputLine>,
    ctx: LogFormatContext,
    run: { readonly opts: GcpLoggingOptions; found: { logName: string } },
  ): AsyncGenerator<InputLine> {
    const { opts, found } = run;
    const scanner = new JsonRecordScanner();
    const out: JsonRecord[] = [];
    let instance = opts.instance;
    let named = false;
    const handle = function* (r: JsonRecord): Generator<InputLine> {
      if ('error' in r) {
        ctx.report('invalid', r.line, r.error);
        return;
      }
      const e = gcpEntry(r.value);
      if (typeof e === 'string') {
        ctx.report('invalid', r.line, e);
        return;
      }
      const d = dialectOf(e.logName);
      if (d === 'error-log') {
        ctx.report('other', r.line);
        return;
      }
      if (d !== undefined && d !== dialect) {
        ctx.report(
          'invalid',
          r.line,
          `a ${d} log entry in a ${dialect} export`,
        );
        return;
      }
      if (!named && d === dialect) {
        named = true;
        found.logName = e.logName;
      }
      if (e.instance !== undefined) {
        instance ??= e.instance;
        if (e.instance !== instance) {
          ctx.report('other-instance', r.line);
          return;
        }
      }
      for (const text of gcpLines(e, dialect)) yield { text, line: r.line };
    };
    for await (const { text, line } of lines) {
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
  }
  return defineLogFormat<GcpLoggingOptions>({
    kind: 'log-format',
    name,
    apiVersion: 1,
    dialect,
    description:
      dialect === 'postgres'
        ? 'Google Cloud Logging export (JSON lines or array of LogEntry) of Cloud SQL for PostgreSQL or AlloyDB.'
        : 'Google Cloud Logging export (JSON lines or array of LogEntry) of Cloud SQL for MySQL general/slow logs.',
    options,
    timeResolutionUs: dialect === 'postgres' ? 1000 : 1,
    detect(sample) {
      const records = sampleJsonRecords(sample);
      let ok = 0;
      let logName = '';
      const inner: string[] = [];
      for (const r of records) {
        const e = gcpEntry(r);
        if (typeof e === 'string') continue;
        const d = dialectOf(e.logName);
        if (d !== dialect && d !== 'error-log') continue;
        ok++;
        if (d === dialect) {
          logName ||= e.logName;
          inner.push(...gcpLines(e, dialect));
        }
      }
      if (records.length === 0 || ok === 0) return 0;
      // `logName` names the service and the server's log: the envelope alone is conclusive.
      const share = ok / records.length;
      const { confidence } = pickInner(inner, choiceFor(dialect, {}, logName));
      return Math.min(1, share * (0.8 + 0.2 * confidence));
    },
    parse(lines, opts, ctx): AsyncIterable<RawQueryEvent> {
      const found = { logName: '' };
      return parseInner(
        unwrap(lines, ctx, { opts, found }),
        () => choiceFor(dialect, opts, found.logName),
        ctx,
      );
    },
  });
}

/** Cloud SQL for PostgreSQL and AlloyDB logs exported from Google Cloud Logging. */
export const gcpPostgres = defineGcp('postgres');
/** Cloud SQL for MySQL general and slow logs exported from Google Cloud Logging. */
export const gcpMysql = defineGcp('mysql');

import { z } from 'zod';
import type { InputLine, RawQueryEvent } from '@stb/core';
import { defineLogFormat } from '../log-format';
import type { LogFormatContext } from '../log-format';
import { envelopeConfidence, isoToUs, parseInner } from '../internal/envelope';
import type { InnerChoice } from '../internal/envelope';
import {
  envelopeValues,
  sampleEnvelopeRecords,
  splitCsv,
} from '../internal/csv-records';
import { obj } from '../internal/json-records';
import { generalEntryLines, slowEntryLines } from '../internal/mysql-common';
import { mysqlGeneral } from './mysql-general';
import { mysqlSlow } from './mysql-slow';

const options = z
  .object({
    /**
     * Which log to read when an export holds both: `slow` (`MySqlSlowLogs`) or `audit`
     * (`MySqlAuditLogs`). Default: the class of the first record; records of the other log are
     * counted `other`.
     */
    log: z.enum(['slow', 'audit']).optional(),
  })
  .strict();

/** Options of the `azure-mysql` format. */
export type AzureMysqlOptions = z.infer<typeof options>;

type LogKind = 'slow' | 'audit';

/**
 * A record's fields by normalised name: the diagnostic-settings names (`sql_text`), their Log
 * Analytics `AzureDiagnostics` columns (`sql_text_s`, `query_time_d`, `start_time_t`) and the
 * resource-specific tables' columns (`SqlText`, `QueryDurationMs`, `StartTime`) all become
 * `sqltext`, `querytime`/`querydurationms`, `starttime`. The portal's CSV header adds ` [UTC]`.
 */
function normalised(o: Record<string, unknown>): Map<string, unknown> {
  const out = new Map<string, unknown>();
  const add = (src: Record<string, unknown>): void => {
    for (const [k, v] of Object.entries(src)) {
      if (v === null || v === undefined || v === '') continue;
      const key = k
        .replace(/\s*\[UTC\]$/i, '')
        .replace(/_[sdtgb]$/, '')
        .replace(/_/g, '')
        .toLowerCase();
      if (!out.has(key)) out.set(key, v);
    }
  };
  const props = obj(o['properties']);
  if (props) add(props);
  add(o);
  return out;
}

function text(f: Map<string, unknown>, ...keys: string[]): string | undefined {
  for (const k of keys) {
    const v = f.get(k);
    if (typeof v === 'string') return v;
    if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  }
  return undefined;
}

function num(f: Map<string, unknown>, key: string): number | undefined {
  const v = text(f, key);
  if (v === undefined) return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}

const PORTAL_TIME =
  /^(\d{1,2})\/(\d{1,2})\/(\d{4}),? (\d{1,2}):(\d\d):(\d\d)(?:\.(\d{1,6}))? ([AP]M)$/;

/**
 * An Azure time: ISO-8601 (diagnostic settings, Log Analytics JSON) or the portal's CSV form
 * `12/2/2026, 3:04:48.123 AM` (UTC). Epoch µs, NaN when unreadable. @internal
 */
export function azureTimeUs(t: string): number {
  const iso = isoToUs(t);
  if (!Number.isNaN(iso)) return iso;
  const m = PORTAL_TIME.exec(t.trim());
  if (!m) return NaN;
  const h12 = +(m[4] as string) % 12;
  const ms = Date.UTC(
    +(m[3] as string),
    +(m[1] as string) - 1,
    +(m[2] as string),
    m[8] === 'PM' ? h12 + 12 : h12,
    +(m[5] as string),
    +(m[6] as string),
  );
  return ms * 1000 + Number((m[7] ?? '').padEnd(6, '0'));
}

/** What one record is: a statement of the slow or audit log, or a record to count. */
export type AzureMysqlRecord =
  | { readonly log: LogKind; readonly build: (s: AuditState) => string[] }
  | { readonly log: LogKind; readonly skip: string }
  | { readonly invalid: string };

/** Per-connection state of an audit log (the database each connection is in). */
export type AuditState = Map<string, string>;

function logOf(f: Map<string, unknown>): LogKind | string {
  const category = text(f, 'category', 'type');
  const cls = text(f, 'eventclass');
  if (category !== undefined) {
    if (/^MySqlSlowLogs$/i.test(category)) return 'slow';
    if (/^MySqlAuditLogs$/i.test(category)) return 'audit';
    return `not an Azure Database for MySQL log record (category \`${category}\`)`;
  }
  if (cls === 'slow_log') return 'slow';
  if (cls !== undefined && /_log$/.test(cls)) return 'audit';
  return 'not an Azure Database for MySQL record (no `category` nor `event_class`)';
}

function slowRecord(f: Map<string, unknown>): AzureMysqlRecord {
  const startUs = azureTimeUs(text(f, 'starttime') ?? '');
  const ms = num(f, 'querydurationms');
  const querySeconds =
    num(f, 'querytime') ?? (ms === undefined ? undefined : ms / 1000);
  const lockMs = num(f, 'lockdurationms');
  const lockSeconds =
    num(f, 'locktime') ?? (lockMs === undefined ? 0 : lockMs / 1000);
  const sql = text(f, 'sqltext');
  if (Number.isNaN(startUs) || querySeconds === undefined || sql === undefined)
    return {
      invalid:
        'slow-log record without `start_time`, `query_time` or `sql_text`',
    };
  const lines = slowEntryLines({
    startUs,
    querySeconds,
    lockSeconds,
    userHost: text(f, 'userhost') ?? text(f, 'host') ?? '',
    thread: text(f, 'threadid') ?? '',
    db: text(f, 'db') ?? '',
    rowsSent: text(f, 'rowssent') ?? '0',
    rowsExamined: text(f, 'rowsexamined') ?? '0',
    sql,
  });
  return { log: 'slow', build: () => lines };
}

function auditRecord(f: Map<string, unknown>): AzureMysqlRecord {
  const cls = (text(f, 'eventclass') ?? '').toLowerCase();
  const sub = (text(f, 'eventsubclass') ?? '').toUpperCase();
  if (cls === 'table_access_log') return { log: 'audit', skip: 'other' };
  const timeUs = azureTimeUs(
    text(f, 'eventtime') ?? text(f, 'timegenerated', 'time') ?? '',
  );
  const thread = text(f, 'connectionid', 'threadid');
  if (Number.isNaN(timeUs) || thread === undefined)
    return { invalid: 'audit record without `event_time` or `connection_id`' };
  const db = text(f, 'db');
  if (cls === 'connection_log') {
    if (sub === 'CONNECT') {
      const who = `${text(f, 'user') ?? ''}@${text(f, 'ip') ?? text(f, 'host') ?? ''}`;
      return {
        log: 'audit',
        build: (s) => {
          if (db !== undefined) s.set(thread, db);
          else s.delete(thread);
          return generalEntryLines({
            timeUs,
            thread,
            command: 'Connect',
            argument: `${who} on ${db ?? ''} using TCP/IP`,
          });
        },
      };
    }
    if (sub === 'DISCONNECT')
      return {
        log: 'audit',
        build: (s) => {
          s.delete(thread);
          return generalEntryLines({
            timeUs,
            thread,
            command: 'Quit',
            argument: '',
          });
        },
      };
    return { log: 'audit', skip: 'other' };
  }
  if (cls !== 'general_log') return { log: 'audit', skip: 'other' };
  if (sub === 'ERROR') return { log: 'audit', skip: 'error' };
  if (sub !== 'LOG' && sub !== '') return { log: 'audit', skip: 'other' };
  const sql = text(f, 'sqltext');
  if (sql === undefined)
    return { invalid: 'general_log record without `sql_text`' };
  return {
    log: 'audit',
    build: (s) => {
      const lines: string[] = [];
      if (db !== undefined && s.get(thread) !== db) {
        // The record names its database; the general log says so with an `Init DB` entry.
        s.set(thread, db);
        lines.push(
          ...generalEntryLines({
            timeUs,
            thread,
            command: 'Init DB',
            argument: db,
          }),
        );
      }
      lines.push(
        ...generalEntryLines({
          timeUs,
          thread,
          command: 'Query',
          argument: sql,
        }),
      );
      return lines;
    },
  };
}

/**
 * An Azure Database for MySQL flexible server record: diagnostic settings (`category`,
 * `properties.*`), Log Analytics `AzureDiagnostics` rows (`Category`, `*_s`/`*_d`/`*_t`) or the
 * resource-specific `MySqlSlowLogs`/`MySqlAuditLogs` rows (`Type`, `SqlText`, …). @internal
 */
export function azureMysqlRecord(o: Record<string, unknown>): AzureMysqlRecord {
  const f = normalised(o);
  const log = logOf(f);
  if (log !== 'slow' && log !== 'audit') return { invalid: log };
  return log === 'slow' ? slowRecord(f) : auditRecord(f);
}

function isCsvHeader(t: string): boolean {
  if (!/(^|,)"?(sql_text_s|SqlText|event_class_s|EventClass)"?(,|$)/.test(t))
    return false;
  return splitCsv(t) !== undefined;
}

function choiceFor(log: LogKind | undefined): InnerChoice {
  return { candidates: log === 'slow' ? [mysqlSlow] : [mysqlGeneral] };
}

async function* unwrap(
  lines: AsyncIterable<InputLine>,
  ctx: LogFormatContext,
  run: { log: LogKind | undefined },
): AsyncGenerator<InputLine> {
  const state: AuditState = new Map();
  for await (const r of envelopeValues(lines, ctx, isCsvHeader)) {
    const rec = azureMysqlRecord(r.value);
    if ('invalid' in rec) {
      ctx.report('invalid', r.line, rec.invalid);
      continue;
    }
    run.log ??= rec.log;
    if (rec.log !== run.log) {
      ctx.report('other', r.line);
      continue;
    }
    if ('skip' in rec) {
      ctx.report(rec.skip, r.line);
      continue;
    }
    for (const t of rec.build(state)) yield { text: t, line: r.line };
  }
}

/**
 * Azure Database for MySQL flexible server slow and audit logs: diagnostic-settings exports
 * (JSON lines, `{"records": […]}`), Log Analytics results as JSON or portal CSV. Records are
 * structured (no server log line inside): slow records become slow-log entries, audit records
 * general-log entries, parsed by `mysql-slow` / `mysql-general`.
 */
export const azureMysql = defineLogFormat<AzureMysqlOptions>({
  kind: 'log-format',
  name: 'azure-mysql',
  apiVersion: 1,
  dialect: 'mysql',
  description:
    'Azure Database for MySQL flexible server slow/audit logs: diagnostic settings JSON, Log Analytics JSON or portal CSV.',
  options,
  timeResolutionUs: 1,
  detect(sample) {
    const { records, tried } = sampleEnvelopeRecords(sample, isCsvHeader);
    const inner: string[] = [];
    const state: AuditState = new Map();
    let ok = 0;
    let log: LogKind | undefined;
    for (const r of records) {
      const rec = azureMysqlRecord(r);
      if ('invalid' in rec) continue;
      ok++;
      log ??= rec.log;
      if ('build' in rec && rec.log === log) inner.push(...rec.build(state));
    }
    return envelopeConfidence({ recognised: ok, tried }, inner, choiceFor(log));
  },
  parse(lines, opts, ctx): AsyncIterable<RawQueryEvent> {
    const run: { log: LogKind | undefined } = { log: opts.log };
    return parseInner(unwrap(lines, ctx, run), () => choiceFor(run.log), ctx);
  },
});

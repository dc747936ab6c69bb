import type { z } from 'zod';
import type { JsonObject, SourcePosition } from '../errors';
import { ParseError } from '../errors';
import type { ParamValue } from '../schema';
import {
  QueryTemplate,
  TRACE_FORMAT_VERSION,
  TraceEvent,
  TraceHeader,
  TraceRecord,
} from '../schema';

/**
 * Record validation for the trace readers. Events take a hand-written fast path that accepts only
 * what the zod schema accepts and returns an equal value; anything it does not accept goes to zod,
 * which produces the result (e.g. stripping unknown keys) or the error. The two are compared by a
 * property test (trace-validate.test.ts).
 */

/** Trace versions readers accept: the current one and the previous one (none before v1). */
export const READABLE_TRACE_VERSIONS: readonly number[] = [
  1,
  TRACE_FORMAT_VERSION,
];

/**
 * Upgrades a record of an older trace version to the current one. Version 1 → 2: events are
 * unchanged (version 2 only added the optional `conn`), the header says version 2.
 */
export function migrateTrace(record: unknown, fromVersion: number): unknown {
  if (fromVersion === TRACE_FORMAT_VERSION) return record;
  if (
    typeof record === 'object' &&
    record !== null &&
    (record as { kind?: unknown }).kind === 'header'
  )
    return { ...record, version: TRACE_FORMAT_VERSION };
  return record;
}

/** The keys a TraceEvent may have, from its schema (so the fast path follows the schema). */
const EVENT_KEYS = new Set(Object.keys(TraceEvent.shape));
const BIGINT_RE = /^-?\d+$/;
const BYTES_RE = /^[0-9a-f]*$/;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isNonNegInt(v: unknown): boolean {
  return Number.isSafeInteger(v) && (v as number) >= 0;
}

function onlyKeys(o: object, a: string, b: string): boolean {
  for (const k in o) if (k !== a && k !== b) return false;
  return true;
}

function isFastParam(p: unknown): p is ParamValue {
  if (!isPlainObject(p) || !onlyKeys(p, 't', 'v')) return false;
  const v = p['v'];
  switch (p['t']) {
    case 'int':
      return Number.isSafeInteger(v);
    case 'float':
      return typeof v === 'number' && Number.isFinite(v);
    case 'string':
    case 'timestamp':
    case 'date':
    case 'uuid':
    case 'json':
      return typeof v === 'string';
    case 'bigint':
      return typeof v === 'string' && BIGINT_RE.test(v);
    case 'bytes':
      return typeof v === 'string' && BYTES_RE.test(v);
    case 'bool':
      return typeof v === 'boolean';
    case 'null':
      return v === null;
    case 'list':
      return Array.isArray(v) && v.every(isFastParam);
    default:
      return false;
  }
}

const CONN_KEYS = new Set(['user', 'database', 'application']);

/** True when `c` is a `conn` object zod accepts unchanged: only known keys, string values. */
function isFastConn(c: unknown): boolean {
  if (!isPlainObject(c)) return false;
  for (const k in c)
    if (!CONN_KEYS.has(k) || typeof c[k] !== 'string') return false;
  return true;
}

/**
 * True when `r` is a {@link TraceEvent} that zod would accept unchanged (no unknown keys). False
 * does not mean invalid: run zod to know.
 */
export function isFastEvent(r: unknown): r is TraceEvent {
  if (!isPlainObject(r) || r['kind'] !== 'event') return false;
  for (const k in r) if (!EVENT_KEYS.has(k)) return false;
  if (!Number.isSafeInteger(r['startUs'])) return false;
  if (typeof r['sessionId'] !== 'string') return false;
  if (typeof r['templateId'] !== 'string') return false;
  const params = r['params'];
  if (!Array.isArray(params)) return false;
  for (const p of params) if (!isFastParam(p)) return false;
  const d = r['durationUs'];
  if (d !== undefined && !isNonNegInt(d)) return false;
  const txn = r['txn'];
  if (txn !== undefined && !isNonNegInt(txn)) return false;
  const sql = r['sql'];
  if (sql !== undefined && typeof sql !== 'string') return false;
  const c = r['conn'];
  if (c !== undefined && !isFastConn(c)) return false;
  const o = r['outcome'];
  if (o !== undefined) {
    if (!isPlainObject(o) || !onlyKeys(o, 'ok', 'code')) return false;
    if (typeof o['ok'] !== 'boolean') return false;
    if (o['code'] !== undefined && typeof o['code'] !== 'string') return false;
  }
  return true;
}

/** Formats a zod issue path as `params[0].v`. */
export function formatPath(p: readonly PropertyKey[]): string {
  let out = '';
  for (const k of p) {
    if (typeof k === 'number') out += `[${k}]`;
    else out += out === '' ? String(k) : `.${String(k)}`;
  }
  return out === '' ? '(record)' : out;
}

/** A `STB_TRACE_SCHEMA_MISMATCH` error for the first issue of a zod error. */
export function schemaMismatch(
  error: z.ZodError,
  position: Omit<SourcePosition, 'field'>,
  what = 'trace record',
): ParseError {
  const issues = error.issues.slice(0, 10).map((i): JsonObject => ({
    path: formatPath(i.path),
    code: i.code,
    message: i.message,
  }));
  const first = error.issues[0];
  const field = first ? formatPath(first.path) : '(record)';
  return new ParseError(
    'STB_TRACE_SCHEMA_MISMATCH',
    `[stb] [core] Invalid ${what} at \`${position.source}\`:${position.line}: field \`${field}\`: ${first?.message ?? 'invalid'}. Fix the record (library callers may skip bad records with \`onInvalid: 'skip'\`).`,
    { cause: error, position: { ...position, field }, details: { issues } },
  );
}

/** Validates an event (fast path, else zod). */
export function parseEvent(
  value: unknown,
  position: Omit<SourcePosition, 'field'>,
): TraceEvent {
  if (isFastEvent(value)) return value;
  const r = TraceEvent.safeParse(value);
  if (r.success) return r.data;
  throw schemaMismatch(r.error, position, 'trace event');
}

/**
 * Validates the first record of a trace: it must be a header of a readable version.
 * @throws ParseError `STB_TRACE_MISSING_HEADER`, `STB_TRACE_VERSION_UNSUPPORTED` or
 * `STB_TRACE_SCHEMA_MISMATCH`.
 */
export function parseHeader(
  value: unknown,
  position: Omit<SourcePosition, 'field'>,
): { header: TraceHeader; version: number } {
  if (
    !isPlainObject(value) ||
    value['kind'] !== 'header' ||
    value['format'] !== 'stb-trace'
  ) {
    throw new ParseError(
      'STB_TRACE_MISSING_HEADER',
      `[stb] [core] \`${position.source}\`:${position.line} is not a trace header record: a trace starts with {"kind":"header","format":"stb-trace",…}. Pass a trace written by \`stb parse\` or \`stb generate\`.`,
      { position },
    );
  }
  const version = value['version'];
  if (
    typeof version !== 'number' ||
    !READABLE_TRACE_VERSIONS.includes(version)
  ) {
    const newer = typeof version === 'number' && version > TRACE_FORMAT_VERSION;
    throw new ParseError(
      'STB_TRACE_VERSION_UNSUPPORTED',
      newer
        ? `[stb] [core] \`${position.source}\` is a version ${version} trace; this @stb/core reads versions ${READABLE_TRACE_VERSIONS.join(', ')}. Upgrade @stb/* to a release that reads trace version ${version}.`
        : `[stb] [core] \`${position.source}\` has trace version ${JSON.stringify(version)}; this @stb/core reads versions ${READABLE_TRACE_VERSIONS.join(', ')}. Rewrite the trace with a release that reads it (trace version ${TRACE_FORMAT_VERSION} is needed).`,
      {
        position: { ...position, field: 'version' },
        details: {
          found: typeof version === 'number' ? version : null,
          supported: [...READABLE_TRACE_VERSIONS],
        },
      },
    );
  }
  const migrated = migrateTrace(value, version);
  const r = TraceHeader.safeParse(migrated);
  if (!r.success) throw schemaMismatch(r.error, position, 'trace header');
  return { header: r.data, version };
}

/** Validates a template record. */
export function parseTemplate(
  value: unknown,
  position: Omit<SourcePosition, 'field'>,
): QueryTemplate {
  const r = QueryTemplate.safeParse(value);
  if (r.success) return r.data;
  throw schemaMismatch(r.error, position, 'template record');
}

/** Validates any record after the header: a template or an event (a second header is an error). */
export function parseBodyRecord(
  value: unknown,
  position: Omit<SourcePosition, 'field'>,
): TraceRecord {
  if (isFastEvent(value)) return value;
  const kind = isPlainObject(value) ? value['kind'] : undefined;
  if (kind === 'template') return parseTemplate(value, position);
  if (kind === 'header') {
    throw new ParseError(
      'STB_TRACE_SCHEMA_MISMATCH',
      `[stb] [core] \`${position.source}\`:${position.line} holds a second header record. Concatenated traces are not one trace: merge them with \`stb\` instead of \`cat\`.`,
      { position: { ...position, field: 'kind' } },
    );
  }
  if (kind === 'event') return parseEvent(value, position);
  // kind is neither template nor event: zod reports it against the record's `kind`.
  const r = TraceRecord.safeParse(value);
  if (r.success) return r.data;
  throw schemaMismatch(r.error, position);
}

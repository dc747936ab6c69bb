import type { TraceEvent } from '../schema';

/** Characters JSON.stringify escapes in a string (quote, backslash, controls, surrogates). */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

function str(s: string): string {
  return NEEDS_ESCAPE.test(s) ? JSON.stringify(s) : `"${s}"`;
}

function num(n: number): string {
  return Number.isFinite(n) ? `${n}` : 'null';
}

/** JSON of one parameter: `{"t":…,"v":…}` built directly when it has exactly that shape. */
function paramJson(p: unknown): string {
  if (typeof p !== 'object' || p === null) return JSON.stringify(p) ?? 'null';
  let keys = 0;
  for (const k in p) {
    if (keys === 0 ? k !== 't' : keys !== 1 || k !== 'v')
      return JSON.stringify(p);
    keys++;
  }
  const { t, v } = p as { t: unknown; v: unknown };
  if (keys !== 2 || typeof t !== 'string') return JSON.stringify(p);
  const head = `{"t":${str(t)},"v":`;
  switch (typeof v) {
    case 'number':
      return `${head}${num(v)}}`;
    case 'string':
      return `${head}${str(v)}}`;
    case 'boolean':
      return v ? `${head}true}` : `${head}false}`;
    default:
      return v === null ? `${head}null}` : JSON.stringify(p);
  }
}

/** The order of an event's keys that the direct path writes (the schema's order). */
const HEAD_KEYS = ['kind', 'startUs', 'sessionId', 'templateId', 'params'];
const TAIL_KEYS = ['durationUs', 'outcome', 'txn', 'sql', 'conn'];

/** True when `e`'s keys are the five head keys in order, then a subsequence of the tail keys. */
function hasSchemaKeyOrder(e: object): boolean {
  let i = 0;
  let tail = 0;
  for (const k in e) {
    if (i < HEAD_KEYS.length) {
      if (k !== HEAD_KEYS[i]) return false;
    } else {
      while (tail < TAIL_KEYS.length && TAIL_KEYS[tail] !== k) tail++;
      if (tail === TAIL_KEYS.length) return false;
      tail++;
    }
    i++;
  }
  return i >= HEAD_KEYS.length;
}

/**
 * The part of an event's line from `,"params":` to the end of `outcome`, written directly, or
 * undefined when `e` is not of the usual shape (the caller then uses `JSON.stringify`). Only
 * the head keys' types and the two optional fields are checked here; the caller checks the key
 * order.
 */
function afterIds(e: TraceEvent): string | undefined {
  const { kind, startUs, sessionId, templateId, params } = e as {
    kind: unknown;
    startUs: unknown;
    sessionId: unknown;
    templateId: unknown;
    params: unknown;
  };
  if (
    kind !== 'event' ||
    typeof startUs !== 'number' ||
    typeof sessionId !== 'string' ||
    typeof templateId !== 'string' ||
    !Array.isArray(params)
  )
    return undefined;
  const { durationUs, outcome } = e as {
    durationUs: unknown;
    outcome: unknown;
  };
  let out = ',"params":[';
  for (let i = 0; i < params.length; i++)
    out += i === 0 ? paramJson(params[i]) : `,${paramJson(params[i])}`;
  out += ']';
  if (typeof durationUs === 'number') out += `,"durationUs":${num(durationUs)}`;
  else if (durationUs !== undefined) return undefined;
  if (typeof outcome === 'object' && outcome !== null)
    out += `,"outcome":${JSON.stringify(outcome)}`;
  else if (outcome !== undefined) return undefined;
  return out;
}

/** The part of an event's line from `,"sessionId":` to the end of `outcome` (see afterIds). */
function body(e: TraceEvent): string | undefined {
  const rest = afterIds(e);
  return rest === undefined
    ? undefined
    : `${eventLineField('sessionId', e.sessionId)}${eventLineField('templateId', e.templateId)}${rest}`;
}

/** The end of an event's line after `outcome`, closing brace included; undefined: not usual. */
function lineEnd(e: TraceEvent): string | undefined {
  const { txn, sql, conn } = e as { txn: unknown; sql: unknown; conn: unknown };
  let out = '';
  if (typeof txn === 'number') out += `,"txn":${num(txn)}`;
  else if (txn !== undefined) return undefined;
  if (typeof sql === 'string') out += `,"sql":${str(sql)}`;
  else if (sql !== undefined) return undefined;
  if (conn !== undefined) out += `,"conn":${JSON.stringify(conn)}`;
  return `${out}}`;
}

/**
 * The start of an event's line, up to its `startUs` (see {@link stringifyEventBody}).
 * @internal
 */
export function eventLineHead(startUs: number): string {
  return `{"kind":"event","startUs":${num(startUs)}`;
}

/**
 * `,"<key>":<value as JSON>`, as an event's line holds its `sessionId` and `templateId` (see
 * {@link stringifyEventBody}): what a holder of many lines can keep once, not in every line.
 * @internal
 */
export function eventLineField(
  key: 'sessionId' | 'templateId',
  value: string,
): string {
  return `,"${key}":${str(value)}`;
}

/**
 * The end of an event's line after its body: `txn` when given, `conn` (its JSON) when given,
 * the closing brace (see {@link stringifyEventBody}).
 * @internal
 */
export function eventLineTail(
  txn: number | undefined,
  connJson: string | undefined,
): string {
  let out = txn === undefined ? '' : `,"txn":${num(txn)}`;
  if (connJson !== undefined) out += `,"conn":${connJson}`;
  return `${out}}`;
}

/**
 * The middle of the line {@link stringifyTraceEvent} writes for `e` (from `,"sessionId":` to the
 * end of `outcome`), for an event of the usual shape with no `txn`, `sql` or `conn` yet; else
 * undefined. Once its start, transaction index and connection are final, the event's line is
 * `eventLineHead(startUs) + body + eventLineTail(txn, JSON.stringify(conn))` byte for byte: so a
 * thread can write the body and another the rest.
 * @internal
 */
export function stringifyEventBody(e: TraceEvent): string | undefined {
  const { txn, sql, conn } = e as { txn: unknown; sql: unknown; conn: unknown };
  if (txn !== undefined || sql !== undefined || conn !== undefined)
    return undefined;
  return hasSchemaKeyOrder(e) ? body(e) : undefined;
}

/**
 * `JSON.stringify(e)` of an event record, byte for byte, about twice as fast for the usual
 * shape: keys in the schema's order with scalar `{t, v}` parameters are written directly; any
 * other shape or value type (different key order, lists, unexpected types) goes to
 * `JSON.stringify` for that part or the whole record.
 * @internal
 */
export function stringifyTraceEvent(e: TraceEvent): string {
  if (!hasSchemaKeyOrder(e)) return JSON.stringify(e);
  const middle = body(e);
  const end = middle === undefined ? undefined : lineEnd(e);
  if (end === undefined) return JSON.stringify(e);
  return `${eventLineHead(e.startUs)}${middle as string}${end}`;
}

/**
 * The line {@link stringifyTraceEvent} writes for `e` from `,"params":` on, when `e` is of the
 * usual shape; else undefined. The line is then `eventLineHead(e.startUs)`,
 * `eventLineField('sessionId', e.sessionId)`, `eventLineField('templateId', e.templateId)` and
 * this, byte for byte.
 * @internal
 */
export function stringifyEventRest(e: TraceEvent): string | undefined {
  if (!hasSchemaKeyOrder(e)) return undefined;
  const rest = afterIds(e);
  const end = rest === undefined ? undefined : lineEnd(e);
  return end === undefined ? undefined : `${rest as string}${end}`;
}

/**
 * A trace event already turned into its JSON Lines text: `json` is exactly the line (without its
 * newline) {@link stringifyTraceEvent} writes for the event, `templateId` its template. Holding
 * events this way costs one string each instead of an object graph (the event, its parameter
 * list, a record per parameter), which the garbage collector no longer walks; `writeTrace`
 * writes `json` as it is.
 */
export interface EncodedTraceEvent {
  readonly kind: 'encoded-event';
  readonly templateId: string;
  readonly json: string;
}

/**
 * The {@link EncodedTraceEvent} of an event: its JSON Lines text, byte for byte what
 * `writeTrace` would write for it.
 * @example
 * const enc = encodeTraceEvent(ev); // later: writeTrace(path, [header, template, enc])
 */
export function encodeTraceEvent(e: TraceEvent): EncodedTraceEvent {
  const json = stringifyTraceEvent(e);
  // The line is built by concatenation: in V8 a rope of a dozen or more small strings (about four
  // times the text's size, and as many objects for the garbage collector to walk while the event
  // is held). Reading a character flattens it in place into one sequential string.
  json.charCodeAt(json.length - 1);
  return { kind: 'encoded-event', templateId: e.templateId, json };
}

/**
 * The event of an {@link EncodedTraceEvent} (its JSON read back: what reading the written trace
 * gives).
 */
export function decodeTraceEvent(e: EncodedTraceEvent): TraceEvent {
  return JSON.parse(e.json) as TraceEvent;
}

import type { Dialect, RawQueryEvent } from '@stb/core';

/**
 * Raw events packed to cross threads cheaply: their SQL texts one after another in one string,
 * their numbers in a transferred typed array, their repeated strings (sessions, users, files…)
 * once per batch, and what is rare (parameters, errors…) as JSON per event. `unpackRaw` gives
 * back events with the same values (field order aside, which extraction does not read).
 */
export interface PackedRaw {
  readonly kind: 'packed-raw';
  readonly count: number;
  readonly sql: string;
  /** Per event: start, duration (NaN: absent), line. */
  readonly times: Float64Array;
  /**
   * Per event ({@link RAW_INTS}): end of its SQL in `sql`, then indexes into `strings` (−1:
   * absent) of session, user, database, application, client, file, dialect, then file index
   * (−1: absent), index into `rest` (−1: none).
   */
  readonly ints: Int32Array;
  readonly strings: string[];
  /** JSON of the rare fields (`params`, `preparedName`, `transactionId`, `error`). */
  readonly rest: string[];
}

const RAW_INTS = 10;

/** Packs raw events (see {@link PackedRaw}); `transfer` lists the buffers to move. */
export function packRaw(events: readonly RawQueryEvent[]): {
  packed: PackedRaw;
  transfer: ArrayBuffer[];
} {
  const n = events.length;
  const times = new Float64Array(n * 3);
  const ints = new Int32Array(n * RAW_INTS);
  const strings: string[] = [];
  const index = new Map<string, number>();
  const str = (s: string | undefined): number => {
    if (s === undefined) return -1;
    let i = index.get(s);
    if (i === undefined) {
      i = strings.length;
      strings.push(s);
      index.set(s, i);
    }
    return i;
  };
  const rest: string[] = [];
  let sql = '';
  for (let i = 0; i < n; i++) {
    const e = events[i] as RawQueryEvent;
    sql += e.sql;
    times[i * 3] = e.startUs ?? Number.NaN;
    times[i * 3 + 1] = e.durationUs ?? Number.NaN;
    times[i * 3 + 2] = e.source.line;
    const o = i * RAW_INTS;
    ints[o] = sql.length;
    ints[o + 1] = str(e.sessionId);
    ints[o + 2] = str(e.user);
    ints[o + 3] = str(e.database);
    ints[o + 4] = str(e.application);
    ints[o + 5] = str(e.client);
    ints[o + 6] = str(e.source.file);
    ints[o + 7] = str(e.dialect);
    ints[o + 8] = e.fileIndex ?? -1;
    if (
      e.params !== undefined ||
      e.preparedName !== undefined ||
      e.transactionId !== undefined ||
      e.error !== undefined
    ) {
      ints[o + 9] = rest.length;
      rest.push(
        JSON.stringify({
          params: e.params,
          preparedName: e.preparedName,
          transactionId: e.transactionId,
          error: e.error,
        }),
      );
    } else ints[o + 9] = -1;
  }
  return {
    packed: { kind: 'packed-raw', count: n, sql, times, ints, strings, rest },
    transfer: [times.buffer, ints.buffer],
  };
}

/** The events of a {@link PackedRaw}. */
export function unpackRaw(p: PackedRaw): RawQueryEvent[] {
  const out: RawQueryEvent[] = [];
  for (let i = 0; i < p.count; i++) out.push(rawAt(p, i));
  return out;
}

/**
 * Event `i` of a {@link PackedRaw}: taken one at a time, an event's objects can die young, right
 * after its use, instead of living as long as the batch.
 */
export function rawAt(p: PackedRaw, i: number): RawQueryEvent {
  const { strings, ints, times } = p;
  const o = i * RAW_INTS;
  const from = i === 0 ? 0 : (ints[o - RAW_INTS] as number);
  const e: RawQueryEvent = {
    sessionId: strings[ints[o + 1] as number] as string,
    sql: p.sql.slice(from, ints[o]),
    source: {
      file: strings[ints[o + 6] as number] as string,
      line: times[i * 3 + 2] as number,
    },
    dialect: strings[ints[o + 7] as number] as Dialect,
  };
  const start = times[i * 3] as number;
  if (!Number.isNaN(start)) e.startUs = start;
  const dur = times[i * 3 + 1] as number;
  if (!Number.isNaN(dur)) e.durationUs = dur;
  const u = ints[o + 2] as number;
  if (u >= 0) e.user = strings[u];
  const d = ints[o + 3] as number;
  if (d >= 0) e.database = strings[d];
  const a = ints[o + 4] as number;
  if (a >= 0) e.application = strings[a];
  const c = ints[o + 5] as number;
  if (c >= 0) e.client = strings[c];
  const f = ints[o + 8] as number;
  if (f >= 0) e.fileIndex = f;
  const r = ints[o + 9] as number;
  if (r >= 0) {
    const x = JSON.parse(p.rest[r] as string) as Partial<RawQueryEvent>;
    if (x.params !== undefined) e.params = x.params;
    if (x.preparedName !== undefined) e.preparedName = x.preparedName;
    if (x.transactionId !== undefined) e.transactionId = x.transactionId;
    if (x.error !== undefined) e.error = x.error;
  }
  return e;
}

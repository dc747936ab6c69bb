import { stringifyEventBody } from '@stb/core';
import type { ConnAttributes, QueryTemplate } from '@stb/core';
import type { InvalidUtf8Position } from './extractor';
import type { WorkerResult } from './worker';

/** `flags` bits of a packed statement. */
export const PACKED_BEGIN = 1;
export const PACKED_END = 2;
/** The statement failed (`outcome.ok` false). */
export const PACKED_FAILED = 4;
/** The statement has an entry in `extras`. */
export const PACKED_EXTRA = 8;

/** What a packed statement rarely has, by its index in the batch. */
export interface PackedExtra {
  i: number;
  /** The template, the first time the packing side's extractor met it. */
  template?: QueryTemplate;
  invalidUtf8?: InvalidUtf8Position;
  /** The session's connection attributes (with its first packed statement only). */
  conn?: ConnAttributes;
  /** The whole event as JSON, when its line cannot be written from a body (unusual shapes). */
  eventJson?: string;
}

/**
 * Extracted statements packed to cross threads without an object per statement: what the
 * assembly needs of each as numbers in typed arrays (transferred, not copied), the middle of each
 * event's JSON line as UTF-8 bytes, and what is rare in `extras`. {@link assembleTraceBatches}
 * takes it in place of `ExtractedResult[]` and writes the same trace.
 */
export interface PackedResults {
  readonly kind: 'packed-results';
  readonly count: number;
  /** Per statement: start, then duration (NaN when none). */
  readonly times: Float64Array;
  /** Per statement: end of its body in `bodies`, session index, template index, flags. */
  readonly ints: Int32Array;
  /** The statements' bodies ({@link stringifyEventBody}) one after another, UTF-8. */
  readonly bodies: Uint8Array;
  /** The batch's distinct session ids, by index (as the bodies hold them). */
  readonly sessions: string[];
  /**
   * The ids to write and assemble instead, by the same index, where set: a byte range of a log
   * parsed alone gives provisional ids to the sessions open before it, which the thread that
   * orders the ranges renames (`@stb/parser`'s `PgRangeStitcher`).
   */
  renamed?: (string | undefined)[];
  /** The batch's distinct template ids, by index. */
  readonly templateIds: string[];
  /** In statement order. */
  readonly extras: PackedExtra[];
}

/** Int32 fields per statement in {@link PackedResults.ints}. */
export const PACKED_INTS = 4;

function indexOf(
  map: Map<string, number>,
  list: string[],
  key: string,
): number {
  let i = map.get(key);
  if (i === undefined) {
    i = list.length;
    list.push(key);
    map.set(key, i);
  }
  return i;
}

/**
 * Packs extracted statements, batch after batch of one run in input order (see
 * {@link PackedResults}). A session's connection attributes go with its first packed statement
 * only: the assembly keeps them on a session's first statement, which no later one can be.
 * @example
 * ```ts
 * const packer = new ResultPacker();
 * const { packed, transfer } = packer.pack(results);
 * port.postMessage(packed, transfer); // transfer: the buffers to move, not copy
 * ```
 */
export class ResultPacker {
  /** Sessions whose connection attributes were packed (one entry per session, as the assembly has). */
  readonly #connSent = new Set<string>();

  pack(results: readonly WorkerResult[]): {
    packed: PackedResults;
    transfer: ArrayBuffer[];
  } {
    const n = results.length;
    const times = new Float64Array(n * 2);
    const ints = new Int32Array(n * PACKED_INTS);
    let bodies = Buffer.allocUnsafeSlow(Math.max(1024, n * 384));
    let pos = 0;
    const sessions: string[] = [];
    const sessionIndex = new Map<string, number>();
    const templateIds: string[] = [];
    const templateIndex = new Map<string, number>();
    const extras: PackedExtra[] = [];
    for (let i = 0; i < n; i++) {
      const r = results[i] as WorkerResult;
      const ev = r.event;
      let flags =
        r.boundary === 'begin'
          ? PACKED_BEGIN
          : r.boundary === 'end'
            ? PACKED_END
            : 0;
      if (ev.outcome !== undefined && !ev.outcome.ok) flags |= PACKED_FAILED;
      const dur = ev.durationUs;
      const body =
        Number.isFinite(ev.startUs) &&
        (dur === undefined || Number.isFinite(dur))
          ? stringifyEventBody(ev)
          : undefined;
      let extra: PackedExtra | undefined;
      if (r.template !== undefined) (extra ??= { i }).template = r.template;
      if (r.invalidUtf8 !== undefined)
        (extra ??= { i }).invalidUtf8 = r.invalidUtf8;
      if (r.conn !== undefined && !this.#connSent.has(ev.sessionId)) {
        this.#connSent.add(ev.sessionId);
        extra ??= { i };
        extra.conn = r.conn;
      }
      if (body === undefined) (extra ??= { i }).eventJson = JSON.stringify(ev);
      else {
        // At most 3 UTF-8 bytes per UTF-16 unit.
        if (pos + body.length * 3 > bodies.length) {
          const grown = Buffer.allocUnsafeSlow(
            Math.max(bodies.length * 2, pos + body.length * 3),
          );
          bodies.copy(grown, 0, 0, pos);
          bodies = grown;
        }
        pos += bodies.write(body, pos);
      }
      if (extra !== undefined) {
        flags |= PACKED_EXTRA;
        extras.push(extra);
      }
      times[i * 2] = ev.startUs;
      times[i * 2 + 1] = dur === undefined ? Number.NaN : dur;
      const o = i * PACKED_INTS;
      ints[o] = pos;
      ints[o + 1] = indexOf(sessionIndex, sessions, ev.sessionId);
      ints[o + 2] = indexOf(templateIndex, templateIds, ev.templateId);
      ints[o + 3] = flags;
    }
    const used = new Uint8Array(bodies.buffer, bodies.byteOffset, pos);
    return {
      packed: {
        kind: 'packed-results',
        count: n,
        times,
        ints,
        bodies: used,
        sessions,
        templateIds,
        extras,
      },
      transfer: [times.buffer, ints.buffer, bodies.buffer],
    };
  }
}

/** True for a {@link PackedResults} batch (else an array of results). */
export function isPacked(
  b: readonly WorkerResult[] | PackedResults,
): b is PackedResults {
  return !Array.isArray(b);
}

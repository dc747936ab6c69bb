import { StbError, stringifyEventBody } from '@stb/core';
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

/** A grown bodies buffer up to this size is kept for the next batch (see `ResultPacker.start`). */
const SCRATCH_KEPT = 4 << 20;

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
  // The batch being packed (`start` … `add` … `finish`).
  #n = 0;
  #times = new Float64Array(0);
  #ints = new Int32Array(0);
  #bodies = Buffer.alloc(0);
  #pos = 0;
  #sessions: string[] = [];
  #sessionIndex = new Map<string, number>();
  #templateIds: string[] = [];
  #templateIndex = new Map<string, number>();
  #extras: PackedExtra[] = [];

  /** Packs a whole batch: `start`, `add` of each result, `finish`. */
  pack(results: readonly WorkerResult[]): {
    packed: PackedResults;
    transfer: ArrayBuffer[];
  } {
    this.start(results.length);
    for (const r of results) this.add(r);
    return this.finish();
  }

  /**
   * Starts a batch of at most `capacity` statements, added one at a time: a statement's objects
   * can then die young, right after it is packed, instead of living as long as the batch.
   */
  start(capacity: number): void {
    this.#reset(capacity);
    // The bodies' scratch buffer is kept from batch to batch (`finish` copies out what was used),
    // unless a long statement grew it past both twice the usual size and 4 MiB.
    const usual = Math.max(1024, capacity * 384);
    const len = this.#bodies.length;
    if (len < usual || len > Math.max(2 * usual, SCRATCH_KEPT))
      this.#bodies = Buffer.allocUnsafeSlow(usual);
  }

  /** An empty batch of room for `capacity` statements (0: none, `add` throws). */
  #reset(capacity: number): void {
    this.#n = 0;
    this.#pos = 0;
    this.#times = new Float64Array(capacity * 2);
    this.#ints = new Int32Array(capacity * PACKED_INTS);
    this.#sessions = [];
    this.#sessionIndex = new Map();
    this.#templateIds = [];
    this.#templateIndex = new Map();
    this.#extras = [];
  }

  /** Packs the next statement of the batch begun by {@link start}. */
  add(r: WorkerResult): void {
    const i = this.#n;
    if (i * 2 >= this.#times.length)
      throw new StbError(
        'STB_INTERNAL',
        `[stb] [extractor] ResultPacker.add: more than the ${i} statements started. This is a bug: report it.`,
      );
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
      Number.isFinite(ev.startUs) && (dur === undefined || Number.isFinite(dur))
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
      let bodies = this.#bodies;
      if (this.#pos + body.length * 3 > bodies.length) {
        const grown = Buffer.allocUnsafeSlow(
          Math.max(bodies.length * 2, this.#pos + body.length * 3),
        );
        bodies.copy(grown, 0, 0, this.#pos);
        bodies = this.#bodies = grown;
      }
      this.#pos += bodies.write(body, this.#pos);
    }
    if (extra !== undefined) {
      flags |= PACKED_EXTRA;
      this.#extras.push(extra);
    }
    this.#times[i * 2] = ev.startUs;
    this.#times[i * 2 + 1] = dur === undefined ? Number.NaN : dur;
    const o = i * PACKED_INTS;
    const ints = this.#ints;
    ints[o] = this.#pos;
    ints[o + 1] = indexOf(this.#sessionIndex, this.#sessions, ev.sessionId);
    ints[o + 2] = indexOf(
      this.#templateIndex,
      this.#templateIds,
      ev.templateId,
    );
    ints[o + 3] = flags;
    this.#n = i + 1;
  }

  /** The batch packed (the statements added since {@link start}); `transfer`: the buffers to move. */
  finish(): { packed: PackedResults; transfer: ArrayBuffer[] } {
    const n = this.#n;
    // Fewer than started (a failure cut the batch short): the arrays cut to the count.
    const times =
      n * 2 === this.#times.length ? this.#times : this.#times.slice(0, n * 2);
    const ints =
      n * PACKED_INTS === this.#ints.length
        ? this.#ints
        : this.#ints.slice(0, n * PACKED_INTS);
    // Copied out at its size (one memcpy of what the batch used): transferring the scratch
    // buffer itself moved 2 048 × 384 bytes ≈ 0.8 MB per batch whatever it used, up to
    // 24 batches in flight.
    const used = new Uint8Array(this.#pos);
    used.set(this.#bodies.subarray(0, this.#pos));
    const packed: PackedResults = {
      kind: 'packed-results',
      count: n,
      times,
      ints,
      bodies: used,
      sessions: this.#sessions,
      templateIds: this.#templateIds,
      extras: this.#extras,
    };
    // Until the next `start`, `add` throws (no room), and the batch is not held.
    this.#reset(0);
    return {
      packed,
      transfer: [times.buffer, ints.buffer, used.buffer],
    };
  }
}

/** True for a {@link PackedResults} batch (else an array of results). */
export function isPacked(
  b: readonly WorkerResult[] | PackedResults,
): b is PackedResults {
  return !Array.isArray(b);
}

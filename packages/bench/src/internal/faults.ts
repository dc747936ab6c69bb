import type { BenchErrorDetail, BenchOutage } from '@stb/core';
import type { ExecOutcome } from '../bound-query';

/**
 * Error details and outage windows, kept beside the latency accounting (issue 14): which server
 * errors each template hit (SQLSTATE or errno and the message, literals removed), and when the
 * target was unreachable.
 */

const SEP = '\u0001';
/** Distinct error keys an executor sends before it falls back to the class alone. */
const MAX_KEYS = 256;
/** Distinct error details kept per template. */
const MAX_DETAILS = 10;

/**
 * The key an executor records for a failed outcome: its class, plus code and message while the
 * executor has seen fewer than {@link MAX_KEYS} distinct keys (`distinct`), so the class table
 * stays bounded whatever the server says.
 */
export function errorKey(out: ExecOutcome, distinct: number): string {
  const cls = out.errorClass ?? 'unknown';
  if (
    distinct >= MAX_KEYS ||
    (out.errorCode === undefined && out.errorMessage === undefined)
  )
    return cls;
  return `${cls}${SEP}${out.errorCode ?? ''}${SEP}${out.errorMessage ?? ''}`;
}

/** The class part of an error key (for counts by class and metric labels). */
export function errorClassOf(key: string): string {
  const i = key.indexOf(SEP);
  return i < 0 ? key : key.slice(0, i);
}

/** The SQLSTATE / errno part of an error key (the class when the key holds none). */
export function errorCodeOf(key: string): string {
  const parts = key.split(SEP);
  const code = parts[1];
  return code === undefined || code === '' ? (parts[0] ?? key) : code;
}

/** True for errors that mean the target could not be reached or dropped the connection. */
export function isConnectionError(key: string): boolean {
  const [cls = '', code = ''] = key.split(SEP);
  return (
    cls === 'connection' ||
    cls === '08' ||
    code.startsWith('57P') ||
    code === '2006' ||
    code === '2013' ||
    code === '1927'
  );
}

/** Per-template error details: the most frequent (code, message) pairs with their counts. */
export class ErrorDetails {
  readonly #counts = new Map<string, number>();
  #other = 0;

  add(key: string): void {
    if (key.indexOf(SEP) < 0) return;
    const n = this.#counts.get(key);
    if (n !== undefined) this.#counts.set(key, n + 1);
    else if (this.#counts.size < MAX_DETAILS * 4) this.#counts.set(key, 1);
    else this.#other++;
  }

  /** The details, most frequent first; undefined when none. */
  result(): BenchErrorDetail[] | undefined {
    if (this.#counts.size === 0) return undefined;
    const list = [...this.#counts]
      .sort((a, b) => b[1] - a[1])
      .map(([key, count]): BenchErrorDetail => {
        const [, code = '', message = ''] = key.split(SEP);
        return {
          ...(code === '' ? {} : { code }),
          message,
          count,
        };
      });
    const kept = list.slice(0, MAX_DETAILS);
    const rest =
      this.#other + list.slice(MAX_DETAILS).reduce((a, d) => a + d.count, 0);
    if (rest > 0) kept.push({ message: '(other errors)', count: rest });
    return kept;
  }
}

/**
 * Outage windows: one opens at the first connection error and closes at the next success that
 * ends after it (a statement, or a connection a session opened: the target answered), so a
 * restart of the target shows as one window with its length and the queries that failed
 * meanwhile. Times are ms since the workload's t0.
 */
export class OutageTracker {
  readonly #closed: { startMs: number; endMs: number; failed: number }[] = [];
  #open: { startMs: number; lastMs: number; failed: number } | undefined;
  #origin = 0;
  /**
   * The latest success seen. Worker threads' batches arrive in their own order, so a success that
   * came after an error may have been received before it: see {@link result}.
   */
  #lastOkMs = -Infinity;

  /** The workload's t0, epoch ms (for the ISO start time of each window). */
  setOrigin(t0: number): void {
    this.#origin = t0;
  }

  /** One finished execution: `key` is its error key, or undefined when it succeeded. */
  observe(endMs: number, key: string | undefined): void {
    const o = this.#open;
    if (key !== undefined && isConnectionError(key)) {
      if (o === undefined)
        this.#open = { startMs: endMs, lastMs: endMs, failed: 1 };
      else {
        o.failed++;
        if (endMs > o.lastMs) o.lastMs = endMs;
        if (endMs < o.startMs) o.startMs = endMs;
      }
      return;
    }
    if (key === undefined && endMs > this.#lastOkMs) this.#lastOkMs = endMs;
    if (key === undefined && o !== undefined && endMs > o.startMs) {
      this.#closed.push({ startMs: o.startMs, endMs, failed: o.failed });
      this.#open = undefined;
    }
  }

  /**
   * The windows so far. One still open lasts until `endAt` (the run's end, on the clock of
   * `nowMs`), or until its last failure when that is later or the origin is unset, and is marked
   * `unresolved`: sessions trying to reconnect fail no query, so the last failure can be long
   * before the end. Unless a success later than its last failure was received before them
   * (another worker's batch): the target answered again by then, and the window ends at the
   * latest success received, an upper bound (the first success after the failure is not kept).
   */
  result(endAt?: number): BenchOutage[] {
    const out = this.#closed.map((w) => this.#outage(w, false));
    const o = this.#open;
    if (o && this.#lastOkMs > o.lastMs)
      out.push(this.#outage({ ...o, endMs: this.#lastOkMs }, false));
    else if (o) {
      const end =
        endAt !== undefined && this.#origin > 0 ? endAt - this.#origin : 0;
      out.push(this.#outage({ ...o, endMs: Math.max(o.lastMs, end) }, true));
    }
    return out;
  }

  #outage(
    w: { startMs: number; endMs: number; failed: number },
    open: boolean,
  ): BenchOutage {
    return {
      start: new Date(this.#origin + w.startMs).toISOString(),
      startMs: Math.round(w.startMs),
      durationMs: Math.round(w.endMs - w.startMs),
      failedQueries: w.failed,
      ...(open ? { unresolved: true } : {}),
    };
  }
}

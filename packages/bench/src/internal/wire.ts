import type { ParamValue, QueryType } from '@stb/core';

/** Fields per record in a latency batch (Float64Array). */
export const REC = 6;
/** Record field offsets. */
export const F_TPL = 0;
export const F_LATENCY_MS = 1;
/** Schedule lag, ms; NaN in closed mode. */
export const F_LAG_MS = 2;
/** Error class index (into the worker's class table), -1 when ok. */
export const F_CLASS = 3;
export const F_ROWS = 4;
/** End time relative to t0, ms. */
export const F_END_MS = 5;
/** Separates an error class from the full code in an executor's class table (`23\u000123505`). */
export const CODE_SEP = '\u0001';

/** Transaction boundary a template marks. */
export type TxnMark = 'begin' | 'end' | null;

/** A template as sent to workers. */
export interface WireTemplate {
  readonly index: number;
  readonly id: string;
  readonly text: string;
  readonly queryType: QueryType;
  readonly txn: TxnMark;
}

/** An event as sent to workers: [sessionId, template index, params, due ms relative to t0 (NaN: closed loop)]. */
export type WireEvent = [string, number, ParamValue[], number];

/** A batch of measurements from an executor. */
export interface BatchMessage {
  readonly type: 'batch';
  readonly buf: Float64Array;
  /** Records in `buf`. */
  readonly n: number;
  /** Error classes first used in this batch, in index order, starting at `classBase`. */
  readonly classes: string[];
  /** Events finished (executed, skipped or dropped) since the previous batch. */
  readonly ack: number;
  readonly inFlight: number;
  readonly active: number;
}

/** Something worth reporting that happened inside an executor. */
export interface IncidentMessage {
  readonly type: 'incident';
  readonly kind: 'reconnect' | 'connection-lost';
  readonly message: string;
  /** Absolute time, epoch ms. */
  readonly at: number;
}

/** Totals an executor reports when it is done. */
export interface ExecutorSummary {
  readonly sessions: number;
  readonly completed: number;
  readonly aborted: number;
  readonly notRun: number;
  readonly reconnects: number;
}

/** Messages from the main thread to an executor. */
export type ToExecutor =
  | { type: 'templates'; list: WireTemplate[] }
  | { type: 'events'; events: WireEvent[] }
  | { type: 'start'; t0: number }
  | { type: 'end' }
  | { type: 'stop' };

/** Messages from an executor to the main thread. */
export type FromExecutor =
  | BatchMessage
  | IncidentMessage
  | { type: 'starved' }
  | { type: 'ready' }
  | { type: 'done'; summary: ExecutorSummary }
  | { type: 'failed'; error: { code: string; message: string } };

/** Absolute wall time in ms with sub-ms resolution, comparable across threads. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

const BEGIN = /^\s*(begin\b(?!\s*;?\s*end)|start\s+transaction\b)/i;
const END =
  /^\s*(commit\b|end\b|abort\b|rollback\b(?!\s+(work\s+|transaction\s+)?to\b))/i;

/** Whether a statement opens or closes a transaction. */
export function txnMark(text: string, queryType: QueryType): TxnMark {
  if (queryType !== 'TCL' && queryType !== 'OTHER' && queryType !== 'UTILITY')
    return null;
  if (BEGIN.test(text)) return 'begin';
  if (END.test(text)) return 'end';
  return null;
}

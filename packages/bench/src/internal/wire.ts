import type {
  ParamValue,
  QueryType,
  SerializedError,
  TxnBoundary,
} from '@stb/core';

/** Fields per record in a latency batch (Float64Array). */
export const REC = 7;
/** Record field offsets. */
export const F_TPL = 0;
/**
 * `F_TPL` of a record that is no statement: a session opened a connection at `F_END_MS` (the
 * target answered, which ends an outage window; other fields unset).
 */
export const TPL_CONNECTED = -1;
export const F_LATENCY_MS = 1;
/** Schedule lag, ms; NaN in closed mode. */
export const F_LAG_MS = 2;
/** Error class index (into the worker's class table), -1 when ok. */
export const F_CLASS = 3;
export const F_ROWS = 4;
/** End time relative to t0, ms. */
export const F_END_MS = 5;
/** Service time (sent → completed), ms. */
export const F_SERVICE_MS = 6;

/** Transaction boundary a template marks (its `boundary` fact). */
export type TxnMark = TxnBoundary | null;

/** A template as sent to workers. */
export interface WireTemplate {
  readonly index: number;
  readonly id: string;
  readonly text: string;
  readonly queryType: QueryType;
  readonly txn: TxnMark;
}

/**
 * An event as sent to workers: [sessionId, template index, params, due ms relative to t0 (NaN:
 * closed loop), think ms]. The think time (replay only; NaN elsewhere) is the original gap between
 * the session's previous statement completing and this one starting: the executor starts the
 * statement at max(due, previous completion + think), so a session is never late because of
 * its own previous statement.
 */
export type WireEvent = [string, number, ParamValue[], number, number];

/** A batch of measurements from an executor. */
export interface BatchMessage {
  readonly type: 'batch';
  readonly buf: Float64Array;
  /** Records in `buf`. */
  readonly n: number;
  /** Of them, records that are no statement (`TPL_CONNECTED`). */
  readonly marks: number;
  /** Error classes first used in this batch, in index order, starting at `classBase`. */
  readonly classes: string[];
  /** Events finished (executed, skipped or dropped) since the previous batch. */
  readonly ack: number;
  readonly inFlight: number;
  readonly active: number;
  /** The executor thread's event-loop time so far, ms (`performance.eventLoopUtilization()`). */
  readonly loop: LoopTime;
}

/**
 * A thread's event-loop time so far: busy (`active`) and waiting (`idle`), ms; and, where the
 * kernel tells (Linux), its time ready to run but waiting for a CPU (`cpuWait`, ms, cpu-wait.ts).
 */
export interface LoopTime {
  readonly active: number;
  readonly idle: number;
  readonly cpuWait?: number;
}

/** Something worth reporting that happened inside an executor. */
export interface IncidentMessage {
  readonly type: 'incident';
  readonly kind: 'reconnect' | 'connection-lost' | 'aborted';
  readonly message: string;
  /** Absolute time, epoch ms. */
  readonly at: number;
  /**
   * `connection-lost`: the target did not let the session connect for the whole reconnect timeout
   * for another reason than a full server (the runner then stops the run: the target is lost).
   */
  readonly targetLost?: boolean;
}

/** Totals an executor reports when it is done. */
export interface ExecutorSummary {
  readonly sessions: number;
  readonly completed: number;
  readonly aborted: number;
  /** Sessions aborted because they could not connect within the reconnect timeout. */
  readonly gaveUp: number;
  readonly notRun: number;
  readonly reconnects: number;
  /**
   * Share of the time from the start to the end of the workload this executor's thread was busy
   * (its event-loop utilisation, 0–1; 0 when it never started).
   */
  readonly busy: number;
  /**
   * Share of the same time the thread was ready to run but waited for a CPU (0–1; absent where
   * the kernel does not tell, cpu-wait.ts).
   */
  readonly cpuWait?: number;
}

/** Messages from the main thread to an executor. */
export type ToExecutor =
  | { type: 'templates'; list: WireTemplate[] }
  | { type: 'events'; events: WireEvent[] }
  | { type: 'start'; t0: number }
  | { type: 'end' }
  | { type: 'stop' }
  /** Stop and cancel running statements now, without the grace period. */
  | { type: 'cancel' };

/** Messages from an executor to the main thread. */
export type FromExecutor =
  | BatchMessage
  | IncidentMessage
  | { type: 'starved' }
  | { type: 'ready' }
  | { type: 'done'; summary: ExecutorSummary }
  /** The executor could not start or run: the whole error (`{name, code, message, details, stack}`). */
  | { type: 'failed'; error: SerializedError };

/** This thread's `performance.timeOrigin`: fixed for the thread's life, and a getter call to read. */
const ORIGIN = performance.timeOrigin;

/** Absolute wall time in ms with sub-ms resolution, comparable across threads. */
export function nowMs(): number {
  return ORIGIN + performance.now();
}

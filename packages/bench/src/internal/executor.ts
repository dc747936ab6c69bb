import type { EventLoopUtilization } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { errorKey } from './faults';
import type { BoundQuery, ExecOutcome } from '../bound-query';
import type { DbSession } from '../db-plugin';
import {
  F_CLASS,
  F_END_MS,
  F_LAG_MS,
  F_LATENCY_MS,
  F_ROWS,
  F_SERVICE_MS,
  F_TPL,
  TPL_CONNECTED,
  REC,
  nowMs,
} from './wire';
import { CpuWaitMeter, threadCpuWaitMs } from './cpu-wait';
import { Alarm } from './alarm';
import { settleWithin } from './settle-within';
import { DueQueue, INLINE_MS } from './schedule';
import type {
  BatchMessage,
  ExecutorSummary,
  LoopTime,
  IncidentMessage,
  ToExecutor,
  WireEvent,
  WireTemplate,
} from './wire';

/** Where an executor sends what it measures. */
export interface ExecutorSink {
  batch(msg: BatchMessage): void;
  incident(msg: IncidentMessage): void;
  /** All connections are held by sessions inside a transaction waiting for their next event. */
  starved(): void;
}

/**
 * The serialisable part of an executor's configuration: the same object configures the inline
 * executor and, inside a `WorkerTask`, the one a piscina worker runs.
 */
export interface ExecutorSettings {
  /** Most connections this executor opens. */
  connections: number;
  /** Closed loop: no schedule, latency from the actual start. */
  closed: boolean;
  /** Give up reconnecting after this long (default 30 s); the session is then aborted. */
  reconnectTimeoutMs?: number;
  /**
   * The statement deadline of a plugin without one of its own (ms; see
   * `BenchOptions.statementTimeoutMs`): applied where connections are opened (the runner, a
   * worker), not by the executor.
   */
  statementTimeoutMs?: number;
  /** Stop at the first failed query. */
  failFast?: boolean;
  /** Scheduler: check every event-loop turn this long before a due time (ms, default 0 = timers only). */
  spinMs?: number;
  /**
   * Scheduler wake-ups: `alarm` (default), a helper thread with microsecond resolution that wakes
   * the event loop (alarm.ts); `timer`, `setTimeout` plus the optional `spinMs` final approach.
   */
  scheduler?: 'alarm' | 'timer';
  /**
   * After a stop, how long running statements may take before they are cancelled (ms, default
   * 5000). The executor is done at most ~{@link FORCE_AFTER_CANCEL_MS} after that.
   */
  stopGraceMs?: number;
}

/** Configuration of an {@link Executor}. */
export interface ExecutorConfig extends ExecutorSettings {
  /** Opens one connection. */
  connect: () => Promise<DbSession>;
  sink: ExecutorSink;
  /** A connection already open (single-connection targets share it with setup). Not closed at the end. */
  shared?: DbSession;
  /** Records per batch (default 2048). */
  batchSize?: number;
  /** Flush interval (default 50 ms). */
  flushIntervalMs?: number;
}

/** After the cancel requests, how long the executor waits before it abandons statements (ms). */
export const FORCE_AFTER_CANCEL_MS = 600;
/** Connections {@link Executor.preconnect} opens at once. */
export const PRECONNECT_PARALLEL = 16;
/**
 * Most statements of one session handed to a plugin's `runBatch` at once (closed loop, and the
 * timed batches of replay and open loop).
 */
export const MAX_BATCH = 128;
/** A timed batch this long or longer ends at its widest gap (`#cutAtWidestGap`). */
const CUT_MIN = 4;
/** Longest wait for a connection to close at the end (ms); a stuck close is abandoned. */
const CLOSE_TIMEOUT_MS = 300;

const yieldMacrotask = (): Promise<void> => new Promise((r) => setImmediate(r));

interface Conn {
  session: DbSession;
  shared: boolean;
}

interface Session {
  readonly id: string;
  queue: (WireEvent | undefined)[];
  head: number;
  conn: Conn | null;
  inTxn: boolean;
  running: boolean;
  dead: boolean;
  /** Stopped with events left. */
  cut: boolean;
  /** Due time of the latest scheduled event (keeps a session's events in order). */
  lastDue: number;
  /** When its previous statement completed (absolute ms; -Infinity before the first). */
  prevEnd: number;
  /** In the schedule: waiting for its next event's due time or think time (replay, open loop). */
  sleeping: boolean;
  waiter: { resolve: (c: Conn) => void; reject: (e: unknown) => void } | null;
}

/** This thread's event-loop time and CPU wait so far (the runner's client gauges, metrics.ts). */
function loopTime(): LoopTime {
  const { active, idle } = performance.eventLoopUtilization();
  const cpuWait = threadCpuWaitMs();
  return cpuWait === undefined ? { active, idle } : { active, idle, cpuWait };
}

/** Thrown to waiting sessions when the executor stops. */
class Stopped extends Error {}
const STOPPED = new Stopped('stopped');

/**
 * A connect error as an incident quotes it: its message without the `[stb] [db:…]` prefix (the
 * incident is the run's own line).
 */
function connectFailure(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.replace(/^\[stb\](?: \[[^\]]*\])* /, '');
}

/** True when a connect error is the server refusing more connections (`unreachableError`). */
function refusedAsFull(err: unknown): boolean {
  const details = (err as { details?: { refused?: unknown } } | null)?.details;
  return details?.refused !== undefined;
}

const EXEC_CTX = {};
const THROWN: ExecOutcome = Object.freeze({
  ok: false,
  rows: 0,
  errorClass: 'client',
});
/** Ends a transaction left open by a stop (not measured). */
const ROLLBACK: BoundQuery = Object.freeze({
  templateId: 'stb_stop_rollback',
  text: 'ROLLBACK',
  params: [],
  queryType: 'TCL',
});

/**
 * A plugin's wire time clamped to `[lo, hi]` (the call's own bounds), NaN without one. Plain
 * numbers, no bounds object: it runs twice per statement.
 */
function wireTime(t: number | undefined, lo: number, hi: number): number {
  if (t === undefined || Number.isNaN(t)) return NaN;
  return t < lo ? lo : t > hi ? hi : t;
}

/** A statement's times, as {@link Executor.#write} records them. */
interface StatementTimes {
  sent: number;
  done: number;
  /** Its due time (replay, open loop); unused in closed loop. */
  due: number;
}

/** The statement of an event, ready for a plugin. */
function boundQuery(tpl: WireTemplate, ev: WireEvent): BoundQuery {
  return {
    templateId: tpl.id,
    text: tpl.text,
    params: ev[2],
    queryType: tpl.queryType,
  };
}

/** Whether a session is inside a transaction after a statement of `tpl` (assumed to succeed). */
function txnAfter(inTxn: boolean, tpl: WireTemplate): boolean {
  return tpl.txn === 'begin' ? true : tpl.txn === 'end' ? false : inTxn;
}

/** Closes a connection, giving up after {@link CLOSE_TIMEOUT_MS} (a driver waiting on a dead server). */
function closeBounded(c: Conn): Promise<void> {
  if (c.shared) return Promise.resolve();
  return settleWithin(
    c.session.close().catch(() => undefined),
    CLOSE_TIMEOUT_MS,
    undefined,
  );
}

/**
 * Whether an outcome is the stop's own cancel: the server's answer to a cancel request (57014,
 * query_canceled) or to `KILL QUERY` (1317). Any other error after the stop's cancel is the
 * database's and is measured as such.
 */
function cutByStop(out: ExecOutcome): boolean {
  return !out.ok && (out.errorCode === '57014' || out.errorCode === '1317');
}

/**
 * Runs the events of many sessions on a bounded set of connections. A session keeps its connection
 * while it has work or is inside a transaction; between transactions it hands the connection to
 * a waiting session (FIFO). Used inside worker threads and, for single-connection targets, inline.
 */
export class Executor {
  readonly done: Promise<ExecutorSummary>;
  readonly #cfg: ExecutorConfig;
  readonly #templates: WireTemplate[] = [];
  readonly #sessions = new Map<string, Session>();
  readonly #waiters: Session[] = [];
  readonly #idle: Conn[] = [];
  /** Sessions holding a connection while not running. */
  readonly #parked = new Set<Session>();
  /** Connections with a statement in flight (cancelled when a stop's grace period ends). */
  readonly #busy = new Set<Conn>();
  /** Rollbacks of parked sessions' transactions started by a stop. */
  #rollingBack = 0;
  #graceTimer: ReturnType<typeof setTimeout> | undefined;
  #forceTimer: ReturnType<typeof setTimeout> | undefined;
  /** Records counted at the previous flush tick (the starvation watchdog). */
  #progressAtTick = -1;
  #progress = 0;
  /**
   * Replay/open loop: sessions waiting for the due time of their next event (or its think time);
   * one armed wake-up per executor. A session is in it only while idle: the events behind its
   * first wait in its own queue, so no wake-up comes while a statement of its is in flight (such
   * a wake-up had nothing to start).
   */
  readonly #schedule: DueQueue<Session>;
  #t0 = 0;
  #started = false;
  /** The thread's event-loop utilisation at the start (for {@link ExecutorSummary.busy}). */
  #elu0: EventLoopUtilization | undefined;
  /** The thread's wait for a CPU from the start (for {@link ExecutorSummary.cpuWait}). */
  #waits: CpuWaitMeter | undefined;
  #opened = 0;
  /** {@link Executor.preconnect}'s work (the executor's end waits for it to settle). */
  #connecting: Promise<void> | undefined;
  #running = 0;
  #inFlight = 0;
  /** Statements of running batches beyond the one counted in {@link #inFlight}. */
  #batched = 0;
  /** Aborted by a stop: a running batch starts no more statements. */
  readonly #abort = new AbortController();
  readonly #batchCtx = { signal: this.#abort.signal };
  #ended = false;
  #stopping = false;
  #finished = false;
  #notRun = 0;
  #reconnects = 0;
  /**
   * The stop cancelled the statements in flight (its grace was over): a cancel error answered from
   * then on ({@link cutByStop}) is the tool's own, not the database's, so the statement counts as
   * not run (and its session as aborted) instead of as a measured error past the end of the run.
   */
  #cancelledAtStop = false;
  #ack = 0;
  /** Records in the batch buffer that are no statement ({@link #connected}). */
  #marks = 0;
  #lastYield = 0;
  /** Set by a `setImmediate` callback: the event loop has turned since the last yield check. */
  #turned = true;
  readonly #markTurn = (): void => {
    this.#turned = true;
  };
  #buf: Float64Array;
  /** The times {@link #write} records next: one object, filled per statement (no allocation). */
  readonly #rec: StatementTimes = {
    sent: 0,
    done: 0,
    due: NaN,
  };
  #n = 0;
  #classes = new Map<string, number>();
  #newClasses: string[] = [];
  readonly #timer: ReturnType<typeof setInterval>;
  #resolve!: (s: ExecutorSummary) => void;

  constructor(cfg: ExecutorConfig) {
    this.#cfg = cfg;
    this.#buf = new Float64Array((cfg.batchSize ?? 2048) * REC);
    this.done = new Promise((r) => (this.#resolve = r));
    this.#schedule = new DueQueue<Session>({
      now: () => nowMs() - this.#t0,
      dispatch: (s) => {
        s.sleeping = false;
        if (!s.running) void this.#drive(s);
      },
      ...(cfg.spinMs !== undefined ? { spinMs: cfg.spinMs } : {}),
      ...(cfg.scheduler !== 'timer' && !cfg.closed
        ? {
            alarm: (fire: () => void) => {
              // fires INLINE_MS early: the queue spins that last stretch (its inline wait)
              const a = new Alarm({ fire, leadMs: INLINE_MS });
              return {
                ready: a.ready,
                arm: (at: number) => a.arm(this.#t0 + at),
                disarm: () => a.disarm(),
                close: () => a.close(),
              };
            },
          }
        : {}),
    });
    this.#timer = setInterval(() => {
      this.#flush();
      this.#watchdog();
    }, cfg.flushIntervalMs ?? 50);
    if (cfg.shared) this.#idle.push({ session: cfg.shared, shared: true });
    if (cfg.shared) this.#opened = 1;
  }

  /**
   * Opens every connection up front, so the schedule does not pay for connecting: up to
   * {@link PRECONNECT_PARALLEL} at a time (one after the other, 8 connections to a local
   * PostgreSQL took about 100 ms, 8 at once about 60). If one fails, the others are closed once
   * they settle, the executor stops its timers and the first error is thrown. A stop while they
   * open starts no more of them and closes those that open; the executor's end waits for that.
   */
  preconnect(): Promise<void> {
    this.#connecting = this.#preconnect();
    return this.#connecting;
  }

  async #preconnect(): Promise<void> {
    await this.#schedule.warmUp();
    const need = this.#cfg.connections - this.#opened;
    if (need <= 0 || this.#stopping) return;
    this.#opened += need;
    const opened: Conn[] = [];
    let failure: { err: unknown } | null = null;
    let next = 0;
    const worker = async (): Promise<void> => {
      while (failure === null && next < need && !this.#stopping) {
        next++;
        try {
          opened.push({ session: await this.#cfg.connect(), shared: false });
        } catch (err) {
          failure ??= { err };
        }
      }
    };
    await Promise.all(
      Array.from({ length: Math.min(need, PRECONNECT_PARALLEL) }, worker),
    );
    if (failure !== null || this.#stopping) {
      await Promise.all(opened.map(closeBounded));
      this.#opened -= need;
    }
    if (failure !== null) {
      // the run fails before it starts: its timers and alarm thread would keep the process alive
      this.#finished = true;
      this.#stopTimers();
      throw (failure as { err: unknown }).err;
    }
    if (!this.#stopping) this.#idle.push(...opened);
  }

  /** {@link Executor.handle}: an inline lane posts to its executor as to a worker's port. */
  postMessage(msg: ToExecutor): void {
    this.handle(msg);
  }

  /** Handles one message from the main thread. */
  handle(msg: ToExecutor): void {
    switch (msg.type) {
      case 'templates':
        for (const t of msg.list) this.#templates[t.index] = t;
        break;
      case 'start':
        this.#t0 = msg.t0;
        this.#started = true;
        this.#elu0 = performance.eventLoopUtilization();
        this.#waits = new CpuWaitMeter();
        this.#schedule.run();
        break;
      case 'events':
        this.push(msg.events);
        break;
      case 'end':
        this.#ended = true;
        this.#release();
        this.#maybeDone();
        break;
      case 'stop':
        this.stop();
        break;
      case 'cancel':
        this.stop();
        this.cancelNow();
        break;
    }
  }

  /** Queues events; in closed mode sessions start at once, else when each event is due. */
  push(events: readonly WireEvent[]): void {
    const { closed } = this.#cfg;
    for (const ev of events) {
      let s = this.#sessions.get(ev[0]);
      if (s === undefined) {
        s = {
          id: ev[0],
          queue: [],
          head: 0,
          conn: null,
          inTxn: false,
          running: false,
          dead: false,
          cut: false,
          lastDue: -Infinity,
          prevEnd: -Infinity,
          sleeping: false,
          waiter: null,
        };
        this.#sessions.set(ev[0], s);
      }
      if (s.dead || this.#stopping) {
        this.#notRun++;
        this.#ack++;
        continue;
      }
      if (closed) {
        s.queue.push(ev);
        if (!s.running) void this.#drive(s);
        continue;
      }
      // a session's events keep their order even if the trace's times do not
      if (!(ev[3] >= s.lastDue)) ev[3] = s.lastDue;
      s.lastDue = ev[3];
      s.queue.push(ev);
      // the first event of an idle session: wake it when due (a running session sees it itself)
      if (!s.running && !s.sleeping && s.head === s.queue.length - 1) {
        s.sleeping = true;
        this.#schedule.push(ev[3], s);
      }
    }
    if (!closed && this.#started) this.#schedule.run();
  }

  /**
   * Stops: queued events are dropped (counted as not run), open transactions of idle sessions are
   * rolled back at once (a parked session may hold the locks a running one waits for), running
   * statements get `stopGraceMs` to finish and are then cancelled; a statement still running
   * {@link FORCE_AFTER_CANCEL_MS} later is abandoned with its connection.
   */
  stop(): void {
    if (this.#stopping) return;
    this.#stopping = true;
    this.#abort.abort();
    // waiting sessions' events are still in their queues: dropped below
    for (const s of this.#schedule.drain()) s.sleeping = false;
    for (const s of this.#sessions.values()) {
      if (!s.running) this.#drop(s);
    }
    for (const w of this.#waiters.splice(0)) {
      const waiter = w.waiter;
      w.waiter = null;
      waiter?.reject(STOPPED);
    }
    for (const p of this.#parked) if (p.inTxn) void this.#rollbackParked(p);
    this.#graceTimer = setTimeout(
      () => this.cancelNow(),
      this.#cfg.stopGraceMs ?? 5000,
    );
    this.#maybeDone();
  }

  /** Cancels every statement in flight now (after a stop; a second stop request skips the grace). */
  cancelNow(): void {
    if (this.#finished || this.#forceTimer !== undefined) return;
    if (this.#graceTimer !== undefined) clearTimeout(this.#graceTimer);
    this.#cancelledAtStop = true;
    if (this.#busy.size > 0)
      this.#cfg.sink.incident({
        type: 'incident',
        kind: 'aborted',
        message: `Stopping: cancelled ${String(this.#busy.size)} running statement(s).`,
        at: nowMs(),
      });
    for (const c of this.#busy)
      void c.session.cancel?.().catch(() => undefined);
    this.#forceTimer = setTimeout(() => {
      if (this.#finished) return;
      // statements that ignored the cancel: abandon them (their connections are closed)
      if (this.#busy.size > 0)
        this.#cfg.sink.incident({
          type: 'incident',
          kind: 'aborted',
          message: `Stopping: abandoned ${String(this.#busy.size)} statement(s) still running after the cancel; their connections were closed.`,
          at: nowMs(),
        });
      this.#notRun += this.#inFlight + this.#batched;
      for (const s of this.#sessions.values()) if (s.running) s.cut = true;
      this.#finished = true;
      void this.#finish();
    }, FORCE_AFTER_CANCEL_MS);
  }

  /** Runs ROLLBACK on a session's connection (unmeasured) when it is inside a transaction. */
  async #endTxn(s: Session): Promise<void> {
    const c = s.conn;
    if (c === null || !s.inTxn) return;
    s.inTxn = false;
    this.#busy.add(c);
    try {
      const out = await c.session.execute(ROLLBACK, EXEC_CTX);
      if (!out.ok && out.connectionLost === true) s.conn = null;
    } catch {
      s.conn = null;
    } finally {
      this.#busy.delete(c);
    }
  }

  async #rollbackParked(s: Session): Promise<void> {
    this.#rollingBack++;
    try {
      await this.#endTxn(s);
    } finally {
      this.#rollingBack--;
      this.#maybeDone();
    }
  }

  #drop(s: Session): void {
    const left = s.queue.length - s.head;
    if (left > 0) {
      s.cut = true;
      this.#notRun += left;
      this.#ack += left;
      s.queue = [];
      s.head = 0;
    }
  }

  /** Counts the statement just written at offset `#n * REC` ({@link #written}). */
  #recorded(): void {
    this.#ack++;
    this.#progress++;
    this.#written();
  }

  /** Counts the record just written at offset `#n * REC`, and flushes a full buffer. */
  #written(): void {
    this.#n++;
    if ((this.#n + 1) * REC > this.#buf.length) this.#flush();
  }

  /**
   * Records that a session opened a connection, once the workload has started: the target
   * answered, so an outage window ends there even when no statement runs before the run ends (a
   * session that reconnected and waits for its next statement's due time).
   */
  #connected(): void {
    if (this.#t0 === 0) return;
    const o = this.#n * REC;
    this.#buf.fill(NaN, o, o + REC);
    this.#buf[o + F_TPL] = TPL_CONNECTED;
    this.#buf[o + F_CLASS] = -1;
    this.#buf[o + F_END_MS] = nowMs() - this.#t0;
    this.#marks++;
    this.#written();
  }

  #classIndex(cls: string): number {
    let i = this.#classes.get(cls);
    if (i === undefined) {
      i = this.#classes.size;
      this.#classes.set(cls, i);
      this.#newClasses.push(cls);
    }
    return i;
  }

  #flush(): void {
    if (this.#n === 0 && this.#ack === 0 && this.#newClasses.length === 0)
      return;
    const buf = this.#buf.subarray(0, this.#n * REC).slice();
    let active = 0;
    for (const s of this.#sessions.values()) if (s.conn !== null) active++;
    const msg: BatchMessage = {
      type: 'batch',
      buf,
      n: this.#n,
      marks: this.#marks,
      classes: this.#newClasses,
      ack: this.#ack,
      inFlight: this.#inFlight,
      active,
      loop: loopTime(),
    };
    this.#n = 0;
    this.#marks = 0;
    this.#ack = 0;
    this.#newClasses = [];
    this.#cfg.sink.batch(msg);
  }

  /**
   * Sessions outnumber connections and a session waits for one, while a parked session holds a
   * connection inside its transaction (perhaps with the locks a running statement waits for):
   * when nothing finished since the last tick, ask for more events, since the parked session's
   * next statement may lie beyond the window.
   */
  #watchdog(): void {
    const stalled = this.#progress === this.#progressAtTick;
    this.#progressAtTick = this.#progress;
    if (!stalled || this.#stopping || this.#waiters.length === 0) return;
    for (const p of this.#parked)
      if (p.inTxn) {
        this.#cfg.sink.starved();
        return;
      }
  }

  /**
   * A connection for a session: attempts with backoff (50 ms doubling to 2 s) until one succeeds or
   * `reconnectTimeoutMs` has passed since the first, then throws the last attempt's error.
   */
  async #open(): Promise<Conn> {
    const deadline = nowMs() + (this.#cfg.reconnectTimeoutMs ?? 30_000);
    let delay = 50;
    for (;;) {
      try {
        const session = await this.#cfg.connect();
        this.#connected();
        return { session, shared: false };
      } catch (err) {
        // a stop ends the attempts: the session did not give up, the run ended
        if (this.#stopping) throw STOPPED;
        // the last attempt starts at the deadline: a session gives up only after trying for the
        // whole timeout
        const left = deadline - nowMs();
        if (left <= 0) throw err;
        // a stop ends the nap (its abort rejects it)
        await sleep(Math.min(delay, left), undefined, {
          signal: this.#abort.signal,
        }).catch(() => undefined);
        if (this.#stopping) throw STOPPED;
        delay = Math.min(delay * 2, 2000);
      }
    }
  }

  async #acquire(s: Session): Promise<Conn> {
    const idle = this.#idle.pop();
    if (idle !== undefined) return idle;
    if (this.#opened < this.#cfg.connections) {
      this.#opened++;
      try {
        return await this.#open();
      } catch (err) {
        this.#opened--;
        throw err;
      }
    }
    for (const p of this.#parked) {
      if (!p.inTxn && p.conn !== null) {
        const c = p.conn;
        p.conn = null;
        this.#parked.delete(p);
        return c;
      }
    }
    if (this.#parked.size > 0 && this.#running === this.#waiters.length)
      this.#cfg.sink.starved();
    if (this.#stopping) throw STOPPED;
    const waiting = new Promise<Conn>((resolve, reject) => {
      s.waiter = { resolve, reject };
      this.#waiters.push(s);
    });
    if (this.#ended) this.#release();
    return waiting;
  }

  #giveBack(c: Conn): void {
    const w = this.#waiters.shift();
    if (w?.waiter) {
      const { resolve } = w.waiter;
      w.waiter = null;
      resolve(c);
    } else this.#idle.push(c);
  }

  /**
   * Frees connections of parked sessions outside transactions when others wait or the stream
   * ended. Once it ended, a parked session inside a transaction with nothing left to run (the
   * trace, or `--max-queries`, cut the transaction) will never commit: its transaction is rolled
   * back at once and the connection handed on. Kept open, it held its connection for ever while
   * sessions waited for one, and its locks for ever while another session's statement waited for
   * them in the database (a capture cut after a client's `UPDATE pgbench_branches` and before its
   * `END`, with another client's `UPDATE` of the same row after it: the run never ended).
   */
  #release(): void {
    for (const p of [...this.#parked]) {
      if (this.#waiters.length === 0 && !this.#ended) break;
      if (!p.inTxn && p.conn !== null) {
        const c = p.conn;
        p.conn = null;
        this.#parked.delete(p);
        this.#giveBack(c);
      } else if (this.#ended && p.inTxn && p.head >= p.queue.length)
        void this.#endCutTxn(p);
    }
  }

  /** {@link Executor.#release}: rolls back a cut transaction and hands its connection on. */
  async #endCutTxn(s: Session): Promise<void> {
    // out of the parked set at once: no second release takes its connection mid-rollback
    this.#parked.delete(s);
    await this.#rollbackParked(s);
    const c = s.conn;
    if (c !== null) {
      s.conn = null;
      this.#giveBack(c);
    } else {
      // the connection was lost during the rollback: open another for the session waiting
      const w = this.#waiters.shift();
      if (w?.waiter) {
        const waiter = w.waiter;
        w.waiter = null;
        this.#open().then(waiter.resolve, (err: unknown) => {
          this.#opened--;
          waiter.reject(err);
        });
      } else this.#opened--;
    }
    this.#maybeDone();
  }

  async #reconnect(s: Session, reason: string): Promise<void> {
    const old = s.conn;
    s.conn = null;
    s.inTxn = false;
    if (old !== null) {
      if (!old.shared) await old.session.close().catch(() => undefined);
      this.#opened--;
    }
    this.#reconnects++;
    this.#cfg.sink.incident({
      type: 'incident',
      kind: 'reconnect',
      message: `Connection lost (${reason}); the session reconnects.`,
      at: nowMs(),
    });
    // At once, not for the session's next statement: the connection that opens (#connected) ends
    // the outage window where the target answered again, and a target that does not answer is
    // known at the end of the run, or stops it (the reconnect timeout). Until 2026-12-07 a session
    // with no statement due before the run ended never asked, and its window stayed open. A new
    // connection, not an idle one: it is the target's answer. Not for a session that has run its
    // last statement (the trace has ended): the run's end does not wait for its reconnection.
    if (
      old !== null &&
      !old.shared &&
      !this.#stopping &&
      !(this.#ended && s.head >= s.queue.length) &&
      this.#opened < this.#cfg.connections
    ) {
      this.#opened++;
      let conn: Conn;
      try {
        conn = await this.#open();
      } catch (err) {
        this.#opened--;
        throw err;
      }
      // the executor was finished meanwhile (a forced end): the connection is not kept
      if (this.#finished) {
        await closeBounded(conn);
        return;
      }
      s.conn = conn;
    }
  }

  async #drive(s: Session): Promise<void> {
    s.running = true;
    this.#running++;
    this.#parked.delete(s);
    const { closed } = this.#cfg;
    const t0 = this.#t0;
    try {
      while (s.head < s.queue.length && !this.#stopping) {
        const ev = s.queue[s.head] as WireEvent;
        const due = this.#dueOf(ev, s.prevEnd);
        // moved later by the think time: it waits in the schedule for that time
        if (due > t0 + ev[3] && due > nowMs()) {
          ev[3] = due - t0;
          ev[4] = NaN;
        }
        // not due yet (timed modes): wait in the schedule, on its clock (`nowMs() - t0`), unless
        // the plugin waits for the due time itself (a timed batch)
        if (!closed && ev[3] > nowMs() - t0 && !this.#waitsInPlugin(s)) {
          s.sleeping = true;
          this.#schedule.push(ev[3], s);
          break;
        }
        s.queue[s.head++] = undefined;
        const tpl = this.#templates[ev[1]] as WireTemplate;
        try {
          s.conn ??= await this.#acquire(s);
        } catch (err) {
          this.#notRun++;
          this.#ack++;
          throw err;
        }
        // a stop while it waited for a connection (or opened one): the statement is not started
        if (this.#stopping) {
          this.#notRun++;
          this.#ack++;
          break;
        }
        if (this.#batches(s.conn.session)) {
          await this.#runBatch(s, ev, due);
          if (this.#finished) return;
          continue;
        }
        const query = boundQuery(tpl, ev);
        const start = nowMs();
        this.#inFlight++;
        const conn = s.conn;
        this.#busy.add(conn);
        let out: ExecOutcome;
        try {
          out = await conn.session.execute(query, EXEC_CTX);
        } catch {
          // plugins return errors as outcomes; a throw is a plugin bug, counted as `client`
          out = THROWN;
        }
        this.#busy.delete(conn);
        this.#inFlight--;
        // abandoned by a forced stop (counted as not run); nothing more is recorded
        if (this.#finished) return;
        // cancelled by the stop: back to the queue, which the stop counts as not run (#drop)
        if (this.#cancelledAtStop && cutByStop(out)) {
          s.queue[--s.head] = ev;
          break;
        }
        const end = nowMs();
        // the plugin's wire times, when it has them (kept inside the call): the service time is
        // then the database's alone, without what this thread spent before the write and after
        // the read (issue 16)
        this.#wireTimes(out, start, end);
        this.#rec.due = due;
        this.#write(s, ev[1], out);
        if (!out.ok && this.#cfg.failFast === true) {
          this.#flush();
          this.stop();
        }
        // Drivers that answer synchronously (SQLite) must not starve timers and I/O: once a
        // millisecond, yield unless the event loop turned by itself since the last check
        // (network drivers always let it turn, and a forced yield would only delay them).
        if (end - this.#lastYield > 1) {
          this.#lastYield = end;
          if (!this.#turned) await yieldMacrotask();
          this.#turned = false;
          setImmediate(this.#markTurn);
        }
        if (!out.ok && out.connectionLost === true)
          await this.#reconnect(
            s,
            out.errorCode ?? out.errorClass ?? 'unknown',
          );
        this.#handOn(s);
      }
    } catch (err) {
      if (err === STOPPED) return;
      // could not (re)connect within the timeout: the session is aborted, and unless the server
      // only refused more connections (others may be working), the runner stops the run
      s.dead = true;
      this.#cfg.sink.incident({
        type: 'incident',
        kind: 'connection-lost',
        message: `A session could not connect within the reconnect timeout (${String((this.#cfg.reconnectTimeoutMs ?? 30_000) / 1000)} s) and was aborted; the last attempt: ${connectFailure(err)}`,
        at: nowMs(),
        targetLost: !refusedAsFull(err),
      });
    } finally {
      // a stop never leaves a transaction open (nor the locks it holds)
      if (this.#stopping && s.inTxn && !this.#finished) await this.#endTxn(s);
      s.running = false;
      this.#running--;
      if (this.#stopping || s.dead) this.#drop(s);
      if (s.conn !== null) {
        if (!s.inTxn && (this.#waiters.length > 0 || this.#ended)) {
          const c = s.conn;
          s.conn = null;
          this.#giveBack(c);
        } else {
          this.#parked.add(s);
          if (this.#ended) this.#release();
        }
      }
      this.#maybeDone();
      // armed only now: a wake-up dispatched while it was still running would be lost; and only
      // after its connection went where it goes, since the schedule may start this session again
      // at once (its next statement due within the inline wait). Run before that, the new drive
      // ran on the connection this one then gave away, and two sessions shared it until
      // 2026-12-06 (connection-exclusive.test.ts: 368 overlaps in 8,000 statements)
      if (s.sleeping) this.#schedule.run();
    }
  }

  /**
   * Sets {@link #rec}'s send and completion times of a statement that ran between `from` and `end`
   * on this thread's clock: the plugin's wire times where it has them (kept within that span),
   * else `from` and `end`.
   */
  #wireTimes(out: ExecOutcome, from: number, end: number): void {
    const r = this.#rec;
    const sent = wireTime(out.sentAt, from, end);
    r.sent = Number.isNaN(sent) ? from : sent;
    const done = wireTime(out.doneAt, r.sent, end);
    r.done = Number.isNaN(done) ? end : done;
  }

  /**
   * Writes a statement, its times in {@link #rec} (on this thread's clock, `due` unused in closed
   * loop), to the batch buffer, counts it, and follows the session's transaction state.
   */
  #write(s: Session, tplIndex: number, out: ExecOutcome): void {
    const { sent, done, due } = this.#rec;
    const closed = this.#cfg.closed;
    const b = this.#buf;
    const o = this.#n * REC;
    b[o + F_TPL] = tplIndex;
    b[o + F_LATENCY_MS] = closed ? done - sent : done - due;
    b[o + F_LAG_MS] = closed ? NaN : sent - due;
    b[o + F_CLASS] = out.ok
      ? -1
      : this.#classIndex(errorKey(out, this.#classes.size));
    b[o + F_ROWS] = out.rows;
    b[o + F_END_MS] = done - this.#t0;
    b[o + F_SERVICE_MS] = done - sent;
    s.prevEnd = done;
    this.#recorded();
    const txn = (this.#templates[tplIndex] as WireTemplate).txn;
    if (txn === 'begin' && out.ok) s.inTxn = true;
    else if (txn === 'end') s.inTxn = false;
  }

  /**
   * Whether a session's statements go to the plugin in batches: in closed loop where it has
   * `runBatch`, in replay and open loop where that also honours due times (`timedBatches`); never
   * with `--fail-fast` (the run stops at the first failure, not at the end of a batch).
   */
  #batches(session: DbSession): boolean {
    if (this.#cfg.failFast === true || session.runBatch === undefined)
      return false;
    return this.#cfg.closed || session.timedBatches === true;
  }

  /**
   * Whether a session's next statement, not yet due, goes to the plugin now in a timed batch that
   * waits for its due time on the plugin's own thread (to the microsecond), rather than in the
   * schedule, whose wake-up on this thread then the batch's hand-off would be the statement's lag
   * (issue 16: after each batch the first statement of the next was the late one). Only while
   * every session can have a connection of its own: the batch holds the connection until the due
   * time (at most the dispatcher's look-ahead), where a session parked in the schedule lends it
   * to a session that needs one.
   */
  #waitsInPlugin(s: Session): boolean {
    return (
      s.conn !== null && this.#connectionEach() && this.#batches(s.conn.session)
    );
  }

  /** Whether every session (so far) can have a connection of its own. */
  #connectionEach(): boolean {
    return this.#sessions.size <= this.#cfg.connections;
  }

  /**
   * A plugin that runs statements back to back itself (`runBatch`, issue 16): the session's queued
   * statements go in one call, up to {@link MAX_BATCH}, and while sessions wait for a connection,
   * only to the end of the current transaction (where the single-statement path would hand the
   * connection on). In replay and open loop the batch is timed: the first statement is due at
   * `due` (now or past), each next one at max(its due time, the previous completion + its think
   * time), as {@link #drive} would start it, and the plugin waits for that time itself. Statements
   * that did not run (a stop, a lost connection) go back to the head of the session's queue.
   */
  async #runBatch(s: Session, first: WireEvent, due: number): Promise<void> {
    const conn = s.conn as Conn;
    const session = conn.session as Required<Pick<DbSession, 'runBatch'>>;
    const evs: WireEvent[] = [first];
    let inTxn = txnAfter(s.inTxn, this.#templates[first[1]] as WireTemplate);
    const closed = this.#cfg.closed;
    // where sessions share connections, a timed batch would hold one through the gaps between
    // its statements, while another session's statement is due: it ends with the transaction
    const shares = !closed && !this.#connectionEach();
    while (evs.length < MAX_BATCH && s.head < s.queue.length) {
      if (!inTxn && (shares || this.#waiters.length > 0)) break;
      const ev = s.queue[s.head] as WireEvent;
      s.queue[s.head++] = undefined;
      evs.push(ev);
      inTxn = txnAfter(inTxn, this.#templates[ev[1]] as WireTemplate);
    }
    if (!closed) this.#cutAtWidestGap(s, evs);
    const queries = evs.map((ev) =>
      boundQuery(this.#templates[ev[1]] as WireTemplate, ev),
    );
    const t0 = this.#t0;
    const ctx = closed
      ? this.#batchCtx
      : {
          ...this.#batchCtx,
          timing: {
            due: evs.map((ev, i) => (i === 0 ? due : t0 + ev[3])),
            think: evs.map((ev, i) => (i === 0 ? NaN : ev[4])),
          },
        };
    const start = nowMs();
    this.#inFlight++;
    this.#batched += evs.length - 1;
    this.#busy.add(conn);
    let outs: ExecOutcome[];
    try {
      outs = await session.runBatch(queries, ctx);
    } catch {
      // plugins return errors as outcomes; a throw is a plugin bug, counted as `client`
      outs = [THROWN];
    }
    this.#busy.delete(conn);
    this.#inFlight--;
    this.#batched -= evs.length - 1;
    if (this.#finished) return;
    const end = nowMs();
    const ran = Math.min(outs.length, evs.length);
    let lo = start;
    let lost: ExecOutcome | undefined;
    let recorded = 0;
    for (let i = 0; i < ran; i++) {
      const out = outs[i] as ExecOutcome;
      // cancelled by the stop: back to the queue, which the stop counts as not run (#drop)
      if (this.#cancelledAtStop && cutByStop(out)) break;
      const ev = evs[i] as WireEvent;
      this.#rec.due = closed ? NaN : i === 0 ? due : this.#dueOf(ev, lo);
      this.#wireTimes(out, lo, end);
      lo = this.#rec.done;
      this.#write(s, ev[1], out);
      recorded++;
      if (!out.ok && out.connectionLost === true) {
        lost = out;
        break;
      }
    }
    if (recorded < evs.length) {
      s.head -= evs.length - recorded;
      for (let i = recorded; i < evs.length; i++)
        s.queue[s.head + i - recorded] = evs[i];
    }
    if (lost !== undefined)
      await this.#reconnect(s, lost.errorCode ?? lost.errorClass ?? 'unknown');
    this.#handOn(s);
  }

  /**
   * Ends a timed batch at the widest gap between due offsets in its second half, the statements
   * after it going back to the head of the session's queue. The statement after a batch waits for
   * JavaScript to take the batch's results and send the next one; at the batch's natural end it is
   * as likely as any other to follow at once, and was then late by that turnaround (issue 16).
   */
  #cutAtWidestGap(s: Session, evs: WireEvent[]): void {
    if (evs.length < CUT_MIN) return;
    let cut = 0;
    let widest = -1;
    for (let i = evs.length >> 1; i < evs.length; i++) {
      const gap = (evs[i] as WireEvent)[3] - (evs[i - 1] as WireEvent)[3];
      if (gap > widest) {
        widest = gap;
        cut = i;
      }
    }
    s.head -= evs.length - cut;
    for (let i = cut; i < evs.length; i++) s.queue[s.head + i - cut] = evs[i];
    evs.length = cut;
  }

  /**
   * A statement's due time ({@link #drive}, and a timed batch's statements after the first): its
   * offset, and in replay not before the previous completion (`prevDone`) plus the original think
   * time; in open loop (no think time, NaN) its arrival, so waiting for the previous statement
   * counts as lag.
   */
  #dueOf(ev: WireEvent, prevDone: number): number {
    const at = this.#t0 + ev[3];
    return Number.isNaN(ev[4]) ? at : Math.max(at, prevDone + ev[4]);
  }

  /**
   * After a statement: outside a transaction, the connection goes to a waiting session; the
   * session's queue drops what it ran once that is most of it.
   */
  #handOn(s: Session): void {
    if (!s.inTxn && s.conn !== null && this.#waiters.length > 0) {
      const c = s.conn;
      s.conn = null;
      this.#giveBack(c);
    }
    if (s.head > 1024 && s.head * 2 > s.queue.length) {
      s.queue = s.queue.slice(s.head);
      s.head = 0;
    }
  }

  #maybeDone(): void {
    if (this.#finished || this.#running > 0 || this.#rollingBack > 0) return;
    if (!this.#stopping) {
      if (!this.#ended) return;
      if (this.#schedule.size > 0) return;
      for (const s of this.#sessions.values())
        if (s.head < s.queue.length) return;
    }
    this.#finished = true;
    void this.#finish();
  }

  /** Stops the flush timer, the stop's timers and the schedule (its alarm thread). */
  #stopTimers(): void {
    clearInterval(this.#timer);
    if (this.#graceTimer !== undefined) clearTimeout(this.#graceTimer);
    if (this.#forceTimer !== undefined) clearTimeout(this.#forceTimer);
    this.#schedule.close();
  }

  async #finish(): Promise<void> {
    // measured before the connections close (a stuck close waits idle up to CLOSE_TIMEOUT_MS)
    const busy =
      this.#elu0 === undefined
        ? 0
        : performance.eventLoopUtilization(this.#elu0).utilization;
    const cpuWait = this.#waits?.lap();
    this.#stopTimers();
    // a stop while the connections open: those that open are closed before the end (connects
    // are bounded by the plugin's connect timeout, the whole stop by the runner's)
    await this.#connecting?.catch(() => undefined);
    let completed = 0;
    let aborted = 0;
    let gaveUp = 0;
    for (const s of this.#sessions.values()) {
      if (s.dead) gaveUp++;
      if (s.dead || s.cut || s.head < s.queue.length) aborted++;
      else completed++;
    }
    const conns = new Set<Conn>(this.#idle);
    for (const s of this.#sessions.values()) if (s.conn) conns.add(s.conn);
    for (const c of this.#busy) conns.add(c);
    await Promise.all([...conns].map(closeBounded));
    this.#flush();
    this.#resolve({
      sessions: this.#sessions.size,
      completed,
      aborted,
      gaveUp,
      notRun: this.#notRun,
      reconnects: this.#reconnects,
      busy,
      ...(cpuWait === undefined ? {} : { cpuWait }),
    });
  }
}

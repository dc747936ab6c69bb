import { Worker } from 'node:worker_threads';

/**
 * A sub-millisecond alarm: a tiny worker thread sleeps in `Atomics.wait` with a timeout (the
 * kernel's futex timer, microsecond resolution, where `setTimeout` has whole milliseconds) and,
 * when the deadline comes, wakes the owning thread through `Atomics.notify`, which resolves an
 * `Atomics.waitAsync` promise on the owner's event loop. The owner's event loop never blocks, so
 * responses are read as soon as they arrive. With nothing armed the worker waits without a
 * timeout: an idle runner uses no CPU.
 *
 * The worker wakes `earlyMs` before the deadline and spins to `leadMs` before it (at most
 * `earlyMs − leadMs` of CPU per deadline, plus the kernel's timer slack, 50 µs by default on
 * Linux), then fires. Firing `leadMs` early pays for the owner's own wake-up (the futex wake of its
 * event loop and the promise's callback take tens of µs): the owner spins the last stretch to the
 * deadline itself (`DueQueue` does, for anything due within its `inlineMs`), so the statement
 * starts at its due time instead of one wake-up after it. Both spins happen only with a deadline
 * this close: an idle runner still uses no CPU.
 */

/** Layout of the shared cells: [generation, fired, stop] Int32, then the deadline Float64 (epoch ms). */
const GEN = 0;
const FIRED = 1;
const STOP = 2;

const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const i32 = new Int32Array(workerData.sab, 0, 3);
const f64 = new Float64Array(workerData.sab, 16, 1);
const early = workerData.earlyMs;
const lead = workerData.leadMs;
const now = () => performance.timeOrigin + performance.now();
for (;;) {
  const gen = Atomics.load(i32, 0);
  if (Atomics.load(i32, 2) !== 0) break;
  const at = f64[0];
  if (at === Infinity) { Atomics.wait(i32, 0, gen); continue; }
  const wait = at - early - now();
  if (wait > 0 && Atomics.wait(i32, 0, gen, wait) !== 'timed-out') continue;
  const fireAt = at - lead;
  while (now() < fireAt && Atomics.load(i32, 0) === gen);
  if (Atomics.load(i32, 0) !== gen) continue;
  Atomics.add(i32, 1, 1);
  Atomics.notify(i32, 1);
  Atomics.wait(i32, 0, gen);
}
`;

/** `Atomics.waitAsync` (Node ≥ 16; ES2024, newer than this project's `lib`). */
type WaitAsync = (
  a: Int32Array,
  index: number,
  value: number,
) => { async: boolean; value: Promise<unknown> | string };
const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;

/** Options of an {@link Alarm}. */
export interface AlarmOptions {
  /**
   * Called on the owner's event loop at most `leadMs` before the armed deadline (usually after
   * it: the owner's wake-up takes about that long); the owner spins the rest.
   */
  readonly fire: () => void;
  /** The worker stops sleeping this long before each deadline and spins (ms, default 0.06). */
  readonly earlyMs?: number;
  /** It fires this long before the deadline (ms, default 0; at most `earlyMs`). */
  readonly leadMs?: number;
}

/** One alarm per thread that schedules (see the module comment). */
export class Alarm {
  readonly #i32: Int32Array;
  readonly #f64: Float64Array;
  readonly #worker: Worker;
  readonly #fire: () => void;
  #seen = 0;
  #closed = false;
  /** Resolves once the thread runs (starting one takes tens of ms on a busy machine), or is closed. */
  readonly ready: Promise<void>;
  #settleReady: () => void = () => undefined;

  constructor(options: AlarmOptions) {
    const sab = new SharedArrayBuffer(24);
    this.#i32 = new Int32Array(sab, 0, 3);
    this.#f64 = new Float64Array(sab, 16, 1);
    this.#f64[0] = Infinity;
    this.#fire = options.fire;
    this.#worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: {
        sab,
        earlyMs: options.earlyMs ?? 0.06,
        leadMs: Math.min(options.leadMs ?? 0, options.earlyMs ?? 0.06),
      },
      // a bare thread: no stdio, no env copy, a small heap
      stdout: false,
      stderr: false,
      env: {},
      resourceLimits: {
        maxOldGenerationSizeMb: 8,
        maxYoungGenerationSizeMb: 1,
      },
    });
    this.#worker.unref();
    this.ready = new Promise<void>((resolve) => {
      this.#worker.once('online', () => resolve());
      // a thread that cannot start leaves the alarm silent: the caller's timers still run
      this.#worker.once('error', () => resolve());
      // closed (a stop) before it came online: a terminated thread emits neither, and the thread
      // is unref'd, so an unsettled `ready` left nothing for the event loop to wait for (the
      // bench exited 70 on a SIGTERM during its start-up)
      this.#worker.once('exit', () => resolve());
      this.#settleReady = resolve;
    });
    this.#listen();
  }

  /**
   * Fires once at `at − leadMs` (epoch ms, the `nowMs()` clock); replaces the deadline armed
   * before.
   */
  arm(at: number): void {
    if (this.#closed) return;
    this.#f64[0] = at;
    Atomics.add(this.#i32, GEN, 1);
    Atomics.notify(this.#i32, GEN);
  }

  /** Forgets the armed deadline (the worker goes back to an untimed wait). */
  disarm(): void {
    if (this.#closed || this.#f64[0] === Infinity) return;
    this.#f64[0] = Infinity;
    Atomics.add(this.#i32, GEN, 1);
    Atomics.notify(this.#i32, GEN);
  }

  /** Stops the worker thread. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#settleReady();
    Atomics.store(this.#i32, STOP, 1);
    Atomics.add(this.#i32, GEN, 1);
    Atomics.notify(this.#i32, GEN);
    // settle the pending waitAsync
    Atomics.add(this.#i32, FIRED, 1);
    Atomics.notify(this.#i32, FIRED);
    // a stuck thread must not keep the process alive
    void this.#worker.terminate().catch(() => undefined);
  }

  #listen(): void {
    if (this.#closed) return;
    const r = waitAsync(this.#i32, FIRED, this.#seen);
    if (r.async) void (r.value as Promise<unknown>).then(this.#onFire);
    else queueMicrotask(this.#onFire);
  }

  readonly #onFire = (): void => {
    if (this.#closed) return;
    this.#seen = Atomics.load(this.#i32, FIRED);
    this.#listen();
    this.#fire();
  };
}

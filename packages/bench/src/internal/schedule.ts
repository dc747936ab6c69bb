/**
 * The replay/open-loop scheduler: one per executor (connection group), never one timer per query.
 *
 * Events wait in a binary min-heap keyed by (due time, arrival order). One wake-up is armed for
 * the earliest: a `setTimeout` (timers fire on whole milliseconds), optionally followed by a final
 * approach for the last `spinMs`: event-loop turns (`setImmediate`) with short sleeps
 * (`Atomics.wait`, at most `sliceMs`) between them, so I/O callbacks still run between checks.
 * With `alarm` (the runner's default for replay and open loop), the wake-up is instead a precise
 * alarm: a helper thread sleeps to just before the deadline with microsecond resolution and wakes
 * this thread's event loop, which never blocks (alarm.ts); it fires `inlineMs` early, and the
 * wake-up spins the rest here, so this thread's own wake-up time is not added to the lag. Each
 * wake-up hands over every event that is due at once, so a burst of simultaneous events starts in
 * one turn of the event loop, and an event due within `inlineMs` (30 µs) of a dispatch is waited
 * for in a short spin rather than through the alarm thread. Nothing is ever dispatched before its
 * due time.
 */

/** Options of a {@link DueQueue}. */
export interface DueQueueOptions<T> {
  /** Current time on the same clock as the due times (ms). */
  readonly now: () => number;
  /** Called once per item when it is due, in due order (ties in push order). */
  readonly dispatch: (item: T) => void;
  /**
   * How long before a due time the queue stops sleeping on timers and checks every event-loop
   * turn instead (ms). Default 0: timers only (lag up to about one timer tick, ~1 ms, and little
   * CPU). The final approach cuts the median lag to well under 0.1 ms, at some CPU and with I/O
   * callbacks served up to `sliceMs` late (docs/benchmarking.md has the figures).
   */
  readonly spinMs?: number;
  /**
   * Within `spinMs` of a due time, sleep this long at most (ms) between event-loop turns
   * (`Atomics.wait`), so the final approach takes little CPU yet I/O is still served every
   * `sliceMs`. 0 checks every turn without sleeping (a busy poll). Default 0.1.
   */
  readonly sliceMs?: number;
  /**
   * A precise alarm on the same clock (see `alarm.ts`): when given, every wake-up goes through
   * it instead of `setTimeout` and `spinMs` is ignored.
   */
  readonly alarm?: (fire: () => void) => DueAlarm;
  /**
   * With an alarm: a due time at most this far ahead after a dispatch is waited for here, in a
   * spin, instead of through the alarm (ms, default 0.03). Arming the alarm thread and being
   * woken by it costs two thread wake-ups and its own final spin; a short spin here costs less and
   * holds up reading answers by at most this long.
   */
  readonly inlineMs?: number;
}

/**
 * Default {@link DueQueueOptions.inlineMs}; the executor's alarm fires this long before each
 * deadline (`AlarmOptions.leadMs`), so the final stretch is always this queue's own spin.
 */
export const INLINE_MS = 0.03;

/** What a {@link DueQueue} needs of a precise alarm; `at` is on the queue's clock. */
export interface DueAlarm {
  /** Resolves when the alarm can fire. */
  readonly ready: Promise<void>;
  arm(at: number): void;
  disarm(): void;
  close(): void;
}

const SLEEP_CELL = new Int32Array(new SharedArrayBuffer(4));

/** A timed queue with a single armed wake-up (see the module comment). */
export class DueQueue<T> {
  readonly #now: () => number;
  readonly #dispatch: (item: T) => void;
  readonly #spinMs: number;
  readonly #sliceMs: number;
  readonly #inlineMs: number;
  #due: number[] = [];
  #seq: number[] = [];
  #items: (T | undefined)[] = [];
  #size = 0;
  #nextSeq = 0;
  #armedAt = Infinity;
  #timeout: ReturnType<typeof setTimeout> | undefined;
  #immediate: ReturnType<typeof setImmediate> | undefined;
  #closed = false;
  /** Created at the first wake-up that needs it. */
  #alarm: DueAlarm | undefined;
  readonly #makeAlarm: ((fire: () => void) => DueAlarm) | undefined;

  constructor(options: DueQueueOptions<T>) {
    this.#now = options.now;
    this.#dispatch = options.dispatch;
    this.#spinMs = Math.max(0, options.spinMs ?? 0);
    this.#sliceMs = Math.max(0, options.sliceMs ?? 0.1);
    this.#makeAlarm = options.alarm;
    this.#inlineMs =
      options.alarm === undefined
        ? 0
        : Math.max(0, options.inlineMs ?? INLINE_MS);
  }

  /** Items waiting. */
  get size(): number {
    return this.#size;
  }

  /** Due time of the earliest item (Infinity when empty). */
  get nextDue(): number {
    return this.#size > 0 ? (this.#due[0] as number) : Infinity;
  }

  /** Starts the precise alarm now (if any), so the first wake-up does not wait for its thread. */
  warmUp(): Promise<void> {
    if (this.#makeAlarm === undefined || this.#closed) return Promise.resolve();
    this.#alarm ??= this.#makeAlarm(this.#wake);
    return this.#alarm.ready;
  }

  /** Adds an item; call {@link DueQueue.run} after a batch of pushes. */
  push(due: number, item: T): void {
    let i = this.#size++;
    const seq = this.#nextSeq++;
    const d = this.#due;
    const s = this.#seq;
    const it = this.#items;
    // sift up
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pd = d[p] as number;
      if (pd < due || (pd === due && (s[p] as number) < seq)) break;
      d[i] = pd;
      s[i] = s[p] as number;
      it[i] = it[p];
      i = p;
    }
    d[i] = due;
    s[i] = seq;
    it[i] = item;
  }

  #pop(): T {
    const d = this.#due;
    const s = this.#seq;
    const it = this.#items;
    const top = it[0] as T;
    const n = --this.#size;
    const lastDue = d[n] as number;
    const lastSeq = s[n] as number;
    const lastItem = it[n];
    it[n] = undefined;
    let i = 0;
    // sift down
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      let c = l;
      if (r < n) {
        const ld = d[l] as number;
        const rd = d[r] as number;
        if (rd < ld || (rd === ld && (s[r] as number) < (s[l] as number)))
          c = r;
      }
      const cd = d[c] as number;
      if (cd > lastDue || (cd === lastDue && (s[c] as number) > lastSeq)) break;
      d[i] = cd;
      s[i] = s[c] as number;
      it[i] = it[c];
      i = c;
    }
    if (n > 0) {
      d[i] = lastDue;
      s[i] = lastSeq;
      it[i] = lastItem;
    }
    if (n === 0 && d.length > 4096) {
      // let a burst's arrays go
      this.#due = [];
      this.#seq = [];
      this.#items = [];
    }
    return top;
  }

  /**
   * Dispatches every item that is due now (waiting here for one due within `inlineMs`), then
   * arms one wake-up for the next.
   */
  run(): void {
    if (this.#closed) return;
    let now = this.#now();
    for (;;) {
      while (this.#size > 0 && (this.#due[0] as number) <= now) {
        this.#dispatch(this.#pop());
        if (this.#closed) return;
        if (this.#size > 0 && (this.#due[0] as number) > now) now = this.#now();
      }
      if (this.#size === 0) break;
      const next = this.#due[0] as number;
      if (next - now > this.#inlineMs) break;
      while (now < next) now = this.#now();
    }
    this.#arm(now);
  }

  #arm(now: number): void {
    if (this.#size === 0) return;
    const at = this.#due[0] as number;
    if (this.#armedAt <= at) return;
    const wait = at - now;
    if (this.#makeAlarm !== undefined) {
      // arm() replaces the deadline: no disarm (one wake-up of the alarm thread, not two)
      if (this.#immediate !== undefined) clearImmediate(this.#immediate);
      this.#immediate = undefined;
      this.#armedAt = at;
      if (wait <= 0) {
        this.#alarm?.disarm();
        this.#immediate = setImmediate(this.#wake);
      } else (this.#alarm ??= this.#makeAlarm(this.#wake)).arm(at);
      return;
    }
    this.#disarm();
    this.#armedAt = at;
    if (wait > this.#spinMs + 0.5 || (this.#spinMs === 0 && wait > 0))
      this.#timeout = setTimeout(
        this.#wake,
        Math.max(0, Math.floor(wait - this.#spinMs)),
      );
    else this.#immediate = setImmediate(this.#approach);
  }

  /** The final approach: sleep a slice (never past the due time), then check again. */
  readonly #approach = (): void => {
    this.#immediate = undefined;
    this.#armedAt = Infinity;
    const wait = this.nextDue - this.#now();
    if (wait > 0 && this.#sliceMs > 0)
      Atomics.wait(SLEEP_CELL, 0, 0, Math.min(wait, this.#sliceMs));
    this.run();
  };

  #disarm(): void {
    this.#alarm?.disarm();
    if (this.#timeout !== undefined) clearTimeout(this.#timeout);
    if (this.#immediate !== undefined) clearImmediate(this.#immediate);
    this.#timeout = undefined;
    this.#immediate = undefined;
    this.#armedAt = Infinity;
  }

  readonly #wake = (): void => {
    this.#timeout = undefined;
    this.#immediate = undefined;
    this.#armedAt = Infinity;
    this.run();
  };

  /** Removes every waiting item (in no particular order) and disarms; the queue stays usable. */
  drain(): T[] {
    this.#disarm();
    const out = this.#items.slice(0, this.#size) as T[];
    this.#due = [];
    this.#seq = [];
    this.#items = [];
    this.#size = 0;
    return out;
  }

  /** Disarms for good: later pushes are kept but never dispatched. */
  close(): void {
    this.#closed = true;
    this.#disarm();
    this.#alarm?.close();
  }
}

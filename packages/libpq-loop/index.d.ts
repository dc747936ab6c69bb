/** One PostgreSQL connection, driven by a native loop thread (see README.md). */
export declare class Conn {
  /**
   * @param conninfo a libpq connection string or `postgresql://` URI
   * @param queryTimeoutMs longest wait for one statement before it is cancelled
   * @param callback called on the JS thread when a job ends: `(1, ok ? 1 : 0, version | error)`
   *   after `connect`, `(2, statementsRun, errors?)` after `run`, `(3, 0)` after `close`
   * @param thread which of this JS thread's loop threads drives it (0–63, default 0)
   */
  constructor(
    conninfo: string,
    queryTimeoutMs: number,
    callback: (kind: number, n: number, data: unknown) => void,
    thread?: number,
  );
  connect(): void;
  /**
   * Runs a batch (README.md). `timed`: `out` holds each statement's due time (ms,
   * CLOCK_MONOTONIC) and think time (ms) in its first two doubles, and statement i is sent at
   * max(due, statement i − 1's completion + think). `realtime` (timed batches): the loop thread
   * runs under SCHED_FIFO while any of its connections runs such a batch (see
   * {@link realtimeRefused}), and under SCHED_OTHER again when the last one ends.
   */
  run(
    ops: Uint8Array,
    length: number,
    count: number,
    out: Float64Array,
    timed?: boolean,
    realtime?: boolean,
  ): void;
  interrupt(): void;
  cancel(): void;
  close(): void;
  backendPid(): number;
}
/** libpq's version, as `PQlibVersion()` (150020 for 15.2). */
export declare const libpqVersion: number;
/**
 * The name of the loop threads (`stb-pq-loop`), as `top -H`, `perf` and
 * `/proc/<pid>/task/<tid>/comm` show it. The short-lived threads that connect and send cancel
 * requests are `stb-pq-connect` and `stb-pq-cancel`.
 */
export declare const loopThreadName: string;
/**
 * How many statements of timed batches, so far in this process (every loop thread), took their
 * sent time and their done time from the kernel's software timestamps (SO_TIMESTAMPING) rather
 * than the loop's clock: `[sent, done]`. For tests and diagnostics.
 */
export declare function wireStamped(): [number, number];
/**
 * Each loop thread's lead (ms), indexed by loop thread (`null` for one not started, 0 for one that
 * has not timed a wait yet): how long before a timed statement's due time the loop asks the kernel
 * to wake it, the median lateness of its last 32 timed wake-ups (each counted at most 0.1 ms); it
 * spins the rest of the way. For tests and diagnostics.
 */
export declare function wakeLeads(): (number | null)[];
/**
 * Timed waits so far in this process (every loop thread): `[noted, spun, spunUs]`, the waits
 * whose lateness went into a lead, those that then spun to a due time, and the µs spun. For tests
 * and diagnostics.
 */
export declare function timedWaits(): [number, number, number];
/**
 * `''` where this process may run a thread under SCHED_FIFO (CAP_SYS_NICE, or a real-time
 * priority limit, RLIMIT_RTPRIO, of at least 1; and a cgroup that allows real-time time), else why
 * not (`strerror`, as `Operation not permitted`). Asked once per process, by a short-lived thread.
 */
export declare function realtimeRefused(): string;
/**
 * The loop threads' scheduling so far in this process (every loop thread): `[toFifo, toOther,
 * refused, unspun, unspunEarly]`: switches to SCHED_FIFO (a loop's first running realtime timed
 * batch), back to SCHED_OTHER (its last one ended), switches the kernel refused, timed waits under
 * SCHED_FIFO that began with the spin budget (10 ms per 100 ms window) spent (they asked for the
 * due time itself, with no lead, and did not spin), and those of them that woke before their due
 * time and waited again (0: a timer never ends early; only a wait asked for a lead would).
 * For tests and diagnostics.
 */
export declare function realtimeSwitches(): [
  number,
  number,
  number,
  number,
  number,
];
/**
 * The loop threads' spin budget under SCHED_FIFO, ms per 100 ms window (default 10; two windows'
 * spins may meet, so at most about twice that in any 100 ms), set for the whole process when `ms`
 * is given; returns the budget in force. For tests.
 */
export declare function spinBudget(ms?: number): number;
/**
 * The slice the loop threads ask the kernel for under SCHED_OTHER or SCHED_BATCH, in µs: 0 for
 * none (the kernel's own), or a whole number from 100 to 100000 (default 100, the least the kernel
 * takes; another value throws a RangeError), set for the loop threads started after when `us` is
 * given. Returns `[us, asked, kept, refused]`: the slice in force, and how many times so far in
 * this process a loop thread asked for one, the kernel kept it (read back as asked: Linux 6.12 and
 * later, EEVDF, where a thread that wakes with an earlier deadline than the running one's gets its
 * core sooner; older kernels keep none), and the call failed. For tests and measurement.
 */
export declare function loopSlice(
  us?: number,
): [number, number, number, number];

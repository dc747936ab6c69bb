import { z } from 'zod';
import { QueryType, TraceHeader } from './schema';

/**
 * The result of one `stb bench` run (DESIGN.md, "Benchmark runner"). Written as JSON by
 * `--out` and returned by `runBench`. Latencies are milliseconds, rates per second.
 */

/**
 * Result format version written by this build. Version 2 added the latency split (`serviceMs`,
 * per-template `scheduleLagMs`, `serviceHistogramNs`); version 3 the client's own load (`client`);
 * version 4 the client's wait for a CPU (`client.cpuWaitShare`); version 5 the sessions that gave up
 * connecting (`sessions.gaveUp`). Results of versions 1–4 (without them) still parse.
 */
export const BENCH_RESULT_VERSION = 5 as const;

/**
 * The `stopReason` of a run whose target was lost: a session could not connect within the
 * reconnect timeout, for another reason than a full server (`status: "stopped"`). Merged shards
 * join their stop reasons with `; `.
 */
export const STOP_TARGET_LOST = 'target lost';

/** Latency percentiles of a set of executions, milliseconds. */
export const LatencySummary = z.object({
  count: z.number().int().nonnegative(),
  mean: z.number().nonnegative(),
  p50: z.number().nonnegative(),
  p90: z.number().nonnegative(),
  p95: z.number().nonnegative(),
  p99: z.number().nonnegative(),
  p999: z.number().nonnegative(),
  max: z.number().nonnegative(),
});
export type LatencySummary = z.infer<typeof LatencySummary>;

/**
 * Rows returned or affected per successful execution: range, mean and a log2 histogram, so two
 * runs can be compared on more than the zero-row share (`stb compare`, row divergence).
 */
export const RowCountSummary = z.object({
  min: z.number().int().nonnegative(),
  max: z.number().int().nonnegative(),
  mean: z.number().nonnegative(),
  /**
   * `[lowerBound, count]` pairs in ascending order, non-empty buckets only. Bucket 0 holds zero
   * rows; a bucket with lower bound `b > 0` holds `b ≤ rows < 2b` (1, 2–3, 4–7, …).
   */
  buckets: z.array(
    z.tuple([z.number().int().nonnegative(), z.number().int().positive()]),
  ),
});
export type RowCountSummary = z.infer<typeof RowCountSummary>;

/**
 * Latencies of the measured run by time window (by each execution's end): equal windows of
 * `widthMs`, 33–64 of them on runs longer than 33 ms, each with a coarse histogram. `stb compare`
 * takes the spread of a quantile between the windows as the run-level variability of the
 * whole-run figures (docs/comparing-runs.md, "Whole-run intervals").
 */
export const LatencyWindows = z.object({
  /** Width of every window, ms (the last one may be cut short by the end of the run). */
  widthMs: z.number().positive(),
  /**
   * Per window in time order, `[lowerBoundNs, count]` pairs in ascending order (an idle window is
   * empty). Buckets: a value below 16 ns is its own bucket; a value v ≥ 16 ns with 2^e ≤ v < 2^(e+1)
   * is in one of 8 equal parts of that octave, `[lowerBound, lowerBound + 2^(e−3))`.
   */
  windows: z.array(
    z.array(
      z.tuple([z.number().int().nonnegative(), z.number().int().positive()]),
    ),
  ),
});
export type LatencyWindows = z.infer<typeof LatencyWindows>;

/** Counts and latencies of one template (or of the whole run). */
export const BenchStats = z.object({
  /** Executions in the measured window (after warmup). */
  count: z.number().int().nonnegative(),
  /** Executions that succeeded. */
  ok: z.number().int().nonnegative(),
  /** Executions that failed. */
  errors: z.number().int().nonnegative(),
  /** Executions per second over the measured window. */
  qps: z.number().nonnegative(),
  /** Successful executions per second over the measured window. */
  goodput: z.number().nonnegative(),
  /**
   * Latency from the intended start, ms: the coordinated-omission-safe figure (schedule lag +
   * service time). Replay: from the due time, the later of the statement's offset and the
   * session's previous completion + the original think time. Open loop: from the arrival.
   * Closed loop: equal to the service time.
   */
  latencyMs: LatencySummary,
  /** Service time (statement sent → completed), ms: the database's share (version 2). */
  serviceMs: LatencySummary.optional(),
  /** Replay and open loop: schedule lag (actual start − due time), ms: the client's share (version 2). */
  scheduleLagMs: LatencySummary.optional(),
  /** Errors by class: SQLSTATE class (`40`, `57`) or MySQL error code, `connection`, `timeout`… */
  errorsByClass: z.record(z.string(), z.number().int().nonnegative()),
  /** Rows returned or affected, summed. */
  rows: z.number().int().nonnegative(),
  /** Share (0..1) of successful executions that returned or affected no rows. */
  zeroRowShare: z.number().min(0).max(1),
  /** Row counts of successful executions (absent in results written before it existed). */
  rowCounts: RowCountSummary.optional(),
  /** Errors by full code: SQLSTATE (`23505`), MySQL error code, or the class when the driver gave no code. */
  errorsByCode: z.record(z.string(), z.number().int().nonnegative()).optional(),
  /**
   * Latency of the measured window as an HdrHistogram (V2 compressed, base64: `HISTFAAA…`, values
   * in nanoseconds, 3 significant digits), readable by any HdrHistogram library. `stb compare`
   * derives its confidence intervals from it.
   */
  latencyHistogramNs: z.string().optional(),
  /** Service time as an HdrHistogram, encoded as `latencyHistogramNs` (version 2). */
  serviceHistogramNs: z.string().optional(),
  /**
   * Design effect (≥ 1) of the latencies by batch means over batches of 32 consecutive executions:
   * how much run-time drift (load bursts, warm-up) inflates the variance of a latency statistic
   * over independent executions. `stb compare` divides the sample size by it.
   */
  latencyDesignEffect: z.number().min(1).optional(),
  /** The whole run only: latencies by time window (absent in results written before it existed). */
  latencyWindows: LatencyWindows.optional(),
});
export type BenchStats = z.infer<typeof BenchStats>;

/** One kind of server error a template hit: code, message without literals, count. */
export const BenchErrorDetail = z.object({
  /** SQLSTATE (PostgreSQL), errno (MySQL) or a client code (`ECONNREFUSED`). */
  code: z.string().optional(),
  /** The server's message, first line, literals replaced by `?` (never parameter values). */
  message: z.string(),
  count: z.number().int().nonnegative(),
});
export type BenchErrorDetail = z.infer<typeof BenchErrorDetail>;

/** Per-template statistics. */
export const BenchTemplateStats = BenchStats.extend({
  templateId: z.string(),
  queryType: QueryType,
  /** The errors of this template by code and message, most frequent first (at most 10 + other). */
  errorDetails: z.array(BenchErrorDetail).optional(),
});
export type BenchTemplateStats = z.infer<typeof BenchTemplateStats>;

/** A notable thing that happened during the run (reconnects, worker crashes…). */
export const BenchIncident = z.object({
  /** Milliseconds since the run started. */
  atMs: z.number(),
  kind: z.enum([
    'reconnect',
    'connection-lost',
    'worker-crashed',
    'setup',
    'teardown',
    'aborted',
    'fail-fast',
  ]),
  message: z.string(),
  worker: z.number().int().nonnegative().optional(),
});
export type BenchIncident = z.infer<typeof BenchIncident>;

/** A window during which the target was unreachable (connection errors until the next success). */
export const BenchOutage = z.object({
  /** ISO-8601 time of the first connection error. */
  start: z.string(),
  /** Milliseconds from the start of the workload to the first connection error. */
  startMs: z.number(),
  /** Until the first successful query after it, ms (`unresolved`: until the run ended). */
  durationMs: z.number().nonnegative(),
  /** Queries that failed with a connection error in the window. */
  failedQueries: z.number().int().nonnegative(),
  /** True when the run ended before any query succeeded again. */
  unresolved: z.boolean().optional(),
});
export type BenchOutage = z.infer<typeof BenchOutage>;

/** Where the run came from and what it ran against. Credentials are always redacted. */
export const BenchContext = z.object({
  tool: z.object({ name: z.string(), version: z.string() }),
  node: z.string(),
  trace: z.object({
    header: TraceHeader.optional(),
    /** SHA-256 of the trace file, when read from a file. */
    hash: z.string().optional(),
    path: z.string().optional(),
  }),
  seed: z.number().int(),
  /** The runner options as given (JSON-safe; credentials redacted). */
  options: z.record(z.string(), z.unknown()),
  target: z.object({
    /** Target URL with credentials redacted. */
    url: z.string(),
    plugin: z.string(),
    dialect: z.string(),
    serverVersion: z.string().optional(),
  }),
  startedAt: z.string(),
  endedAt: z.string(),
});
export type BenchContext = z.infer<typeof BenchContext>;

/**
 * What the load generator itself used over the run (version 3), so a reader can tell whether the
 * figures are the database's or the client's: a runner thread busy nearly all the time bounds the
 * throughput itself.
 */
export const BenchClient = z.object({
  /**
   * CPU (user + system) of the runner's whole process, worker threads included, from the start of
   * the schedule (connections open, workers started) to the end of the workload, warm-up
   * included, s.
   */
  cpuSeconds: z.number().nonnegative(),
  /** Statements executed in that time, warm-up included. */
  queries: z.number().int().nonnegative(),
  /** `cpuSeconds` per statement, µs. */
  cpuPerQueryUs: z.number().nonnegative(),
  /**
   * The busiest of the runner's threads: the main thread (it reads and dispatches the trace, and
   * inline drives the connections too) and each worker: the share of the workload's time its event
   * loop was not waiting for I/O (Node's event-loop utilisation) over the same time, 0–1.
   */
  busiestThreadShare: z.number().min(0).max(1),
  /** Threads that drove connections (1 inline). */
  threads: z.number().int().positive(),
  /**
   * The longest a runner thread (the main thread or a worker) was ready to run but waited for a
   * CPU, as a share of the same time, 0–1 (version 4; Linux's per-thread scheduler statistics,
   * absent where the kernel does not give them). Where other work holds the cores (the database
   * itself, on one machine), statements start late and answers are read late by that much.
   */
  cpuWaitShare: z.number().min(0).max(1).optional(),
});
export type BenchClient = z.infer<typeof BenchClient>;

/** The JSON summary of a benchmark run. */
export const BenchResult = z.object({
  format: z.literal('stb-bench-result'),
  version: z.union([
    z.literal(1),
    z.literal(2),
    z.literal(3),
    z.literal(4),
    z.literal(BENCH_RESULT_VERSION),
  ]),
  /**
   * `completed`: the trace (or limit) ran out; `stopped`: signal, duration or a lost target;
   * `failed`: fail-fast or fatal error.
   */
  status: z.enum(['completed', 'stopped', 'failed']),
  /**
   * Why a stopped or failed run stopped: `duration`, `signal`, `target lost` (a session could not
   * connect within the reconnect timeout), `fail-fast`, `worker failed`, or what `stop()` was given.
   */
  stopReason: z.string().optional(),
  mode: z.enum(['replay', 'closed', 'open']),
  context: BenchContext,
  /** Length of the measured window (after warmup), seconds. */
  durationSeconds: z.number().nonnegative(),
  warmupSeconds: z.number().nonnegative(),
  overall: BenchStats,
  templates: z.array(BenchTemplateStats),
  /** Replay and open modes: how late queries started against their schedule, ms (all templates). */
  scheduleLagMs: LatencySummary.optional(),
  sessions: z.object({
    total: z.number().int().nonnegative(),
    completed: z.number().int().nonnegative(),
    /** Sessions cut short (worker crash, stop, fail-fast, a session that gave up connecting). */
    aborted: z.number().int().nonnegative(),
    /**
     * Of the aborted, sessions that could not connect within the reconnect timeout and were given
     * up on (version 5): the run stops for the first unless the server only refused more
     * connections, and a run with any drove less load than its trace (`stb bench` exits 3).
     */
    gaveUp: z.number().int().nonnegative().optional(),
  }),
  /** Events read but not executed (stopped early, skipped by `--read-only`, lost with a worker). */
  skipped: z.object({
    readOnly: z.number().int().nonnegative(),
    notRun: z.number().int().nonnegative(),
  }),
  faults: z.object({
    reconnects: z.number().int().nonnegative(),
    workerCrashes: z.number().int().nonnegative(),
    incidents: z.array(BenchIncident),
    /** When and for how long the target was unreachable (absent when it never was). */
    outages: z.array(BenchOutage).optional(),
  }),
  /** The runner's own CPU and busiest thread (version 3; absent in a dry run). */
  client: BenchClient.optional(),
});
export type BenchResult = z.infer<typeof BenchResult>;

import { availableParallelism } from 'node:os';
import type { Registry } from 'prom-client';
import {
  STOP_TARGET_LOST,
  StbError,
  parsePluginOptions,
  resolveWorkerFile,
} from '@stb/core';
import type { BenchResult, JsonObject, TraceHeader } from '@stb/core';
import packageJson from '../package.json';
import type { BoundQuery } from './bound-query';
import type { DbPlugin, DbSession, Protocol } from './db-plugin';
import { redactSecrets } from './db-plugin';
import { Incidents, buildResult } from './internal/accounting';
import { StopControl } from './internal/stop-control';
import { startClientSampler } from './internal/client-sampler';
import { CpuWaitMeter } from './internal/cpu-wait';
import type { DispatchTotals, ResultContext } from './internal/accounting';
import {
  dispatchEvents,
  eventsOf,
  isAbortError,
} from './internal/dispatch/dispatcher';
import type { EventSource } from './internal/dispatch/dispatcher';
import { replayResolutionUs, strategyFor } from './internal/dispatch/index';
import type { ExecutorSettings } from './internal/executor';
import { createInlineLane, createWorkerLanes } from './internal/lanes';
import type { Lane, LaneHandlers, WorkerLanes } from './internal/lanes';
import { Aggregator } from './internal/stats';
import { TemplateTable } from './internal/template-table';
import type { TemplateLookup } from './internal/template-table';
import { nowMs } from './internal/wire';
import { createBenchMetrics } from './metrics';
import type { BenchMetrics } from './metrics';
import { guardedConnect } from './internal/plugin-deadline';
import { loadDbPlugin } from './plugin-loader';
import { splitSqlStatements } from './sql-split';
import { resolveTarget } from './target';
import type { PluginDescriptor } from './target';

export type { TemplateLookup } from './internal/template-table';

/** Version recorded in results (the package's own version). */
export const BENCH_TOOL_VERSION: string = packageJson.version;

/** How queries are timed. */
export type BenchMode = 'replay' | 'closed' | 'open';

/**
 * A trace's events, one by one or in arrays (as `openTrace(…).eventBatches` gives them): arrays
 * cost the reader one `await` per batch instead of one per event.
 */
export type BenchEvents = EventSource;

/** What the runner executes: a trace's header, its templates and its event stream. */
export interface BenchTrace {
  readonly header?: TraceHeader;
  readonly templates: TemplateLookup;
  readonly events: BenchEvents;
}

/** An SQL script run once before or after the workload. */
export interface SqlScript {
  readonly sql: string;
  /** File name, for messages. */
  readonly name: string;
}

/** Progress reported while running. */
export interface BenchProgress {
  readonly elapsedSeconds: number;
  /** Queries finished so far (warmup included). */
  readonly queries: number;
  readonly errors: number;
  /** Queries per second since the previous report. */
  readonly qps: number;
  readonly inFlight: number;
  readonly activeSessions: number;
}

/** Options of {@link runBench}. */
export interface BenchOptions {
  /** Target URL or config file (see `resolveTarget`), or a resolved descriptor. */
  readonly target: string | PluginDescriptor;
  /** A plugin instance to use in-process instead of importing the descriptor's module (implies `workers: 0`). */
  readonly plugin?: DbPlugin;
  /** Default `replay`. */
  readonly mode?: BenchMode;
  /** Replay speed factor (2 = twice as fast). Default 1. */
  readonly speed?: number;
  /** Open loop: arrivals per second (required for `open`). */
  readonly rate?: number;
  /** Open loop arrival process. Default `poisson`. */
  readonly arrival?: 'poisson' | 'uniform';
  /** Stop after this long (warmup excluded). */
  readonly durationSeconds?: number;
  /** Measurements ending in the first seconds are left out of the result (not of the metrics). */
  readonly warmupSeconds?: number;
  /** Stop reading the trace after this many queries. */
  readonly maxQueries?: number;
  /** Most connections in all (default 16). */
  readonly connections?: number;
  /** Worker threads; 0 runs inline. Default: inline below 4 cores, else min(connections, cores / 2, 4); always inline for single-connection targets. */
  readonly workers?: number;
  /** Default `prepared`. */
  readonly protocol?: Protocol;
  /** Skip writes and DDL. */
  readonly readOnly?: boolean;
  /** Connect and prepare every template without executing the workload. */
  readonly dryRun?: boolean;
  /** Run one deterministic share of the sessions: `{ index: i, count: n }`, 0 ≤ i < n. */
  readonly shard?: { readonly index: number; readonly count: number };
  /** Stop at the first failed query (status `failed`). */
  readonly failFast?: boolean;
  readonly setup?: SqlScript;
  readonly teardown?: SqlScript;
  /** Seed of the open-loop arrivals. Default 1. */
  readonly seed?: number;
  /** Prometheus registry to register metrics on (metrics are off without one). */
  readonly registry?: Registry;
  /** Template label values: the top N templates (default 50), the rest `other`. */
  readonly metricsMaxTemplates?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: BenchProgress) => void;
  /** Default 1000. */
  readonly progressIntervalMs?: number;
  /** Give up reconnecting a session after this long. Default 30 s. */
  readonly reconnectTimeoutMs?: number;
  /**
   * The statement deadline the runner gives a plugin without one of its own (a third-party
   * plugin without `capabilities.ownDeadline`): a statement running longer is cancelled, then
   * its connection given up (ms, default 300000). Built-in plugins keep theirs
   * (`?query_timeout=` in the target URL).
   */
  readonly statementTimeoutMs?: number;
  /**
   * After a stop (duration, signal, `stop()`), how long running statements may take before they
   * are cancelled (PostgreSQL cancel request, MySQL `KILL QUERY`); the run ends within this + 1 s.
   * Open transactions are rolled back at once. A second stop request (or an abort while stopping)
   * cancels at once. Default 5000 ms.
   */
  readonly stopGraceMs?: number;
  /**
   * Replay/open scheduler: how long before a due time it stops sleeping on timers (whole
   * milliseconds) and approaches the due time in 0.1 ms sleeps between event-loop turns (ms).
   * Default 0: timers only, median lag ~0.6 ms at little CPU. 1 cuts the median lag to ~0.07 ms
   * for a few % more CPU, but a response that arrives during a sleep is read up to 0.1 ms late.
   */
  readonly scheduleSpinMs?: number;
  /**
   * Replay/open scheduler wake-ups. `alarm` (default): a helper thread per executor sleeps to each
   * due time with microsecond resolution (`Atomics.wait`, a final spin of at most 0.05 ms) and
   * wakes the event loop, which never blocks; no CPU while idle. `timer`: `setTimeout` (whole
   * milliseconds) plus the `scheduleSpinMs` final approach.
   */
  readonly scheduler?: 'alarm' | 'timer';
  /** Events in flight per worker before the reader waits. Default 16384 (closed loop: 4096). */
  readonly windowEvents?: number;
  /** Recorded in the result context. */
  readonly traceInfo?: { readonly path?: string; readonly hash?: string };
  /** Worker script (default: the package's built `dist/worker.cjs`). */
  readonly workerFile?: string;
}

const PREPARABLE = new Set(['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'MERGE']);

/** A started benchmark run with stop control. */
export interface BenchRun {
  /** Resolves with the (possibly partial) result. */
  readonly result: Promise<BenchResult>;
  /** Stops gracefully: running queries finish, the partial result is produced. */
  stop(reason?: string): void;
}

function redactOptions(options: BenchOptions): JsonObject {
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(options)) {
    if (
      v === undefined ||
      typeof v === 'function' ||
      k === 'registry' ||
      k === 'signal' ||
      k === 'plugin' ||
      k === 'setup' ||
      k === 'teardown'
    )
      continue;
    if (k === 'target')
      out[k] =
        typeof v === 'string'
          ? redactSecrets(v)
          : (v as PluginDescriptor).display;
    else out[k] = JSON.parse(JSON.stringify(v)) as JsonObject;
  }
  if (options.setup) out['setup'] = options.setup.name;
  if (options.teardown) out['teardown'] = options.teardown.name;
  return out;
}

function usage(message: string): StbError {
  return new StbError('STB_OPTIONS_INVALID', `[stb] [bench] ${message}`);
}

function validate(o: BenchOptions): void {
  const mode = o.mode ?? 'replay';
  if (mode === 'open' && !(o.rate !== undefined && o.rate > 0))
    throw usage(
      'Open mode needs a positive `rate` (queries per second). Pass --rate.',
    );
  if (o.speed !== undefined && !(o.speed > 0))
    throw usage('`speed` must be positive.');
  if (
    o.connections !== undefined &&
    !(Number.isInteger(o.connections) && o.connections > 0)
  )
    throw usage('`connections` must be a positive integer.');
  if (
    o.workers !== undefined &&
    !(Number.isInteger(o.workers) && o.workers >= 0)
  )
    throw usage('`workers` must be a non-negative integer.');
  if (
    o.statementTimeoutMs !== undefined &&
    !(Number.isFinite(o.statementTimeoutMs) && o.statementTimeoutMs > 0)
  )
    throw usage('`statementTimeoutMs` must be a positive number of ms.');
  if (
    o.shard &&
    !(
      Number.isInteger(o.shard.index) &&
      Number.isInteger(o.shard.count) &&
      o.shard.count > 0 &&
      o.shard.index >= 0 &&
      o.shard.index < o.shard.count
    )
  )
    throw usage('`shard` must be i/n with 0 ≤ i < n. Example: --shard 0/4.');
}

/** What a setup or teardown script ran. */
interface ScriptRun {
  ran: number;
  total: number;
  /** The statement whose connection was lost (the script stops there). */
  lost?: { line: number; message: string };
}

async function runScript(
  session: DbSession,
  script: SqlScript,
  {
    which,
    dialect,
    stop,
  }: { which: 'setup' | 'teardown'; dialect: string; stop?: StopControl },
): Promise<ScriptRun> {
  // Split with the target's quoting rules (MySQL: backslash escapes in strings).
  const statements = splitSqlStatements(script.sql, {
    dialect: dialect === 'mysql' || dialect === 'mysql2' ? 'mysql' : 'postgres',
  });
  let i = 0;
  let running = false;
  const halted = (): boolean => stop?.stopping === true;
  // a stop (Ctrl-C) cancels the statement running, as it cancels the workload's
  void stop?.stopped.then(() => {
    if (running) void session.cancel?.().catch(() => undefined);
  });
  for (const st of statements) {
    if (halted()) return { ran: i, total: statements.length };
    i++;
    const q: BoundQuery = {
      templateId: `${which}${i}`,
      text: st.text,
      params: [],
      queryType: 'UTILITY',
    };
    running = true;
    const out = await session.execute(q);
    running = false;
    // stopped meanwhile: its error, if any, is the stop's cancel
    if (halted())
      return { ran: i - (out.ok ? 0 : 1), total: statements.length };
    if (!out.ok && out.connectionLost === true)
      return {
        ran: i - 1,
        total: statements.length,
        lost: {
          line: st.line,
          message:
            out.errorMessage ?? out.errorCode ?? out.errorClass ?? 'lost',
        },
      };
    if (!out.ok)
      throw new StbError(
        'STB_DB_QUERY_FAILED',
        `[stb] [bench] ${which === 'setup' ? 'Setup' : 'Teardown'} statement ${i} (${script.name}:${st.line}) failed with ${out.errorCode ?? out.errorClass ?? 'an error'}. Fix the script and retry.`,
        {
          details: {
            file: script.name,
            line: st.line,
            code: out.errorCode ?? null,
          },
        },
      );
  }
  return { ran: statements.length, total: statements.length };
}

/**
 * Starts a benchmark run and returns a handle with `stop()` (signals map onto it).
 * @example
 * const run = createBenchRunner(trace, { target: 'postgres://postgres@127.0.0.1/test', mode: 'closed' });
 * process.once('SIGINT', () => run.stop('SIGINT'));
 * const result = await run.result;
 */
export function createBenchRunner(
  trace: BenchTrace,
  options: BenchOptions,
): BenchRun {
  let stopHook: ((reason: string, failed: boolean) => void) | null = null;
  let pendingStop: string | null = null;
  const result = execute(trace, options, (hook) => {
    stopHook = hook;
    if (pendingStop !== null) hook(pendingStop, false);
  });
  return {
    result,
    stop(reason = 'stopped') {
      if (stopHook) stopHook(reason, false);
      else pendingStop = reason;
    },
  };
}

/**
 * Runs a trace against a database and returns the result (DESIGN.md, "Benchmark runner").
 * @example
 * const result = await runBench(trace, { target: 'sqlite::memory:', mode: 'closed', setup });
 */
export function runBench(
  trace: BenchTrace,
  options: BenchOptions,
): Promise<BenchResult> {
  return createBenchRunner(trace, options).result;
}

/** The plugin, its options and how to open a connection. */
interface OpenedTarget {
  readonly descriptor: PluginDescriptor;
  readonly plugin: DbPlugin;
  readonly protocol: Protocol;
  readonly connect: () => Promise<DbSession>;
}

async function openTarget(options: BenchOptions): Promise<OpenedTarget> {
  const descriptor =
    typeof options.target === 'string'
      ? await resolveTarget(options.target)
      : options.target;
  const plugin = options.plugin ?? (await loadDbPlugin(descriptor));
  if (
    options.statementTimeoutMs !== undefined &&
    plugin.capabilities.ownDeadline === true
  )
    throw usage(
      `The ${plugin.name} plugin bounds its statements itself, so \`statementTimeoutMs\` (--statement-timeout) would have no effect: for a PostgreSQL or MySQL target, set ?query_timeout=<ms> in its URL.`,
    );
  const pluginOptions = parsePluginOptions(plugin, descriptor.options);
  const protocol =
    options.protocol ??
    (plugin.capabilities.prepared ? 'prepared' : 'extended');
  return {
    descriptor,
    plugin,
    protocol,
    connect: guardedConnect(
      plugin,
      () =>
        plugin.connect(pluginOptions, {
          protocol,
          signal: options.signal,
          timed: (options.mode ?? 'replay') !== 'closed',
        }),
      { statementTimeoutMs: options.statementTimeoutMs },
    ),
  };
}

/**
 * Runs the setup or teardown script on the control connection (skipped by a dry run). A teardown
 * whose first statement finds the control connection lost (it sat idle through the workload, and
 * the target restarted or was lost) runs once more on a new one (not on a single-connection
 * target); a teardown that cannot connect, or loses its connection later, is an incident, so the
 * run's result still comes out. A setup that loses its connection fails the run
 * (`STB_DB_UNREACHABLE`). A first statement the server ran before the connection dropped runs
 * twice: the driver cannot tell that from one never sent.
 */
async function runScriptStep(
  which: 'setup' | 'teardown',
  o: {
    options: BenchOptions;
    control: () => Promise<DbSession>;
    /**
     * Closes the control connection, so that `control()` opens a new one; undefined for a
     * single-connection target (an in-memory database lives on that connection).
     */
    dropControl: (() => Promise<void>) | undefined;
    dialect: string;
    incidents: Incidents;
    stop: StopControl;
  },
): Promise<void> {
  const script = o.options[which];
  if (!script) return;
  if (o.options.dryRun === true) {
    // a dry run writes nothing, so it runs neither script (it says so in the incidents)
    o.incidents.add({
      kind: which,
      message: `Skipped ${script.name}: a dry run writes nothing.`,
    });
    return;
  }
  // a stop cuts the setup short; the teardown runs after any stop (a --duration stop included)
  const setup = which === 'setup';
  // undefined: the teardown could not connect (an incident says so)
  const run = async (): Promise<ScriptRun | undefined> => {
    let session: DbSession;
    try {
      session = await o.control();
    } catch (err) {
      if (setup) throw err;
      // a target lost for good: the run's result still comes out, saying the teardown did not run
      o.incidents.add({
        kind: which,
        message: `Did not run ${script.name}: the target could not be reached (${(err as Error).message}).`,
      });
      return undefined;
    }
    return runScript(session, script, {
      which,
      dialect: o.dialect,
      ...(setup ? { stop: o.stop } : {}),
    });
  };
  let r = await run();
  if (!setup && r?.lost !== undefined && r.ran === 0 && o.dropControl) {
    await o.dropControl();
    r = await run();
  }
  if (r === undefined) return;
  if (r.lost !== undefined) {
    const where = `statement ${String(r.ran + 1)} (${script.name}:${String(r.lost.line)})`;
    if (setup)
      throw new StbError(
        'STB_DB_UNREACHABLE',
        `[stb] [bench] The connection to the target was lost during setup ${where}: ${r.lost.message}. ${String(r.ran)} of its ${String(r.total)} statements ran; nothing else did.`,
      );
    o.incidents.add({
      kind: which,
      message: `Stopped during ${script.name}: the connection to the target was lost at ${where} (${r.lost.message}); ${String(r.ran)} of its ${String(r.total)} statements ran.`,
    });
    return;
  }
  o.incidents.add({
    kind: which,
    message:
      r.ran < r.total
        ? `Stopped during ${script.name}: ${String(r.ran)} of its ${String(r.total)} statements ran; the rest did not (a statement running at the stop was cancelled).`
        : `Ran ${script.name}.`,
  });
}

/** `--dry-run`: prepares every preparable template once on the control connection. */
async function runDryRun(
  trace: BenchTrace,
  o: {
    control: DbSession;
    table: TemplateTable;
    agg: Aggregator;
    stop: StopControl;
  },
): Promise<void> {
  const { control, table, agg, stop } = o;
  let checked = 0;
  try {
    read: for await (const item of trace.events) {
      for (const ev of eventsOf(item)) {
        if (stop.stopping) break read;
        if (table.has(ev.templateId)) continue;
        const i = table.indexOf(ev.templateId);
        const wt = table.wire[i];
        if (!wt || !PREPARABLE.has(wt.queryType) || !control.prepare) continue;
        const out = await control.prepare({
          templateId: wt.id,
          text: wt.text,
          params: ev.params,
          queryType: wt.queryType,
        });
        // the templates after it cannot be checked on a lost connection: the dry run fails
        // rather than count them as failed (as a setup that loses its connection does)
        if (!out.ok && out.connectionLost === true)
          throw new StbError(
            'STB_DB_UNREACHABLE',
            `[stb] [bench] The connection to the target was lost during the dry run, preparing template ${wt.id}: ${out.errorMessage ?? out.errorCode ?? out.errorClass ?? 'unknown'}. ${String(checked)} templates were checked before it; the rest were not.`,
          );
        checked++;
        if (!out.ok) agg.recordFailure(i, out.errorClass ?? 'unknown');
      }
    }
  } catch (err) {
    if (!(stop.stopping && isAbortError(err))) throw err;
  }
}

/**
 * Waits for the lanes to finish; after a stop, at most until the grace period + 1 s from the
 * stop (an executor abandons statements that ignore the cancel before then; a lane later than
 * that, e.g. a worker thread stuck in a synchronous driver, is given up and counted as crashed).
 */
async function waitLanes(
  lanes: readonly Lane[],
  o: { stop: StopControl; graceMs: number; incidents: Incidents },
): Promise<void> {
  const all = Promise.all(lanes.map((l) => l.done)).then(() => true);
  if (
    !o.stop.stopping &&
    (await Promise.race([all, o.stop.stopped.then(() => false)]))
  )
    return;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = (o.stop.at ?? nowMs()) + o.graceMs + 900 - nowMs();
  const finished = await Promise.race([
    all,
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), Math.max(0, deadline));
    }),
  ]);
  clearTimeout(timer);
  if (finished) return;
  for (const lane of lanes)
    if (lane.summary === null && !lane.crashed) {
      lane.crashed = true;
      o.incidents.add({
        kind: 'aborted',
        message: `Worker ${String(lane.index)} did not finish within the stop grace period + 1 s and was abandoned; its ${String(lane.sessions)} sessions are counted as aborted.`,
        worker: lane.index,
      });
    }
}

/** Progress reports on a timer, from the lanes' counters. */
function startProgress(
  options: BenchOptions,
  o: { lanes: () => readonly Lane[]; t0: number; totals: RunTotals },
): ReturnType<typeof setInterval> | undefined {
  const onProgress = options.onProgress;
  if (!onProgress) return undefined;
  let last = { at: nowMs(), records: 0 };
  return setInterval(() => {
    const now = nowMs();
    let inFlight = 0;
    let active = 0;
    for (const l of o.lanes()) {
      inFlight += l.inFlight;
      active += l.active;
    }
    const { records, errors } = o.totals;
    onProgress({
      elapsedSeconds: (now - o.t0) / 1000,
      queries: records,
      errors,
      qps: ((records - last.records) * 1000) / Math.max(1, now - last.at),
      inFlight,
      activeSessions: active,
    });
    last = { at: now, records };
  }, options.progressIntervalMs ?? 1000);
}

/**
 * Events in flight per lane before the reader waits (`windowEvents`). The closed loop needs no
 * more than two of an executor's batches (it acks a batch of 2048 records at a time, or every
 * 50 ms): events read further ahead only sit in the heap, are promoted out of the young
 * generation and are cold in the cache when their turn comes (issue 16: runner CPU per query on
 * a next-macrotask fake plugin 2.85-3.21 µs with 16384, 2.52-2.61 with 4096; docs/benchmarking.md,
 * "Runner overhead").
 */
function windowFor(options: BenchOptions): number {
  return options.windowEvents ?? (options.mode === 'closed' ? 4096 : 16_384);
}

/** Measurements merged so far (warmup included), for progress reports. */
interface RunTotals {
  records: number;
  errors: number;
  /**
   * The whole process's CPU (µs), the statements run and the main thread's event-loop utilisation
   * from the start of the schedule to the end of the workload (the result's `client`), and the
   * share of that time the main thread waited for a CPU (where the kernel tells).
   */
  client?: {
    micros: number;
    queries: number;
    mainBusy: number;
    mainCpuWait?: number;
  };
}

/** What the lanes of a run report to: the aggregator, metrics, incidents and the stop control. */
function laneHandlers(o: {
  options: BenchOptions;
  lanes: () => readonly Lane[];
  agg: Aggregator;
  metrics: BenchMetrics | undefined;
  incidents: Incidents;
  stop: StopControl;
  totals: RunTotals;
  fatal: Error[];
}): LaneHandlers {
  const { options, agg, metrics, incidents, stop, totals } = o;
  const windowEvents = windowFor(options);
  return {
    batch(lane, m) {
      if (m.classes.length > 0) lane.classes.push(...m.classes);
      lane.acked += m.ack;
      lane.inFlight = m.inFlight;
      lane.active = m.active;
      lane.loop = m.loop;
      const before = agg.errorsSeen;
      agg.ingest(m, lane.classes);
      totals.records += m.n - m.marks;
      totals.errors += agg.errorsSeen - before;
      if (metrics) {
        let inFlight = 0;
        let active = 0;
        for (const l of o.lanes()) {
          inFlight += l.inFlight;
          active += l.active;
        }
        metrics.inFlight.set(inFlight);
        metrics.activeSessions.set(active);
      }
      if (options.failFast === true && agg.errorsSeen > 0 && !stop.stopping) {
        incidents.add({
          kind: 'fail-fast',
          message: 'A query failed and --fail-fast is set.',
        });
        stop.request('fail-fast', true);
      }
      stop.wakeAll();
    },
    incident(lane, m) {
      if (m.kind === 'reconnect') metrics?.reconnects.inc();
      incidents.add(
        { kind: m.kind, message: m.message, worker: lane.index },
        m.at,
      );
      // a session that could not connect for the reconnect timeout (not for a full server): the
      // target is lost, and the rest of the schedule would only abort session after session,
      // each after that timeout
      if (m.targetLost === true && !stop.stopping)
        stop.request(STOP_TARGET_LOST, false);
    },
    starved(lane) {
      lane.limit += windowEvents;
      stop.wakeAll();
    },
    failed(_lane, err) {
      o.fatal.push(err);
      stop.request('worker failed', true);
    },
    crashed(lane, message) {
      metrics?.workerCrashes.inc();
      incidents.add({
        kind: 'worker-crashed',
        message: `Worker ${String(lane.index)} crashed (${message}); its ${String(lane.sessions)} sessions are counted as aborted.`,
        worker: lane.index,
      });
      stop.wakeAll();
    },
  };
}

/** The parts of a run the workload step needs. */
interface RunParts {
  readonly trace: BenchTrace;
  readonly options: BenchOptions;
  readonly mode: BenchMode;
  readonly target: OpenedTarget;
  readonly table: TemplateTable;
  readonly agg: Aggregator;
  readonly stop: StopControl;
  readonly incidents: Incidents;
  readonly handlers: LaneHandlers;
  readonly totals: RunTotals;
  readonly fatal: Error[];
  readonly warmupMs: number;
  readonly graceMs: number;
  /** The run's metrics (the client-load gauges are fed while the workload runs). */
  readonly metrics: BenchMetrics | undefined;
  /** Sets the run's lanes (the stop control and the handlers read them) and their worker pool. */
  setLanes(lanes: Lane[], pool: WorkerLanes | null): void;
}

/** How many connections and workers a run gets. */
function sizeRun(
  options: BenchOptions,
  plugin: DbPlugin,
): { connections: number; workers: number; shareControl: boolean } {
  const maxConn = plugin.capabilities.maxConnections;
  const connections = Math.min(options.connections ?? 16, maxConn ?? Infinity);
  const inline =
    options.plugin !== undefined || maxConn === 1 || options.workers === 0;
  // Default: inline on small machines (a worker thread then only competes with the database for
  // CPU), else up to 4 workers, one per two cores.
  const cores = availableParallelism();
  const workers = inline
    ? 0
    : Math.min(
        connections,
        options.workers ??
          (cores >= 4 ? Math.min(4, Math.floor(cores / 2)) : 0),
      );
  return { connections, workers, shareControl: maxConn === 1 };
}

/**
 * The workload: starts the lanes (inline or piscina workers), sends them the templates, starts
 * the schedule, dispatches the trace, ends or stops the lanes and waits for them (bounded after a
 * stop). Closes the control connection first when workers run (it is reopened for teardown).
 */
async function runWorkload(
  p: RunParts,
  control: { get(): DbSession | null; release(): Promise<void> },
): Promise<DispatchTotals> {
  const { options, mode, stop } = p;
  const size = sizeRun(options, p.target.plugin);
  const settings: ExecutorSettings = {
    connections: size.connections,
    closed: mode === 'closed',
    reconnectTimeoutMs: options.reconnectTimeoutMs ?? 30_000,
    ...(options.statementTimeoutMs !== undefined
      ? { statementTimeoutMs: options.statementTimeoutMs }
      : {}),
    failFast: options.failFast === true,
    stopGraceMs: p.graceMs,
    ...(options.scheduleSpinMs !== undefined
      ? { spinMs: options.scheduleSpinMs }
      : {}),
    ...(options.scheduler !== undefined
      ? { scheduler: options.scheduler }
      : {}),
  };
  const windowEvents = windowFor(options);
  let lanes: Lane[];
  let pool: WorkerLanes | null = null;
  if (size.workers === 0) {
    const shared = size.shareControl ? control.get() : null;
    lanes = [
      createInlineLane({
        connect: p.target.connect,
        ...(shared ? { shared } : {}),
        settings,
        windowEvents,
        handlers: p.handlers,
      }),
    ];
  } else {
    await control.release();
    pool = createWorkerLanes({
      workers: size.workers,
      workerFile:
        options.workerFile ?? resolveWorkerFile(__dirname, '@stb/bench'),
      descriptor: p.target.descriptor,
      protocol: p.target.protocol,
      settings,
      windowEvents,
      handlers: p.handlers,
    });
    lanes = pool.lanes;
  }
  p.setLanes(lanes, pool);
  let dispatch: DispatchTotals = { notRun: 0, skippedReadOnly: 0, sessions: 0 };
  for (const wt of p.table.wire)
    for (const lane of lanes) lane.post({ type: 'templates', list: [wt] });
  await Promise.all(lanes.map((l) => l.ready));

  const strategy = strategyFor(mode, {
    speed: options.speed ?? 1,
    rate: options.rate ?? 1,
    arrival: options.arrival ?? 'poisson',
    seed: options.seed ?? 1,
    resolutionUs: replayResolutionUs(p.trace.header),
  });
  const t0 = nowMs() + strategy.startDelayMs;
  p.agg.outages.setOrigin(t0);
  const cpu0 = process.cpuUsage();
  const elu0 = performance.eventLoopUtilization();
  const mainWaits = new CpuWaitMeter();
  for (const lane of lanes) lane.post({ type: 'start', t0 });
  const durationTimer =
    options.durationSeconds !== undefined
      ? setTimeout(
          () => stop.request('duration', false),
          p.warmupMs + options.durationSeconds * 1000 + 5,
        )
      : undefined;
  const progressTimer = startProgress(options, {
    lanes: () => lanes,
    t0,
    totals: p.totals,
  });
  const clientSampler = p.metrics
    ? startClientSampler(p.metrics, () => lanes)
    : undefined;
  try {
    dispatch = await dispatchEvents(
      {
        events: p.trace.events,
        lanes,
        table: p.table,
        strategy,
        t0,
        readOnly: options.readOnly === true,
        maxQueries: options.maxQueries ?? Infinity,
        ...(options.shard ? { shard: options.shard } : {}),
      },
      stop,
    );
    for (const lane of lanes)
      if (!lane.crashed) lane.post({ type: stop.stopping ? 'stop' : 'end' });
    await waitLanes(lanes, {
      stop,
      graceMs: p.graceMs,
      incidents: p.incidents,
    });
    const used = process.cpuUsage(cpu0);
    p.totals.client = {
      micros: used.user + used.system,
      // nothing is recorded before the start: every record is the workload's
      queries: p.totals.records,
      mainBusy: performance.eventLoopUtilization(elu0).utilization,
    };
    const mainCpuWait = mainWaits.lap();
    if (mainCpuWait !== undefined) p.totals.client.mainCpuWait = mainCpuWait;
  } finally {
    if (durationTimer) clearTimeout(durationTimer);
    if (progressTimer) clearInterval(progressTimer);
    clientSampler?.stop();
    if (!stop.stopping)
      for (const lane of lanes) if (!lane.crashed) lane.post({ type: 'end' });
  }
  const firstFatal = p.fatal[0];
  if (firstFatal !== undefined) throw firstFatal;
  if (stop.at !== undefined)
    p.agg.lastEndMs = Math.max(
      p.agg.lastEndMs,
      Math.min(
        stop.at - t0,
        p.warmupMs + (options.durationSeconds ?? Infinity) * 1000,
      ),
    );
  return dispatch;
}

/**
 * The control connection, unless the run is aborted (Ctrl-C) while it opens: a connect to a
 * target that does not answer can take its whole connect timeout, and nothing has run yet, so
 * the abort ends the run at once (`STB_ABORTED`); a connection that opens later is closed.
 */
async function connectUnlessAborted(
  target: { connect(): Promise<DbSession>; descriptor: { display: string } },
  signal: AbortSignal | undefined,
): Promise<DbSession> {
  const aborted = (): StbError =>
    new StbError(
      'STB_ABORTED',
      `[stb] [bench] Interrupted while connecting to ${target.descriptor.display}: nothing ran.`,
    );
  if (signal?.aborted === true) throw aborted();
  const pending = target.connect();
  if (signal === undefined) return pending;
  let onAbort = (): void => undefined;
  const abort = new Promise<never>((_, reject) => {
    onAbort = () => reject(aborted());
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([pending, abort]);
  } catch (err) {
    if (signal.aborted)
      void pending.then(
        (s) => s.close().catch(() => undefined),
        () => undefined,
      );
    throw err;
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

/**
 * The orchestrator: opens the target and the control connection, wires the parts (template
 * table, lanes, dispatcher, accounting) and runs setup, the workload (or the dry run) and
 * teardown.
 */
async function execute(
  trace: BenchTrace,
  options: BenchOptions,
  onStopHook: (hook: (reason: string, failed: boolean) => void) => void,
): Promise<BenchResult> {
  validate(options);
  const startedAt = new Date().toISOString();
  const mode = options.mode ?? 'replay';
  const target = await openTarget(options);
  const incidents = new Incidents(nowMs());

  // Control connection: reachability before the run, server version, setup and teardown.
  let control: DbSession | null = await connectUnlessAborted(
    target,
    options.signal,
  );
  const serverVersion = control.serverVersion
    ? await control.serverVersion().catch(() => undefined)
    : undefined;
  const metrics: BenchMetrics | undefined = options.registry
    ? createBenchMetrics(options.registry)
    : undefined;
  const warmupMs = (options.warmupSeconds ?? 0) * 1000;
  const agg = new Aggregator({ warmupMs, metrics });

  let lanes: Lane[] = [];
  const live = (): Lane[] => lanes.filter((l) => !l.crashed);
  const { stop, detach } = runStop({
    live,
    incidents,
    signal: options.signal,
    onStopHook,
  });

  const table = new TemplateTable(trace.templates, {
    maxLabels: options.metricsMaxTemplates ?? 50,
    hooks: {
      added(wt, label) {
        agg.addTemplate(wt.index, {
          id: wt.id,
          queryType: wt.queryType,
          label,
        });
        for (const lane of live()) lane.post({ type: 'templates', list: [wt] });
      },
    },
  });
  const totals: RunTotals = { records: 0, errors: 0 };
  const fatal: Error[] = [];
  let dispatch: DispatchTotals = { notRun: 0, skippedReadOnly: 0, sessions: 0 };
  let pool: WorkerLanes | null = null;
  const openControl = async (): Promise<DbSession> =>
    (control ??= await target.connect());
  const closeControl = async (): Promise<void> => {
    const c = control;
    control = null;
    await c?.close().catch(() => undefined);
  };
  let workloadEnd: number | undefined;
  const scripts = {
    options,
    control: openControl,
    // a single-connection target keeps its (in-memory) database on that connection
    dropControl:
      target.plugin.capabilities.maxConnections === 1
        ? undefined
        : closeControl,
    dialect: target.plugin.dialect,
    incidents,
    stop,
  };
  try {
    await runScriptStep('setup', scripts);
    // stopped before the workload began (Ctrl-C during setup): nothing more runs
    const early = stop.stopping;
    if (early)
      incidents.add({
        kind: 'aborted',
        message:
          'Stopped before the workload began: it and the teardown did not run.',
      });
    else if (options.dryRun === true)
      await runDryRun(trace, {
        control: await openControl(),
        table,
        agg,
        stop,
      });
    else
      dispatch = await runWorkload(
        {
          trace,
          options,
          mode,
          target,
          table,
          agg,
          stop,
          incidents,
          totals,
          fatal,
          warmupMs,
          graceMs: options.stopGraceMs ?? 5000,
          metrics,
          handlers: laneHandlers({
            options,
            lanes: () => lanes,
            agg,
            metrics,
            incidents,
            stop,
            totals,
            fatal,
          }),
          setLanes: (l, workerPool) => {
            lanes = l;
            pool = workerPool;
          },
        },
        { get: () => control, release: closeControl },
      );
    workloadEnd = nowMs();
    if (!early) await runScriptStep('teardown', scripts);
  } finally {
    detach();
    // set by the workload step through `setLanes`
    const current = pool as WorkerLanes | null;
    if (current) await current.close();
    if (control) await control.close().catch(() => undefined);
  }
  return buildResult(
    {
      lanes,
      dispatch,
      agg,
      incidents,
      ...(workloadEnd === undefined ? {} : { endAt: workloadEnd }),
      ...(totals.client ? { cpu: totals.client } : {}),
    },
    resultContext({
      options,
      trace,
      target,
      stop,
      serverVersion,
      startedAt,
    }),
  );
}

/**
 * The run's stop: a request tells the live lanes to stop (a second one, to cancel), from
 * `stop()` (through `onStopHook`) or from the abort `signal` (Ctrl-C, an incident says so);
 * `detach` ends the signal's part.
 */
function runStop(o: {
  live: () => Lane[];
  incidents: Incidents;
  signal: AbortSignal | undefined;
  onStopHook: (hook: (reason: string, failed: boolean) => void) => void;
}): { stop: StopControl; detach: () => void } {
  const stop = new StopControl({
    stop: () => {
      for (const lane of o.live()) lane.post({ type: 'stop' });
    },
    cancel: () => {
      for (const lane of o.live()) lane.post({ type: 'cancel' });
    },
  });
  o.onStopHook((reason, failed) => stop.request(reason, failed));
  const onAbort = (): void => {
    o.incidents.add({ kind: 'aborted', message: 'Stopped by signal.' });
    stop.request('signal', false);
  };
  if (o.signal?.aborted) onAbort();
  o.signal?.addEventListener('abort', onAbort, { once: true });
  return {
    stop,
    detach: () => o.signal?.removeEventListener('abort', onAbort),
  };
}

/** What the result records besides the measurements: the run's options, target and ending. */
function resultContext(o: {
  options: BenchOptions;
  trace: BenchTrace;
  target: Awaited<ReturnType<typeof openTarget>>;
  stop: StopControl;
  serverVersion: string | undefined;
  startedAt: string;
}): ResultContext {
  const { options, target, serverVersion } = o;
  return {
    status: o.stop.status,
    stopReason: o.stop.reason,
    mode: options.mode ?? 'replay',
    toolVersion: BENCH_TOOL_VERSION,
    header: o.trace.header,
    traceInfo: options.traceInfo,
    seed: options.seed ?? 1,
    options: redactOptions(options),
    target: {
      url: target.descriptor.display,
      plugin: target.plugin.name,
      dialect: target.descriptor.dialect,
      ...(serverVersion ? { serverVersion } : {}),
    },
    startedAt: o.startedAt,
    warmupMs: (options.warmupSeconds ?? 0) * 1000,
    warmupSeconds: options.warmupSeconds ?? 0,
  };
}

import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { MessageChannel } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type { Registry } from 'prom-client';
import {
  BENCH_RESULT_VERSION,
  StbError,
  createRng,
  hash32,
  isStbError,
  mix32,
  parsePluginOptions,
  rehydrateError,
} from '@stb/core';
import type {
  BenchIncident,
  BenchResult,
  JsonObject,
  QueryTemplate,
  TraceEvent,
  TraceHeader,
} from '@stb/core';
import type { BoundQuery } from './bound-query';
import type { DbPlugin, DbSession, Protocol } from './db-plugin';
import { redactSecrets } from './db-plugin';
import { Executor } from './internal/executor';
import type { ExecutorSink } from './internal/executor';
import { Aggregator } from './internal/stats';
import { nowMs, txnMark } from './internal/wire';
import type {
  BatchMessage,
  ExecutorSummary,
  FromExecutor,
  IncidentMessage,
  ToExecutor,
  WireEvent,
  WireTemplate,
} from './internal/wire';
import { createBenchMetrics } from './metrics';
import type { BenchMetrics } from './metrics';
import { loadDbPlugin } from './plugin-loader';
import { splitSqlStatements } from './sql-split';
import { resolveTarget } from './target';
import type { PluginDescriptor } from './target';
import type { WorkerTask } from './worker';

/** Version recorded in results. */
export const BENCH_TOOL_VERSION = '0.1.0';

/** How queries are timed. */
export type BenchMode = 'replay' | 'closed' | 'open';

/** Templates by id (a `TemplateCatalog` fits; it may grow while events are read). */
export interface TemplateLookup {
  get(id: string): QueryTemplate | undefined;
}

/** What the runner executes: a trace's header, its templates and its event stream. */
export interface BenchTrace {
  readonly header?: TraceHeader;
  readonly templates: TemplateLookup;
  readonly events: AsyncIterable<TraceEvent> | Iterable<TraceEvent>;
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
   * Replay/open scheduler: how long before a due time it stops sleeping on timers (whole
   * milliseconds) and approaches the due time in 0.1 ms sleeps between event-loop turns (ms).
   * Default 0: timers only, median lag ~0.6 ms at little CPU. 1 cuts the median lag to ~0.07 ms
   * for a few % more CPU, but a response that arrives during a sleep is read up to 0.1 ms late.
   */
  readonly scheduleSpinMs?: number;
  /** Events in flight per worker before the reader waits. Default 16384. */
  readonly windowEvents?: number;
  /** Recorded in the result context. */
  readonly traceInfo?: { readonly path?: string; readonly hash?: string };
  /** Worker script (default: the package's built `dist/worker.js`). */
  readonly workerFile?: string;
}

const WRITE_TYPES = new Set(['INSERT', 'UPDATE', 'DELETE', 'MERGE', 'DDL']);
const PREPARABLE = new Set(['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'MERGE']);
const EVENT_BATCH = 256;
/** Replay/open: events are read and handed to executors at most this far ahead of their due time. */
const LOOKAHEAD_MS = 100;
/** The reader yields the event loop after this long of reading (timed modes, closed loop). */
const YIELD_TIMED_MS = 0.5;
const YIELD_CLOSED_MS = 1;
const yieldMacrotask = (): Promise<void> =>
  new Promise((resolve) => setImmediate(resolve));
const MAX_INCIDENTS = 100;

interface Lane {
  readonly index: number;
  post(msg: ToExecutor): void;
  buffer: WireEvent[];
  sent: number;
  acked: number;
  limit: number;
  classes: string[];
  sessions: number;
  inFlight: number;
  active: number;
  crashed: boolean;
  summary: ExecutorSummary | null;
  ready: Promise<void>;
  done: Promise<void>;
}

/** A started benchmark run with stop control. */
export interface BenchRun {
  /** Resolves with the (possibly partial) result. */
  readonly result: Promise<BenchResult>;
  /** Stops gracefully: running queries finish, the partial result is produced. */
  stop(reason?: string): void;
}

function defaultWorkerFile(): string {
  const here = __dirname;
  for (const f of [
    join(here, 'worker.js'),
    join(here, '..', 'dist', 'worker.js'),
  ])
    if (existsSync(f)) return f;
  throw new StbError(
    'STB_INTERNAL',
    `[stb] [bench] Worker script not found next to ${here} or in ../dist. Build @stb/bench (npx tsup) or run with workers: 0.`,
  );
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

/** An abort raised by the trace reader or a driver (`STB_ABORTED`, DOM `AbortError`). */
function isAbortError(err: unknown): boolean {
  return (
    isStbError(err, 'STB_ABORTED') ||
    (err instanceof Error && err.name === 'AbortError')
  );
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

async function runScript(
  session: DbSession,
  script: SqlScript,
  { which, dialect }: { which: 'setup' | 'teardown'; dialect: string },
): Promise<number> {
  // Split with the target's quoting rules (MySQL: backslash escapes in strings).
  const statements = splitSqlStatements(script.sql, {
    dialect: dialect === 'mysql' || dialect === 'mysql2' ? 'mysql' : 'postgres',
  });
  let i = 0;
  for (const st of statements) {
    i++;
    const q: BoundQuery = {
      templateId: `${which}${i}`,
      text: st.text,
      params: [],
      queryType: 'UTILITY',
    };
    const out = await session.execute(q);
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
  return statements.length;
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

async function execute(
  trace: BenchTrace,
  options: BenchOptions,
  onStopHook: (hook: (reason: string, failed: boolean) => void) => void,
): Promise<BenchResult> {
  validate(options);
  const startedAt = new Date().toISOString();
  const mode = options.mode ?? 'replay';
  const descriptor =
    typeof options.target === 'string'
      ? await resolveTarget(options.target)
      : options.target;
  const plugin = options.plugin ?? (await loadDbPlugin(descriptor));
  const pluginOptions = parsePluginOptions(plugin, descriptor.options);
  const protocol =
    options.protocol ??
    (plugin.capabilities.prepared ? 'prepared' : 'extended');
  const connect = (): Promise<DbSession> =>
    plugin.connect(pluginOptions, { protocol, signal: options.signal });

  const incidents: BenchIncident[] = [];
  let incidentCount = 0;
  const runStart = nowMs();
  const addIncident = (i: Omit<BenchIncident, 'atMs'>, at = nowMs()): void => {
    incidentCount++;
    if (incidents.length < MAX_INCIDENTS)
      incidents.push({ ...i, atMs: Math.round(at - runStart) });
  };

  // Control connection: reachability before the run, server version, setup and teardown.
  let control: DbSession | null = await connect();
  const serverVersion = control.serverVersion
    ? await control.serverVersion().catch(() => undefined)
    : undefined;
  const metrics: BenchMetrics | undefined = options.registry
    ? createBenchMetrics(options.registry)
    : undefined;
  const warmupMs = (options.warmupSeconds ?? 0) * 1000;
  const agg = new Aggregator({ warmupMs, metrics });

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

  let status: BenchResult['status'] = 'completed';
  let stopReason: string | undefined;
  let stopping = false;
  let stoppedAt: number | undefined;
  const wakers = new Set<() => void>();
  const wakeAll = (): void => {
    for (const w of wakers) w();
    wakers.clear();
  };
  const wait = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(t);
        wakers.delete(done);
        resolve();
      };
      const t = setTimeout(done, Math.max(0, ms));
      wakers.add(done);
    });
  let lanes: Lane[] = [];
  const stop = (reason: string, failed: boolean): void => {
    if (stopping) return;
    stopping = true;
    stoppedAt = nowMs();
    stopReason = reason;
    status = failed ? 'failed' : 'stopped';
    for (const lane of lanes) if (!lane.crashed) lane.post({ type: 'stop' });
    wakeAll();
  };
  onStopHook(stop);
  const onAbort = (): void => {
    addIncident({ kind: 'aborted', message: 'Stopped by signal.' });
    stop('signal', false);
  };
  if (options.signal?.aborted) onAbort();
  options.signal?.addEventListener('abort', onAbort, { once: true });

  // Templates: index, label, wire form.
  const templateIndex = new Map<string, number>();
  const wireTemplates: WireTemplate[] = [];
  const isWrite: boolean[] = [];
  const maxLabels = options.metricsMaxTemplates ?? 50;
  const indexOf = (id: string): number => {
    const known = templateIndex.get(id);
    if (known !== undefined) return known;
    const t = trace.templates.get(id);
    if (t === undefined)
      throw new StbError(
        'STB_TRACE_UNKNOWN_TEMPLATE',
        `[stb] [bench] An event uses template ${id}, which the trace does not define before it. Regenerate the trace.`,
        { details: { templateId: id } },
      );
    const index = wireTemplates.length;
    const wt: WireTemplate = {
      index,
      id,
      text: t.text,
      queryType: t.queryType,
      txn: txnMark(t.text, t.queryType),
    };
    templateIndex.set(id, index);
    wireTemplates.push(wt);
    isWrite.push(
      WRITE_TYPES.has(t.queryType) ||
        (t.queryType === 'UTILITY' &&
          !/^\s*(set|show|explain)\b/i.test(t.text)),
    );
    agg.addTemplate(index, {
      id,
      queryType: t.queryType,
      label: index < maxLabels ? id : 'other',
    });
    for (const lane of lanes)
      if (!lane.crashed) lane.post({ type: 'templates', list: [wt] });
    return index;
  };

  let totalRecords = 0;
  let totalErrors = 0;
  const onBatch = (lane: Lane, m: BatchMessage): void => {
    if (m.classes.length > 0) lane.classes.push(...m.classes);
    lane.acked += m.ack;
    lane.inFlight = m.inFlight;
    lane.active = m.active;
    const before = agg.errorsSeen;
    agg.ingest(m, lane.classes);
    totalRecords += m.n;
    totalErrors += agg.errorsSeen - before;
    if (metrics) {
      let inFlight = 0;
      let active = 0;
      for (const l of lanes) {
        inFlight += l.inFlight;
        active += l.active;
      }
      metrics.inFlight.set(inFlight);
      metrics.activeSessions.set(active);
    }
    if (options.failFast === true && agg.errorsSeen > 0 && !stopping) {
      addIncident({
        kind: 'fail-fast',
        message: 'A query failed and --fail-fast is set.',
      });
      stop('fail-fast', true);
    }
    wakeAll();
  };
  const onIncident = (lane: Lane, m: IncidentMessage): void => {
    if (m.kind === 'reconnect') metrics?.reconnects.inc();
    addIncident({ kind: m.kind, message: m.message, worker: lane.index }, m.at);
  };

  const newLane = (index: number): Lane => ({
    index,
    post: () => undefined,
    buffer: [],
    sent: 0,
    acked: 0,
    limit: options.windowEvents ?? 16_384,
    classes: [],
    sessions: 0,
    inFlight: 0,
    active: 0,
    crashed: false,
    summary: null,
    ready: Promise.resolve(),
    done: Promise.resolve(),
  });

  let pool: Piscina | null = null;
  const ports: MessagePort[] = [];
  const fatal: Error[] = [];
  let dispatchedNotRun = 0;
  let skippedReadOnly = 0;
  /**
   * Where each session's events go, computed once per session: 0 = another shard's session;
   * ±(lane index + 1), positive once the session had an event dispatched (counted in the total).
   */
  const routes = new Map<string, number>();
  let sessionsTotal = 0;

  try {
    // A dry run writes nothing, so it runs neither script (it says so in the incidents).
    if (options.setup && options.dryRun === true)
      addIncident({
        kind: 'setup',
        message: `Skipped ${options.setup.name}: a dry run writes nothing.`,
      });
    else if (options.setup) {
      await runScript(control, options.setup, {
        which: 'setup',
        dialect: plugin.dialect,
      });
      addIncident({ kind: 'setup', message: `Ran ${options.setup.name}.` });
    }

    if (options.dryRun === true) {
      try {
        for await (const ev of trace.events) {
          if (stopping) break;
          if (templateIndex.has(ev.templateId)) continue;
          const i = indexOf(ev.templateId);
          const wt = wireTemplates[i] as WireTemplate;
          if (!PREPARABLE.has(wt.queryType) || !control.prepare) continue;
          const out = await control.prepare({
            templateId: wt.id,
            text: wt.text,
            params: ev.params,
            queryType: wt.queryType,
          });
          if (!out.ok) agg.recordFailure(i, out.errorClass ?? 'unknown');
        }
      } catch (err) {
        if (!(stopping && isAbortError(err))) throw err;
      }
    } else {
      // Lanes: inline executor or piscina workers.
      const sinkFor = (lane: Lane): ExecutorSink => ({
        batch: (m) => onBatch(lane, m),
        incident: (m) => onIncident(lane, m),
        starved: () => {
          lane.limit += options.windowEvents ?? 16_384;
          wakeAll();
        },
      });
      if (workers === 0) {
        const lane = newLane(0);
        const shared = maxConn === 1 ? control : undefined;
        const exec = new Executor({
          connect,
          connections,
          closed: mode === 'closed',
          sink: sinkFor(lane),
          ...(shared ? { shared } : {}),
          reconnectTimeoutMs: options.reconnectTimeoutMs ?? 30_000,
          failFast: options.failFast === true,
          ...(options.scheduleSpinMs !== undefined
            ? { spinMs: options.scheduleSpinMs }
            : {}),
        });
        lane.post = (m) => exec.handle(m);
        lane.ready = exec.preconnect();
        lane.done = exec.done.then((s) => {
          lane.summary = s;
        });
        lanes = [lane];
      } else {
        await control.close();
        control = null;
        pool = new Piscina({
          filename: options.workerFile ?? defaultWorkerFile(),
          minThreads: workers,
          maxThreads: workers,
          idleTimeout: 1000,
          atomics: 'disabled',
          concurrentTasksPerWorker: 1,
        });
        const p = pool;
        lanes = Array.from({ length: workers }, (_, w) => {
          const lane = newLane(w);
          const { port1, port2 } = new MessageChannel();
          ports.push(port1);
          lane.post = (m) => port1.postMessage(m);
          const conns =
            Math.floor(connections / workers) +
            (w < connections % workers ? 1 : 0);
          let readyResolve!: () => void;
          let readyReject!: (e: unknown) => void;
          lane.ready = new Promise((res, rej) => {
            readyResolve = res;
            readyReject = rej;
          });
          let doneResolve!: () => void;
          lane.done = new Promise((res) => (doneResolve = res));
          port1.on('message', (m: FromExecutor) => {
            switch (m.type) {
              case 'batch':
                onBatch(lane, m);
                break;
              case 'incident':
                onIncident(lane, m);
                break;
              case 'starved':
                lane.limit += options.windowEvents ?? 16_384;
                wakeAll();
                break;
              case 'ready':
                readyResolve();
                break;
              case 'done':
                lane.summary = m.summary;
                doneResolve();
                break;
              case 'failed': {
                const err = rehydrateError({ name: 'StbError', ...m.error });
                readyReject(err);
                fatal.push(err);
                lane.crashed = true;
                doneResolve();
                stop('worker failed', true);
                break;
              }
            }
          });
          const task: WorkerTask = {
            port: port2,
            descriptor,
            protocol,
            connections: conns,
            closed: mode === 'closed',
            reconnectTimeoutMs: options.reconnectTimeoutMs ?? 30_000,
            failFast: options.failFast === true,
            ...(options.scheduleSpinMs !== undefined
              ? { spinMs: options.scheduleSpinMs }
              : {}),
          };
          p.run(task, { transferList: [port2] as never }).catch(
            (err: unknown) => {
              if (lane.summary !== null) return;
              lane.crashed = true;
              metrics?.workerCrashes.inc();
              const msg = err instanceof Error ? err.message : String(err);
              addIncident({
                kind: 'worker-crashed',
                message: `Worker ${w} crashed (${msg}); its ${lane.sessions} sessions are counted as aborted.`,
                worker: w,
              });
              readyReject(
                new StbError(
                  'STB_WORKER_CRASHED',
                  `[stb] [bench] Worker ${w} crashed before the run: ${msg}.`,
                  { cause: err },
                ),
              );
              doneResolve();
              wakeAll();
            },
          );
          return lane;
        });
      }
      for (const wt of wireTemplates)
        for (const lane of lanes) lane.post({ type: 'templates', list: [wt] });
      await Promise.all(lanes.map((l) => l.ready));

      const t0 = nowMs() + (mode === 'closed' ? 0 : 5);
      agg.outages.setOrigin(t0);
      for (const lane of lanes) lane.post({ type: 'start', t0 });
      const durationTimer =
        options.durationSeconds !== undefined
          ? setTimeout(
              () => stop('duration', false),
              warmupMs + options.durationSeconds * 1000 + 5,
            )
          : undefined;
      let lastProgress = { at: nowMs(), records: 0 };
      const progressTimer = options.onProgress
        ? setInterval(() => {
            const now = nowMs();
            let inFlight = 0;
            let active = 0;
            for (const l of lanes) {
              inFlight += l.inFlight;
              active += l.active;
            }
            options.onProgress?.({
              elapsedSeconds: (now - t0) / 1000,
              queries: totalRecords,
              errors: totalErrors,
              qps:
                ((totalRecords - lastProgress.records) * 1000) /
                Math.max(1, now - lastProgress.at),
              inFlight,
              activeSessions: active,
            });
            lastProgress = { at: now, records: totalRecords };
          }, options.progressIntervalMs ?? 1000)
        : undefined;

      const flushLane = (lane: Lane): void => {
        if (lane.buffer.length === 0) return;
        const events = lane.buffer;
        lane.buffer = [];
        if (lane.crashed) {
          dispatchedNotRun += events.length;
          return;
        }
        lane.post({ type: 'events', events });
      };
      const flushAll = (): void => {
        for (const l of lanes) flushLane(l);
      };

      try {
        const rng = createRng(options.seed ?? 1);
        const speed = options.speed ?? 1;
        const rate = options.rate ?? 1;
        const poisson = (options.arrival ?? 'poisson') === 'poisson';
        let firstUs: number | undefined;
        let arrival = 0;
        let dispatched = 0;
        const maxQueries = options.maxQueries ?? Infinity;
        const shard = options.shard;
        const nLanes = lanes.length;
        let sinceCheck = 0;
        let lastYield = nowMs();
        try {
          for await (const ev of trace.events) {
            if (stopping) break;
            const sid = ev.sessionId;
            let route = routes.get(sid);
            if (route === undefined) {
              const h = hash32(sid);
              route =
                shard && h % shard.count !== shard.index
                  ? 0
                  : -1 - (nLanes === 1 ? 0 : mix32(h, 0x2545f491) % nLanes);
              routes.set(sid, route);
            }
            if (route === 0) continue;
            const ti = indexOf(ev.templateId);
            if (options.readOnly === true && isWrite[ti] === true) {
              skippedReadOnly++;
              continue;
            }
            if (dispatched >= maxQueries) break;
            let due: number;
            if (mode === 'closed') due = NaN;
            else if (mode === 'replay') {
              firstUs ??= ev.startUs;
              due = (ev.startUs - firstUs) / 1000 / speed;
            } else {
              due = arrival;
              arrival += poisson
                ? (-Math.log(1 - rng.next()) * 1000) / rate
                : 1000 / rate;
            }
            if (route < 0) {
              route = -route;
              routes.set(sid, route);
              sessionsTotal++;
              (lanes[route - 1] as Lane).sessions++;
            }
            const lane = lanes[route - 1] as Lane;
            if (lane.crashed) {
              dispatchedNotRun++;
              continue;
            }
            lane.buffer.push([sid, ti, ev.params, due]);
            lane.sent++;
            dispatched++;
            if (lane.buffer.length >= EVENT_BATCH) flushLane(lane);
            if (mode !== 'closed') {
              const ahead = t0 + due - nowMs();
              if (ahead > LOOKAHEAD_MS) {
                flushAll();
                await wait(ahead - LOOKAHEAD_MS / 2);
                lastYield = nowMs();
              } else if (++sinceCheck >= 64) {
                sinceCheck = 0;
                flushAll();
                // an inline executor's scheduler shares this event loop: never hog it
                if (nowMs() - lastYield > YIELD_TIMED_MS) {
                  await yieldMacrotask();
                  lastYield = nowMs();
                }
              }
            } else if (++sinceCheck >= 256) {
              sinceCheck = 0;
              if (nowMs() - lastYield > YIELD_CLOSED_MS) {
                flushAll();
                await yieldMacrotask();
                lastYield = nowMs();
              }
            }
            while (
              !stopping &&
              !lane.crashed &&
              lane.sent - lane.acked >= lane.limit
            ) {
              flushAll();
              await wait(1000);
            }
          }
        } catch (err) {
          // a stop (signal) may surface as the reader's own abort error: the input just ends
          if (!(stopping && isAbortError(err))) throw err;
        }
        flushAll();
        for (const lane of lanes)
          if (!lane.crashed) lane.post({ type: stopping ? 'stop' : 'end' });
        await Promise.all(lanes.map((l) => l.done));
      } finally {
        if (durationTimer) clearTimeout(durationTimer);
        if (progressTimer) clearInterval(progressTimer);
        if (!stopping)
          for (const lane of lanes)
            if (!lane.crashed) lane.post({ type: 'end' });
      }
      const firstFatal = fatal[0];
      if (firstFatal !== undefined) throw firstFatal;
      if (stoppedAt !== undefined)
        agg.lastEndMs = Math.max(
          agg.lastEndMs,
          Math.min(
            stoppedAt - t0,
            warmupMs + (options.durationSeconds ?? Infinity) * 1000,
          ),
        );
    }

    if (options.teardown && options.dryRun === true)
      addIncident({
        kind: 'teardown',
        message: `Skipped ${options.teardown.name}: a dry run writes nothing.`,
      });
    else if (options.teardown) {
      control ??= await connect();
      await runScript(control, options.teardown, {
        which: 'teardown',
        dialect: plugin.dialect,
      });
      addIncident({
        kind: 'teardown',
        message: `Ran ${options.teardown.name}.`,
      });
    }
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    for (const p of ports) p.close();
    if (pool) await pool.destroy();
    if (control) await control.close().catch(() => undefined);
  }

  // Accounting.
  let completed = 0;
  let notRun = dispatchedNotRun;
  let crashes = 0;
  for (const lane of lanes) {
    if (lane.summary) {
      completed += lane.summary.completed;
      notRun += lane.summary.notRun;
    } else if (lane.crashed) {
      crashes++;
      notRun += lane.sent - lane.acked;
    }
  }
  const seconds = Math.max(0, (agg.lastEndMs - warmupMs) / 1000);
  const stats = agg.result(seconds);
  const outages = agg.outages.result();
  const reconnects = lanes.reduce(
    (a, l) => a + (l.summary?.reconnects ?? 0),
    0,
  );
  if (incidentCount > incidents.length)
    incidents.push({
      atMs: Math.round(nowMs() - runStart),
      kind: 'aborted',
      message: `${incidentCount - incidents.length} more incidents not listed.`,
    });
  const result: BenchResult = {
    format: 'stb-bench-result',
    version: BENCH_RESULT_VERSION,
    status,
    ...(stopReason !== undefined ? { stopReason } : {}),
    mode,
    context: {
      tool: { name: '@stb/bench', version: BENCH_TOOL_VERSION },
      node: process.version,
      trace: {
        ...(trace.header ? { header: trace.header } : {}),
        ...(options.traceInfo?.hash ? { hash: options.traceInfo.hash } : {}),
        ...(options.traceInfo?.path ? { path: options.traceInfo.path } : {}),
      },
      seed: options.seed ?? 1,
      options: redactOptions(options),
      target: {
        url: descriptor.display,
        plugin: plugin.name,
        dialect: descriptor.dialect,
        ...(serverVersion ? { serverVersion } : {}),
      },
      startedAt,
      endedAt: new Date().toISOString(),
    },
    durationSeconds: Math.round(seconds * 1000) / 1000,
    warmupSeconds: options.warmupSeconds ?? 0,
    overall: stats.overall,
    templates: stats.templates,
    ...(stats.scheduleLagMs ? { scheduleLagMs: stats.scheduleLagMs } : {}),
    sessions: {
      total: sessionsTotal,
      completed: Math.min(completed, sessionsTotal),
      aborted: Math.max(0, sessionsTotal - completed),
    },
    skipped: { readOnly: skippedReadOnly, notRun },
    faults: {
      reconnects,
      workerCrashes: crashes,
      incidents,
      ...(outages.length > 0 ? { outages } : {}),
    },
  };
  return result;
}

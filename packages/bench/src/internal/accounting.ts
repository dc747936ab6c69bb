import { BENCH_RESULT_VERSION } from '@stb/core';
import type {
  BenchClient,
  BenchIncident,
  BenchResult,
  JsonObject,
  TraceHeader,
} from '@stb/core';
import type { Lane } from './lanes';
import type { Aggregator } from './stats';
import { nowMs } from './wire';

const MAX_INCIDENTS = 100;

/** The run's incidents: the first 100 are listed, the rest counted in a closing line. */
export class Incidents {
  readonly #list: BenchIncident[] = [];
  readonly #runStart: number;
  #count = 0;

  constructor(runStart: number) {
    this.#runStart = runStart;
  }

  add(i: Omit<BenchIncident, 'atMs'>, at = nowMs()): void {
    this.#count++;
    if (this.#list.length < MAX_INCIDENTS)
      this.#list.push({ ...i, atMs: Math.round(at - this.#runStart) });
  }

  /** The listed incidents, plus one line for those left out. */
  list(): BenchIncident[] {
    const out = [...this.#list];
    if (this.#count > out.length)
      out.push({
        atMs: Math.round(nowMs() - this.#runStart),
        kind: 'aborted',
        message: `${String(this.#count - out.length)} more incidents not listed.`,
      });
    return out;
  }
}

/** Everything the result records besides the measurements. */
export interface ResultContext {
  readonly status: BenchResult['status'];
  readonly stopReason: string | undefined;
  readonly mode: BenchResult['mode'];
  readonly toolVersion: string;
  readonly header: TraceHeader | undefined;
  readonly traceInfo:
    { readonly path?: string; readonly hash?: string } | undefined;
  readonly seed: number;
  readonly options: JsonObject;
  readonly target: BenchResult['context']['target'];
  readonly startedAt: string;
  readonly warmupMs: number;
  readonly warmupSeconds: number;
}

/** What the dispatcher counted. */
export interface DispatchTotals {
  readonly notRun: number;
  readonly skippedReadOnly: number;
  readonly sessions: number;
}

/**
 * Result accounting: merges the lanes' summaries with the dispatcher's counts (every event
 * dispatched is either measured or counted as not run; a crashed lane's unacknowledged events
 * count as not run) and the aggregator's statistics into a `BenchResult`.
 */
export function buildResult(
  parts: {
    lanes: readonly Lane[];
    dispatch: DispatchTotals;
    agg: Aggregator;
    incidents: Incidents;
    /** When the workload ended (`nowMs` clock): an outage still open lasts until then. */
    endAt?: number;
    /**
     * The process's CPU over the workload (`process.cpuUsage` delta, µs), the statements it ran
     * and the main thread's event-loop utilisation over it (it reads and dispatches the trace),
     * and its share of that time waiting for a CPU (where the kernel tells).
     */
    cpu?: {
      micros: number;
      queries: number;
      mainBusy: number;
      mainCpuWait?: number;
    };
  },
  ctx: ResultContext,
): BenchResult {
  const { lanes, dispatch, agg } = parts;
  let completed = 0;
  let gaveUp = 0;
  let notRun = dispatch.notRun;
  let crashes = 0;
  let reconnects = 0;
  let busiest = parts.cpu?.mainBusy ?? 0;
  let cpuWait = parts.cpu?.mainCpuWait;
  for (const lane of lanes) {
    if (lane.summary) {
      completed += lane.summary.completed;
      gaveUp += lane.summary.gaveUp;
      notRun += lane.summary.notRun;
      reconnects += lane.summary.reconnects;
      busiest = Math.max(busiest, lane.summary.busy);
      const w = lane.summary.cpuWait;
      if (w !== undefined) cpuWait = Math.max(cpuWait ?? 0, w);
    } else if (lane.crashed) {
      crashes++;
      notRun += lane.sent - lane.acked;
    }
  }
  const seconds = Math.max(0, (agg.lastEndMs - ctx.warmupMs) / 1000);
  const stats = agg.result(seconds);
  const outages = agg.outages.result(parts.endAt ?? nowMs());
  const sessionsTotal = dispatch.sessions;
  return {
    format: 'stb-bench-result',
    version: BENCH_RESULT_VERSION,
    status: ctx.status,
    ...(ctx.stopReason !== undefined ? { stopReason: ctx.stopReason } : {}),
    mode: ctx.mode,
    context: {
      tool: { name: '@stb/bench', version: ctx.toolVersion },
      node: process.version,
      trace: {
        ...(ctx.header ? { header: ctx.header } : {}),
        ...(ctx.traceInfo?.hash ? { hash: ctx.traceInfo.hash } : {}),
        ...(ctx.traceInfo?.path ? { path: ctx.traceInfo.path } : {}),
      },
      seed: ctx.seed,
      options: ctx.options,
      target: ctx.target,
      startedAt: ctx.startedAt,
      endedAt: new Date().toISOString(),
    },
    durationSeconds: Math.round(seconds * 1000) / 1000,
    warmupSeconds: ctx.warmupSeconds,
    overall: stats.overall,
    templates: stats.templates,
    ...(stats.scheduleLagMs ? { scheduleLagMs: stats.scheduleLagMs } : {}),
    sessions: {
      total: sessionsTotal,
      completed: Math.min(completed, sessionsTotal),
      aborted: Math.max(0, sessionsTotal - completed),
      gaveUp,
    },
    skipped: { readOnly: dispatch.skippedReadOnly, notRun },
    faults: {
      reconnects,
      workerCrashes: crashes,
      incidents: parts.incidents.list(),
      ...(outages.length > 0 ? { outages } : {}),
    },
    ...(parts.cpu !== undefined && lanes.length > 0
      ? {
          client: clientLoad({
            cpuMicros: parts.cpu.micros,
            queries: parts.cpu.queries,
            busiest,
            threads: lanes.length,
            ...(cpuWait === undefined ? {} : { cpuWait }),
          }),
        }
      : {}),
  };
}

/**
 * A result's `client` block (one run's, or shards' added up by `mergeBenchResults`): CPU rounded
 * to the ms, per statement to 0.01 µs, the busy and CPU-wait shares to 0.001.
 */
export function clientLoad(o: {
  cpuMicros: number;
  queries: number;
  busiest: number;
  threads: number;
  cpuWait?: number;
}): BenchClient {
  const share = (x: number): number =>
    Math.round(Math.min(1, Math.max(0, x)) * 1000) / 1000;
  return {
    cpuSeconds: Math.round(o.cpuMicros / 1000) / 1000,
    queries: o.queries,
    cpuPerQueryUs:
      o.queries > 0 ? Math.round((o.cpuMicros / o.queries) * 100) / 100 : 0,
    busiestThreadShare: share(o.busiest),
    threads: o.threads,
    ...(o.cpuWait === undefined ? {} : { cpuWaitShare: share(o.cpuWait) }),
  };
}

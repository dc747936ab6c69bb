import * as hdr from 'hdr-histogram-js';
import type {
  BenchResult,
  BenchTemplateStats,
  LatencyWindows,
  Rng,
} from '@stb/core';

/** A template's executions in a synthetic run: latencies (ms), errors by code, rows per success. */
export interface RunSpec {
  readonly templateId: string;
  readonly latenciesMs: readonly number[];
  readonly errors?: Record<string, number>;
  readonly rows?: (i: number) => number;
}

/** Lognormal latencies around a median (ms; seeded), the log's σ 0.5 unless given. */
export function lognormal(
  rng: Rng,
  n: number,
  median: number | { ms: number; sigma: number },
): number[] {
  const { ms, sigma } =
    typeof median === 'number' ? { ms: median, sigma: 0.5 } : median;
  return Array.from({ length: n }, () => ms * Math.exp(sigma * rng.normal()));
}

function stats(spec: RunSpec, seconds: number) {
  const h = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 60_000_000_000,
    numberOfSignificantValueDigits: 3,
    autoResize: true,
  });
  for (const v of spec.latenciesMs)
    h.recordValue(Math.max(1, Math.round(v * 1e6)));
  const errors = Object.values(spec.errors ?? {}).reduce((a, b) => a + b, 0);
  const count = spec.latenciesMs.length;
  const ok = count - errors;
  const rows = Array.from({ length: ok }, (_, i) => spec.rows?.(i) ?? 1);
  const buckets = new Map<number, number>();
  for (const r of rows) {
    const lb = r === 0 ? 0 : 2 ** Math.floor(Math.log2(r));
    buckets.set(lb, (buckets.get(lb) ?? 0) + 1);
  }
  const sum = rows.reduce((a, b) => a + b, 0);
  const ms = (p: number) => h.getValueAtPercentile(p) / 1e6;
  const out = {
    count,
    ok,
    errors,
    qps: count / seconds,
    goodput: ok / seconds,
    latencyMs: {
      count,
      mean: h.mean / 1e6,
      p50: ms(50),
      p90: ms(90),
      p95: ms(95),
      p99: ms(99),
      p999: ms(99.9),
      max: h.maxValue / 1e6,
    },
    errorsByClass: Object.fromEntries(
      Object.entries(spec.errors ?? {}).map(([c, n]) => [c.slice(0, 2), n]),
    ),
    errorsByCode: { ...(spec.errors ?? {}) },
    rows: sum,
    zeroRowShare: ok > 0 ? rows.filter((r) => r === 0).length / ok : 0,
    rowCounts: {
      min: rows.length ? Math.min(...rows) : 0,
      max: rows.length ? Math.max(...rows) : 0,
      mean: ok > 0 ? sum / ok : 0,
      buckets: [...buckets.entries()].sort((a, b) => a[0] - b[0]),
    },
    latencyHistogramNs: hdr.encodeIntoCompressedBase64(h),
  };
  h.destroy();
  return out;
}

/** A schema-valid bench result with real HdrHistograms of the given executions. */
export function makeResult(
  specs: readonly RunSpec[],
  seconds = 10,
): BenchResult {
  const templates: BenchTemplateStats[] = specs.map((s) => ({
    templateId: s.templateId,
    queryType: 'SELECT',
    ...stats(s, seconds),
  }));
  const all: RunSpec = {
    templateId: 'overall',
    latenciesMs: specs.flatMap((s) => s.latenciesMs),
    errors: specs.reduce<Record<string, number>>((acc, s) => {
      for (const [k, v] of Object.entries(s.errors ?? {}))
        acc[k] = (acc[k] ?? 0) + v;
      return acc;
    }, {}),
  };
  return {
    format: 'stb-bench-result',
    version: 1,
    status: 'completed',
    mode: 'closed',
    context: {
      tool: { name: '@stb/bench', version: '0.1.0' },
      node: process.version,
      trace: { hash: 'a'.repeat(64) },
      seed: 1,
      options: {},
      target: { url: 'sqlite::memory:', plugin: 'sqlite', dialect: 'sqlite' },
      startedAt: '2024-01-01T00:00:00.000Z',
      endedAt: '2024-01-01T00:00:10.000Z',
    },
    durationSeconds: seconds,
    warmupSeconds: 0,
    overall: stats(all, seconds),
    templates,
    sessions: { total: 1, completed: 1, aborted: 0 },
    skipped: { readOnly: 0, notRun: 0 },
    faults: { reconnects: 0, workerCrashes: 0, incidents: [] },
  };
}

/** The documented bucket of `LatencyWindows` (an independent implementation of the runner's). */
function windowLowerBound(ns: number): number {
  if (ns < 16) return Math.floor(ns);
  const step = 2 ** (Math.floor(Math.log2(ns)) - 3);
  return Math.floor(ns / step) * step;
}

/**
 * `latencyWindows` of executions given per window (latencies in ms, window i = the i-th array), as
 * the runner writes them for the whole run.
 */
export function windowsOf(
  perWindowMs: readonly (readonly number[])[],
  widthMs = 100,
): LatencyWindows {
  return {
    widthMs,
    windows: perWindowMs.map((lat) => {
      const m = new Map<number, number>();
      for (const ms of lat) {
        const lb = windowLowerBound(Math.max(1, Math.round(ms * 1e6)));
        m.set(lb, (m.get(lb) ?? 0) + 1);
      }
      return [...m].sort((a, b) => a[0] - b[0]);
    }),
  };
}

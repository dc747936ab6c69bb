import type {
  LatencyWindows,
  BenchErrorDetail,
  BenchResult,
  BenchStats,
  BenchTemplateStats,
  LatencySummary,
  RowCountSummary,
} from '@stb/core';
import { StbError } from '@stb/core';
import { clientLoad } from './internal/accounting';
import {
  decodeHistogram,
  encodeHistogram,
  newHistogram,
  type Histogram,
} from './internal/hdr';
import { summarize } from './internal/stats';

/** Options of {@link mergeBenchResults}. */
export interface MergeBenchResultsOptions {
  /** Names of the results (file paths) for messages, in the order of `results`. */
  labels?: readonly string[];
}

const MAX_DETAILS = 10;
const OTHER_ERRORS = '(other errors)';

function incompatible(message: string, file?: string): StbError {
  return new StbError(
    'STB_BENCH_RESULT_MERGE_INCOMPATIBLE',
    `[stb] [bench] ${message}`,
    file === undefined ? {} : { details: { file } },
  );
}

/** Options without `shard`, as canonical JSON (keys sorted). */
function optionsKey(options: Record<string, unknown>): string {
  const rest = Object.fromEntries(
    Object.entries(options)
      .filter(([k]) => k !== 'shard')
      .sort(([a], [b]) => (a < b ? -1 : 1)),
  );
  return JSON.stringify(rest);
}

function shardOf(r: BenchResult): { index: number; count: number } | undefined {
  const s = r.context.options['shard'] as
    { index?: unknown; count?: unknown } | undefined;
  return typeof s?.index === 'number' && typeof s.count === 'number'
    ? { index: s.index, count: s.count }
    : undefined;
}

/** Checks that `results` are the shards of one sharded run; returns them in shard order. */
function checkMergeable(
  results: readonly BenchResult[],
  label: (i: number) => string,
): BenchResult[] {
  const first = results[0];
  if (!first)
    throw new StbError(
      'STB_USAGE',
      '[stb] [bench] Nothing to merge. Pass the result of every shard.',
    );
  const hash = first.context.trace.hash;
  if (hash === undefined)
    throw incompatible(
      `${label(0)} records no trace hash, so its shards cannot be shown to have run the same trace. Run \`stb bench\` on a trace file.`,
      label(0),
    );
  const count = shardOf(first)?.count ?? 1;
  const byIndex: (BenchResult | undefined)[] = [];
  results.forEach((r, i) => {
    const checks: [string, unknown, unknown][] = [
      ['trace hash', r.context.trace.hash, hash],
      [
        'options (other than --shard)',
        optionsKey(r.context.options),
        optionsKey(first.context.options),
      ],
      ['mode', r.mode, first.mode],
      ['seed', r.context.seed, first.context.seed],
      ['target plugin', r.context.target.plugin, first.context.target.plugin],
      [
        'target dialect',
        r.context.target.dialect,
        first.context.target.dialect,
      ],
      ['tool version', r.context.tool.version, first.context.tool.version],
      ['shard count', shardOf(r)?.count ?? 1, count],
    ];
    for (const [what, got, want] of checks)
      if (JSON.stringify(got) !== JSON.stringify(want))
        throw incompatible(
          `${label(i)} differs from ${label(0)} in its ${what} (${JSON.stringify(got)} vs ${JSON.stringify(want)}). Merge only the shards of one run: the same trace and options, each with its own --shard i/n.`,
          label(i),
        );
    const index = shardOf(r)?.index ?? 0;
    if (byIndex[index])
      throw incompatible(
        `${label(i)} repeats shard ${index}/${count}. Pass each shard's result once.`,
        label(i),
      );
    byIndex[index] = r;
  });
  const missing: string[] = [];
  for (let i = 0; i < count; i++)
    if (!byIndex[i]) missing.push(`${i}/${count}`);
  if (missing.length > 0)
    throw incompatible(
      `Shard ${missing.join(', ')} missing: a merged result needs every shard (its sessions would be absent from the counts).`,
    );
  return byIndex as BenchResult[];
}

/** A result's latency histogram, or `STB_BENCH_RESULT_INVALID` (a damaged file, not a bug). */
function decodeOrThrow(encoded: string): Histogram {
  try {
    return decodeHistogram(encoded);
  } catch (err) {
    throw new StbError(
      'STB_BENCH_RESULT_INVALID',
      `[stb] [bench] A latency histogram of the results to merge cannot be decoded (${err instanceof Error ? err.message : String(err)}): the file is damaged. Re-run that shard.`,
      { cause: err },
    );
  }
}

/** Merged latency summary from histograms (exact), or from summaries when a histogram is missing. */
function mergeLatency(stats: readonly BenchStats[]): {
  latencyMs: LatencySummary;
  latencyHistogramNs?: string;
} {
  const withCount = stats.filter((s) => s.count > 0);
  if (withCount.every((s) => s.latencyHistogramNs !== undefined)) {
    const h = newHistogram();
    for (const s of withCount) {
      const d = decodeOrThrow(s.latencyHistogramNs as string);
      h.add(d);
      d.destroy();
    }
    const out = {
      latencyMs: summarize(h),
      ...(h.totalCount > 0 ? { latencyHistogramNs: encodeHistogram(h) } : {}),
    };
    h.destroy();
    return out;
  }
  // no histogram (results of older versions): bounds only
  return { latencyMs: maxSummary(withCount.map((s) => s.latencyMs)) };
}

function sumRecords(
  list: readonly (Record<string, number> | undefined)[],
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of list)
    for (const [k, v] of Object.entries(r ?? {})) out[k] = (out[k] ?? 0) + v;
  return out;
}

function mergeRowCounts(
  stats: readonly BenchStats[],
): RowCountSummary | undefined {
  const parts = stats.filter((s) => s.ok > 0);
  if (parts.some((s) => !s.rowCounts)) return undefined;
  const buckets = new Map<number, number>();
  for (const s of parts)
    for (const [b, n] of s.rowCounts?.buckets ?? [])
      buckets.set(b, (buckets.get(b) ?? 0) + n);
  const ok = parts.reduce((a, s) => a + s.ok, 0);
  const rows = parts.reduce((a, s) => a + s.rows, 0);
  return {
    min:
      parts.length > 0
        ? Math.min(...parts.map((s) => s.rowCounts?.min ?? 0))
        : 0,
    max: Math.max(0, ...parts.map((s) => s.rowCounts?.max ?? 0)),
    mean: ok > 0 ? Math.round((rows / ok) * 1e4) / 1e4 : 0,
    buckets: [...buckets].sort((a, b) => a[0] - b[0]),
  };
}

/**
 * The shards' time windows added window by window (shards run side by side, each timed from its own
 * start), at the widest shard's width (widths are 1 ms × a power of two, so a narrower shard's
 * windows nest in it). Undefined unless every shard has them.
 */
function mergeWindows(
  stats: readonly BenchStats[],
): LatencyWindows | undefined {
  const parts = stats.flatMap((s) =>
    s.latencyWindows ? [s.latencyWindows] : [],
  );
  if (parts.length === 0 || parts.length < stats.length) return undefined;
  const widthMs = Math.max(...parts.map((w) => w.widthMs));
  const merged: Map<number, number>[] = [];
  for (const w of parts) {
    const factor = widthMs / w.widthMs;
    if (!Number.isInteger(factor)) return undefined;
    w.windows.forEach((pairs, i) => {
      const into = (merged[Math.floor(i / factor)] ??= new Map());
      for (const [lb, n] of pairs) into.set(lb, (into.get(lb) ?? 0) + n);
    });
  }
  return {
    widthMs,
    windows: Array.from(merged, (m) =>
      m ? [...m].sort((a, b) => a[0] - b[0]) : [],
    ),
  };
}

/** Statistics of the union of the shards' executions over a window of `seconds`. */
function mergeStats(stats: readonly BenchStats[], seconds: number): BenchStats {
  const total = (f: (s: BenchStats) => number): number =>
    stats.reduce((a, s) => a + f(s), 0);
  const count = total((s) => s.count);
  const ok = total((s) => s.ok);
  const per = (x: number): number =>
    seconds > 0 ? Math.round((x / seconds) * 100) / 100 : 0;
  const zeroRows = total((s) => Math.round(s.zeroRowShare * s.ok));
  const rowCounts = mergeRowCounts(stats);
  const deffs = stats.flatMap((s) =>
    s.latencyDesignEffect === undefined ? [] : [s.latencyDesignEffect],
  );
  const out: BenchStats = {
    count,
    ok,
    errors: total((s) => s.errors),
    qps: per(count),
    goodput: per(ok),
    ...mergeLatency(stats),
    errorsByClass: sumRecords(stats.map((s) => s.errorsByClass)),
    rows: total((s) => s.rows),
    zeroRowShare: ok > 0 ? Math.round((zeroRows / ok) * 1e4) / 1e4 : 0,
    errorsByCode: sumRecords(stats.map((s) => s.errorsByCode)),
  };
  if (rowCounts) out.rowCounts = rowCounts;
  // batch means are not mergeable: the largest shard's effect is the conservative choice
  if (deffs.length > 0) out.latencyDesignEffect = Math.max(...deffs);
  const windows = mergeWindows(stats);
  if (windows) out.latencyWindows = windows;
  return out;
}

function mergeDetails(
  lists: readonly (BenchErrorDetail[] | undefined)[],
): BenchErrorDetail[] | undefined {
  const counts = new Map<string, BenchErrorDetail>();
  let other = 0;
  for (const list of lists)
    for (const d of list ?? []) {
      if (d.code === undefined && d.message === OTHER_ERRORS) {
        other += d.count;
        continue;
      }
      const key = `${d.code ?? ''}\u0000${d.message}`;
      const m = counts.get(key);
      if (m) m.count += d.count;
      else counts.set(key, { ...d });
    }
  if (counts.size === 0 && other === 0) return undefined;
  const list = [...counts.values()].sort((a, b) => b.count - a.count);
  const kept = list.slice(0, MAX_DETAILS);
  const rest = other + list.slice(MAX_DETAILS).reduce((a, d) => a + d.count, 0);
  if (rest > 0) kept.push({ message: OTHER_ERRORS, count: rest });
  return kept;
}

/** Length of the union of intervals, ms. */
function unionMs(intervals: [number, number][]): number {
  const sorted = [...intervals].sort((a, b) => a[0] - b[0]);
  let total = 0;
  let end = -Infinity;
  for (const [a, b] of sorted) {
    if (b <= end) continue;
    total += b - Math.max(a, end);
    end = b;
  }
  return total;
}

function maxSummary(list: readonly LatencySummary[]): LatencySummary {
  const max = (f: (l: LatencySummary) => number): number =>
    Math.max(0, ...list.map(f));
  const count = list.reduce((a, l) => a + l.count, 0);
  return {
    count,
    mean:
      count > 0 ? list.reduce((a, l) => a + l.mean * l.count, 0) / count : 0,
    p50: max((l) => l.p50),
    p90: max((l) => l.p90),
    p95: max((l) => l.p95),
    p99: max((l) => l.p99),
    p999: max((l) => l.p999),
    max: max((l) => l.max),
  };
}

/**
 * Merges the results of the n shards of one sharded `stb bench` run (`--shard i/n` on n
 * machines) into one result: counts add up, latency histograms merge exactly (so percentiles are
 * those of one histogram of every execution), QPS is over the union of the shards' measured
 * windows. The contexts must share the trace hash, options (other than `shard`), mode, seed,
 * target plugin and tool version, and every shard must be present.
 * @throws StbError `STB_BENCH_RESULT_MERGE_INCOMPATIBLE` when they do not.
 * @example
 * const merged = mergeBenchResults([r0, r1, r2, r3]);
 */
export function mergeBenchResults(
  results: readonly BenchResult[],
  options: MergeBenchResultsOptions = {},
): BenchResult {
  const label = (i: number): string => options.labels?.[i] ?? `result ${i + 1}`;
  const ordered = checkMergeable(results, label);
  const first = ordered[0] as BenchResult;
  // each shard's measured window ends at `endedAt` and lasts `durationSeconds`
  const windows = ordered.map((r): [number, number] => {
    const end = Date.parse(r.context.endedAt);
    return [end - r.durationSeconds * 1000, end];
  });
  const seconds = unionMs(windows) / 1000;
  const startMs = Math.min(
    ...ordered.map((r) => Date.parse(r.context.startedAt)),
  );
  const shift = (r: BenchResult): number =>
    Date.parse(r.context.startedAt) - startMs;

  const byTemplate = new Map<string, BenchTemplateStats[]>();
  for (const r of ordered)
    for (const t of r.templates) {
      const list = byTemplate.get(t.templateId);
      if (list) list.push(t);
      else byTemplate.set(t.templateId, [t]);
    }
  const templates = [...byTemplate.values()].map((list): BenchTemplateStats => {
    const head = list[0] as BenchTemplateStats;
    const details = mergeDetails(list.map((t) => t.errorDetails));
    return {
      templateId: head.templateId,
      queryType: head.queryType,
      ...mergeStats(list, seconds),
      ...(details ? { errorDetails: details } : {}),
    };
  });
  templates.sort(
    (a, b) => b.count - a.count || (a.templateId < b.templateId ? -1 : 1),
  );

  const statuses = new Set(ordered.map((r) => r.status));
  const stopReasons = [
    ...new Set(ordered.flatMap((r) => (r.stopReason ? [r.stopReason] : []))),
  ];
  const lags = ordered.flatMap((r) =>
    r.scheduleLagMs ? [r.scheduleLagMs] : [],
  );
  const outages = ordered.flatMap((r) =>
    (r.faults.outages ?? []).map((o) => ({
      ...o,
      startMs: o.startMs + shift(r),
    })),
  );
  const { shard: _shard, ...contextOptions } = first.context.options;
  const merged: BenchResult = {
    format: 'stb-bench-result',
    version: first.version,
    status: statuses.has('failed')
      ? 'failed'
      : statuses.has('stopped')
        ? 'stopped'
        : 'completed',
    mode: first.mode,
    context: {
      ...first.context,
      options: { ...contextOptions, mergedShards: ordered.length },
      startedAt: new Date(startMs).toISOString(),
      endedAt: new Date(Math.max(...windows.map((w) => w[1]))).toISOString(),
    },
    durationSeconds: seconds,
    warmupSeconds: Math.max(...ordered.map((r) => r.warmupSeconds)),
    overall: mergeStats(
      ordered.map((r) => r.overall),
      seconds,
    ),
    templates,
    sessions: {
      total: ordered.reduce((a, r) => a + r.sessions.total, 0),
      completed: ordered.reduce((a, r) => a + r.sessions.completed, 0),
      aborted: ordered.reduce((a, r) => a + r.sessions.aborted, 0),
      gaveUp: ordered.reduce((a, r) => a + (r.sessions.gaveUp ?? 0), 0),
    },
    skipped: {
      readOnly: ordered.reduce((a, r) => a + r.skipped.readOnly, 0),
      notRun: ordered.reduce((a, r) => a + r.skipped.notRun, 0),
    },
    faults: {
      reconnects: ordered.reduce((a, r) => a + r.faults.reconnects, 0),
      workerCrashes: ordered.reduce((a, r) => a + r.faults.workerCrashes, 0),
      incidents: ordered
        .flatMap((r) =>
          r.faults.incidents.map((x) => ({ ...x, atMs: x.atMs + shift(r) })),
        )
        .sort((a, b) => a.atMs - b.atMs),
      ...(outages.length > 0
        ? { outages: outages.sort((a, b) => a.startMs - b.startMs) }
        : {}),
    },
  };
  if (stopReasons.length > 0) merged.stopReason = stopReasons.join('; ');
  // schedule lag has no histogram in the result: a count-weighted mean and the largest percentiles
  if (lags.length > 0) merged.scheduleLagMs = maxSummary(lags);
  // the clients' load: CPU and statements add up over the shards (each its own runner), the
  // busiest thread is the busiest of any shard, the CPU wait the longest of any shard that has
  // one; left out unless every shard has a client block
  const clients = ordered.flatMap((r) => (r.client ? [r.client] : []));
  if (clients.length === ordered.length && clients.length > 0) {
    const waits = clients.flatMap((c) =>
      c.cpuWaitShare === undefined ? [] : [c.cpuWaitShare],
    );
    merged.client = clientLoad({
      cpuMicros: clients.reduce((a, c) => a + c.cpuSeconds * 1e6, 0),
      queries: clients.reduce((a, c) => a + c.queries, 0),
      busiest: Math.max(...clients.map((c) => c.busiestThreadShare)),
      threads: clients.reduce((a, c) => a + c.threads, 0),
      ...(waits.length > 0 ? { cpuWait: Math.max(...waits) } : {}),
    });
  }
  return merged;
}

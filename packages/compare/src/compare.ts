import {
  BENCH_COMPARISON_VERSION,
  BenchResult,
  COMPARED_QUANTILES,
  StbError,
  clientLimitWarning,
  createRng,
  normalQuantile,
} from '@stb/core';
import type {
  BenchComparison,
  BenchStats,
  BenchTemplateStats,
  ComparedQuantile,
  ComparedRun,
  ComparisonOptions,
  ComparisonScope,
  ComparisonVerdict,
  ErrorCodeChange,
  ErrorDivergence,
  QuantileComparison,
  Rng,
  RowCountSummary,
  RowDivergence,
  RunShift,
  TemplateComparison,
  ThresholdCheck,
  UnmatchedTemplate,
} from '@stb/core';
import { quantile, toLatencyDistribution } from './histogram';
import type { LatencyDistribution } from './histogram';
import { quantileRatioInterval } from './interval';
import type { Threshold } from './thresholds';
import { windowDesignEffect } from './windows';

/** Options of {@link compareBenchResults}. Every field has a documented default. */
export interface CompareOptions {
  /** Smallest relative latency change called faster or slower. Default 0.05 (5 %). */
  readonly minEffect?: number;
  /** Confidence level of the intervals. Default 0.95. */
  readonly confidence?: number;
  /** Bootstrap replicates per interval. Default 2000. */
  readonly resamples?: number;
  /** Seed of the bootstrap (same inputs + seed = same report). Default 1. */
  readonly seed?: number;
  /** Quantiles whose verdicts make a template's verdict. Default `['p50', 'p95']`. */
  readonly verdictQuantiles?: readonly ComparedQuantile[];
  /** Relative change of mean rows, or TV distance of row histograms, that counts as changed. Default 0.01. */
  readonly rowTolerance?: number;
  /** Pass/fail criteria (see `parseRegressionThreshold`); none by default. */
  readonly thresholds?: readonly Threshold[];
  /** Display labels (file names). Default `baseline` / `candidate`. */
  readonly labels?: { readonly baseline?: string; readonly candidate?: string };
  /** Report time stamp (ISO 8601); default now. Pass one for byte-identical reports. */
  readonly createdAt?: string;
}

const Q_OF: Record<ComparedQuantile, number> = {
  p50: 0.5,
  p95: 0.95,
  p99: 0.99,
};

function resolveOptions(o: CompareOptions): ComparisonOptions {
  const opts: ComparisonOptions = {
    minEffect: o.minEffect ?? 0.05,
    confidence: o.confidence ?? 0.95,
    resamples: o.resamples ?? 2000,
    seed: o.seed ?? 1,
    verdictQuantiles: [...(o.verdictQuantiles ?? ['p50', 'p95'])],
    rowTolerance: o.rowTolerance ?? 0.01,
  };
  const bad = (what: string): StbError =>
    new StbError('STB_OPTIONS_INVALID', `[stb] [compare] ${what}`);
  if (!(opts.minEffect >= 0 && opts.minEffect < 10))
    throw bad('`minEffect` must be a fraction ≥ 0, e.g. 0.05 for 5 %.');
  if (!(opts.confidence > 0.5 && opts.confidence < 1))
    throw bad('`confidence` must be between 0.5 and 1, e.g. 0.95.');
  if (!(Number.isInteger(opts.resamples) && opts.resamples >= 100))
    throw bad('`resamples` must be an integer ≥ 100.');
  if (!(opts.rowTolerance >= 0)) throw bad('`rowTolerance` must be ≥ 0.');
  if (opts.verdictQuantiles.length === 0)
    throw bad('`verdictQuantiles` needs at least one of p50, p95, p99.');
  return opts;
}

/** Validates a parsed JSON value as a bench result, naming the file in the error. */
export function parseBenchResult(value: unknown, label: string): BenchResult {
  const r = BenchResult.safeParse(value);
  if (!r.success) {
    const issue = r.error.issues[0];
    const where = issue ? issue.path.join('.') || '(root)' : '(root)';
    throw new StbError(
      'STB_BENCH_RESULT_INVALID',
      `[stb] [compare] ${label} is not an \`stb bench\` result (${where}: ${issue?.message ?? 'invalid'}). Pass the JSON written by \`stb bench -o\`.`,
      { details: { file: label, path: where } },
    );
  }
  return r.data;
}

function ratioOf(b: number, a: number): number | null {
  return a > 0 ? b / a : null;
}

function round(x: number, digits = 4): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/**
 * The step of the clock a run's latencies were read on, ns. `stb bench` times statements on an
 * epoch-milliseconds double (`performance.timeOrigin + performance.now()`, comparable across
 * threads), whose steps near its start time are 2^(⌊log₂ ms⌋ − 52) ms: 244 ns in 2026. Latencies
 * of a few µs (SQLite in memory: 1–4 µs) are then multiples of 244 ns, and a quantile that moves
 * by one step moves its ratio by 6–20 %.
 */
export function clockStepNs(startedAt: string): number {
  const ms = Date.parse(startedAt);
  if (!(ms > 0)) return 0;
  return 2 ** (Math.floor(Math.log2(ms)) - 52) * 1e6;
}

/**
 * A ratio interval widened by the clock's resolution: each of the two quantiles is only known to
 * within one clock step, so the ratio cannot be resolved finer than (c ± s) / (b ∓ s).
 */
function widenForClock(
  iv: { low: number; high: number; baseline: number; candidate: number },
  stepNs: number,
): { low: number; high: number } {
  if (!(stepNs > 0) || !(iv.baseline > stepNs) || !(iv.candidate > 0))
    return { low: iv.low, high: iv.high };
  const da = stepNs / iv.baseline;
  const db = stepNs / iv.candidate;
  return {
    low: (iv.low * Math.max(0, 1 - db)) / (1 + da),
    high: (iv.high * (1 + db)) / (1 - da),
  };
}

function verdictOf(
  low: number,
  high: number,
  minEffect: number,
): ComparisonVerdict {
  if (low > 1 + minEffect) return 'slower';
  if (high < 1 - minEffect) return 'faster';
  return 'no-significant-change';
}

/** A scope's verdict from its verdict quantiles: slower if any is slower, else faster if any is faster. */
function scopeVerdict(
  latency: Record<ComparedQuantile, QuantileComparison>,
  opts: ComparisonOptions,
): ComparisonVerdict {
  const vs = opts.verdictQuantiles.map((q) => latency[q].verdict);
  return vs.includes('slower')
    ? 'slower'
    : vs.includes('faster')
      ? 'faster'
      : 'no-significant-change';
}

/** Fewest templates from which a run-level shift is estimated. */
const MIN_SHIFT_TEMPLATES = 3;

function median(xs: number[]): number {
  const s = [...xs].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 === 1
    ? (s[m] as number)
    : Math.sqrt((s[m - 1] as number) * (s[m] as number));
}

/**
 * The run-level shift at each quantile: the median over templates of the ratio, and its bootstrap
 * interval (replicate i's shift is the median of the templates' replicate i; templates are
 * resampled independently, so this is a bootstrap of the median). The per-template intervals only
 * see within-run noise; a change of the machine between two sequential runs moves every template
 * by one factor, which no within-run interval covers. When the shift is significant at the minimum
 * effect and a majority of templates were called the same way, it is reported once as a run-level
 * verdict, and each template's verdict at that quantile needs its interval beyond the minimum
 * effect both as measured and relative to the shift (a template is slower only if it is slower
 * than the whole run moved). Mutates the templates' latency verdicts and verdicts.
 */
function runShifts(
  templates: TemplateComparison[],
  replicates: Map<ComparedQuantile, Float64Array>[],
  opts: ComparisonOptions,
): RunShift[] {
  const out: RunShift[] = [];
  for (const q of COMPARED_QUANTILES) {
    const with_ = templates
      .map((t, i) => ({ t, reps: replicates[i]?.get(q) }))
      .filter(
        (x): x is { t: TemplateComparison; reps: Float64Array } =>
          x.reps !== undefined && x.t.latency[q].ratio !== null,
      );
    if (with_.length < MIN_SHIFT_TEMPLATES) continue;
    const ratio = median(with_.map((x) => x.t.latency[q].ratio as number));
    const n = opts.resamples;
    const meds = new Float64Array(n);
    const row: number[] = new Array<number>(with_.length);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < with_.length; j++)
        row[j] = (with_[j] as { reps: Float64Array }).reps[i] as number;
      meds[i] = median(row);
    }
    meds.sort();
    const alpha = 1 - opts.confidence;
    const at = (p: number): number =>
      meds[Math.min(n - 1, Math.max(0, Math.floor(p * n)))] ?? 0;
    const low = at(alpha / 2);
    const high = at(1 - alpha / 2);
    const verdict = verdictOf(low, high, opts.minEffect);
    const agreeing = with_.filter(
      (x) => x.t.latency[q].verdict === verdict,
    ).length;
    const applied =
      verdict !== 'no-significant-change' && agreeing * 2 > with_.length;
    out.push({
      quantile: q,
      ratio: round(ratio),
      low: round(low),
      high: round(high),
      verdict,
      templates: with_.length,
      agreeing,
      applied,
    });
    if (!applied || !(ratio > 0)) continue;
    for (const { t } of with_) {
      const l = t.latency[q];
      const relative = verdictOf(
        (l.low as number) / ratio,
        (l.high as number) / ratio,
        opts.minEffect,
      );
      (l as { verdict: ComparisonVerdict }).verdict =
        relative === l.verdict ? l.verdict : 'no-significant-change';
      (l as { runShift?: number }).runShift = round(ratio);
    }
  }
  if (out.some((s) => s.applied))
    for (const t of templates)
      (t as { verdict: ComparisonVerdict }).verdict = scopeVerdict(
        t.latency,
        opts,
      );
  return out;
}

/**
 * The design effect a scope's interval uses at a quantile whose estimate is `valueNs`: from the
 * run's time windows when it has them (the whole run), else the batch-means effect the runner
 * recorded, else 1. `z`: the normal quantile of the confidence level.
 */
function designEffectAt(
  s: BenchStats,
  valueNs: number | undefined,
  z: number,
): { value: number; windows: boolean } {
  const windows =
    s.latencyWindows && valueNs !== undefined
      ? windowDesignEffect(s.latencyWindows, valueNs, z)
      : undefined;
  return windows !== undefined
    ? { value: windows, windows: true }
    : { value: s.latencyDesignEffect ?? 1, windows: false };
}

function compareScope(
  a: BenchStats,
  b: BenchStats,
  ctx: {
    opts: ComparisonOptions;
    rng: Rng;
    where: string;
    /** Receives each quantile's replicate ratios (for the run-level shift). */
    replicates?: Map<ComparedQuantile, Float64Array>;
    /** The coarser of the two runs' clock steps, ns ({@link clockStepNs}). */
    clockStepNs: number;
  },
): ComparisonScope {
  const da = toLatencyDistribution(
    a.latencyHistogramNs,
    `the baseline (${ctx.where})`,
  );
  const db = toLatencyDistribution(
    b.latencyHistogramNs,
    `the candidate (${ctx.where})`,
  );
  const latency = {} as Record<ComparedQuantile, QuantileComparison>;
  const z = normalQuantile(1 - (1 - ctx.opts.confidence) / 2);
  const at = (
    d: LatencyDistribution,
    q: ComparedQuantile,
  ): number | undefined => (d.count > 0 ? quantile(d, Q_OF[q]) : undefined);
  for (const q of COMPARED_QUANTILES) {
    const ea = designEffectAt(a, at(da, q), z);
    const eb = designEffectAt(b, at(db, q), z);
    const iv = quantileRatioInterval(da, db, {
      q: Q_OF[q],
      confidence: ctx.opts.confidence,
      resamples: ctx.opts.resamples,
      rng: ctx.rng,
      designEffect: { baseline: ea.value, candidate: eb.value },
    });
    if (iv && ctx.replicates) ctx.replicates.set(q, iv.replicates);
    const w = iv && widenForClock(iv, ctx.clockStepNs);
    latency[q] =
      iv && w
        ? {
            baselineMs: round(iv.baseline / 1e6, 6),
            candidateMs: round(iv.candidate / 1e6, 6),
            ratio: round(iv.ratio),
            low: round(w.low),
            high: round(w.high),
            verdict: verdictOf(w.low, w.high, ctx.opts.minEffect),
            designEffect: {
              baseline: round(ea.value, 3),
              candidate: round(eb.value, 3),
              source:
                ea.windows && eb.windows
                  ? 'windows'
                  : ea.windows || eb.windows
                    ? 'mixed'
                    : 'batch-means',
            },
          }
        : {
            baselineMs: a.latencyMs[q],
            candidateMs: b.latencyMs[q],
            ratio: null,
            low: null,
            high: null,
            verdict: 'no-significant-change',
          };
  }
  const verdict = scopeVerdict(latency, ctx.opts);
  const rate = (s: BenchStats): number =>
    s.count > 0 ? s.errors / s.count : 0;
  const qpsRatio = ratioOf(b.qps, a.qps);
  return {
    count: { baseline: a.count, candidate: b.count },
    throughput: {
      baseline: a.qps,
      candidate: b.qps,
      ratio: qpsRatio === null ? null : round(qpsRatio),
    },
    errorRate: {
      baseline: round(rate(a), 6),
      candidate: round(rate(b), 6),
      increase: round(rate(b) - rate(a), 6),
    },
    latency,
    verdict,
  };
}

/** Full error codes of a stats record; older results only have classes. */
function codesOf(s: BenchStats): Record<string, number> {
  return s.errorsByCode ?? s.errorsByClass;
}

function errorDivergence(
  a: BenchStats,
  b: BenchStats,
  opts: ComparisonOptions,
): ErrorDivergence {
  const ca = codesOf(a);
  const cb = codesOf(b);
  const z = normalQuantile(1 - (1 - opts.confidence) / 2);
  const out: ErrorDivergence = { new: [], missing: [], changed: [] };
  const codes = [...new Set([...Object.keys(ca), ...Object.keys(cb)])].sort();
  for (const code of codes) {
    const x = ca[code] ?? 0;
    const y = cb[code] ?? 0;
    const ra = a.count > 0 ? x / a.count : 0;
    const rb = b.count > 0 ? y / b.count : 0;
    const change: ErrorCodeChange = {
      code,
      baseline: x,
      candidate: y,
      baselineRate: round(ra, 6),
      candidateRate: round(rb, 6),
    };
    if (x === 0 && y > 0) out.new.push(change);
    else if (y === 0 && x > 0) out.missing.push(change);
    else if (x > 0 && y > 0) {
      // two-proportion z-test, and a relative change beyond the minimum effect
      const pooled = (x + y) / (a.count + b.count);
      const se = Math.sqrt(pooled * (1 - pooled) * (1 / a.count + 1 / b.count));
      const significant = se > 0 && Math.abs(rb - ra) / se > z;
      if (significant && Math.abs(rb / ra - 1) > opts.minEffect)
        out.changed.push(change);
    }
  }
  return out;
}

/** Row-count distribution as shares per log2 bucket. */
function rowShares(r: RowCountSummary): Map<number, number> {
  const total = r.buckets.reduce((acc, [, n]) => acc + n, 0);
  const m = new Map<number, number>();
  if (total > 0) for (const [lb, n] of r.buckets) m.set(lb, n / total);
  return m;
}

function rowDivergence(
  a: BenchStats,
  b: BenchStats,
  opts: ComparisonOptions,
): RowDivergence {
  const ra = a.rowCounts ?? null;
  const rb = b.rowCounts ?? null;
  const meanA = ra ? ra.mean : a.ok > 0 ? a.rows / a.ok : 0;
  const meanB = rb ? rb.mean : b.ok > 0 ? b.rows / b.ok : 0;
  const meanRatio = meanA > 0 ? round(meanB / meanA) : null;
  let distance: number | null = null;
  if (ra && rb && a.ok > 0 && b.ok > 0) {
    const sa = rowShares(ra);
    const sb = rowShares(rb);
    let d = 0;
    for (const k of new Set([...sa.keys(), ...sb.keys()]))
      d += Math.abs((sa.get(k) ?? 0) - (sb.get(k) ?? 0));
    distance = round(Math.min(1, d / 2));
  } else if (a.ok > 0 && b.ok > 0)
    distance = round(Math.abs(a.zeroRowShare - b.zeroRowShare));
  const tol = opts.rowTolerance;
  const meanChanged =
    meanRatio === null ? meanB > 0 && a.ok > 0 : Math.abs(meanRatio - 1) > tol;
  return {
    baseline: ra,
    candidate: rb,
    meanRatio,
    distance,
    changed: a.ok > 0 && b.ok > 0 && (meanChanged || (distance ?? 0) > tol),
  };
}

function runInfo(r: BenchResult, label: string): ComparedRun {
  return {
    label,
    status: r.status,
    mode: r.mode,
    durationSeconds: r.durationSeconds,
    target: r.context.target.url,
    ...(r.context.target.serverVersion
      ? { serverVersion: r.context.target.serverVersion }
      : {}),
    ...(r.context.trace.hash ? { traceHash: r.context.trace.hash } : {}),
    startedAt: r.context.startedAt,
  };
}

const pct = (x: number): string => `${round(x * 100, 2)} %`;

function checkThresholds(
  thresholds: readonly Threshold[],
  overall: ComparisonScope,
  templates: readonly TemplateComparison[],
): ThresholdCheck[] {
  const out: ThresholdCheck[] = [];
  for (const t of thresholds) {
    const scopes: [string, ComparisonScope][] = [['overall', overall]];
    if (t.scope === 'all')
      for (const tc of templates) scopes.push([tc.templateId, tc]);
    for (const [scope, s] of scopes) {
      let actual: number | null;
      let passed: boolean;
      let message: string;
      if (t.metric === 'error-rate') {
        actual = s.errorRate.increase;
        passed = actual <= t.limit;
        message = `error rate ${pct(s.errorRate.baseline)} → ${pct(s.errorRate.candidate)} (${actual >= 0 ? '+' : ''}${pct(actual)}; limit +${pct(t.limit)})`;
      } else if (t.metric === 'throughput') {
        const r = s.throughput.ratio;
        actual = r === null ? null : round(1 - r);
        passed = actual === null || actual <= t.limit;
        message =
          r === null
            ? 'throughput: no baseline executions'
            : `throughput ${s.throughput.baseline} → ${s.throughput.candidate}/s (${pct(r - 1)}; limit −${pct(t.limit)})`;
      } else {
        const l = s.latency[t.metric];
        actual = l.ratio === null ? null : round(l.ratio - 1);
        // a regression fails only when it is both larger than the limit and significant
        passed =
          actual === null || actual <= t.limit || l.low === null || l.low <= 1;
        message =
          l.ratio === null
            ? `${t.metric}: a run has no executions`
            : `${t.metric} ${l.baselineMs} → ${l.candidateMs} ms (${actual !== null && actual >= 0 ? '+' : ''}${pct(actual ?? 0)}, ${Math.round((l.low ?? 0) * 1000) / 1000}–${Math.round((l.high ?? 0) * 1000) / 1000}×; limit +${pct(t.limit)})${!passed || (actual ?? 0) <= t.limit ? '' : ', not significant'}`;
      }
      out.push({
        threshold: t.text,
        scope,
        actual,
        limit: t.limit,
        passed,
        message,
      });
    }
  }
  return out;
}

function unmatched(t: BenchTemplateStats): UnmatchedTemplate {
  return { templateId: t.templateId, queryType: t.queryType, count: t.count };
}

/**
 * What is said of a run (`label`) that did not run its whole trace, before it is compared, or
 * undefined: one that did not complete (its status and stop reason), or one that completed with
 * sessions aborted (a worker thread crashed, sessions gave up connecting to a full server), which
 * drove less load than its trace. `stb compare` and `stb validate --bench-*` say it.
 * @example
 * const w = incompleteRunWarning(result, 'after.json'); // "after.json ran less load than its trace: …"
 */
export function incompleteRunWarning(
  r: BenchResult,
  label: string,
): string | undefined {
  if (r.status !== 'completed')
    return `${label} did not complete (status ${r.status}${r.stopReason ? `: ${r.stopReason}` : ''}).`;
  if (r.sessions.aborted > 0)
    return `${label} ran less load than its trace: ${String(r.sessions.aborted)} of ${String(r.sessions.total)} sessions were aborted (${String(r.faults.workerCrashes)} worker crashes) and ${String(r.skipped.notRun)} events not run.`;
  return undefined;
}

/**
 * Compares two benchmark results (two runs of one trace, or of two traces with the same
 * templates): per template and overall, throughput, error rate, and p50/p95/p99 ratios
 * (candidate ÷ baseline) with bootstrap confidence intervals from the results' HDR histograms; a
 * verdict at a minimum effect; new, missing and changed SQLSTATEs; row divergence; templates only
 * one run executed; and the outcome of each threshold. Deterministic for a given seed.
 * @example
 * const report = compareBenchResults(baseline, candidate, {
 *   thresholds: [parseRegressionThreshold('p95=10%')],
 * });
 * if (!report.passed) process.exitCode = 1;
 * @throws StbError `STB_BENCH_RESULT_INVALID` when a result is not a bench result, or was written
 * without latency histograms; `STB_OPTIONS_INVALID` for bad options.
 */
export function compareBenchResults(
  baseline: BenchResult,
  candidate: BenchResult,
  options: CompareOptions = {},
): BenchComparison {
  const opts = resolveOptions(options);
  const labels = {
    baseline: options.labels?.baseline ?? 'baseline',
    candidate: options.labels?.candidate ?? 'candidate',
  };
  for (const [r, label] of [
    [baseline, labels.baseline],
    [candidate, labels.candidate],
  ] as const)
    if (r.overall.count > 0 && r.overall.latencyHistogramNs === undefined)
      throw new StbError(
        'STB_BENCH_RESULT_INVALID',
        `[stb] [compare] ${label} has no latency histograms (written by an older \`stb bench\`), so no interval can be computed. Re-run \`stb bench\` with this version.`,
        { details: { file: label } },
      );
  const rng = createRng(opts.seed);
  const warnings: string[] = [];
  const ha = baseline.context.trace.hash;
  const hb = candidate.context.trace.hash;
  if (ha !== undefined && hb !== undefined && ha !== hb)
    warnings.push(
      `The runs replayed different traces (${ha.slice(0, 12)}… and ${hb.slice(0, 12)}…): templates are matched by id.`,
    );
  if (baseline.mode !== candidate.mode)
    warnings.push(
      `The runs used different modes (${baseline.mode} and ${candidate.mode}): latencies are not measured the same way.`,
    );
  for (const [r, label] of [
    [baseline, labels.baseline],
    [candidate, labels.candidate],
  ] as const) {
    const w = incompleteRunWarning(r, label);
    if (w !== undefined) warnings.push(w);
  }
  for (const [r, label] of [
    [baseline, labels.baseline],
    [candidate, labels.candidate],
  ] as const) {
    const w = clientLimitWarning(r, label);
    if (w !== undefined) warnings.push(w);
  }

  const stepNs = Math.max(
    clockStepNs(baseline.context.startedAt),
    clockStepNs(candidate.context.startedAt),
  );
  const byId = new Map(candidate.templates.map((t) => [t.templateId, t]));
  const seen = new Set<string>();
  const templates: TemplateComparison[] = [];
  const replicates: Map<ComparedQuantile, Float64Array>[] = [];
  const onlyInBaseline: UnmatchedTemplate[] = [];
  for (const ta of baseline.templates) {
    const tb = byId.get(ta.templateId);
    seen.add(ta.templateId);
    if (!tb) {
      onlyInBaseline.push(unmatched(ta));
      continue;
    }
    const reps = new Map<ComparedQuantile, Float64Array>();
    replicates.push(reps);
    templates.push({
      templateId: ta.templateId,
      queryType: ta.queryType,
      ...compareScope(ta, tb, {
        opts,
        rng,
        where: `template ${ta.templateId}`,
        replicates: reps,
        clockStepNs: stepNs,
      }),
      errors: errorDivergence(ta, tb, opts),
      rows: rowDivergence(ta, tb, opts),
    });
  }
  const onlyInCandidate = candidate.templates
    .filter((t) => !seen.has(t.templateId))
    .map(unmatched);
  if (onlyInBaseline.length + onlyInCandidate.length > 0)
    warnings.push(
      `${onlyInBaseline.length} template(s) ran only in ${labels.baseline} and ${onlyInCandidate.length} only in ${labels.candidate}; they are listed, not compared.`,
    );
  const shifts = runShifts(templates, replicates, opts);
  for (const s of shifts)
    if (s.applied)
      warnings.push(
        `Run-level shift at ${s.quantile}: ${s.agreeing} of ${s.templates} templates moved together, median ratio ${s.ratio} (${s.low}–${s.high}×), called ${s.verdict === 'slower' ? 'slower' : 'faster'} for the whole run. Templates are called slower or faster at ${s.quantile} only beyond this shift. A shift every template shares is often the machine changing between two sequential runs: re-run, alternating the two, before blaming the database.`,
      );
  const overall = compareScope(baseline.overall, candidate.overall, {
    opts,
    rng,
    where: 'overall',
    clockStepNs: stepNs,
  });
  const thresholds = checkThresholds(
    options.thresholds ?? [],
    overall,
    templates,
  );
  const errorDiv = (t: TemplateComparison): boolean =>
    t.errors.new.length + t.errors.missing.length + t.errors.changed.length > 0;
  return {
    format: 'stb-bench-comparison',
    version: BENCH_COMPARISON_VERSION,
    createdAt: options.createdAt ?? new Date().toISOString(),
    method: `Latency quantiles are nearest-rank values of each run's HdrHistogram; intervals are ${Math.round(opts.confidence * 100)} % percentile-bootstrap intervals of the ratio (${opts.resamples} resamples, exact order-statistic bootstrap, U(k) ~ Beta(k, n−k+1), with n divided by the run's design effect: for the whole run, from the spread between the run's time windows of the share of executions below the quantile (Woodruff's interval with windows as clusters), for a template from batch means; each drawn value spread over its histogram cell), widened by the clock's step (${round(stepNs, 1)} ns: each quantile is known to within one step); a quantile is slower or faster only when its whole interval lies beyond ±${round(opts.minEffect * 100, 2)} %. A shift a majority of templates share (median ratio over templates, bootstrap interval beyond the minimum effect) is reported as a run-level shift, and template verdicts at that quantile then also need the interval divided by the shift to lie beyond it.`,
    options: opts,
    baseline: runInfo(baseline, labels.baseline),
    candidate: runInfo(candidate, labels.candidate),
    overall,
    templates,
    onlyInBaseline,
    onlyInCandidate,
    summary: {
      faster: templates.filter((t) => t.verdict === 'faster').length,
      slower: templates.filter((t) => t.verdict === 'slower').length,
      unchanged: templates.filter((t) => t.verdict === 'no-significant-change')
        .length,
      errorDivergence: templates.filter(errorDiv).length,
      rowDivergence: templates.filter((t) => t.rows.changed).length,
    },
    thresholds,
    runShifts: shifts,
    passed: thresholds.every((t) => t.passed),
    warnings,
  };
}

import type {
  KllSketch,
  QueryTemplate,
  QueryType,
  StatisticalTest,
  ValidationCdf,
  ValidationCharts,
  ValidationPropertyId,
  ValidationSlot,
  ValidationTemplate,
} from '@stb/core';
import { QUERY_TYPES } from '@stb/core';

import {
  bigramKey,
  type SlotStats,
  type TemplateIndex,
  type TraceCollector,
} from './collector';
import { cdfPoints, histogram } from './sketch/weighted';
import { chiSquareTest } from './stats/chi-square';
import { ksPValue, ksStatisticWeighted } from './stats/ks';
import { pValueFromLn } from './stats/p-value';
import { totalVariation } from './stats/total-variation';

/** What a property comparison yields before weights are applied. @internal */
export interface Comparison {
  applicable: boolean;
  score: number | null;
  distance: { name: string; value: number } | null;
  test: StatisticalTest | null;
  note?: string;
}

const LABELS: Record<ValidationPropertyId, string> = {
  queryTypes: 'Query types',
  templates: 'Templates',
  transitions: 'Template transitions',
  parameters: 'Parameters',
  interArrival: 'Inter-arrival times',
  thinkTime: 'Think times',
  sessionLength: 'Session lengths',
  sessionArrival: 'Session arrival rate',
  burstiness: 'Burstiness',
  repeatRate: 'Exact-repeat rate',
  durations: 'Durations',
  statementRate: 'Statement rate over time',
  concurrency: 'Concurrency over time',
  connections: 'Connection attributes',
};

/** Display label of a property. @internal */
export function propertyLabel(id: ValidationPropertyId): string {
  return LABELS[id];
}

const clamp01 = (x: number): number => Math.min(1, Math.max(0, x));

/** A comparison that does not apply, with the reason. @internal */
export function notApplicable(note: string): Comparison {
  return { applicable: false, score: null, distance: null, test: null, note };
}

function chiTest(a: ArrayLike<number>, b: ArrayLike<number>): StatisticalTest {
  const r = chiSquareTest(a, b);
  const test: StatisticalTest = {
    name: 'chi-square',
    statistic: r.statistic,
    df: r.df,
    pValue: r.pValue,
    log10PValue: r.log10PValue,
  };
  if (r.bound !== undefined) test.pValueBound = r.bound;
  return test;
}

/**
 * Total variation two samples of these sizes from one distribution (the pooled shares) show on
 * average: ½ Σ √(2/π)·√(p(1 − p)(1/n + 1/m)) (each share's difference taken as normal). @internal
 */
export function expectedNullTv(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
): number {
  let n = 0;
  let m = 0;
  for (let i = 0; i < a.length; i++) n += a[i] as number;
  for (let i = 0; i < b.length; i++) m += b[i] as number;
  if (n <= 0 || m <= 0) return 0;
  const inv = 1 / n + 1 / m;
  let sum = 0;
  const len = Math.max(a.length, b.length);
  for (let i = 0; i < len; i++) {
    const p = (((a[i] as number) || 0) + ((b[i] as number) || 0)) / (n + m);
    sum += Math.sqrt(p * (1 - p) * inv);
  }
  return 0.5 * Math.sqrt(2 / Math.PI) * sum;
}

/**
 * Categorical comparison: 1 − TV with a chi-square test of homogeneity. Not corrected for sampling
 * noise (see docs/validation-metrics.md, "Sampling noise": two seeds of one model score ≥ 0.95 on
 * every categorical property of the fixture logs, and a systematic shift of a few percent must
 * still lower the score). @internal
 */
export function compareCounts(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
): Comparison {
  const tv = totalVariation(a, b);
  return {
    applicable: true,
    score: clamp01(1 - tv),
    distance: { name: 'tv', value: tv },
    test: chiTest(a, b),
  };
}

/**
 * Continuous comparison of two sketches: 1 − (KS − the KS expected from sampling alone), with the
 * two-sample KS test; `{ smallSample: false }` scores the raw 1 − KS. @internal
 */
export function compareSketches(
  a: KllSketch,
  b: KllSketch,
  options: { smallSample?: boolean } = {},
): Comparison {
  if (a.n === 0 || b.n === 0)
    return notApplicable(
      a.n === b.n ? 'No values in either trace.' : 'No values in one trace.',
    );
  const d = ksStatisticWeighted(a.toWeighted(), b.toWeighted());
  const p = ksPValue(d, [a.n, b.n]);
  const test: StatisticalTest = {
    name: 'ks-two-sample',
    statistic: d,
    pValue: p.pValue,
    log10PValue: p.log10PValue,
    method: a.exact && b.exact ? p.method : `${p.method} (sketch)`,
  };
  if (p.bound !== undefined) test.pValueBound = p.bound;
  if (options.smallSample !== false) {
    // Two samples of the same distribution already differ by about 0.87·√((n+m)/(n·m)) in KS
    // (the mean of the Kolmogorov distribution). Score only the excess over that, so 57 values
    // or five equal-rhythm pooled sessions do not look unfaithful; at a million items the
    // correction vanishes.
    const n = a.n;
    const m = b.n;
    const expected =
      n > 0 && m > 0 ? KS_NULL_MEAN * Math.sqrt((n + m) / (n * m)) : 0;
    return {
      applicable: true,
      score: clamp01(1 - Math.max(0, d - expected)),
      distance: { name: 'ks', value: d },
      test,
      note: `1 − (KS − ${expected.toFixed(3)}), the KS expected between two samples of this size from one distribution.`,
    };
  }
  return {
    applicable: true,
    score: clamp01(1 - d),
    distance: { name: 'ks', value: d },
    test,
  };
}

/** Mean of the Kolmogorov distribution (√(π/2)·ln 2). */
const KS_NULL_MEAN = 0.8687;

function alignMaps<K>(
  a: Map<K, number>,
  b: Map<K, number>,
): [number[], number[]] {
  const keys = new Set<K>([...a.keys(), ...b.keys()]);
  const xa: number[] = [];
  const xb: number[] = [];
  for (const k of keys) {
    xa.push(a.get(k) ?? 0);
    xb.push(b.get(k) ?? 0);
  }
  return [xa, xb];
}

/** Template distribution. @internal */
export function compareTemplates(
  a: TraceCollector,
  b: TraceCollector,
  index: TemplateIndex,
): Comparison {
  const n = index.ids.length;
  const xa = Array.from({ length: n }, (_, i) => a.templateCounts[i] ?? 0);
  const xb = Array.from({ length: n }, (_, i) => b.templateCounts[i] ?? 0);
  if (a.events === 0 || b.events === 0)
    return notApplicable('A trace is empty.');
  return compareCounts(xa, xb);
}

/** Query-type distribution. @internal */
export function compareQueryTypes(
  a: TraceCollector,
  b: TraceCollector,
  typeOf: (templateIndex: number) => QueryType,
): Comparison {
  if (a.events === 0 || b.events === 0)
    return notApplicable('A trace is empty.');
  const count = (c: TraceCollector): number[] => {
    const out = QUERY_TYPES.map(() => 0);
    c.templateCounts.forEach((n, i) => {
      const q = QUERY_TYPES.indexOf(typeOf(i));
      out[q] = (out[q] ?? 0) + n;
    });
    return out;
  };
  return compareCounts(count(a), count(b));
}

/**
 * Sessions by connection attributes (user, database, application: the trace's `conn` on a
 * session's first event), sessions without any counted as one more kind. Not applicable when
 * neither trace names any. @internal
 */
export function compareConnections(
  a: TraceCollector,
  b: TraceCollector,
): Comparison {
  if (a.sessions === 0 || b.sessions === 0)
    return notApplicable('A trace is empty.');
  if (a.connNamed === 0 && b.connNamed === 0)
    return notApplicable('Neither trace names connection attributes.');
  const [xa, xb] = alignMaps(a.conns, b.conns);
  xa.push(a.sessions - a.connNamed);
  xb.push(b.sessions - b.connNamed);
  const c = compareCounts(xa, xb);
  c.note = 'Sessions by user, database and application name.';
  return c;
}

/** Bigram distribution within sessions (including the session-start → first template pair). @internal */
export function compareTransitions(
  a: TraceCollector,
  b: TraceCollector,
): Comparison {
  if (a.events === 0 || b.events === 0)
    return notApplicable('A trace is empty.');
  const [xa, xb] = alignMaps(a.bigrams, b.bigrams);
  const c = compareCounts(xa, xb);
  c.note = 'Bigrams within sessions, session start included.';
  return c;
}

/** Slot kind by majority over both traces. */
function slotKind(a: SlotStats, b: SlotStats): ValidationSlot['kind'] {
  const numeric = a.numericCount + b.numericCount;
  const list = a.listCount + b.listCount;
  const other = a.otherCount + b.otherCount;
  if (numeric >= list && numeric >= other) return 'numeric';
  if (list >= other) return 'list';
  return a.overflow || b.overflow ? 'high-cardinality' : 'categorical';
}

/** KS comparison of two optional sketches; a side without values is at distance 1. */
function compareOptionalSketches(
  a: KllSketch | undefined,
  b: KllSketch | undefined,
): Comparison {
  if (a === undefined || b === undefined || a.n === 0 || b.n === 0)
    return {
      applicable: true,
      score: 0,
      distance: { name: 'ks', value: 1 },
      test: null,
    };
  return compareSketches(a, b);
}

/** Compares one parameter slot; null when there is nothing to compare. @internal */
export function compareSlot(
  a: SlotStats | undefined,
  b: SlotStats | undefined,
): { kind: ValidationSlot['kind']; comparison: Comparison } | null {
  if (a === undefined || b === undefined) return null;
  const kind = slotKind(a, b);
  if (kind === 'numeric')
    return { kind, comparison: compareOptionalSketches(a.numeric, b.numeric) };
  if (kind === 'categorical') {
    const [xa, xb] = alignMaps(a.pooledCategories(), b.pooledCategories());
    return { kind, comparison: compareCounts(xa, xb) };
  }
  return { kind, comparison: compareOptionalSketches(a.lengths, b.lengths) };
}

/** Combines p-values of several tests: min p × m, capped at 1 (Bonferroni). */
function bonferroni(tests: StatisticalTest[]): StatisticalTest | null {
  if (tests.length === 0) return null;
  let minLog = 0;
  for (const t of tests) minLog = Math.min(minLog, t.log10PValue);
  const m = tests.length;
  const p = pValueFromLn((minLog + Math.log10(m)) * Math.LN10);
  const test: StatisticalTest = {
    name: 'bonferroni-min',
    statistic: m,
    pValue: p.pValue,
    log10PValue: p.log10PValue,
  };
  if (p.bound !== undefined) test.pValueBound = p.bound;
  return test;
}

/** Per-template parameter scores and the overall parameter property. @internal */
export function compareParameters(
  a: TraceCollector,
  b: TraceCollector,
  options: {
    index: TemplateIndex;
    templateOf: (i: number) => QueryTemplate | undefined;
  },
): {
  comparison: Comparison;
  rows: Map<number, { score: number | null; slots: ValidationSlot[] }>;
} {
  const rows = new Map<
    number,
    { score: number | null; slots: ValidationSlot[] }
  >();
  let num = 0;
  let den = 0;
  const tests: StatisticalTest[] = [];
  for (let i = 0; i < options.index.ids.length; i++) {
    const sa = a.slots[i];
    const sb = b.slots[i];
    if (sa === undefined || sb === undefined) continue;
    const tpl = options.templateOf(i);
    const slots: ValidationSlot[] = [];
    const n = Math.max(sa.length, sb.length);
    for (let s = 0; s < n; s++) {
      const r = compareSlot(sa[s], sb[s]);
      if (r === null) continue;
      slots.push({
        index: s,
        column: tpl?.slots[s]?.column ?? null,
        kind: r.kind,
        score: r.comparison.score ?? 0,
        test: r.comparison.test,
      });
      if (r.comparison.test) tests.push(r.comparison.test);
    }
    if (slots.length === 0) continue;
    const score = slots.reduce((t, s) => t + s.score, 0) / slots.length;
    rows.set(i, { score, slots });
    const w = a.templateCounts[i] ?? 0;
    num += w * score;
    den += w;
  }
  if (den === 0)
    return {
      comparison: notApplicable(
        'No template with parameters occurs in both traces.',
      ),
      rows,
    };
  const score = clamp01(num / den);
  return {
    comparison: {
      applicable: true,
      score,
      distance: { name: 'weighted-mean-distance', value: 1 - score },
      test: bonferroni(tests),
      note: 'Mean slot score per template (numeric: 1 − KS; categorical: 1 − TV, values seen in fewer than k sessions of their trace pooled as one "rare" category; lists and high-cardinality text: 1 − KS of lengths), weighted by the original template frequency.',
    },
    rows,
  };
}

/** Relative time axis: histogram of a time-offset sketch over the trace's own span. */
function relativeHistogram(
  c: TraceCollector,
  sketch: KllSketch,
  bins: number,
): number[] | null {
  if (c.firstUs === null || !(c.maxUs > c.minUs) || sketch.n === 0) return null;
  return histogram(sketch.toWeighted(), {
    lo: c.minUs - c.firstUs,
    hi: c.maxUs - c.firstUs,
    bins,
  });
}

/**
 * Session arrivals on a common relative time axis: the two-sample KS distance between the session
 * start times binned by their share of each trace's span, scored above the distance two samples of
 * these sizes from one distribution show anyway (as for session lengths: five sessions that start
 * at the same places are not unfaithful because 24 bins split them differently). @internal
 */
export function compareSessionArrival(
  a: TraceCollector,
  b: TraceCollector,
  bins: number,
): Comparison {
  const ha = relativeHistogram(a, a.sessionStarts, bins);
  const hb = relativeHistogram(b, b.sessionStarts, bins);
  if (ha === null || hb === null)
    return notApplicable('A trace spans no time or has no sessions.');
  if (a.sessions < 2 || b.sessions < 2)
    return notApplicable('Fewer than two sessions in a trace.');
  // KS over the bins' cumulative shares: a start 0.1 % of the span earlier is not a difference
  const total = (h: number[]): number => h.reduce((x, y) => x + y, 0) || 1;
  const ta = total(ha);
  const tb = total(hb);
  let ca = 0;
  let cb = 0;
  let d = 0;
  for (let i = 0; i < ha.length; i++) {
    ca += (ha[i] as number) / ta;
    cb += (hb[i] as number) / tb;
    d = Math.max(d, Math.abs(ca - cb));
  }
  const n = a.sessionStarts.n;
  const m = b.sessionStarts.n;
  const p = ksPValue(d, [n, m]);
  const expected = KS_NULL_MEAN * Math.sqrt((n + m) / (n * m));
  const tv = totalVariation(ha, hb);
  return {
    applicable: true,
    score: clamp01(1 - Math.max(0, d - expected)),
    distance: { name: 'ks', value: d },
    test: {
      name: 'ks-two-sample',
      statistic: d,
      pValue: p.pValue,
      log10PValue: p.log10PValue,
      method: p.method,
    },
    note: `Session starts in ${bins} bins of each trace's relative time [0, 1], KS over the bins: 1 − (KS − ${expected.toFixed(3)}), the KS expected between two samples of this size from one distribution (TV over the bins: ${tv.toFixed(3)}); scale-free by design.`,
  };
}

/**
 * Burstiness: per window size, the two variance-to-mean ratios compared on a log scale with their
 * sampling noise taken out. d = |ln VMRa − ln VMRb|; the noise both estimates carry, se² =
 * Var(ln VMRa) + Var(ln VMRb) (from each trace's own count moments, see
 * `WindowCounter.vmrEstimate`), gives the |d| expected with no difference, √(2/π)·se; the window
 * scores exp(−(d − that)) when d exceeds it, else 1 (exp(−d) = min/max of the ratios). Window
 * sizes are averaged with weights 1/se², so a size with few windows counts little. Without this,
 * two seeds of one model scored 0.59–0.99 (docs/validation-metrics.md, "Sampling noise").
 * @internal
 */
export function compareBurstiness(
  a: TraceCollector,
  b: TraceCollector,
  minWindows: number,
): Comparison {
  let weighted = 0;
  let weights = 0;
  let logSum = 0;
  let n = 0;
  const used: string[] = [];
  a.windows.forEach((wa, i) => {
    const wb = b.windows[i];
    if (wb === undefined) return;
    const va = wa.vmr(minWindows);
    const vb = wb.vmr(minWindows);
    if (va === null || vb === null) return;
    const ea = wa.vmrEstimate(minWindows);
    const eb = wb.vmrEstimate(minWindows);
    let score: number;
    let se2: number;
    let d: number;
    if (ea === null || eb === null) {
      // a zero variance on a side: no logarithm, compare plainly
      const hi = Math.max(va, vb);
      score = hi === 0 ? 1 : Math.min(va, vb) / hi;
      d = hi === 0 ? 0 : Math.abs(Math.log((va + 1e-12) / (vb + 1e-12)));
      se2 = 2 / Math.min(wa.windows, wb.windows);
    } else {
      d = Math.abs(Math.log(ea.vmr / eb.vmr));
      se2 = ea.logVariance + eb.logVariance;
      // E|d| with no difference: √(2/π)·se (d normal around 0)
      score = Math.exp(-Math.max(0, d - Math.sqrt((2 / Math.PI) * se2)));
    }
    const w = 1 / Math.max(se2, 1e-6);
    weighted += w * score;
    weights += w;
    logSum += d;
    n++;
    used.push(formatWindow(wa.sizeUs));
  });
  if (n === 0)
    return notApplicable(
      `No window size has at least ${minWindows} windows in both traces.`,
    );
  return {
    applicable: true,
    score: clamp01(weighted / weights),
    distance: { name: 'mean-abs-log-ratio', value: logSum / n },
    test: null,
    note: `Variance-to-mean ratios over windows ${used.join(', ')}, compared as |log ratio| less the sampling noise of both (weighted by precision).`,
  };
}

/** Human-readable window size. @internal */
export function formatWindow(us: number): string {
  if (us >= 60_000_000 && us % 60_000_000 === 0)
    return `${us / 60_000_000} min`;
  if (us >= 1_000_000) return `${us / 1_000_000} s`;
  if (us >= 1000) return `${us / 1000} ms`;
  return `${us} µs`;
}

/** Exact-repeat rate: 1 − |rate difference| (TV between the two Bernoulli distributions). @internal */
export function compareRepeatRate(
  a: TraceCollector,
  b: TraceCollector,
): Comparison {
  if (a.events === 0 || b.events === 0)
    return notApplicable('A trace is empty.');
  const ra = a.repeatRate();
  const rb = b.repeatRate();
  const repA = Math.round(ra * a.events);
  const repB = Math.round(rb * b.events);
  const diff = Math.abs(ra - rb);
  // the difference two samples of these sizes with one rate show on average (as Bernoulli draws)
  const expected = expectedNullTv(
    [repA, a.events - repA],
    [repB, b.events - repB],
  );
  return {
    applicable: true,
    score: clamp01(1 - Math.max(0, diff - expected)),
    distance: { name: 'abs-diff', value: diff },
    test: chiTest([repA, a.events - repA], [repB, b.events - repB]),
    note: `1 − (|difference| − ${expected.toFixed(3)}, expected from sampling alone); ${
      a.distinct.exact && b.distinct.exact
        ? 'exact distinct counts.'
        : 'distinct counts estimated by HyperLogLog (±0.8 %).'
    }`,
  };
}

/** Builds the chart data. @internal */
export function buildCharts(
  a: TraceCollector,
  b: TraceCollector,
  options: {
    index: TemplateIndex;
    topN: number;
    bins: number;
    minWindows: number;
    paramCdfs: ValidationCdf[];
    includeDurations: boolean;
  },
): ValidationCharts {
  const cdf = (
    [id, label, unit]: [string, string, string],
    sa: KllSketch,
    sb: KllSketch,
  ): ValidationCdf => ({
    id,
    label,
    unit,
    original: cdfPoints(sa.toWeighted()),
    generated: cdfPoints(sb.toWeighted()),
  });
  const cdfs: ValidationCdf[] = [
    cdf(
      ['interArrival', 'Inter-arrival time', 'µs'],
      a.interArrival,
      b.interArrival,
    ),
    cdf(
      ['thinkTime', 'Think time (within sessions)', 'µs'],
      a.thinkTime,
      b.thinkTime,
    ),
    cdf(
      ['sessionLength', 'Session length', 'events'],
      a.sessionLength,
      b.sessionLength,
    ),
  ];
  if (options.includeDurations)
    cdfs.push(
      cdf(['durations', 'Statement duration', 'µs'], a.durations, b.durations),
    );
  cdfs.push(...options.paramCdfs);

  // top templates by original frequency (then generated)
  const order = options.index.ids
    .map((_, i) => i)
    .sort(
      (x, y) =>
        (a.templateCounts[y] ?? 0) - (a.templateCounts[x] ?? 0) ||
        (b.templateCounts[y] ?? 0) - (b.templateCounts[x] ?? 0),
    )
    .slice(0, options.topN);
  const matrix = (c: TraceCollector): number[][] =>
    order.map((from) => {
      let total = 0;
      for (const [key, n] of c.bigrams)
        if (Math.floor(key / 0x200000) === from) total += n;
      return order.map((to) =>
        total === 0 ? 0 : (c.bigrams.get(bigramKey(from, to)) ?? 0) / total,
      );
    });
  const share = (h: number[] | null): number[] => {
    if (h === null) return [];
    const t = h.reduce((s, x) => s + x, 0);
    return h.map((x) => (t === 0 ? 0 : x / t));
  };
  return {
    cdfs,
    transitions: {
      templateIds: order.map((i) => options.index.ids[i] as string),
      original: matrix(a),
      generated: matrix(b),
    },
    arrival: {
      bins: options.bins,
      originalEvents: share(relativeHistogram(a, a.eventTimes, options.bins)),
      generatedEvents: share(relativeHistogram(b, b.eventTimes, options.bins)),
      originalSessions: share(
        relativeHistogram(a, a.sessionStarts, options.bins),
      ),
      generatedSessions: share(
        relativeHistogram(b, b.sessionStarts, options.bins),
      ),
    },
    burstiness: a.windows.map((w, i) => ({
      windowUs: w.sizeUs,
      original: w.vmr(options.minWindows),
      generated: b.windows[i]?.vmr(options.minWindows) ?? null,
    })),
  };
}

/** Template rows of the report. @internal */
export function buildTemplateRows(
  a: TraceCollector,
  b: TraceCollector,
  options: {
    index: TemplateIndex;
    templateOf: (i: number) => QueryTemplate | undefined;
    params: Map<number, { score: number | null; slots: ValidationSlot[] }>;
  },
): ValidationTemplate[] {
  const rows: ValidationTemplate[] = options.index.ids.map((id, i) => {
    const tpl = options.templateOf(i);
    const p = options.params.get(i);
    const row: ValidationTemplate = {
      id,
      original: a.templateCounts[i] ?? 0,
      generated: b.templateCounts[i] ?? 0,
      parameterScore: p?.score ?? null,
      slots: p?.slots ?? [],
    };
    if (tpl !== undefined) {
      row.text = tpl.text;
      row.queryType = tpl.queryType;
    }
    return row;
  });
  return rows.sort(
    (x, y) => y.original - x.original || y.generated - x.generated,
  );
}

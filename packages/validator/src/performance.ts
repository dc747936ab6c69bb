import type {
  BenchComparison,
  PerformanceFidelity,
  PerformanceProperty,
  TemplateComparison,
} from '@stb/core';

/** Tolerances of {@link performanceFidelity}. */
export interface PerformanceTargets {
  /** Per-template p50 and p95 within this relative tolerance. Default 0.1 (10 %). */
  readonly latency?: number;
  /** Overall throughput within this relative tolerance. Default 0.05 (5 %). */
  readonly throughput?: number;
}

const agreement = (r: number): number =>
  r > 0 && Number.isFinite(r) ? Math.min(r, 1 / r) : 0;
const r4 = (x: number): number => Math.round(x * 1e4) / 1e4;

function latencyProperty(
  templates: readonly TemplateComparison[],
  q: 'p50' | 'p95',
  target: number,
): PerformanceProperty {
  let w = 0;
  let score = 0;
  let within = 0;
  for (const t of templates) {
    const r = t.latency[q].ratio;
    if (r === null) continue;
    const n = t.count.baseline + t.count.candidate;
    w += n;
    score += n * agreement(r);
    if (Math.abs(r - 1) <= target) within += n;
  }
  return {
    id: q === 'p50' ? 'latencyP50' : 'latencyP95',
    label: `${q} latency per template`,
    score: w > 0 ? r4(score / w) : null,
    value: w > 0 ? r4(within / w) : null,
    target,
    withinTarget: w > 0 ? within === w : null,
  };
}

/**
 * Performance fidelity from the comparison of two replays (baseline = original trace, candidate
 * = generated trace) on the same target: execution-weighted agreement min(r, 1/r) of per-template
 * p50 and p95 ratios, and of the overall throughput ratio. Attach it to a report as
 * `report.performance`.
 * @example
 * const cmp = compareBenchResults(originalRun, generatedRun);
 * report.performance = performanceFidelity(cmp);
 */
export function performanceFidelity(
  comparison: BenchComparison,
  targets: PerformanceTargets = {},
): PerformanceFidelity {
  const lt = targets.latency ?? 0.1;
  const tt = targets.throughput ?? 0.05;
  const tr = comparison.overall.throughput.ratio;
  const properties: PerformanceProperty[] = [
    latencyProperty(comparison.templates, 'p50', lt),
    latencyProperty(comparison.templates, 'p95', lt),
    {
      id: 'throughput',
      label: 'Throughput (overall)',
      score: tr === null ? null : r4(agreement(tr)),
      value: tr,
      target: tt,
      withinTarget: tr === null ? null : Math.abs(tr - 1) <= tt,
    },
  ];
  const scores = properties
    .map((p) => p.score)
    .filter((s): s is number => s !== null);
  return {
    score:
      scores.length > 0
        ? r4(scores.reduce((a, b) => a + b, 0) / scores.length)
        : 0,
    properties,
    templates: comparison.templates.map((t) => ({
      templateId: t.templateId,
      original: t.count.baseline,
      generated: t.count.candidate,
      p50Ratio: t.latency.p50.ratio,
      p95Ratio: t.latency.p95.ratio,
      verdict: t.verdict,
    })),
    onlyInOriginal: comparison.onlyInBaseline.length,
    onlyInGenerated: comparison.onlyInCandidate.length,
    original: comparison.baseline.label,
    generated: comparison.candidate.label,
    target: comparison.baseline.target,
  };
}

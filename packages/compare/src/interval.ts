import type { Rng } from '@stb/core';
import { quantile, smoothedValueAtRank } from './histogram';
import type { LatencyDistribution } from './histogram';

/** Gamma(shape, 1) by Marsaglia and Tsang (2000); shape ≥ 1. */
function gamma(rng: Rng, shape: number): number {
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = rng.normal();
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = rng.next();
    if (u < 1 - 0.0331 * x * x * x * x) return d * v;
    if (Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
}

/** Beta(a, b) as G(a) / (G(a) + G(b)); a, b ≥ 1. */
function beta(rng: Rng, a: number, b: number): number {
  const x = gamma(rng, a);
  return x / (x + gamma(rng, b));
}

/**
 * One bootstrap replicate of the nearest-rank `q` quantile of `d`. Resampling n executions with
 * replacement and taking the k-th smallest (k = ⌈q·n⌉) gives F⁻¹(U₍ₖ₎), where U₍ₖ₎, the k-th of n
 * uniform order statistics, is Beta(k, n − k + 1). Drawing that directly is the exact bootstrap
 * distribution of the quantile (Hutson 1999) at O(log buckets) per replicate, instead of O(n).
 * The drawn value is smoothed over its cell (see `smoothedValueAtRank`).
 */
function replicate(
  rng: Rng,
  d: LatencyDistribution,
  opts: { q: number; designEffect: number },
): number {
  // autocorrelated executions carry less information: n_eff = n / design effect
  const n = Math.max(1, d.count / opts.designEffect);
  const k = Math.min(n, Math.max(1, Math.ceil(opts.q * n)));
  const u = beta(rng, k, n - k + 1);
  return smoothedValueAtRank(d, Math.ceil(u * d.count), rng.next());
}

/** The point estimate and percentile-bootstrap interval of a ratio of two quantiles. */
export interface RatioInterval {
  readonly baseline: number;
  readonly candidate: number;
  readonly ratio: number;
  readonly low: number;
  readonly high: number;
  /** The bootstrap replicate ratios in drawing order (unsorted), for the run-level shift. */
  readonly replicates: Float64Array;
}

/**
 * Percentile bootstrap interval of quantile(candidate) ÷ quantile(baseline): both runs are
 * resampled independently `resamples` times, and the interval is the central `confidence` share of
 * the replicate ratios. Each run's sample size is divided by its design effect (1 when unknown).
 * Returns null when a run has no executions.
 */
export function quantileRatioInterval(
  baseline: LatencyDistribution,
  candidate: LatencyDistribution,
  options: {
    q: number;
    confidence: number;
    resamples: number;
    rng: Rng;
    designEffect: { baseline: number; candidate: number };
  },
): RatioInterval | null {
  if (baseline.count === 0 || candidate.count === 0) return null;
  const { q, rng, resamples } = options;
  const a = quantile(baseline, q);
  const b = quantile(candidate, q);
  const ratios = new Float64Array(resamples);
  for (let i = 0; i < resamples; i++) {
    const ra = replicate(rng, baseline, {
      q,
      designEffect: options.designEffect.baseline,
    });
    const rb = replicate(rng, candidate, {
      q,
      designEffect: options.designEffect.candidate,
    });
    ratios[i] = rb / Math.max(ra, 1e-9);
  }
  const replicates = ratios.slice();
  ratios.sort();
  const alpha = 1 - options.confidence;
  const at = (p: number): number =>
    ratios[Math.min(resamples - 1, Math.max(0, Math.floor(p * resamples)))] ??
    0;
  return {
    baseline: a,
    candidate: b,
    ratio: b / Math.max(a, 1e-9),
    low: at(alpha / 2),
    high: at(1 - alpha / 2),
    replicates,
  };
}

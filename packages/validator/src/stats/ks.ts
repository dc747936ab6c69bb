import { kllKsDistance } from '@stb/core';
import type { WeightedValues } from '@stb/core';
import { type PValue, pValueFromLn, pValueFromNumber } from './p-value';

/** Result of a two-sample Kolmogorov–Smirnov test. */
export interface KsResult extends PValue {
  /** sup |F₁(x) − F₂(x)| over all x. */
  statistic: number;
  /** How the p-value was computed. */
  method: 'exact' | 'asymptotic';
}

/** Options of {@link ksPValue}. */
export interface KsPValueOptions {
  /**
   * `exact`: Hodges' lattice-path probability (O(n₁·n₂)); `asymptotic`: the Kolmogorov limit
   * distribution with Stephens' finite-size correction; `auto` (default): exact when
   * n₁·n₂ ≤ {@link KS_EXACT_MAX_CELLS}.
   */
  method?: 'auto' | 'exact' | 'asymptotic';
}

/** Largest n₁·n₂ for which `auto` computes the exact two-sample p-value. */
export const KS_EXACT_MAX_CELLS = 1_000_000;

/**
 * Sorted values with weights (a quantile sketch's items, or raw samples with weight 1).
 * @internal
 */
export type WeightedSample = WeightedValues;

/**
 * KS statistic between two weighted samples (core's {@link kllKsDistance}: ties handled as
 * `scipy.stats.ks_2samp`; identical inputs give exactly 0).
 * @internal
 */
export const ksStatisticWeighted = kllKsDistance;

function sortedCopy(x: ArrayLike<number>): Float64Array {
  const out = Float64Array.from(x);
  out.sort();
  return out;
}

/**
 * Two-sample Kolmogorov–Smirnov test on raw samples, two-sided. NaN values are not allowed.
 * The statistic matches `scipy.stats.ks_2samp`; the p-value is exact for small samples (as scipy's
 * `method='exact'`) and asymptotic otherwise (see {@link ksPValue}).
 * @example
 * ksTwoSample([1, 2, 3, 4], [3, 4, 5, 6]).statistic; // 0.5
 */
export function ksTwoSample(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  options: KsPValueOptions = {},
): KsResult {
  const sa = sortedCopy(a);
  const sb = sortedCopy(b);
  const statistic = ksStatisticWeighted(
    { values: sa, weights: new Float64Array(sa.length).fill(1) },
    { values: sb, weights: new Float64Array(sb.length).fill(1) },
  );
  return {
    statistic,
    ...ksPValue(statistic, [sa.length, sb.length], options),
  };
}

/**
 * Two-sided p-value P(D ≥ d) of the two-sample KS statistic for sample sizes `[n₁, n₂]`.
 * Exact: the probability that a random monotone lattice path from (0,0) to (n₁,n₂) leaves the band
 * |i/n₁ − j/n₂| < d, summed as positive terms (no cancellation, so small p-values are accurate).
 * Asymptotic: Q_KS((√nₑ + 0.12 + 0.11/√nₑ)·d) with nₑ = n₁n₂/(n₁+n₂), Q_KS evaluated in log space.
 */
export function ksPValue(
  d: number,
  sizes: readonly [n1: number, n2: number],
  options: KsPValueOptions = {},
): PValue & { method: 'exact' | 'asymptotic' } {
  const [n1, n2] = sizes;
  if (!(n1 > 0 && n2 > 0) || !(d > 0))
    return { pValue: 1, log10PValue: 0, method: 'exact' };
  const method = options.method ?? 'auto';
  const exact =
    method === 'exact' || (method === 'auto' && n1 * n2 <= KS_EXACT_MAX_CELLS);
  if (exact && Number.isInteger(n1) && Number.isInteger(n2)) {
    const p = ksExactSf(d, n1, n2);
    if (p > 0) return { ...pValueFromNumber(p), method: 'exact' };
  }
  const en = (n1 * n2) / (n1 + n2);
  const s = Math.sqrt(en);
  const lambda = (s + 0.12 + 0.11 / s) * d;
  return { ...pValueFromLn(lnKolmogorovSf(lambda)), method: 'asymptotic' };
}

function ksExactSf(d: number, n1: number, n2: number): number {
  const scaled = d * n1 * n2;
  const rounded = Math.round(scaled);
  // d is (i·n₂ − j·n₁)/(n₁n₂) for integer i, j when it comes from samples of these sizes
  const h =
    Math.abs(scaled - rounded) < 1e-6 * Math.max(1, scaled)
      ? rounded
      : Math.ceil(scaled);
  if (h <= 0) return 1;
  let row = new Float64Array(n2 + 1);
  let next = new Float64Array(n2 + 1);
  row[0] = 1;
  let outside = 0;
  for (let i = 0; i <= n1; i++) {
    next.fill(0);
    for (let j = 0; j <= n2; j++) {
      const m = row[j] ?? 0;
      if (m === 0) continue;
      if (Math.abs(i * n2 - j * n1) >= h) {
        outside += m;
        continue;
      }
      const left = n1 - i + n2 - j;
      if (left === 0) continue;
      if (i < n1) next[j] = (next[j] ?? 0) + (m * (n1 - i)) / left;
      if (j < n2) row[j + 1] = (row[j + 1] ?? 0) + (m * (n2 - j)) / left;
    }
    const t = row;
    row = next;
    next = t;
  }
  return Math.min(1, outside);
}

/**
 * ln Q_KS(λ) where Q_KS(λ) = 2 Σ_{k≥1} (−1)^{k−1} e^{−2k²λ²} is the Kolmogorov distribution's upper
 * tail. Uses the theta-function form for small λ and a log-space alternating series for large λ,
 * so the result never underflows.
 * @internal
 */
export function lnKolmogorovSf(lambda: number): number {
  if (!(lambda > 0)) return 0;
  if (lambda < 1.18) {
    // P(K ≤ λ) = √(2π)/λ Σ_{k≥1} e^{−(2k−1)²π²/(8λ²)}
    const w = -(Math.PI * Math.PI) / (8 * lambda * lambda);
    let sum = 0;
    for (let k = 1; k < 20; k++) {
      const term = Math.exp((2 * k - 1) * (2 * k - 1) * w);
      sum += term;
      if (term < 1e-17 * sum) break;
    }
    const cdf = (Math.sqrt(2 * Math.PI) / lambda) * sum;
    return Math.log1p(-Math.min(cdf, 1));
  }
  // Q = 2 e^{−2λ²} Σ_{k≥1} (−1)^{k−1} e^{−2(k²−1)λ²}
  const l2 = lambda * lambda;
  let sum = 1;
  for (let k = 2; k < 100; k++) {
    const term = Math.exp(-2 * (k * k - 1) * l2);
    sum += k % 2 === 0 ? -term : term;
    if (term < 1e-17) break;
  }
  return Math.LN2 - 2 * l2 + Math.log(sum);
}

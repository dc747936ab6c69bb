import { lnUpperRegularizedGamma } from './gamma';
import { type PValue, pValueFromLn } from './p-value';

/** Result of a chi-square test. */
export interface ChiSquareResult extends PValue {
  /** Pearson's X² statistic. */
  statistic: number;
  /** Degrees of freedom. */
  df: number;
}

/**
 * Upper tail of the chi-square distribution, P(X ≥ x) with `df` degrees of freedom, computed in
 * log space (no underflow: `log10PValue` stays exact where `pValue` would be 0).
 */
export function chiSquareSf(x: number, df: number): PValue {
  if (!(df > 0))
    throw new RangeError(`[stb] [validator] df must be > 0, got ${df}.`);
  return pValueFromLn(lnUpperRegularizedGamma(df / 2, x / 2));
}

/**
 * Pearson's chi-square test of homogeneity on a 2 × k table: do the counts `a` and `b` (aligned by
 * category) come from the same distribution? Categories empty in both are dropped; no continuity
 * correction (as `scipy.stats.chi2_contingency(…, correction=False)`).
 * @example
 * chiSquareTest([10, 20, 30], [30, 20, 10]); // { statistic: 20, df: 2, pValue: 4.54e-5, … }
 */
export function chiSquareTest(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
): ChiSquareResult {
  if (a.length !== b.length)
    throw new RangeError(
      `[stb] [validator] chiSquareTest needs aligned categories (got ${a.length} and ${b.length}).`,
    );
  let na = 0;
  let nb = 0;
  let k = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    na += x;
    nb += y;
    if (x + y > 0) k++;
  }
  const n = na + nb;
  if (na === 0 || nb === 0 || k < 2)
    return { statistic: 0, df: Math.max(0, k - 1), pValue: 1, log10PValue: 0 };
  let stat = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    const col = x + y;
    if (col === 0) continue;
    const ea = (col * na) / n;
    const eb = (col * nb) / n;
    stat += ((x - ea) * (x - ea)) / ea + ((y - eb) * (y - eb)) / eb;
  }
  const df = k - 1;
  return { statistic: stat, df, ...chiSquareSf(stat, df) };
}

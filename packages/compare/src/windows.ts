import type { LatencyWindows } from '@stb/core';

/** Fewest non-empty windows from which a between-window variance is taken. */
const MIN_WINDOWS = 8;
/**
 * Most windows used: neighbours are merged in pairs down to this. Batch-means practice is 10–30
 * batches (Schmeiser 1982): more, shorter batches add little precision and see less of a drift
 * slower than a batch (80 calibration repetitions of 0.25-s runs: 20 % false whole-run verdicts
 * from 33–64 windows, 17.5 % from 17–32).
 */
const MAX_WINDOWS = 32;

/** The upper end (exclusive) of the window bucket starting at `lb` (see `LatencyWindows`). */
function bucketEnd(lb: number): number {
  if (lb < 16) return lb + 1;
  return lb + 2 ** (Math.floor(Math.log2(lb)) - 3);
}

/**
 * Student's t quantile by the Cornish–Fisher expansion in 1/ν (Abramowitz & Stegun 26.7.5):
 * within 0.2 % of the exact value for ν ≥ 5 at the usual levels.
 */
function tQuantile(z: number, nu: number): number {
  const z3 = z ** 3;
  const z5 = z ** 5;
  const z7 = z ** 7;
  return (
    z +
    (z3 + z) / (4 * nu) +
    (5 * z5 + 16 * z3 + 3 * z) / (96 * nu ** 2) +
    (3 * z7 + 19 * z5 + 17 * z3 - 15 * z) / (384 * nu ** 3)
  );
}

/**
 * The design effect of the run's empirical CDF at `valueNs` (the quantile's estimate), with the
 * run's time windows as clusters: Var(F̂(x)) from the spread of the windows' shares of executions
 * at or below x (the ratio-estimator variance of cluster sampling), divided by the variance the
 * same executions would give if independent. Woodruff's (1952) quantile interval maps exactly that
 * variance of F̂ through the CDF, which the bootstrap does when it draws the quantile's rank from
 * n ÷ this effect executions. A bucket's executions count as spread evenly over it (a share of the
 * bucket that holds x). The effect is multiplied by (t₍ₖ₋₁₎ ÷ z)² for the k windows it rests on, so
 * a variance from few windows widens the interval as Student's t does, and is at least 1.
 * Undefined with fewer than 8 non-empty windows or no spread.
 * @param z the normal quantile of the interval (1.96 at 95 %).
 */
export function windowDesignEffect(
  w: LatencyWindows,
  valueNs: number,
  z: number,
): number | undefined {
  let sizes: number[] = [];
  let below: number[] = [];
  // the pooled distribution of the smoothed indicator: its share per bucket
  const pooled = new Map<number, { n: number; y: number }>();
  for (const pairs of w.windows) {
    let n = 0;
    let y = 0;
    for (const [lb, count] of pairs) {
      const ub = bucketEnd(lb);
      const share =
        valueNs >= ub ? 1 : valueNs < lb ? 0 : (valueNs - lb) / (ub - lb);
      n += count;
      y += count * share;
      const p = pooled.get(lb);
      if (p) p.n += count;
      else pooled.set(lb, { n: count, y: share });
    }
    sizes.push(n);
    below.push(y);
  }
  while (sizes.length > MAX_WINDOWS) {
    const pair = (xs: number[]): number[] =>
      Array.from(
        { length: Math.ceil(xs.length / 2) },
        (_, i) => (xs[2 * i] as number) + (xs[2 * i + 1] ?? 0),
      );
    sizes = pair(sizes);
    below = pair(below);
  }
  below = below.filter((_, i) => (sizes[i] as number) > 0);
  sizes = sizes.filter((n) => n > 0);
  const k = sizes.length;
  if (k < MIN_WINDOWS) return undefined;
  const total = sizes.reduce((a, b) => a + b, 0);
  const p = below.reduce((a, b) => a + b, 0) / total;
  let unit = 0;
  for (const { n, y } of pooled.values()) unit += n * (y - p) ** 2;
  if (!(unit > 0)) return undefined;
  let between = 0;
  for (let i = 0; i < k; i++)
    between += ((below[i] as number) - p * (sizes[i] as number)) ** 2;
  const deff = ((k / (k - 1)) * between) / unit;
  const widen = (tQuantile(z, k - 1) / z) ** 2;
  return Math.max(1, deff * widen);
}

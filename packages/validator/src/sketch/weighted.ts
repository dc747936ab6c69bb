import type { WeightedSample } from '../stats/ks';

/**
 * Points of the empirical CDF of a weighted sample: at most `maxPoints` `[x, F(x)]` pairs, taken at
 * evenly spaced ranks, always including the minimum and the maximum.
 * @internal
 */
export function cdfPoints(
  sample: WeightedSample,
  maxPoints = 120,
): [number, number][] {
  const n = sample.values.length;
  if (n === 0) return [];
  let total = 0;
  for (let i = 0; i < n; i++) total += sample.weights[i] ?? 0;
  const out: [number, number][] = [];
  let cum = 0;
  let nextRank = 0;
  const step = total / maxPoints;
  for (let i = 0; i < n; i++) {
    cum += sample.weights[i] ?? 0;
    const v = sample.values[i] as number;
    const last = i === n - 1 || sample.values[i + 1] !== v;
    if (!last) continue;
    if (cum >= nextRank || i === n - 1) {
      out.push([v, cum / total]);
      nextRank = cum + step;
    }
  }
  return out;
}

/**
 * Share of a weighted sample's mass in each of `bins` equal bins over [lo, hi] (values outside go
 * to the edge bins).
 * @internal
 */
export function histogram(
  sample: WeightedSample,
  options: { lo: number; hi: number; bins: number },
): number[] {
  const { lo, hi, bins } = options;
  const out = new Array<number>(bins).fill(0);
  const width = hi - lo;
  for (let i = 0; i < sample.values.length; i++) {
    const v = sample.values[i] as number;
    const b =
      width > 0
        ? Math.min(bins - 1, Math.max(0, Math.floor(((v - lo) / width) * bins)))
        : 0;
    out[b] = (out[b] ?? 0) + (sample.weights[i] ?? 0);
  }
  return out;
}

import * as hdr from 'hdr-histogram-js';
import { StbError } from '@stb/core';

/**
 * A latency distribution read from an HdrHistogram: distinct recorded values (ns, ascending) with
 * cumulative counts, so any rank can be looked up by binary search.
 */
export interface LatencyDistribution {
  /** Executions recorded. */
  readonly count: number;
  /** Bucket values in ns (each bucket's highest equivalent value, as HdrHistogram reports quantiles). */
  readonly values: Float64Array;
  /** Cumulative counts: `cumulative[i]` executions took at most `values[i]`. */
  readonly cumulative: Float64Array;
}

const EMPTY: LatencyDistribution = {
  count: 0,
  values: new Float64Array(0),
  cumulative: new Float64Array(0),
};

/** Decodes a `latencyHistogramNs` field (HdrHistogram V2 compressed base64). */
export function toLatencyDistribution(
  encoded: string | undefined,
  where: string,
): LatencyDistribution {
  if (encoded === undefined || encoded === '') return EMPTY;
  let h: hdr.Histogram;
  try {
    h = hdr.decodeFromCompressedBase64(encoded);
  } catch (err) {
    throw new StbError(
      'STB_BENCH_RESULT_INVALID',
      `[stb] [compare] The latency histogram of ${where} cannot be decoded (${err instanceof Error ? err.message : String(err)}). Re-run \`stb bench\` to write a fresh result.`,
      { cause: err, details: { where } },
    );
  }
  const values: number[] = [];
  const cumulative: number[] = [];
  let acc = 0;
  const it = (h as unknown as { recordedValuesIterator: Iter })
    .recordedValuesIterator;
  it.reset();
  while (it.hasNext()) {
    const v = it.next();
    acc += v.countAtValueIteratedTo;
    values.push(v.valueIteratedTo);
    cumulative.push(acc);
  }
  h.destroy();
  return {
    count: acc,
    values: Float64Array.from(values),
    cumulative: Float64Array.from(cumulative),
  };
}

interface Iter {
  reset(): void;
  hasNext(): boolean;
  next(): { valueIteratedTo: number; countAtValueIteratedTo: number };
}

/** Index of the bucket holding the `rank`-th smallest execution (1-based; clamped to 1..count). */
function bucketAtRank(d: LatencyDistribution, rank: number): number {
  const r = Math.min(Math.max(1, rank), d.count);
  let lo = 0;
  let hi = d.cumulative.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((d.cumulative[mid] as number) >= r) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** The value of the `rank`-th smallest execution (1-based; clamped to 1..count), ns. */
export function valueAtRank(d: LatencyDistribution, rank: number): number {
  return d.values[bucketAtRank(d, rank)] ?? 0;
}

/**
 * The `rank`-th smallest execution, spread uniformly over its value's cell: from the midpoint to
 * the next lower recorded value to the midpoint to the next higher one (`u` in [0, 1)). Recorded
 * latencies are rounded to the clock's resolution (about 1 µs in Node) and to HDR buckets; when a
 * quantile sits on a heavily tied value, resampling ranks alone cannot show that the true value
 * could lie anywhere in the cell, and intervals collapse to a point. The smoothed bootstrap puts
 * that measurement uncertainty back.
 */
export function smoothedValueAtRank(
  d: LatencyDistribution,
  rank: number,
  u: number,
): number {
  const i = bucketAtRank(d, rank);
  const v = d.values[i] ?? 0;
  const below = i > 0 ? (d.values[i - 1] as number) : v;
  const above = i + 1 < d.values.length ? (d.values[i + 1] as number) : v;
  // an outermost value's cell mirrors its inner half
  const lo = i > 0 ? (below + v) / 2 : v - (above - v) / 2;
  const hi = i + 1 < d.values.length ? (v + above) / 2 : v + (v - below) / 2;
  return Math.max(0, lo + u * (hi - lo));
}

/** The nearest-rank quantile `q` (0..1), ns: rank ⌈q·n⌉, as HdrHistogram's `getValueAtPercentile`. */
export function quantile(d: LatencyDistribution, q: number): number {
  if (d.count === 0) return 0;
  return valueAtRank(d, Math.ceil(q * d.count));
}

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

/** The value of the `rank`-th smallest execution (1-based; clamped to 1..count), ns. */
export function valueAtRank(d: LatencyDistribution, rank: number): number {
  const r = Math.min(Math.max(1, rank), d.count);
  let lo = 0;
  let hi = d.cumulative.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((d.cumulative[mid] as number) >= r) hi = mid;
    else lo = mid + 1;
  }
  return d.values[lo] ?? 0;
}

/** The nearest-rank quantile `q` (0..1), ns: rank ⌈q·n⌉, as HdrHistogram's `getValueAtPercentile`. */
export function quantile(d: LatencyDistribution, q: number): number {
  if (d.count === 0) return 0;
  return valueAtRank(d, Math.ceil(q * d.count));
}

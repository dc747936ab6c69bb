import type { WeightedSample } from '../stats/ks';

/** Options of {@link KllSketch}. */
export interface KllOptions {
  /** Accuracy parameter: normalised rank error ≈ 2.45 / k^0.943 (99 % confidence). Default 200. */
  k?: number;
  /** Values kept exactly before the first compaction (memory: 8 bytes each). Default max(k, 1024). */
  exactUpTo?: number;
  /** Seed of the compaction coin; equal seeds and inputs give equal sketches. */
  seed?: number;
}

const CAPACITY_DECAY = 2 / 3;

/**
 * Normalised rank error of a KLL sketch with parameter k at 99 % confidence (Apache DataSketches'
 * empirical fit for double-sided queries): 2.446 / k^0.9433, e.g. 1.65 % at k = 200.
 * @internal
 */
export function kllRankError(k: number): number {
  return 2.446 / Math.pow(k, 0.9433);
}

/**
 * A KLL quantile sketch (Karnin, Lang, Liberty 2016) over finite numbers, with lazy compaction.
 * Exact (all values kept) until `exactUpTo` values; then memory stays O(k) while the rank error
 * is bounded by {@link kllRankError}. Compaction coins come from a seeded generator, so identical
 * input sequences give identical sketches, and a KS test between them is exactly 0.
 * @internal
 */
export class KllSketch {
  readonly k: number;
  readonly exactUpTo: number;
  #levels: number[][] = [[]];
  #size = 0;
  #maxSize: number;
  #n = 0;
  #coin: number;
  #compacted = false;
  #min = Infinity;
  #max = -Infinity;

  constructor(options: KllOptions = {}) {
    this.k = Math.max(8, Math.floor(options.k ?? 200));
    this.exactUpTo = Math.max(this.k, Math.floor(options.exactUpTo ?? 1024));
    this.#coin = (options.seed ?? 0x9e3779b9) >>> 0 || 1;
    this.#maxSize = Math.max(this.exactUpTo, this.#capacity(0));
  }

  /** Number of values added. */
  get n(): number {
    return this.#n;
  }

  /** True while every value is kept. */
  get exact(): boolean {
    return !this.#compacted;
  }

  get min(): number {
    return this.#min;
  }

  get max(): number {
    return this.#max;
  }

  /** Adds a value; non-finite values are ignored. */
  update(x: number): void {
    if (!Number.isFinite(x)) return;
    this.#n++;
    if (x < this.#min) this.#min = x;
    if (x > this.#max) this.#max = x;
    (this.#levels[0] as number[]).push(x);
    if (++this.#size > this.#maxSize) this.#compress();
  }

  #capacity(h: number): number {
    const depth = this.#levels.length - h - 1;
    return Math.max(2, Math.ceil(this.k * Math.pow(CAPACITY_DECAY, depth)));
  }

  #flip(): number {
    // xorshift32
    let x = this.#coin;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.#coin = x >>> 0;
    return this.#coin & 1;
  }

  #compress(): void {
    this.#compacted = true;
    for (let h = 0; h < this.#levels.length; h++) {
      const level = this.#levels[h] as number[];
      if (level.length < this.#capacity(h)) continue;
      if (h + 1 >= this.#levels.length) this.#levels.push([]);
      const up = this.#levels[h + 1] as number[];
      level.sort((a, b) => a - b);
      // odd length: keep the last item at this level
      const keep = level.length % 2 === 1 ? level.pop() : undefined;
      for (let i = this.#flip(); i < level.length; i += 2)
        up.push(level[i] as number);
      level.length = 0;
      if (keep !== undefined) level.push(keep);
      this.#size = this.#levels.reduce((s, l) => s + l.length, 0);
      let cap = 0;
      for (let g = 0; g < this.#levels.length; g++) cap += this.#capacity(g);
      this.#maxSize = Math.max(cap, this.exactUpTo);
      if (this.#size <= this.#maxSize) break;
    }
  }

  /** Items sorted by value, each with its weight (2^level). */
  toWeighted(): WeightedSample {
    const total = this.#size;
    const pairs = new Float64Array(total * 2);
    let p = 0;
    this.#levels.forEach((level, h) => {
      const w = Math.pow(2, h);
      for (const v of level) {
        pairs[p++] = v;
        pairs[p++] = w;
      }
    });
    const order = Array.from({ length: total }, (_, i) => i);
    order.sort((a, b) => (pairs[2 * a] as number) - (pairs[2 * b] as number));
    const values = new Float64Array(total);
    const weights = new Float64Array(total);
    order.forEach((idx, i) => {
      values[i] = pairs[2 * idx] as number;
      weights[i] = pairs[2 * idx + 1] as number;
    });
    return { values, weights };
  }
}

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

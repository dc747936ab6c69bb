import { z } from 'zod';

/**
 * Serialised state of a {@link KllSketch}: `levels[h]` holds the retained items of weight 2^h;
 * `min`/`max` are the exact extremes (null when empty). Plain JSON, so it can be stored in model
 * artifacts, sent to workers and merged shard by shard.
 */
export const KllSketchState = z.object({
  k: z.number().int().min(8),
  n: z.number().int().nonnegative(),
  min: z.number().nullable(),
  max: z.number().nullable(),
  levels: z.array(z.array(z.number())),
});
/** Serialised state of a {@link KllSketch} (see the schema of the same name). */
export type KllSketchState = z.infer<typeof KllSketchState>;

/** Options of {@link KllSketch}. */
export interface KllSketchOptions {
  /**
   * Accuracy parameter (default 200, at least 8): the normalised rank error is about
   * {@link kllRankError}(k), and about 3k items are retained.
   */
  k?: number;
  /**
   * Values kept exactly (all weight 1) before the first compaction, and the memory floor after it
   * (8 bytes each). Default `k`; values below `k` count as `k`.
   */
  exactUpTo?: number;
  /**
   * Seed of a pseudo-random (xorshift32) compaction coin. When omitted the coin alternates
   * deterministically (1, 0, 1, …). Either way equal options and inputs give equal sketches.
   */
  seed?: number;
}

/** Items of a sketch sorted by value, each with its weight; `total` is the sum of the weights (= n). */
export interface KllWeightedItems {
  readonly values: Float64Array;
  readonly weights: Float64Array;
  readonly total: number;
}

/** Anything with a sketch's state fields: a {@link KllSketchState} or a {@link KllSketch}. */
export interface KllSketchLike {
  readonly k: number;
  readonly n: number;
  readonly min: number | null;
  readonly max: number | null;
  readonly levels: readonly (readonly number[])[];
}

const CAPACITY_DECAY = 2 / 3;
const INSERTION_SORT_MAX = 48;

/**
 * Normalised rank error of a KLL sketch with parameter `k` at 99 % confidence (Apache
 * DataSketches' empirical fit for double-sided queries): 2.446 / k^0.9433, e.g. 1.65 % at k = 200.
 * @example
 * kllRankError(200); // ≈ 0.0165
 */
export function kllRankError(k: number): number {
  return 2.446 / Math.pow(k, 0.9433);
}

/**
 * A mergeable, serialisable KLL quantile sketch (Karnin, Lang, Liberty 2016) over finite numbers,
 * with lazy compaction. Every value is kept (exact mode) until `exactUpTo` values; then memory
 * stays O(k) while the rank error is bounded by {@link kllRankError}. While the distinct values are
 * few enough that each one's total weight, written in binary, fits in half the memory, a
 * compaction re-encodes them that way instead: their weights stay exact (no rank error at all).
 * Compaction offsets come from
 * a seeded coin or an alternating bit, so identical inputs give identical sketches (a KS test
 * between them is exactly 0). Non-finite values are ignored.
 * @example
 * const s = new KllSketch({ k: 200 });
 * for (const x of latencies) s.update(x);
 * const p99 = s.quantile(0.99);
 * const saved = s.toState(); // JSON; KllSketch.fromState(saved).merge(otherShard)
 */
export class KllSketch {
  /** Accuracy parameter. */
  readonly k: number;
  /** Values kept exactly before the first compaction (the memory floor). */
  readonly exactUpTo: number;
  #levels: number[][] = [[]];
  #n = 0;
  #min = Infinity;
  #max = -Infinity;
  /** Retained items. */
  #size = 0;
  /** xorshift32 state, or 0 for the alternating bit. */
  #coin: number;
  #flip = 0;
  /** Level capacity by depth below the top level. */
  readonly #capacities: number[] = [];
  #limitLevels = 0;
  #limit = 0;
  /** False once a compaction found too many distinct values to keep their counts exactly. */
  #recodable = true;

  constructor(options: KllSketchOptions = {}) {
    this.k = Math.max(8, Math.floor(options.k ?? 200));
    this.exactUpTo = Math.max(this.k, Math.floor(options.exactUpTo ?? 0));
    this.#coin = options.seed === undefined ? 0 : options.seed >>> 0 || 1;
  }

  /**
   * A sketch from a saved state (a copy: the state is not retained). `options` adds what the
   * state does not record (`exactUpTo`, `seed`); `k` comes from the state.
   */
  static fromState(
    state: KllSketchLike,
    options: Omit<KllSketchOptions, 'k'> = {},
  ): KllSketch {
    const s = new KllSketch({ ...options, k: state.k });
    s.#n = state.n;
    s.#min = state.min ?? Infinity;
    s.#max = state.max ?? -Infinity;
    s.#levels =
      state.levels.length > 0 ? state.levels.map((l) => [...l]) : [[]];
    s.#size = s.#levels.reduce((a, l) => a + l.length, 0);
    return s;
  }

  /** Number of values added (merged sketches included). */
  get n(): number {
    return this.#n;
  }

  /** Smallest value added (Infinity when empty). */
  get min(): number {
    return this.#min;
  }

  /** Largest value added (-Infinity when empty). */
  get max(): number {
    return this.#max;
  }

  /** True while every value is kept with weight 1. */
  get exact(): boolean {
    return this.#size === this.#n;
  }

  /** Items retained (memory: 8 bytes each). */
  get retained(): number {
    return this.#size;
  }

  /** The retained items by level (level h holds items of weight 2^h); do not modify. */
  get levels(): readonly (readonly number[])[] {
    return this.#levels;
  }

  /** Adds a value; non-finite values are ignored. */
  update(x: number): void {
    if (!Number.isFinite(x)) return;
    this.#n++;
    if (x < this.#min) this.#min = x;
    if (x > this.#max) this.#max = x;
    (this.#levels[0] as number[]).push(x);
    if (++this.#size > this.#sizeLimit()) this.#compress();
  }

  /**
   * Adds another sketch's values (a sketch or a saved state, e.g. from another shard). The result
   * keeps this sketch's `k`; its error is that of one sketch over all the data.
   */
  merge(other: KllSketchLike): void {
    if (other.n === 0) return;
    this.#n += other.n;
    if (other.min !== null && other.min < this.#min) this.#min = other.min;
    if (other.max !== null && other.max > this.#max) this.#max = other.max;
    const src = other.levels;
    // Copy first: `other` may be this sketch.
    const copies = src.map((l) => l.slice());
    for (let h = 0; h < copies.length; h++) {
      while (this.#levels.length <= h) this.#levels.push([]);
      const dst = this.#levels[h] as number[];
      for (const v of copies[h] as number[]) dst.push(v);
      this.#size += (copies[h] as number[]).length;
    }
    while (this.#size > this.#sizeLimit()) this.#compress();
  }

  /** The state as plain JSON data (`min`/`max` null when empty). */
  toState(): KllSketchState {
    return {
      k: this.k,
      n: this.#n,
      min: this.#n > 0 ? this.#min : null,
      max: this.#n > 0 ? this.#max : null,
      levels: this.#levels.map((l) => [...l]),
    };
  }

  /** Retained items sorted by value with their weights (2^level). */
  toWeighted(): KllWeightedItems {
    return kllWeightedItems(this);
  }

  /**
   * The value at quantile `q` in [0, 1] (the first item whose cumulative weight reaches q·n; no
   * interpolation), or undefined when empty.
   */
  quantile(q: number): number | undefined {
    return kllQuantile(this.toWeighted(), q);
  }

  /** Estimated fraction of the values ≤ `x` (the CDF at x); 0 when empty. */
  cdf(x: number): number {
    let below = 0;
    let total = 0;
    for (let h = 0; h < this.#levels.length; h++) {
      const w = 2 ** h;
      for (const v of this.#levels[h] as number[]) {
        total += w;
        if (v <= x) below += w;
      }
    }
    return total > 0 ? below / total : 0;
  }

  /**
   * Estimated mid-rank of `x`: the fraction of the values below it plus half the fraction equal to
   * it, (F(x−) + F(x)) ÷ 2, so an atom's values sit in the middle of its mass; 0.5 when empty.
   */
  midRank(x: number): number {
    let below = 0;
    let equal = 0;
    let total = 0;
    for (let h = 0; h < this.#levels.length; h++) {
      const w = 2 ** h;
      for (const v of this.#levels[h] as number[]) {
        total += w;
        if (v < x) below += w;
        else if (v === x) equal += w;
      }
    }
    return total > 0 ? (below + equal / 2) / total : 0.5;
  }

  #capacity(h: number): number {
    const depth = this.#levels.length - 1 - h;
    let c = this.#capacities[depth];
    if (c === undefined) {
      c = Math.max(2, Math.ceil(this.k * Math.pow(CAPACITY_DECAY, depth)));
      this.#capacities[depth] = c;
    }
    return c;
  }

  /** Items allowed before a compaction: the level capacities, at least `exactUpTo`. */
  #sizeLimit(): number {
    if (this.#limitLevels === this.#levels.length) return this.#limit;
    let total = 0;
    for (let h = 0; h < this.#levels.length; h++) total += this.#capacity(h);
    this.#limitLevels = this.#levels.length;
    this.#limit = Math.max(total, this.exactUpTo);
    return this.#limit;
  }

  #offset(): number {
    if (this.#coin === 0) return (this.#flip ^= 1);
    let x = this.#coin; // xorshift32
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.#coin = x >>> 0;
    return this.#coin & 1;
  }

  /**
   * Few distinct values (think times of a log stamped in whole milliseconds are 0, 1 000 or
   * 2 000 µs): instead of compacting, re-encodes the retained items exactly — each distinct value's
   * total weight written in binary, one item at level h per bit h — when that takes at most half
   * the size limit. A compaction would move the boundary between two runs of equal values by up to
   * ε·n, and with two values that is the whole error of the mean (a KLL of k = 64 over 1 200
   * pgbench gaps of 0 or 1 000 µs put the mean 2–21 % high). Lossless: every weight is kept. Once
   * the values are too many it stays off (a scan per compaction would cost the common case).
   */
  #recode(): boolean {
    const limit = this.#sizeLimit() / 2;
    const weight = new Map<number, number>();
    for (let h = 0; h < this.#levels.length; h++) {
      const w = 2 ** h;
      for (const v of this.#levels[h] as number[]) {
        weight.set(v, (weight.get(v) ?? 0) + w);
        // each distinct value needs at least one item
        if (weight.size > limit) return (this.#recodable = false);
      }
    }
    let items = 0;
    for (const w of weight.values()) items += popcount(w);
    if (items > limit) return (this.#recodable = false);
    const values = [...weight.keys()];
    sortNumbers(values);
    const levels: number[][] = [[]];
    for (const v of values) {
      let w = weight.get(v) as number;
      for (let h = 0; w > 0; h++, w = Math.floor(w / 2)) {
        while (levels.length <= h) levels.push([]);
        if (w % 2 === 1) (levels[h] as number[]).push(v);
      }
    }
    this.#levels = levels;
    this.#size = items;
    return true;
  }

  /** Compacts the lowest level at or over its capacity: half of its items move up a level. */
  #compress(): void {
    // (a recoding with fewer levels may still be over the smaller limit: then compact as well)
    if (this.#recodable && this.#recode() && this.#size <= this.#sizeLimit())
      return;
    for (let h = 0; h < this.#levels.length; h++) {
      const level = this.#levels[h] as number[];
      if (level.length < this.#capacity(h)) continue;
      if (h + 1 === this.#levels.length) this.#levels.push([]);
      sortNumbers(level);
      let len = level.length;
      // odd length: the largest item stays at this level
      const keep = len % 2 === 1 ? level[--len] : undefined;
      const up = this.#levels[h + 1] as number[];
      for (let i = this.#offset(); i < len; i += 2) up.push(level[i] as number);
      this.#size -= len / 2;
      level.length = 0;
      if (keep !== undefined) level.push(keep);
      return;
    }
  }
}

/** Sorted values with their weights: a sketch's items ({@link kllWeightedItems}) or raw samples. */
export interface WeightedValues {
  /** Ascending values. */
  readonly values: ArrayLike<number>;
  /** Weight of each value (same length). */
  readonly weights: ArrayLike<number>;
}

/**
 * Two-sample Kolmogorov–Smirnov statistic between weighted samples: a merge walk that evaluates
 * both CDFs after all items equal to each distinct value (ties handled as `scipy.stats.ks_2samp`).
 * Identical inputs give exactly 0; an empty side gives 1 (0 when both are empty).
 * @example
 * kllKsDistance(a.toWeighted(), kllWeightedItems(savedState)); // in [0, 1]
 */
export function kllKsDistance(a: WeightedValues, b: WeightedValues): number {
  const la = a.values.length;
  const lb = b.values.length;
  let ta = 0;
  let tb = 0;
  for (let i = 0; i < la; i++) ta += a.weights[i] ?? 0;
  for (let j = 0; j < lb; j++) tb += b.weights[j] ?? 0;
  if (ta === 0 || tb === 0) return ta === tb ? 0 : 1;
  let i = 0;
  let j = 0;
  let ca = 0;
  let cb = 0;
  let d = 0;
  while (i < la || j < lb) {
    const va = i < la ? (a.values[i] ?? Infinity) : Infinity;
    const vb = j < lb ? (b.values[j] ?? Infinity) : Infinity;
    const x = va < vb ? va : vb;
    while (i < la && a.values[i] === x) ca += a.weights[i++] ?? 0;
    while (j < lb && b.values[j] === x) cb += b.weights[j++] ?? 0;
    if (ca === cb && ta === tb) continue;
    const diff = Math.abs(ca / ta - cb / tb);
    if (diff > d) d = diff;
  }
  return Math.min(1, d);
}

/** Set bits of a non-negative integer below 2^53. */
function popcount(w: number): number {
  let bits = 0;
  for (let x = w; x > 0; x = Math.floor(x / 2)) bits += x % 2;
  return bits;
}

/**
 * Sorted items with their weights of a sketch or a saved state (ties keep level order).
 * @example
 * const { values, weights, total } = kllWeightedItems(artifact.arrival.sessionLength);
 */
export function kllWeightedItems(state: KllSketchLike): KllWeightedItems {
  let size = 0;
  for (const l of state.levels) size += l.length;
  const pairs = new Float64Array(size * 2);
  let p = 0;
  for (let h = 0; h < state.levels.length; h++) {
    const w = 2 ** h;
    for (const v of state.levels[h] as readonly number[]) {
      pairs[p++] = v;
      pairs[p++] = w;
    }
  }
  const order = Array.from({ length: size }, (_, i) => i);
  order.sort((a, b) => (pairs[2 * a] as number) - (pairs[2 * b] as number));
  const values = new Float64Array(size);
  const weights = new Float64Array(size);
  let total = 0;
  for (let i = 0; i < size; i++) {
    const idx = order[i] as number;
    values[i] = pairs[2 * idx] as number;
    const w = pairs[2 * idx + 1] as number;
    weights[i] = w;
    total += w;
  }
  return { values, weights, total };
}

/**
 * The value at quantile `q` in [0, 1] of weighted items (first item whose cumulative weight
 * reaches q·total; no interpolation), or undefined when there are none.
 * @example
 * kllQuantile(sketch.toWeighted(), 0.5); // the median
 */
export function kllQuantile(
  items: KllWeightedItems,
  q: number,
): number | undefined {
  const { values, weights, total } = items;
  if (values.length === 0) return undefined;
  const target = q * total;
  let cum = 0;
  for (let i = 0; i < values.length; i++) {
    cum += weights[i] as number;
    if (cum >= target) return values[i];
  }
  return values[values.length - 1];
}

/**
 * Sorts numbers ascending in place, ties in their original order (as `sort((a, b) => a - b)`):
 * insertion sort for short arrays (compactions of the lower levels are mostly short), else a
 * comparator-free typed sort of a copy (which may only reorder equal values, -0 before 0).
 * @internal
 */
export function sortNumbers(v: number[]): void {
  const len = v.length;
  if (len <= INSERTION_SORT_MAX) {
    for (let i = 1; i < len; i++) {
      const x = v[i] as number;
      let j = i - 1;
      while (j >= 0 && (v[j] as number) > x) {
        v[j + 1] = v[j] as number;
        j--;
      }
      v[j + 1] = x;
    }
    return;
  }
  const sorted = new Float64Array(v).sort();
  for (let i = 0; i < len; i++) v[i] = sorted[i] as number;
}

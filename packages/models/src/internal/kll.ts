import type { Rng } from '@stb/core';
import type { KllSketchState } from '../state-schemas';

/**
 * A KLL quantile sketch (Karnin, Lang, Liberty 2016) with deterministic alternating compaction
 * offsets, so fits are reproducible. Level h holds items of weight 2^h; level capacities shrink by
 * 2/3 per level below the top. Exact while n <= k. Mergeable.
 */
export class KllSketch {
  readonly k: number;
  n = 0;
  min = Infinity;
  max = -Infinity;
  levels: number[][] = [[]];
  #size = 0;
  #flip = 0;
  #cachedLevels = 0;
  #cachedTotal = 0;
  /** Level capacity by depth below the top level. */
  readonly #capacities: number[] = [];

  constructor(k = 200) {
    this.k = k;
  }

  static fromState(state: KllSketchState): KllSketch {
    const s = new KllSketch(state.k);
    s.n = state.n;
    s.min = state.min ?? Infinity;
    s.max = state.max ?? -Infinity;
    s.levels = state.levels.length > 0 ? state.levels.map((l) => [...l]) : [[]];
    s.#size = s.levels.reduce((a, l) => a + l.length, 0);
    return s;
  }

  toState(): KllSketchState {
    return {
      k: this.k,
      n: this.n,
      min: this.n > 0 ? this.min : null,
      max: this.n > 0 ? this.max : null,
      levels: this.levels.map((l) => [...l]),
    };
  }

  update(x: number): void {
    if (!Number.isFinite(x)) return;
    this.n++;
    if (x < this.min) this.min = x;
    if (x > this.max) this.max = x;
    (this.levels[0] as number[]).push(x);
    this.#size++;
    if (this.#size > this.#totalCapacity()) this.#compress();
  }

  merge(other: KllSketch | KllSketchState): void {
    const o = other instanceof KllSketch ? other : KllSketch.fromState(other);
    if (o.n === 0) return;
    this.n += o.n;
    if (o.min < this.min) this.min = o.min;
    if (o.max > this.max) this.max = o.max;
    for (let h = 0; h < o.levels.length; h++) {
      while (this.levels.length <= h) this.levels.push([]);
      const src = o.levels[h] as number[];
      const dst = this.levels[h] as number[];
      for (const v of src) dst.push(v);
      this.#size += src.length;
    }
    while (this.#size > this.#totalCapacity()) this.#compress();
  }

  #capacity(h: number): number {
    const depth = this.levels.length - 1 - h;
    let c = this.#capacities[depth];
    if (c === undefined) {
      c = Math.max(2, Math.ceil(this.k * Math.pow(2 / 3, depth)));
      this.#capacities[depth] = c;
    }
    return c;
  }

  #totalCapacity(): number {
    if (this.#cachedLevels === this.levels.length) return this.#cachedTotal;
    let total = 0;
    for (let h = 0; h < this.levels.length; h++) total += this.#capacity(h);
    this.#cachedLevels = this.levels.length;
    this.#cachedTotal = total;
    return total;
  }

  #compress(): void {
    for (let h = 0; h < this.levels.length; h++) {
      const level = this.levels[h] as number[];
      if (level.length < this.#capacity(h)) continue;
      if (h + 1 === this.levels.length) this.levels.push([]);
      sortNumbers(level);
      let len = level.length;
      const keep = len % 2 === 1 ? level[--len] : undefined;
      const up = this.levels[h + 1] as number[];
      this.#flip ^= 1;
      for (let i = this.#flip; i < len; i += 2) up.push(level[i] as number);
      this.#size -= len / 2;
      level.length = 0;
      if (keep !== undefined) level.push(keep);
      return;
    }
  }
}

const INSERTION_SORT_MAX = 48;

/**
 * Sorts numbers ascending in place, ties in their original order (as `sort((a, b) => a - b)`):
 * insertion sort for short arrays (compactions of the lower levels are mostly short), else a
 * comparator-free typed sort of a copy (which may only reorder equal values, -0 before 0).
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

/** Sorted items with their weights, from a sketch state. */
export function weightedItems(state: KllSketchState): {
  values: Float64Array;
  weights: Float64Array;
  total: number;
} {
  const pairs: [number, number][] = [];
  state.levels.forEach((level, h) => {
    const w = 2 ** h;
    for (const v of level) pairs.push([v, w]);
  });
  pairs.sort((a, b) => a[0] - b[0]);
  const values = new Float64Array(pairs.length);
  const weights = new Float64Array(pairs.length);
  let total = 0;
  pairs.forEach(([v, w], i) => {
    values[i] = v;
    weights[i] = w;
    total += w;
  });
  return { values, weights, total };
}

/** Value at quantile q (0..1) of a sketch (no interpolation), or undefined when empty. */
export function sketchQuantile(
  state: KllSketchState,
  q: number,
): number | undefined {
  const { values, weights, total } = weightedItems(state);
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
 * Draws from a distribution given by anchor points of its inverse CDF: `probs` ascending in
 * [0,1] with `values` non-decreasing; linear interpolation between anchors.
 */
export class InverseCdfSampler {
  readonly probs: Float64Array;
  readonly values: Float64Array;

  constructor(probs: Float64Array, values: Float64Array) {
    this.probs = probs;
    this.values = values;
  }

  /** From a sketch: item midpoints as anchors, plus the exact min and max at 0 and 1. */
  static fromSketch(state: KllSketchState): InverseCdfSampler | undefined {
    const { values, weights, total } = weightedItems(state);
    if (values.length === 0 || total <= 0) return undefined;
    const m = values.length;
    const probs = new Float64Array(m + 2);
    const vals = new Float64Array(m + 2);
    probs[0] = 0;
    vals[0] = state.min ?? (values[0] as number);
    let cum = 0;
    for (let i = 0; i < m; i++) {
      const w = weights[i] as number;
      probs[i + 1] = (cum + w / 2) / total;
      vals[i + 1] = values[i] as number;
      cum += w;
    }
    probs[m + 1] = 1;
    vals[m + 1] = state.max ?? (values[m - 1] as number);
    return new InverseCdfSampler(probs, vals);
  }

  /** From equally spaced quantiles (`q[i]` at probability i/(len-1)). */
  static fromQuantiles(q: readonly number[]): InverseCdfSampler | undefined {
    if (q.length === 0) return undefined;
    if (q.length === 1)
      return new InverseCdfSampler(
        Float64Array.of(0, 1),
        Float64Array.of(q[0] as number, q[0] as number),
      );
    const probs = new Float64Array(q.length);
    for (let i = 0; i < q.length; i++) probs[i] = i / (q.length - 1);
    return new InverseCdfSampler(probs, Float64Array.from(q));
  }

  /** Value at probability u in [0,1]. */
  at(u: number): number {
    const p = this.probs;
    let lo = 0;
    let hi = p.length - 1;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if ((p[mid] as number) <= u) lo = mid;
      else hi = mid;
    }
    const p0 = p[lo] as number;
    const p1 = p[hi] as number;
    const v0 = this.values[lo] as number;
    const v1 = this.values[hi] as number;
    if (p1 <= p0 || v0 === v1) return v0;
    return v0 + ((v1 - v0) * (u - p0)) / (p1 - p0);
  }

  sample(rng: Rng): number {
    return this.at(rng.next());
  }
}

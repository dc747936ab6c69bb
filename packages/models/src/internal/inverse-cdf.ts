import { kllWeightedItems } from '@stb/core';
import type { KllSketchState, Rng } from '@stb/core';

/**
 * Draws from a distribution given by anchor points of its inverse CDF: `probs` ascending in
 * [0,1] with `values` non-decreasing; linear interpolation between anchors.
 */
export class InverseCdfSampler {
  readonly probs: Float64Array;
  readonly values: Float64Array;
  /**
   * Guide table: `guide[g]` is the last anchor with `probs[i] <= g / G` (G = `guide.length - 1`),
   * so a draw searches only the anchors of its bucket (about one) instead of all of them.
   */
  readonly #guide: Int32Array;

  constructor(probs: Float64Array, values: Float64Array) {
    this.probs = probs;
    this.values = values;
    const buckets = Math.max(1, probs.length);
    const guide = new Int32Array(buckets + 1);
    let i = -1;
    for (let g = 0; g <= buckets; g++) {
      const t = g / buckets;
      while (i + 1 < probs.length && (probs[i + 1] as number) <= t) i++;
      guide[g] = i;
    }
    this.#guide = guide;
  }

  /**
   * From a sketch: item midpoints as anchors, plus the exact min and max at 0 and 1. A sketch of
   * few distinct values (at most a quarter of its items: think times of a log stamped in whole
   * milliseconds are 0 or 1 000 µs) is drawn as the step function it is — interpolating between
   * 0 and 1 000 would invent 300-µs gaps and lengthen the mean (6 % slower sessions on the
   * 23 000-statements/s pgbench sample).
   */
  static fromSketch(state: KllSketchState): InverseCdfSampler | undefined {
    const { values, weights, total } = kllWeightedItems(state);
    if (values.length === 0 || total <= 0) return undefined;
    const m = values.length;
    let distinct = 1;
    for (let i = 1; i < m; i++) if (values[i] !== values[i - 1]) distinct++;
    if (m >= 8 && distinct * 4 <= m) return discrete(values, weights, total);
    // Anchors: each item's midpoint, except that a run of items of one value (an atom: 0-µs
    // think times inside transactions, 89 % of them on the pgbench -R sample) keeps its whole
    // mass flat, from half its lightest item in to half its lightest item from its end. With the
    // items' own midpoints, a run re-encoded into weights 256, 128, 16, … lost the heavy item's
    // half to the interpolation towards the next value: 59 % zeros drawn instead of 89 %.
    const probs: number[] = [0];
    const vals: number[] = [state.min ?? (values[0] as number)];
    let cum = 0;
    let i = 0;
    while (i < m) {
      const v = values[i] as number;
      let w = 0;
      let lightest = Infinity;
      let n = 0;
      for (; i < m && values[i] === v; i++, n++) {
        const wi = weights[i] as number;
        w += wi;
        if (wi < lightest) lightest = wi;
      }
      if (n === 1) probs.push((cum + w / 2) / total);
      else
        probs.push(
          (cum + lightest / 2) / total,
          (cum + w - lightest / 2) / total,
        );
      for (let j = n === 1 ? 1 : 2; j > 0; j--) vals.push(v);
      cum += w;
    }
    probs.push(1);
    vals.push(state.max ?? (values[m - 1] as number));
    return new InverseCdfSampler(
      Float64Array.from(probs),
      Float64Array.from(vals),
    );
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
    const last = p.length - 1;
    let lo = 0;
    let hi = last;
    // Narrow [lo, hi] to the bucket of u when that keeps p[lo] <= u < p[hi]: the search then ends
    // on the same anchor as a search over all of them (the last one with p <= u).
    const guide = this.#guide;
    const g = Math.floor(u * (guide.length - 1));
    if (g >= 0 && g < guide.length - 1) {
      const a = guide[g] as number;
      const b = Math.min((guide[g + 1] as number) + 1, last);
      if (a >= 0 && (p[a] as number) <= u && u < (p[b] as number)) {
        lo = a;
        hi = b;
      }
    }
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

/** A step inverse CDF over sorted `values` with `weights`: each distinct value holds its mass. */
function discrete(
  values: ArrayLike<number>,
  weights: ArrayLike<number>,
  total: number,
): InverseCdfSampler {
  const probs: number[] = [];
  const vals: number[] = [];
  let cum = 0;
  let i = 0;
  while (i < values.length) {
    const v = values[i] as number;
    let w = 0;
    while (i < values.length && values[i] === v) w += weights[i++] as number;
    probs.push(cum / total, (cum + w) / total);
    vals.push(v, v);
    cum += w;
  }
  probs[probs.length - 1] = 1;
  return new InverseCdfSampler(
    Float64Array.from(probs),
    Float64Array.from(vals),
  );
}

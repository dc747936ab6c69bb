import { newHistogram, type Histogram } from './hdr';

/** The parts of hdr-histogram-js's `JsHistogram` this module relies on (not on its `Histogram` type). */
interface JsHistogramInternals {
  readonly unitMagnitude: number;
  readonly subBucketHalfCountMagnitude: number;
  valueFromIndex(index: number): number;
}

const layout = newHistogram() as unknown as JsHistogramInternals;
/** log2 of half the sub-buckets per bucket (10 for 3 significant digits). */
const HALF_MAG = layout.subBucketHalfCountMagnitude;
if (layout.unitMagnitude !== 0 || !(HALF_MAG > 0))
  throw new Error('hdr-histogram-js: unexpected bucket layout'); // a bug: newHistogram's settings changed
/** 2^k for k < 64 (bucket widths). */
const POW2 = Float64Array.from({ length: 64 }, (_, k) => 2 ** k);

/**
 * The counts of an HDR histogram with {@link newHistogram}'s layout, recorded without
 * hdr-histogram-js's per-value cost. Its `recordValue` computes the bucket with `Math.pow` and
 * `Math.log2` through four method calls (about 0.2 µs on this machine, and the runner records up to
 * three figures per query); here a value is a `clz32`, a shift and an increment. The same counts
 * (and the exact minimum and maximum) become a real histogram once, in {@link NsCounts.toHistogram},
 * so every percentile, mean and encoding is hdr-histogram-js's own.
 */
export class NsCounts {
  /** Grows by doubling: 2 buckets (values < 4.1 µs) to start, ~16 k entries at 1–8 ms. */
  #counts = new Float64Array(2 << HALF_MAG);
  /** Values recorded. */
  total = 0;
  #min = Infinity;
  #max = 0;
  #maxIndex = -1;

  /** The counts index of a value ≥ 1 (hdr-histogram-js's `countsArrayIndex` for this layout). */
  static indexOf(ns: number): number {
    const log2 =
      ns < 4294967296 ? 31 - Math.clz32(ns) : Math.floor(Math.log2(ns));
    const bucket = log2 > HALF_MAG ? log2 - HALF_MAG : 0;
    if (bucket === 0) return ns;
    return (bucket << HALF_MAG) + Math.floor(ns / (POW2[bucket] as number));
  }

  /** Records one value: a whole number of nanoseconds, ≥ 1. */
  record(ns: number): void {
    const i = NsCounts.indexOf(ns);
    if (i >= this.#counts.length) this.#grow(i);
    this.#counts[i] = (this.#counts[i] as number) + 1;
    this.total++;
    if (ns < this.#min) this.#min = ns;
    if (ns > this.#max) {
      this.#max = ns;
      this.#maxIndex = i;
    }
  }

  /** Adds another set of counts into this one. */
  add(other: NsCounts): void {
    if (other.total === 0) return;
    const from = other.#counts;
    if (other.#maxIndex >= this.#counts.length) this.#grow(other.#maxIndex);
    const to = this.#counts;
    for (let i = 0; i <= other.#maxIndex; i++)
      if (from[i] !== 0) to[i] = (to[i] as number) + (from[i] as number);
    this.total += other.total;
    if (other.#min < this.#min) this.#min = other.#min;
    if (other.#max > this.#max) {
      this.#max = other.#max;
      this.#maxIndex = other.#maxIndex;
    }
  }

  /**
   * The HDR histogram of these values: the same counts per bucket as recording each value, and
   * the same exact minimum and maximum (each bucket's count is recorded at one value of that
   * bucket; the extreme buckets' at the extremes themselves).
   */
  toHistogram(): Histogram {
    const h = newHistogram();
    if (this.total === 0) return h;
    const js = h as unknown as JsHistogramInternals;
    const counts = this.#counts;
    const minIndex = NsCounts.indexOf(this.#min);
    for (let i = minIndex; i <= this.#maxIndex; i++) {
      let c = counts[i] as number;
      if (c === 0) continue;
      if (i === this.#maxIndex) {
        h.recordValueWithCount(this.#max, 1);
        if (--c === 0) continue;
      }
      h.recordValueWithCount(
        i === minIndex ? this.#min : js.valueFromIndex(i),
        c,
      );
    }
    return h;
  }

  #grow(index: number): void {
    let n = this.#counts.length;
    while (n <= index) n *= 2;
    const next = new Float64Array(n);
    next.set(this.#counts);
    this.#counts = next;
  }
}

import type { LatencyWindows } from '@stb/core';

/** Most windows kept; past it, neighbours merge and the width doubles (so 33–64 at the end). */
const MAX_WINDOWS = 64;
/** Width of the first windows, ms (a short run keeps its windows fine). */
const FIRST_WIDTH_MS = 1;
/** Values below this (ns) get a bucket each; above, 8 buckets per power of two. */
const EXACT_BELOW = 16;
/** Buckets: 16 exact ones, then 8 per octave up to 2^36 ns (68 s), the last one open. */
const BUCKETS = EXACT_BELOW + (36 - 4) * 8;

/**
 * The coarse bucket of a latency in ns (≥ 1): the value itself below 16, else one of 8 equal
 * parts of its power of two (a width of 6–12 % of the value).
 */
export function windowBucket(ns: number): number {
  if (ns < EXACT_BELOW) return Math.max(0, Math.floor(ns));
  if (ns < 2147483648) {
    // below 2^31: shifts on the integer (the runner records whole nanoseconds)
    const e = 31 - Math.clz32(ns);
    return EXACT_BELOW + (e - 4) * 8 + ((ns >>> (e - 3)) & 7);
  }
  const e = Math.floor(Math.log2(ns));
  const sub = Math.floor(ns / 2 ** (e - 3)) - 8;
  return Math.min(BUCKETS - 1, EXACT_BELOW + (e - 4) * 8 + sub);
}

/** The lowest value (ns) of a bucket of {@link windowBucket}. */
export function windowBucketLowerBound(b: number): number {
  if (b < EXACT_BELOW) return b;
  const e = 4 + Math.floor((b - EXACT_BELOW) / 8);
  return (8 + ((b - EXACT_BELOW) % 8)) * 2 ** (e - 3);
}

/**
 * Latencies by time window of the measured run: the run is cut into equal windows by each
 * execution's end, and each window keeps a coarse latency histogram. The width starts at 1 ms
 * and doubles (merging neighbours) whenever a 65th window would be needed, so any run ends with
 * 33–64 windows (fewer when it is shorter than 33 ms) in bounded memory: 64 × 272 counts.
 *
 * A machine's state drifts over tens of milliseconds to seconds (another process takes a core, the
 * CPU clock changes); batches of consecutive executions are far shorter than that on a fast
 * target, and an overall batch mixes templates, so batch means miss most of this drift. Windows
 * of the run's own time scale see it: `stb compare` takes the spread of a quantile between them as
 * the run-level variability of the whole-run figures.
 */
export class TimeWindows {
  #width = FIRST_WIDTH_MS;
  #windows: (Uint32Array | undefined)[] = [];
  readonly #startMs: number;

  /** `startMs`: where the measured window starts (ms since the run's t0). */
  constructor(startMs: number) {
    this.#startMs = startMs;
  }

  /** Adds one execution that ended at `endMs` (ms since t0) and took `ns` nanoseconds. */
  add(endMs: number, ns: number): void {
    let w = Math.floor(Math.max(0, endMs - this.#startMs) / this.#width);
    while (w >= MAX_WINDOWS) {
      this.#halve();
      w = Math.floor(Math.max(0, endMs - this.#startMs) / this.#width);
    }
    let counts = this.#windows[w];
    if (counts === undefined) {
      counts = new Uint32Array(BUCKETS);
      this.#windows[w] = counts;
    }
    const b = windowBucket(ns);
    counts[b] = (counts[b] as number) + 1;
  }

  /** Merges neighbouring windows: twice the width, half the windows. */
  #halve(): void {
    const next: (Uint32Array | undefined)[] = [];
    for (let i = 0; i < this.#windows.length; i += 2) {
      const a = this.#windows[i];
      const b = this.#windows[i + 1];
      if (a && b)
        for (let k = 0; k < BUCKETS; k++)
          a[k] = (a[k] as number) + (b[k] as number);
      next.push(a ?? b);
    }
    this.#windows = next;
    this.#width *= 2;
  }

  /** The result field; undefined when nothing was recorded. */
  result(): LatencyWindows | undefined {
    if (this.#windows.every((w) => w === undefined)) return undefined;
    return {
      widthMs: this.#width,
      windows: Array.from(this.#windows, (counts) => {
        const pairs: [number, number][] = [];
        if (counts)
          counts.forEach((n, b) => {
            if (n > 0) pairs.push([windowBucketLowerBound(b), n]);
          });
        return pairs;
      }),
    };
  }
}

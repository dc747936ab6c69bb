import type { Rng } from '@stb/core';
import type { SessionClassSampler } from '@stb/models';
import { TimedHeap } from './heap';

/** How a generated session was born, which decides how long it lives. */
export const enum SessionKind {
  /** A pooled connection: open until the run stops. */
  Pool = 0,
  /** Open when the capture began: generated once, with a learned length. */
  Initial = 1,
  /** An arrival of the class's (tiled) arrival process, with a learned length. */
  Arrival = 2,
}

/** The next session start of one stream (offsets in µs from the run's origin, unscaled). */
interface Stream {
  timeUs: number;
  /** Stream index: breaks time ties deterministically. */
  index: number;
  classIndex: number;
  kind: SessionKind;
  /** Pending offsets of this stream, sorted descending (pop from the end). */
  pending: number[];
  /** For arrival streams: next bucket (counting across periods) to expand. */
  nextBucket: number;
  rng: Rng;
}

/** One session start. */
export interface SessionStart {
  offsetUs: number;
  classIndex: number;
  kind: SessionKind;
}

/** Rounds `x` up or down at random so that its expectation is `x` (scale of counts). */
function stochasticRound(x: number, rng: Rng): number {
  const whole = Math.floor(x);
  const frac = x - whole;
  return whole + (frac > 1e-12 && rng.next() < frac ? 1 : 0);
}

/**
 * A class's arrivals per bucket in a stationary continuation: the mean over the capture's inner
 * buckets (all of them with fewer than three), or over all when the inner ones are empty.
 */
export function steadyCount(counts: readonly number[]): number {
  const mean = (xs: readonly number[]): number =>
    xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length;
  if (counts.length < 3) return mean(counts);
  const inner = mean(counts.slice(1, -1));
  return inner > 0 ? inner : mean(counts);
}

/**
 * Where arrival bucket `b` starts and how long it is. The capture's last bucket is cut by the
 * capture's end (its arrivals came in that part of it: spreading them over the whole bucket ran
 * three 3-s MySQL captures 9–28 % longer than their dequantized logs), and the stationary
 * continuation starts where the capture ended.
 */
export function bucketAt(
  c: Pick<
    SessionClassSampler,
    'arrivalBucketUs' | 'arrivalCounts' | 'arrivalSpanUs'
  >,
  b: number,
): { base: number; width: number } {
  const width = c.arrivalBucketUs;
  const nb = c.arrivalCounts.length;
  const last =
    c.arrivalSpanUs === undefined
      ? width
      : Math.min(width, Math.max(1, c.arrivalSpanUs + 1 - (nb - 1) * width));
  if (b < nb - 1) return { base: b * width, width };
  if (b === nb - 1) return { base: b * width, width: last };
  return { base: (nb - 1) * width + last + (b - nb) * width, width };
}

/**
 * Merges every class's session starts in time order: pooled connections and initial sessions
 * (once, at their learned offsets) and arrivals (per bucket: the learned count × scale, placed
 * uniformly within the bucket, the last one cut at the capture's end; past the capture, every
 * bucket gets the class's steady count —
 * the mean of the capture's inner buckets, since the first one lost the sessions counted as
 * initial and the last one is cut by the capture's end — a stationary continuation). Memory:
 * one bucket of offsets per class at a time.
 */
export class ArrivalSchedule {
  readonly #heap = new TimedHeap<Stream>();
  readonly #classes: readonly SessionClassSampler[];
  readonly #scale: number;

  constructor(
    classes: readonly SessionClassSampler[],
    options: { scale: number; rng: Rng },
  ) {
    this.#classes = classes;
    this.#scale = options.scale;
    let index = 0;
    classes.forEach((c, ci) => {
      const rng = options.rng.derive(ci);
      const fixed = (
        kind: SessionKind,
        count: number,
        draw: (r: Rng) => number,
      ): void => {
        const r = rng.derive(kind);
        const n = stochasticRound(count * this.#scale, r);
        if (n <= 0) return;
        const pending = Array.from({ length: n }, () => Math.max(0, draw(r)));
        pending.sort((a, b) => b - a);
        this.#push({
          timeUs: 0,
          index: index++,
          classIndex: ci,
          kind,
          pending,
          nextBucket: -1,
          rng: r,
        });
      };
      fixed(SessionKind.Pool, c.poolCount, (r) => c.poolOffsetUs(r));
      fixed(SessionKind.Initial, c.initialCount, (r) => c.initialOffsetUs(r));
      const total = c.arrivalCounts.reduce((a, b) => a + b, 0);
      if (total > 0)
        this.#push({
          timeUs: 0,
          index: index++,
          classIndex: ci,
          kind: SessionKind.Arrival,
          pending: [],
          nextBucket: 0,
          rng: rng.derive(SessionKind.Arrival),
        });
    });
  }

  /** Fills an arrival stream's pending offsets from its next non-empty bucket(s). */
  #expand(s: Stream): boolean {
    const c = this.#classes[s.classIndex] as SessionClassSampler;
    const counts = c.arrivalCounts;
    const nb = counts.length;
    const steady = steadyCount(counts);
    // at most one full period of empty buckets (the total is > 0, so one is non-empty)
    for (let guard = 0; guard <= nb && s.pending.length === 0; guard++) {
      const b = s.nextBucket++;
      const n = stochasticRound(
        (b < nb ? (counts[b] as number) : steady) * this.#scale,
        s.rng,
      );
      const { base, width } = bucketAt(c, b);
      for (let i = 0; i < n; i++) s.pending.push(base + s.rng.next() * width);
      s.pending.sort((x, y) => y - x);
    }
    return s.pending.length > 0;
  }

  #push(s: Stream): void {
    if (s.pending.length === 0 && (s.nextBucket < 0 || !this.#expand(s)))
      return;
    s.timeUs = s.pending[s.pending.length - 1] as number;
    this.#heap.push(s);
  }

  /** Offset of the next session start, or undefined when there is none. */
  peekOffsetUs(): number | undefined {
    return this.#heap.peek()?.timeUs;
  }

  /** Takes the next session start. */
  take(): SessionStart | undefined {
    const s = this.#heap.peek();
    if (!s) return undefined;
    const offsetUs = s.pending.pop() as number;
    const start: SessionStart = {
      offsetUs,
      classIndex: s.classIndex,
      kind: s.kind,
    };
    if (s.pending.length === 0 && (s.nextBucket < 0 || !this.#expand(s)))
      this.#heap.pop();
    else {
      s.timeUs = s.pending[s.pending.length - 1] as number;
      this.#heap.fixTop();
    }
    return start;
  }
}

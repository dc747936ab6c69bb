import { xoroshiro128plus } from 'pure-rand';
import { StbError } from './errors';

/**
 * Seeded pseudo-random numbers. Every random choice in SQL Trace Bench goes through an {@link Rng},
 * so the same seed gives the same output. Backed by pure-rand's xoroshiro128+.
 */
export interface Rng {
  /** Uniform float in [0, 1) with 53 random bits. */
  next(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  /** Uniform float in [min, max). */
  uniform(min: number, max: number): number;
  /** Exponential with the given rate (mean 1/rate). */
  exponential(rate: number): number;
  /** Standard normal (Box–Muller). */
  normal(mean?: number, sd?: number): number;
  /** Index drawn with probability proportional to `weights[i]` (linear scan; see {@link AliasTable} for hot loops). */
  categorical(weights: ArrayLike<number>): number;
  /** A new independent generator derived from this one's seed and `key`. */
  derive(key: number | string): Rng;
}

const TWO_POW_26 = 67108864;
const TWO_POW_53 = 9007199254740992;

/** 32-bit FNV-1a hash of a string, for deriving seeds from keys. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Mixes two 32-bit values into one (murmur3 finaliser), for `(seed, index)` derivation. */
export function mix32(a: number, b: number): number {
  return fmix32((a ^ Math.imul(b + 0x9e3779b9, 0x85ebca6b)) >>> 0);
}

/** The murmur3 finaliser: every bit of the 32-bit input moves every bit of the output. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Normalises a user seed (number or string) to a 32-bit integer. */
export function toSeed(seed: number | string): number {
  if (typeof seed === 'string') return hash32(seed);
  if (!Number.isFinite(seed))
    throw new StbError(
      'STB_OPTIONS_INVALID',
      `[stb] [core] Seed must be finite, got ${seed}. Pass a finite number.`,
    );
  return (Math.trunc(seed) ^ Math.trunc(seed / 4294967296)) >>> 0;
}

/**
 * Creates a seeded RNG.
 * @example
 * const rng = createRng(42);
 * const session = rng.derive(7); // independent stream for session 7
 */
export function createRng(seed: number | string): Rng {
  const s = toSeed(seed);
  const gen = xoroshiro128plus(s);
  const next32 = (): number => gen.unsafeNext() >>> 0;
  return rngFromUniform(
    () => {
      const a = next32() >>> 5;
      const b = next32() >>> 6;
      return (a * TWO_POW_26 + b) / TWO_POW_53;
    },
    (key) => {
      const k = typeof key === 'string' ? hash32(key) : toSeed(key);
      return createRng(mix32(s, k));
    },
  );
}

/**
 * An {@link Rng} whose every draw comes from `next` (uniform in [0, 1)), with `derive` as given:
 * what {@link createRng} builds on its generator, for a source of uniforms that is not one (the
 * generator's think-time coupling draws its uniforms through a shared process).
 */
export function rngFromUniform(
  next: () => number,
  derive: (key: number | string) => Rng,
): Rng {
  let spareNormal: number | undefined;
  const rng: Rng = {
    next,
    int(n) {
      return Math.floor(next() * n);
    },
    uniform(min, max) {
      return min + (max - min) * next();
    },
    exponential(rate) {
      return -Math.log(1 - next()) / rate;
    },
    normal(mean = 0, sd = 1) {
      if (spareNormal !== undefined) {
        const v = spareNormal;
        spareNormal = undefined;
        return mean + sd * v;
      }
      let u = 0;
      while (u === 0) u = next();
      const v = next();
      const r = Math.sqrt(-2 * Math.log(u));
      spareNormal = r * Math.sin(2 * Math.PI * v);
      return mean + sd * r * Math.cos(2 * Math.PI * v);
    },
    categorical(weights) {
      let total = 0;
      for (let i = 0; i < weights.length; i++) total += weights[i] as number;
      let x = next() * total;
      for (let i = 0; i < weights.length; i++) {
        x -= weights[i] as number;
        if (x < 0) return i;
      }
      return weights.length - 1;
    },
    derive,
  };
  return rng;
}

/**
 * Walker's alias method: O(n) setup, O(1) sampling from a fixed discrete distribution.
 * Structured-clone-safe through {@link AliasTable.toJSON}.
 */
export class AliasTable {
  readonly prob: Float64Array;
  readonly alias: Int32Array;

  constructor(weights: ArrayLike<number>) {
    const n = weights.length;
    if (n === 0)
      throw new StbError(
        'STB_OPTIONS_INVALID',
        '[stb] [core] AliasTable needs at least one weight.',
      );
    let total = 0;
    for (let i = 0; i < n; i++) {
      const w = weights[i] as number;
      if (!(w >= 0) || !Number.isFinite(w))
        throw new StbError(
          'STB_OPTIONS_INVALID',
          `[stb] [core] Invalid weight ${w} at ${i}: weights are finite and non-negative.`,
        );
      total += w;
    }
    if (total <= 0)
      throw new StbError(
        'STB_OPTIONS_INVALID',
        '[stb] [core] AliasTable weights sum to zero. Give at least one positive weight.',
      );
    this.prob = new Float64Array(n);
    this.alias = new Int32Array(n);
    const scaled = new Float64Array(n);
    const small: number[] = [];
    const large: number[] = [];
    for (let i = 0; i < n; i++) {
      scaled[i] = ((weights[i] as number) * n) / total;
      ((scaled[i] as number) < 1 ? small : large).push(i);
    }
    while (small.length > 0 && large.length > 0) {
      const s = small.pop() as number;
      const l = large.pop() as number;
      this.prob[s] = scaled[s] as number;
      this.alias[s] = l;
      scaled[l] = (scaled[l] as number) + (scaled[s] as number) - 1;
      (scaled[l] < 1 ? small : large).push(l);
    }
    for (const i of large) this.prob[i] = 1;
    for (const i of small) this.prob[i] = 1;
  }

  /** Draws an index. */
  sample(rng: Rng): number {
    const n = this.prob.length;
    const u = rng.next() * n;
    const i = Math.floor(u);
    return u - i < (this.prob[i] as number) ? i : (this.alias[i] as number);
  }

  get size(): number {
    return this.prob.length;
  }
}

import { mix32, rngFromUniform } from '@stb/core';
import type { Rng } from '@stb/core';

/** Sessions whose draws are stratified together (a power of two: the permutation is on 6 bits). */
export const STRATA = 64;
const MASK = STRATA - 1;
/** The largest double below 1. */
const ONE_BELOW = 1 - 2 ** -53;

/** A bijection of [0, 64) chosen by `key`: odd multiply-add and xorshift rounds on 6 bits. */
function permute(x: number, key: number): number {
  for (let round = 0; round < 3; round++) {
    const k = key >>> (round * 10);
    x = (Math.imul(x, (k & 0x3e) | 1) + ((k >>> 6) & MASK)) & MASK;
    x ^= x >>> 3;
  }
  return x;
}

/**
 * The time stream of session `index` (docs/generation.md, "Randomness and determinism"): its k-th uniform is
 * drawn within the stratum [s/64, (s+1)/64) where s is the session's place in a permutation of
 * its block of 64 consecutive sessions, one permutation per block and per k. Each uniform is
 * still uniform and a session's uniforms are still independent of one another, but the k-th
 * draws of 64 sessions cover [0, 1) evenly (Latin hypercube sampling across sessions), so the
 * sessions' lengths and think times follow the learned distributions closely even in a short
 * run: the 57 one-page web sessions of a 156-statement capture drew mean durations 85–107 ms
 * against the source's 105 ms with independent draws. A session's stream depends on its index
 * and `key` (one per run, from its seed) alone, so shards and prefixes still agree with a
 * sequential run. `derive` is the base stream's.
 */
export function stratifiedStream(base: Rng, key: number, index: number): Rng {
  const block = mix32(key >>> 0, Math.floor(index / STRATA));
  const place = index & MASK;
  let k = 0;
  return rngFromUniform(
    () => {
      const stratum = permute(place, mix32(block, k++));
      // 63 + (1 − 2⁻⁵³) rounds to 64: keep the top stratum below 1
      return Math.min((stratum + base.next()) / STRATA, ONE_BELOW);
    },
    (key) => base.derive(key),
  );
}

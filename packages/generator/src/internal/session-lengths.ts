import type { Rng } from '@stb/core';
import type { SessionClassSampler } from '@stb/models';

/** Chain sessions drawn per class to learn the length distribution the chain makes by itself. */
const LENGTH_PROBES = 2000;
/** Budget of chain steps for those probes (classes of very long sessions keep drawn lengths). */
const LENGTH_PROBE_STEPS = 400_000;
/** Chain sessions tried per generated session before falling back to a drawn length. */
const LENGTH_TRIES = 64;

/** Length bucket: exact to 64 statements, then 8 per doubling. */
function lengthBucket(n: number): number {
  if (n <= 64) return n;
  return 64 + Math.floor(8 * Math.log2(n / 64)) + 1;
}

/**
 * Length conditioning of a class's chain sessions (docs/models.md "Session lengths"): the weight
 * of a chain session of each length bucket, ∝ (the class's length distribution) ÷ (the chain's
 * own), so accepting chain sessions with that probability keeps the chain's paths — a browse
 * visit ends after its last page — and the class's lengths. Undefined when the chain's sessions
 * are too long to probe or cover too little of the class's lengths.
 */
function lengthAcceptance(
  cls: SessionClassSampler,
  rng: Rng,
): Map<number, number> | undefined {
  const chain = new Map<number, number>();
  let steps = 0;
  for (let i = 0; i < LENGTH_PROBES; i++) {
    let n = 0;
    const it = cls.sequence.nextSession(rng)[Symbol.iterator]();
    while (!it.next().done) {
      n++;
      if (++steps > LENGTH_PROBE_STEPS) return undefined;
    }
    const b = lengthBucket(n);
    chain.set(b, (chain.get(b) ?? 0) + 1);
  }
  const target = new Map<number, number>();
  for (let i = 0; i < LENGTH_PROBES; i++) {
    const b = lengthBucket(cls.sessionLength(rng));
    target.set(b, (target.get(b) ?? 0) + 1);
  }
  // the chain must reach most of the class's lengths for conditioning to mean anything
  let covered = 0;
  for (const [b, c] of target) if (chain.has(b)) covered += c;
  if (covered < 0.9 * LENGTH_PROBES) return undefined;
  const weights = new Map<number, number>();
  let max = 0;
  for (const [b, c] of chain) {
    const w = (target.get(b) ?? 0) / c;
    weights.set(b, w);
    if (w > max) max = w;
  }
  if (max <= 0) return undefined;
  for (const [b, w] of weights) weights.set(b, w / max);
  return weights;
}

/**
 * Whole chain sessions whose length the class's distribution accepts (docs/models.md "Session
 * lengths"). A class's acceptance is probed on its first ending session, with the class's own RNG
 * stream, so a class of pooled connections never pays for it.
 */
export class SessionLengths {
  readonly #classes: readonly SessionClassSampler[];
  readonly #rng: Rng;
  readonly #acceptance = new Map<number, Map<number, number> | undefined>();
  readonly #maxEvents: number;

  /** `rng`: the run's `lengths` stream; `maxEvents`: the longest session. */
  constructor(
    classes: readonly SessionClassSampler[],
    rng: Rng,
    maxEvents: number,
  ) {
    this.#classes = classes;
    this.#rng = rng;
    this.#maxEvents = maxEvents;
  }

  #acceptanceOf(ci: number): Map<number, number> | undefined {
    if (!this.#acceptance.has(ci))
      this.#acceptance.set(
        ci,
        lengthAcceptance(
          this.#classes[ci] as SessionClassSampler,
          this.#rng.derive(ci),
        ),
      );
    return this.#acceptance.get(ci);
  }

  /**
   * A chain session of class `ci` (drawn with `seqRng`) that its length distribution accepts
   * (coins from `pick()`), its own path and end; undefined when the class has no conditioning or
   * no try was accepted (the caller keeps a drawn length).
   */
  path(ci: number, seqRng: Rng, pick: () => Rng): string[] | undefined {
    const accept = this.#acceptanceOf(ci);
    if (!accept) return undefined;
    const cls = this.#classes[ci] as SessionClassSampler;
    const coin = pick();
    for (let t = 0; t < LENGTH_TRIES; t++) {
      const path: string[] = [];
      for (const id of cls.sequence.nextSession(seqRng)) {
        path.push(id);
        if (path.length >= this.#maxEvents) break;
      }
      const w = accept.get(lengthBucket(path.length)) ?? 0;
      if (path.length > 0 && coin.next() < w) return path;
    }
    return undefined;
  }
}

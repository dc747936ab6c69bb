import type { Rng } from '@stb/core';
import type { SessionClassSampler } from '@stb/models';

/** Strata of a dispatched class's gap draws (one block of draws visits each once). */
const GAP_STRATA = 256;

/** A random permutation of 0 … n − 1 (Fisher–Yates). */
function permutation(n: number, rng: Rng): number[] {
  const a = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    const t = a[i] as number;
    a[i] = a[j] as number;
    a[j] = t;
  }
  return a;
}

/**
 * A profiled class's schedule clock: the capture offset, µs, by which `x` source units have
 * started, interpolating linearly within each bucket of the profile; past the capture's last
 * unit, one more unit every mean gap.
 */
function rateWarp(p: {
  bucketUs: number;
  counts: readonly number[];
  meanGapUs: number;
}): { meanGapUs: number; at: (x: number) => number } {
  const cum = [0];
  for (const c of p.counts) cum.push((cum[cum.length - 1] as number) + c);
  const total = cum[cum.length - 1] as number;
  let last = p.counts.length;
  while (last > 0 && p.counts[last - 1] === 0) last--;
  const endUs = last * p.bucketUs;
  return {
    meanGapUs: p.meanGapUs > 0 ? p.meanGapUs : 1,
    at(x) {
      if (x >= total || total === 0) return endUs + (x - total) * p.meanGapUs;
      let lo = 0;
      let hi = p.counts.length;
      // last bucket boundary with cum <= x
      while (hi - lo > 1) {
        const mid = (lo + hi) >> 1;
        if ((cum[mid] as number) <= x) lo = mid;
        else hi = mid;
      }
      // skip empty buckets: the first one that holds units after boundary lo
      while ((p.counts[lo] as number) === 0) lo++;
      const inBucket = (x - (cum[lo] as number)) / (p.counts[lo] as number);
      return (lo + inBucket) * p.bucketUs;
    },
  };
}

/** One dispatched class's schedule state. */
interface UnitSlots {
  /** The last unit slot handed out, epoch µs. */
  lastUs: number;
  /** The class's own RNG (independent of sessions and shards). */
  rng: Rng;
  strata: number[];
  /** Units of the source scheduled so far (a profiled class's clock). */
  units: number;
  warp: ReturnType<typeof rateWarp> | undefined;
}

/**
 * The unit schedules of the dispatched classes (docs/models.md "Dispatched units"): one arrival
 * process per class whose units go to whichever pooled connection is free, as pgbench `-R` does.
 */
export class UnitSchedule {
  readonly #slots: (UnitSlots | undefined)[];
  readonly #scale: number;
  readonly #timeScale: number;
  readonly #toAbs: (offsetUs: number) => number;

  /** `rng`: the run's `units` stream; `toAbs` maps a capture offset to epoch µs of the run. */
  constructor(
    classes: readonly SessionClassSampler[],
    rng: Rng,
    o: {
      scale: number;
      timeScale: number;
      toAbs: (offsetUs: number) => number;
    },
  ) {
    this.#scale = o.scale;
    this.#timeScale = o.timeScale;
    this.#toAbs = o.toAbs;
    this.#slots = classes.map((c, i) =>
      c.unitGapUs
        ? {
            lastUs: NaN,
            rng: rng.derive(i),
            strata: [],
            units: 0,
            warp: c.unitProfile ? rateWarp(c.unitProfile) : undefined,
          }
        : undefined,
    );
  }

  /** Whether class `ci` is dispatched (its units come from one schedule). */
  has(ci: number): boolean {
    return this.#slots[ci] !== undefined;
  }

  /**
   * Advances class `ci`'s unit schedule by one slot (`fromUs`: where an empty schedule starts) and
   * returns the slot's time.
   */
  #nextSlot(ci: number, cls: SessionClassSampler, fromUs: number): number {
    const slot = this.#slots[ci] as UnitSlots;
    const gap = cls.unitGapUs as NonNullable<SessionClassSampler['unitGapUs']>;
    // Stratified draws: each block of GAP_STRATA gaps takes one from every equal-probability
    // stratum, in random order, so the schedule keeps the capture's mean rate (a plain draw's
    // count wanders by ±1/√n: ±5 % over a 10 s capture at 45 transactions/s) while gaps stay random.
    if (slot.strata.length === 0)
      slot.strata = permutation(GAP_STRATA, slot.rng);
    const u = ((slot.strata.pop() as number) + slot.rng.next()) / GAP_STRATA;
    if (slot.warp) {
      // a profiled class: count source units (a slot is 1/scale of one) and place the next at
      // the capture time its rate profile gives (after its end: at the gaps' own rate)
      slot.units += gap(u) / slot.warp.meanGapUs / this.#scale;
      slot.lastUs = this.#toAbs(slot.warp.at(slot.units));
    } else {
      const from = Number.isNaN(slot.lastUs) ? fromUs : slot.lastUs;
      slot.lastUs = from + Math.round((gap(u) * this.#timeScale) / this.#scale);
    }
    return slot.lastUs;
  }

  /**
   * Counts a unit of dispatched class `ci` that ran at `atUs` outside the schedule (a pooled
   * connection's first) as one of its slots: a schedule behind it restarts there, one ahead of it
   * loses a slot.
   */
  take(ci: number, cls: SessionClassSampler, atUs: number): void {
    const slot = this.#slots[ci] as UnitSlots;
    if (slot.warp) slot.units += 1 / this.#scale;
    else if (Number.isNaN(slot.lastUs) || slot.lastUs < atUs)
      slot.lastUs = atUs;
    else this.#nextSlot(ci, cls, atUs);
  }

  /**
   * The start of the next unit of a pooled connection of `cls` that is ready at `readyUs`
   * (`readyUs` itself for a class that is not dispatched).
   */
  next(cls: SessionClassSampler, readyUs: number): number {
    if (!this.#slots[cls.id] || !cls.unitGapUs) return readyUs;
    // A late slot (every connection was busy) starts as soon as the connection is free, as pgbench's
    // schedule lag does.
    return Math.max(readyUs, this.#nextSlot(cls.id, cls, readyUs));
  }
}

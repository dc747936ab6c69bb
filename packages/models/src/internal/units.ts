import { KllSketch, WindowCounter } from '@stb/core';
import type { UnitProcessState } from '../state-schemas';

/**
 * How the units of work (a transaction, or a statement outside one) of a class's pooled
 * connections arrive, and whether they are better generated as one class-wide arrival process
 * dispatched to whichever connection is free (pgbench `-R`, sysbench `--rate`, an application
 * pool behind a request queue) or as independent per-connection loops (closed-loop clients).
 *
 * The choice is made from the data (docs/models.md "Dispatched units"): the variance-to-mean ratio
 * of unit starts per window, observed, against what each model predicts for windows several
 * connection gaps wide. `n` independent renewal loops superpose to a VMR of one loop's squared
 * coefficient of variation (CV²) of its gaps; a class-wide renewal process has the CV² of the class
 * gaps. Whichever prediction is nearer the observed VMR (in log ratio) wins. Only classes whose
 * units are transactions (at most 5 % bare statements) are considered.
 */

/** Window sizes tried: 1 ms × 2^k, k = 0 … 16 (about 65 s). */
const WINDOW_BASE_US = 1000;
const WINDOW_COUNT = 17;
/** Fewest class gaps and windows behind a decision. */
const MIN_GAPS = 50;
const MIN_WINDOWS = 10;
/** Most units that may be bare statements (outside a transaction) in a dispatched class. */
const MAX_BARE_SHARE = 0.05;
/** The decision window spans this many mean connection gaps (and at least one). */
const WINDOW_GAPS = 5;

/** Running mean and variance (Welford). */
class Moments {
  n = 0;
  mean = 0;
  #m2 = 0;

  add(x: number): void {
    this.n++;
    const d = x - this.mean;
    this.mean += d / this.n;
    this.#m2 += d * (x - this.mean);
  }

  /** Squared coefficient of variation (population), or undefined without data. */
  get cv2(): number | undefined {
    if (this.n < 2 || this.mean <= 0) return undefined;
    return this.#m2 / this.n / (this.mean * this.mean);
  }
}

/** Per open session of the class: where its current unit is. */
export interface UnitSession {
  inTxn: boolean;
  /** Start of the session's previous unit, µs (NaN before the first). */
  lastUnitUs: number;
}

/** Learns one class's unit process from its pooled connections' events (in time order). */
export class UnitFitter {
  readonly #gaps = new KllSketch({ k: 200 });
  readonly #classGaps = new Moments();
  readonly #sessionGaps = new Moments();
  // a unit start derived from a duration may be out of order by less than a window: it is
  // counted in the current window (a reorder ring of one)
  readonly #windows: WindowCounter[] = Array.from(
    { length: WINDOW_COUNT },
    (_, k) => new WindowCounter(WINDOW_BASE_US * 2 ** k, { reorderWindows: 1 }),
  );
  readonly #originUs: number;
  /** Unit starts per profile bucket (PROFILE_BUCKETS over the capture), when its span is known. */
  readonly #profile: number[] | undefined;
  readonly #bucketUs: number;
  #lastUnitUs = NaN;
  units = 0;
  /** Units that are a statement outside any transaction. */
  bare = 0;

  constructor(originUs: number, spanUs?: number) {
    this.#originUs = originUs;
    this.#bucketUs =
      spanUs !== undefined && spanUs > 0
        ? Math.max(1, Math.ceil(spanUs / PROFILE_BUCKETS))
        : 0;
    this.#profile =
      this.#bucketUs > 0
        ? new Array<number>(PROFILE_BUCKETS).fill(0)
        : undefined;
  }

  /**
   * One statement of a pooled connection of the class: `boundary` is its transaction boundary
   * (0 none, 1 begin, 2 end).
   */
  event(s: UnitSession, startUs: number, boundary: number): void {
    if (!s.inTxn) {
      this.units++;
      if (boundary !== 1) this.bare++;
      if (!Number.isNaN(this.#lastUnitUs)) {
        const g = Math.max(0, startUs - this.#lastUnitUs);
        this.#gaps.update(g);
        this.#classGaps.add(g);
      }
      if (!Number.isNaN(s.lastUnitUs))
        this.#sessionGaps.add(Math.max(0, startUs - s.lastUnitUs));
      // a start derived from a duration may be slightly out of order: the class clock never goes back
      if (Number.isNaN(this.#lastUnitUs) || startUs > this.#lastUnitUs)
        this.#lastUnitUs = startUs;
      s.lastUnitUs = startUs;
      const t = startUs - this.#originUs;
      // a start before the origin (derived from a duration) counts in the first window
      for (const w of this.#windows) w.add(Math.max(0, t));
      if (this.#profile) {
        const b = Math.min(
          PROFILE_BUCKETS - 1,
          Math.max(0, Math.floor(t / this.#bucketUs)),
        );
        this.#profile[b] = (this.#profile[b] as number) + 1;
      }
    }
    if (boundary === 1) s.inTxn = true;
    else if (boundary === 2) s.inTxn = false;
  }

  /**
   * The class's unit process, or undefined when there is too little to decide (fewer than 50
   * class gaps, gaps not well above the time resolution, or a capture too short for ten windows
   * of a few connection gaps).
   */
  toState(o: {
    endUs: number;
    resolutionUs: number;
    connections: number;
  }): UnitProcessState | undefined {
    if (o.connections < 2 || this.#classGaps.n < MIN_GAPS) return undefined;
    // Units must be recognisable: a request of several autocommit statements cannot be told from
    // several requests, so classes with bare statements keep per-connection think times.
    if (this.bare > MAX_BARE_SHARE * this.units) return undefined;
    const cvClass = this.#classGaps.cv2;
    const cvSession = this.#sessionGaps.cv2;
    if (cvClass === undefined || cvSession === undefined) return undefined;
    if (this.#classGaps.mean < 2 * o.resolutionUs) return undefined;
    const target = WINDOW_GAPS * this.#sessionGaps.mean;
    const spanUs = o.endUs - this.#originUs;
    let chosen: WindowCounter | undefined;
    for (const w of this.#windows) {
      if (w.sizeUs < this.#sessionGaps.mean) continue;
      if (w.sizeUs * MIN_WINDOWS > spanUs) break;
      chosen = w;
      if (w.sizeUs >= target) break;
    }
    if (chosen === undefined) return undefined;
    // the windows up to the capture's end, trailing empty ones included
    chosen.finish(Math.max(0, spanUs));
    const observed = chosen.vmr(MIN_WINDOWS);
    if (observed === null || observed <= 0) return undefined;
    const far = (predicted: number): number =>
      Math.abs(Math.log((observed + 1e-9) / (predicted + 1e-9)));
    const profile = this.#varyingProfile();
    return {
      mode: far(cvClass) < far(cvSession) ? 'dispatch' : 'independent',
      gapUs: this.#gaps.toState(),
      windowUs: chosen.sizeUs,
      observedVmr: observed,
      independentVmr: cvSession,
      dispatchVmr: cvClass,
      ...(profile ? { profile } : {}),
    };
  }

  /**
   * The profile when the rate varied beyond chance: χ² of a flat rate over the buckets, p < 0.001
   * by the Wilson–Hilferty normal approximation. A stationary schedule (pgbench -R, sysbench
   * --rate) passes as flat, so its noise is not copied into the model.
   */
  #varyingProfile(): { bucketUs: number; counts: number[] } | undefined {
    const counts = this.#profile;
    if (!counts || this.units < PROFILE_BUCKETS) return undefined;
    const expected = this.units / counts.length;
    let chi2 = 0;
    for (const c of counts) chi2 += (c - expected) ** 2 / expected;
    const df = counts.length - 1;
    const a = 2 / (9 * df);
    const z = (Math.cbrt(chi2 / df) - (1 - a)) / Math.sqrt(a);
    return z > Z_001
      ? { bucketUs: this.#bucketUs, counts: [...counts] }
      : undefined;
  }
}

/** Buckets of a class's rate profile over the capture. */
const PROFILE_BUCKETS = 24;
/** One-sided normal quantile of p = 0.001. */
const Z_001 = 3.09;

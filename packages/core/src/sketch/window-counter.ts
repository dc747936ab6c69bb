/**
 * Events per fixed time window, streaming: the variance-to-mean ratio (VMR) of the counts and the
 * sampling variance of its logarithm. One home for the burstiness statistics of the validator
 * (`burstiness`, docs/validation-metrics.md) and of the models (the dispatched-unit decision,
 * docs/models.md). Memory is the reorder ring, never the number of windows.
 */

/** Options of {@link WindowCounter}. */
export interface WindowCounterOptions {
  /**
   * Windows kept open for events that arrive out of order (default {@link WindowCounter.RING}):
   * an event older than the oldest open window is counted in that window. With 1, an event older
   * than the current window is counted in the current one.
   */
  reorderWindows?: number;
}

/**
 * Sampling spread of a variance-to-mean ratio: the variance of ln(VMR) estimated from the counts'
 * own moments (delta method, ln s² − ln m with the skewness cross term), inflated for serial
 * correlation of the windows (an AR(1) of lag-1 correlation ρ carries (1 − ρ²)/(1 + ρ²) of the
 * information of independent windows about a variance). See docs/validation-metrics.md.
 */
export interface VmrEstimate {
  vmr: number;
  /** Estimated variance of ln(vmr) from sampling alone (≥ 0). */
  logVariance: number;
}

/**
 * Variance-to-mean of event counts per fixed window of `sizeUs`, streaming with a reorder ring.
 * Windows run from the first event's window to the last one with an event (or to `endUs`'s window,
 * see {@link WindowCounter.finish}); empty windows between count as zeros. Call `finish` once,
 * after the last `add`, before reading the figures.
 */
export class WindowCounter {
  /** Default reorder ring, windows. */
  static readonly RING = 512;
  readonly sizeUs: number;
  readonly #ringSize: number;
  readonly #ring: Float64Array;
  #base = 0;
  #maxW = -Infinity;
  #started = false;
  #windows = 0;
  #sum = 0;
  #sumSq = 0;
  // central moments (Pébay's one-pass updates: stable where raw power sums cancel)
  #mean = 0;
  #m2 = 0;
  #m3 = 0;
  #m4 = 0;
  #lagSum = 0; // Σ c[t]·c[t−1]
  #prev = 0;

  constructor(sizeUs: number, options: WindowCounterOptions = {}) {
    this.sizeUs = sizeUs;
    this.#ringSize = Math.max(
      1,
      Math.floor(options.reorderWindows ?? WindowCounter.RING),
    );
    this.#ring = new Float64Array(this.#ringSize);
  }

  /** Windows flushed so far (all of them after {@link WindowCounter.finish}). */
  get windows(): number {
    return this.#windows;
  }

  #slot(w: number): number {
    const s = w % this.#ringSize;
    return s < 0 ? s + this.#ringSize : s;
  }

  #flushOne(): void {
    const slot = this.#slot(this.#base);
    const c = this.#ring[slot] as number;
    this.#ring[slot] = 0;
    this.#windows++;
    this.#sum += c;
    this.#sumSq += c * c;
    this.#lagSum += c * this.#prev;
    this.#prev = c;
    this.#moment(c);
    this.#base++;
  }

  #moment(x: number): void {
    const n = this.#windows; // already counts x
    const delta = x - this.#mean;
    const dn = delta / n;
    const dn2 = dn * dn;
    const term1 = delta * dn * (n - 1);
    this.#mean += dn;
    this.#m4 +=
      term1 * dn2 * (n * n - 3 * n + 3) +
      6 * dn2 * this.#m2 -
      4 * dn * this.#m3;
    this.#m3 += term1 * dn * (n - 2) - 3 * dn * this.#m2;
    this.#m2 += term1;
  }

  /** Merges `k` empty windows into the moments in one step (Chan et al.'s pairwise formulas). */
  #emptyWindows(k: number): void {
    if (k <= 0) return;
    const na = this.#windows;
    this.#windows += k;
    const n = this.#windows;
    const delta = -this.#mean;
    const d2 = delta * delta;
    const m2a = this.#m2;
    const m3a = this.#m3;
    this.#m4 +=
      (d2 * d2 * na * k * (na * na - na * k + k * k)) / (n * n * n) +
      (6 * d2 * (k * k * m2a)) / (n * n) -
      (4 * delta * (k * m3a)) / n;
    this.#m3 +=
      (d2 * delta * na * k * (na - k)) / (n * n) - (3 * delta * (k * m2a)) / n;
    this.#m2 += (d2 * na * k) / n;
    this.#mean = (this.#mean * na) / n;
    this.#prev = 0;
  }

  /** Counts an event at `t` µs. */
  add(t: number): void {
    let w = Math.floor(t / this.sizeUs);
    if (!this.#started) {
      this.#started = true;
      this.#base = w;
    }
    if (w < this.#base) w = this.#base; // later than the reorder ring allows: count in the oldest window
    const R = this.#ringSize;
    if (w >= this.#base + R) {
      const target = w - R + 1;
      if (target - this.#base > R) {
        // long idle gap: flush the ring, then account the empty windows in bulk
        for (let i = 0; i < R; i++) this.#flushOne();
        this.#emptyWindows(target - this.#base);
        this.#base = target;
      } else {
        while (this.#base < target) this.#flushOne();
      }
    }
    const slot = this.#slot(w);
    this.#ring[slot] = (this.#ring[slot] as number) + 1;
    if (w > this.#maxW) this.#maxW = w;
  }

  /**
   * Flushes the windows up to the last one with an event, and with `endUs` on to the window that
   * holds `endUs` (the trailing empty windows count, in bulk). Nothing to do without events.
   */
  finish(endUs?: number): void {
    if (!this.#started) return;
    while (this.#base <= this.#maxW) this.#flushOne();
    if (endUs === undefined) return;
    const last = Math.floor(endUs / this.sizeUs);
    if (last >= this.#base) {
      this.#emptyWindows(last - this.#base + 1);
      this.#base = last + 1;
    }
  }

  /** Variance-to-mean ratio (population variance), or null with fewer than `minWindows` windows. */
  vmr(minWindows: number): number | null {
    if (this.#windows < minWindows || this.#sum === 0) return null;
    const mean = this.#sum / this.#windows;
    const variance = Math.max(0, this.#sumSq / this.#windows - mean * mean);
    return variance / mean;
  }

  /**
   * The VMR with the sampling variance of its logarithm, or null with fewer than `minWindows`
   * windows or a zero variance (a VMR of 0 has no logarithm; the caller compares it plainly).
   */
  vmrEstimate(minWindows: number): VmrEstimate | null {
    const vmr = this.vmr(minWindows);
    const n = this.#windows;
    if (vmr === null || vmr === 0 || this.#m2 <= 0) return null;
    const mean = this.#mean;
    const v = this.#m2 / n;
    const kurtosis = this.#m4 / n / (v * v);
    const skew3 = this.#m3 / n;
    // Var(ln s²) + Var(ln m) − 2 Cov(ln s², ln m), each over n windows
    const perWindow = Math.max(
      0,
      kurtosis - 1 + v / (mean * mean) - (2 * skew3) / (v * mean),
    );
    // lag-1 autocorrelation of the counts: fewer effective windows when bursts outlast a window
    const rho = n > 2 ? (this.#lagSum / (n - 1) - mean * mean) / v : 0;
    const r2 = Math.min(0.99, Math.max(0, rho) ** 2);
    const effective = (n * (1 - r2)) / (1 + r2);
    return { vmr, logVariance: perWindow / Math.max(1, effective) };
  }
}

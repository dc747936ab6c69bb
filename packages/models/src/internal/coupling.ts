/**
 * Shared think-time coupling (docs/models.md "Think-time coupling"): how much the think times of
 * different sessions move together. Sessions on one server and one client machine slow down and
 * speed up together — a lock released, a client thread woken, a stall of the machine — so their
 * statements bunch: on the closed-loop `\sleep` fixture a quarter of the 10-ms count variance is
 * covariance between sessions, where independently drawn sessions have none (burstiness 0.74).
 *
 * Learned as a Gaussian copula in the fit's one pass over the events: each think time becomes a
 * normal score z = Φ⁻¹(rank), its running mid-rank among its transition's think times so far
 * (`ArrivalFitter.thinkRank`), and the scores of think times of
 * *different* sessions drawn close together (counted in statements of the trace) are correlated,
 * per lag bin. A session's own consecutive gaps are left out, so only what sessions share counts.
 * The generator draws each think time's rank as Φ(ρ·Z + √(1 − ρ²)·ε), with Z one AR(1) process
 * shared by all sessions and advanced once per draw, and ε the session's own: every think time
 * keeps its distribution exactly, and think times drawn close together correlate as in the source.
 * Lags count draws, not µs, on both sides: draws bunch where think times are short, so pairs
 * close in time over-sample fast periods (on a simulated closed loop with ρ² = 0.3 the time-lag
 * estimate read 0.6), and a process in time, sampled more often while fast, shortened the mean
 * think time (4–12 % more statements/s on the `\sleep` fixture).
 */
import { normalQuantile } from '@stb/core';
import type { ThinkTimeCouplingState } from '../state-schemas';

/**
 * Upper ends of the lag bins, in think times drawn (the trace's statements in order): lag 1, 2,
 * 3–4, 5–8 … 33–64 (on the closed-loop `\sleep` fixture the correlation is gone by 33).
 */
export const COUPLING_LAGS: readonly number[] = [1, 2, 4, 8, 16, 32, 64];
const MAX_LAG = 64;
/**
 * Completed think times kept by where they were drawn (a power of two): a think time pairs with
 * every one drawn within 64 statements of it, whenever either completes. One drawn more than
 * this less the lag before the latest stored is scored but not paired (its partners' slots may
 * have been taken over).
 */
const WINDOW = 8192;
/** Ranks are clamped to [ε, 1 − ε] before Φ⁻¹ (a gap beyond the sketch's range). */
const RANK_EPS = 1e-4;
/** Fewest scored gaps and lag-1 pairs behind a coupling. */
const MIN_GAPS = 200;
const MIN_PAIRS = 100;
/** Below this lag-1 correlation the coupling is left out: it would change nothing measurable. */
const MIN_CORRELATION = 0.02;
/** Standard errors the lag-1 correlation must clear (pairs share gaps: not independent). */
const MIN_Z = 4;
const MAX_RHO2 = 0.9;
/**
 * Coarsest clock whose think times are scored: on a coarser one (whole seconds) the times inside
 * a tick are spread by the fit, not measured.
 */
export const COUPLING_COARSEST_CLOCK_US = 1000;

function lagBin(d: number): number {
  return Math.min(COUPLING_LAGS.length - 1, Math.ceil(Math.log2(d)));
}

/**
 * Accumulates the cross-session products of normal scores by lag, counted in draws as the
 * generator draws them: a think time is drawn when its session's previous statement is emitted,
 * so its place is that statement's number in the trace (each statement is the place of at most
 * one think time). A think time is known when its next statement arrives; it is then paired with
 * every completed think time of another session drawn within 64 places of it, so each pair is
 * counted once, when the later of the two completes, whatever the two lengths. (Pairing only
 * think times that also *ended* close together would select pairs of similar lengths: a
 * correlation from the selection alone, 0.3 on the 60-client log.)
 */
export class CouplingFitter {
  readonly #placeAt = new Float64Array(WINDOW).fill(-1);
  readonly #sessionAt = new Int32Array(WINDOW);
  readonly #zAt = new Float64Array(WINDOW);
  /** The latest place stored: slots of places a window before it are taken over. */
  #lastPlace = -1;
  readonly sums = COUPLING_LAGS.map(() => 0);
  readonly pairs = COUPLING_LAGS.map(() => 0);
  gaps = 0;
  sum = 0;
  sumSquares = 0;

  /**
   * One think time, drawn at statement number `place` (its previous statement's) in session
   * number `session`; `rank` is its place in its distribution. It is scored, and paired unless
   * a later place has taken over a partner's slot (it spans most of the window).
   */
  add(place: number, session: number, rank: number): void {
    const z = normalQuantile(Math.min(Math.max(rank, RANK_EPS), 1 - RANK_EPS));
    this.gaps++;
    this.sum += z;
    this.sumSquares += z * z;
    if (place > this.#lastPlace) this.#lastPlace = place;
    if (this.#lastPlace - place >= WINDOW - MAX_LAG) return;
    const mask = WINDOW - 1;
    for (let q = Math.max(0, place - MAX_LAG); q <= place + MAX_LAG; q++) {
      const j = q & mask;
      if (q === place || this.#placeAt[j] !== q) continue;
      if (this.#sessionAt[j] === session) continue;
      const b = lagBin(Math.abs(q - place));
      this.sums[b] = (this.sums[b] as number) + z * (this.#zAt[j] as number);
      this.pairs[b] = (this.pairs[b] as number) + 1;
    }
    const w = place & mask;
    this.#placeAt[w] = place;
    this.#sessionAt[w] = session;
    this.#zAt[w] = z;
  }

  toState(): ThinkTimeCouplingState {
    return {
      lags: [...COUPLING_LAGS],
      sums: [...this.sums],
      pairs: [...this.pairs],
      gaps: this.gaps,
      sum: this.sum,
      sumSquares: this.sumSquares,
    };
  }
}

/** The coupling the generator applies: see {@link thinkTimeCoupling}. */
export interface ThinkTimeCoupling {
  /** ρ²: the share of a think time's normal score that is the shared process. */
  rho2: number;
  /** The shared process's correlation from one draw to the next (AR(1) coefficient). */
  phi: number;
}

/**
 * The coupling of a fitted state, or undefined when the source shows none: too few gaps or pairs,
 * a lag-1 correlation under 0.02 or within 4 standard errors (1/√pairs) of zero, or one that has
 * not halved by the last bin (a trend, not a shared process). A bin's
 * correlation is the scores' covariance (less the squared mean: an atom such as 0-µs gaps inside
 * transactions scores one value) over their variance. The generator's two sessions' scores k
 * draws apart correlate by ρ²·φᵏ, so ρ² and φ match the source's lag-1 correlation c₁ and its sum
 * over lags A (each bin's correlation × the lags it holds, until one is not positive):
 * φ = 1 − c₁ ÷ A, ρ² = c₁ ÷ φ.
 */
export function thinkTimeCoupling(
  state: ThinkTimeCouplingState,
): ThinkTimeCoupling | undefined {
  if (state.gaps < MIN_GAPS) return undefined;
  const mean = state.sum / state.gaps;
  const variance = state.sumSquares / state.gaps - mean * mean;
  const n1 = state.pairs[0] ?? 0;
  if (!(variance > 0) || n1 < MIN_PAIRS) return undefined;
  const corr = (i: number): number => {
    const n = state.pairs[i] ?? 0;
    return n > 0 ? ((state.sums[i] as number) / n - mean * mean) / variance : 0;
  };
  const c1 = corr(0);
  if (!(c1 >= MIN_CORRELATION && c1 >= MIN_Z / Math.sqrt(n1))) return undefined;
  // A correlation still above half its lag-1 value 33–64 draws apart is a trend over the capture
  // (60 clients connecting over 2.6 s: 0.31 at lag 1, 0.28 at 33–64), not a process that comes
  // and goes; drawn as one (φ 0.98), it ran that log 3 % fast on average over four seeds.
  if (corr(state.lags.length - 1) >= c1 / 2) return undefined;
  let area = 0;
  let lo = 0;
  for (let i = 0; i < state.lags.length; i++) {
    const c = corr(i);
    if (!(c > 0)) break;
    const hi = state.lags[i] as number;
    area += c * (hi - lo);
    lo = hi;
  }
  const phi = Math.max(0.01, 1 - c1 / area);
  return { rho2: Math.min(MAX_RHO2, c1 / phi), phi };
}

/** The sum of shards' states (each over its own sessions; pairs across shards are not counted). */
export function mergeCoupling(
  states: readonly (ThinkTimeCouplingState | undefined)[],
): ThinkTimeCouplingState | undefined {
  const present = states.filter(
    (s): s is ThinkTimeCouplingState => s !== undefined,
  );
  const first = present[0];
  if (!first) return undefined;
  const out: ThinkTimeCouplingState = {
    lags: [...first.lags],
    sums: first.lags.map(() => 0),
    pairs: first.lags.map(() => 0),
    gaps: 0,
    sum: 0,
    sumSquares: 0,
  };
  for (const s of present) {
    s.sums.forEach((x, i) => (out.sums[i] = (out.sums[i] as number) + x));
    s.pairs.forEach((x, i) => (out.pairs[i] = (out.pairs[i] as number) + x));
    out.gaps += s.gaps;
    out.sum += s.sum;
    out.sumSquares += s.sumSquares;
  }
  return out;
}

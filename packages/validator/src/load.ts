import type { ValidationLoadChart } from '@stb/core';

import type { Comparison } from './compare';

/** Buckets a series starts with, µs wide; widths double (pairs merge) to stay within MAX_BUCKETS. */
const FIRST_BUCKET_US = 1000;
const MAX_BUCKETS = 4096;
/** Points of the load charts. */
const CHART_POINTS = 60;

/**
 * Statements and session time per bucket of relative time (from the trace's first statement), in
 * at most 4096 buckets whose width doubles as the trace grows: memory is constant.
 * @internal
 */
export class LoadSeries {
  bucketUs = FIRST_BUCKET_US;
  statements: number[] = [];
  /** Session-open time (µs) falling in each bucket: concurrency × bucket width. */
  busyUs: number[] = [];
  originUs: number | null = null;
  /**
   * The variance (µs²) that reading each session's open time off a grid of `resolutionUs` adds to
   * the total, summed over sessions: see {@link LoadSeries.session}.
   */
  gridVarianceUs2 = 0;

  /** @param resolutionUs the grid the trace's times were read off (1: exact). */
  constructor(readonly resolutionUs = 1) {}

  #fit(offset: number): void {
    while (offset >= this.bucketUs * MAX_BUCKETS) {
      const merge = (a: number[]): number[] => {
        const out: number[] = [];
        for (let i = 0; i < a.length; i += 2)
          out.push((a[i] ?? 0) + (a[i + 1] ?? 0));
        return out;
      };
      this.statements = merge(this.statements);
      this.busyUs = merge(this.busyUs);
      this.bucketUs *= 2;
    }
  }

  #bucket(a: number[], b: number): void {
    while (a.length <= b) a.push(0);
  }

  statement(startUs: number): void {
    this.originUs ??= startUs;
    const offset = Math.max(0, startUs - this.originUs);
    this.#fit(offset);
    const b = Math.floor(offset / this.bucketUs);
    this.#bucket(this.statements, b);
    this.statements[b] = (this.statements[b] as number) + 1;
  }

  /**
   * A session open from `fromUs` to `toUs` (epoch µs). On a grid of r, a session of true length L
   * reads as a whole number of ticks: the ticks it crosses, L ÷ r on average, so the total stays
   * unbiased, but each session adds a variance of r²·f(1 − f) for f the fraction of a tick in L:
   * r·L − L² ≤ r·L when L < r, at most r²/4 otherwise. A session read as M ≤ r adds r·M (whose
   * mean is r·L), a longer one r²/4, so a whole-second log of 240 short sessions of which 10 cross
   * a second (10 ± 3.2 session-seconds) gets its ± 3.2 s, and 4 pooled 8-s sessions ± 1 s.
   */
  session(fromUs: number, toUs: number): void {
    const r = this.resolutionUs;
    const m = Math.max(0, toUs - fromUs);
    this.gridVarianceUs2 += m <= r ? r * m : (r * r) / 4;
    this.originUs ??= fromUs;
    const from = Math.max(0, fromUs - this.originUs);
    const to = Math.max(from, toUs - this.originUs);
    this.#fit(to);
    const w = this.bucketUs;
    const last = Math.floor(to / w);
    this.#bucket(this.busyUs, last);
    for (let b = Math.floor(from / w); b <= last; b++) {
      const lo = Math.max(from, b * w);
      const hi = Math.min(to, (b + 1) * w);
      if (hi > lo) this.busyUs[b] = (this.busyUs[b] as number) + (hi - lo);
    }
  }

  /** Totals over the series. */
  totals(): { statements: number; busyUs: number; spanUs: number } {
    let st = 0;
    let busy = 0;
    for (const x of this.statements) st += x;
    for (const x of this.busyUs) busy += x;
    return {
      statements: st,
      busyUs: busy,
      spanUs:
        Math.max(this.statements.length, this.busyUs.length) * this.bucketUs,
    };
  }
}

/** The two series on one grid (the coarser bucket width), padded to the same length. */
function align(
  a: LoadSeries,
  b: LoadSeries,
  pick: (s: LoadSeries) => number[],
): { xa: number[]; xb: number[]; bucketUs: number } {
  const bucketUs = Math.max(a.bucketUs, b.bucketUs);
  const coarsen = (s: LoadSeries): number[] => {
    const f = bucketUs / s.bucketUs;
    const out: number[] = [];
    pick(s).forEach((x, i) => {
      const j = Math.floor(i / f);
      while (out.length <= j) out.push(0);
      out[j] = (out[j] as number) + x;
    });
    return out;
  };
  const xa = coarsen(a);
  const xb = coarsen(b);
  const n = Math.max(xa.length, xb.length);
  while (xa.length < n) xa.push(0);
  while (xb.length < n) xb.push(0);
  return { xa, xb, bucketUs };
}

/**
 * 1 − the largest gap between the two cumulative curves over relative time, divided by the larger
 * total: a rate that is 10 % low, or the same total spread over a different shape, both show.
 * Cumulative curves keep per-bucket noise from counting as a difference; `allowance` (in the
 * curves' unit) is the part of the gap that measurement noise explains, and does not count.
 */
function cumulativeScore(xa: number[], xb: number[], allowance = 0): number {
  let ca = 0;
  let cb = 0;
  let worst = 0;
  for (let i = 0; i < xa.length; i++) {
    ca += xa[i] as number;
    cb += xb[i] as number;
    worst = Math.max(worst, Math.abs(ca - cb));
  }
  const total = Math.max(ca, cb);
  return total === 0
    ? 1
    : Math.min(1, Math.max(0, 1 - Math.max(0, worst - allowance) / total));
}

function chart(
  [xa, xb]: [number[], number[]],
  bucketUs: number,
  scale: number,
): ValidationLoadChart {
  const n = xa.length;
  const per = Math.max(1, Math.ceil(n / CHART_POINTS));
  const points = Math.ceil(n / per);
  const sum = (x: number[], p: number): number => {
    let s = 0;
    for (let i = p * per; i < Math.min(n, (p + 1) * per); i++)
      s += x[i] as number;
    return s;
  };
  const widthUs = per * bucketUs;
  return {
    stepUs: widthUs,
    original: Array.from(
      { length: points },
      (_, p) => (sum(xa, p) * scale) / widthUs,
    ),
    generated: Array.from(
      { length: points },
      (_, p) => (sum(xb, p) * scale) / widthUs,
    ),
  };
}

/** A clock step in words: 1 s, 1 ms, 10 µs. */
const fmtUs = (us: number): string =>
  us >= 1e6 ? `${us / 1e6} s` : us >= 1000 ? `${us / 1000} ms` : `${us} µs`;

const fmt = (x: number): string =>
  x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2);

/**
 * One load curve of both traces compared by {@link cumulativeScore}, with its chart; not applicable
 * (with `emptyNote`) when either trace has nothing on it. `note` states the figures behind it.
 */
function compareLoad(
  a: LoadSeries,
  b: LoadSeries,
  o: {
    series: (s: LoadSeries) => number[];
    empty: (s: LoadSeries) => boolean;
    emptyNote: string;
    /** The chart's unit per µs of a bucket (1e6: per second). */
    scale: number;
    note: (xa: number[], xb: number[], bucketUs: number) => string;
    /** The part of the largest gap that noise explains (see {@link cumulativeScore}). */
    allowance?: number;
  },
): { comparison: Comparison; chart: ValidationLoadChart | null } {
  const { xa, xb, bucketUs } = align(a, b, o.series);
  if (o.empty(a) || o.empty(b))
    return {
      comparison: {
        applicable: false,
        score: null,
        distance: null,
        test: null,
        note: o.emptyNote,
      },
      chart: null,
    };
  const score = cumulativeScore(xa, xb, o.allowance);
  return {
    comparison: {
      applicable: true,
      score,
      distance: { name: 'max-cumulative-gap', value: 1 - score },
      test: null,
      note: o.note(xa, xb, bucketUs),
    },
    chart: chart([xa, xb], bucketUs, o.scale),
  };
}

/** Statement rate over relative time. @internal */
export function compareStatementRate(
  a: LoadSeries,
  b: LoadSeries,
): { comparison: Comparison; chart: ValidationLoadChart | null } {
  const rate = (s: LoadSeries): number => {
    let last = 0;
    s.statements.forEach((x, i) => {
      if (x > 0) last = i;
    });
    return s.totals().statements / (((last + 1) * s.bucketUs) / 1e6);
  };
  return compareLoad(a, b, {
    series: (s) => s.statements,
    empty: (s) => s.totals().statements < 2,
    emptyNote: 'A trace has fewer than two statements.',
    scale: 1e6,
    note: () => {
      const ra = rate(a);
      const rb = rate(b);
      return `Statements/s ${fmt(ra)} original, ${fmt(rb)} generated (ratio ${(rb / ra).toFixed(3)}). Score: 1 − largest gap between the cumulative statement counts over relative time ÷ the larger total.`;
    },
  });
}

/** Sessions open at once over relative time. @internal */
export function compareConcurrency(
  a: LoadSeries,
  b: LoadSeries,
): { comparison: Comparison; chart: ValidationLoadChart | null } {
  // What reading the sessions' open times off the coarser clock alone makes the largest gap: the
  // gap between the cumulative curves grows by independent steps, one per session, so under that
  // noise alone it is a random walk whose end has the variance σ² of both totals, and the expected
  // largest |excursion| of a Brownian motion of that end variance is √(π/2)·σ (as the KS-based
  // scores subtract the expected largest gap of a Brownian bridge). 0 on an exact clock.
  const allowance =
    Math.sqrt(Math.PI / 2) * Math.sqrt(a.gridVarianceUs2 + b.gridVarianceUs2);
  return compareLoad(a, b, {
    series: (s) => s.busyUs,
    empty: (s) => s.totals().busyUs <= 0,
    emptyNote: 'No session spans any time in one trace.',
    scale: 1,
    allowance,
    note: (xa, xb, bucketUs) => {
      const mean = (x: number[]): number => {
        let last = 0;
        let sum = 0;
        x.forEach((v, i) => {
          sum += v;
          if (v > 0) last = i;
        });
        return sum / ((last + 1) * bucketUs);
      };
      const ma = mean(xa);
      const mb = mean(xb);
      const total = Math.max(
        xa.reduce((x, y) => x + y, 0),
        xb.reduce((x, y) => x + y, 0),
      );
      const share = total > 0 ? allowance / total : 0;
      const noise =
        share >= 0.005
          ? ` less ${(share * 100).toFixed(1)} % of the larger total (what reading session times off a ${fmtUs(a.resolutionUs)} clock alone makes them differ by)`
          : '';
      return `Mean sessions open ${fmt(ma)} original, ${fmt(mb)} generated (ratio ${(mb / ma).toFixed(3)}). Score: 1 − (largest gap between the cumulative session-open time over relative time${noise}) ÷ the larger total.`;
    },
  });
}

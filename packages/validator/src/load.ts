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

  /** A session open from `fromUs` to `toUs` (epoch µs). */
  session(fromUs: number, toUs: number): void {
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
 * Cumulative curves keep per-bucket noise from counting as a difference.
 */
function cumulativeScore(xa: number[], xb: number[]): number {
  let ca = 0;
  let cb = 0;
  let worst = 0;
  for (let i = 0; i < xa.length; i++) {
    ca += xa[i] as number;
    cb += xb[i] as number;
    worst = Math.max(worst, Math.abs(ca - cb));
  }
  const total = Math.max(ca, cb);
  return total === 0 ? 1 : Math.min(1, Math.max(0, 1 - worst / total));
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
  const score = cumulativeScore(xa, xb);
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
  return compareLoad(a, b, {
    series: (s) => s.busyUs,
    empty: (s) => s.totals().busyUs <= 0,
    emptyNote: 'No session spans any time in one trace.',
    scale: 1,
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
      return `Mean sessions open ${fmt(ma)} original, ${fmt(mb)} generated (ratio ${(mb / ma).toFixed(3)}). Score: 1 − largest gap between the cumulative session-open time over relative time ÷ the larger total.`;
    },
  });
}

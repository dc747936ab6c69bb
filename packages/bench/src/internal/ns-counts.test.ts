import * as hdr from 'hdr-histogram-js';
import { createRng } from '@stb/core';
import { newHistogram as newHist } from './hdr';
import { NsCounts } from './ns-counts';
import { meanOf, summarize } from './stats';

/** What hdr-histogram-js's own `countsArrayIndex` says (a JsHistogram method off its public type). */
const probeHist = newHist() as unknown as {
  countsArrayIndex(v: number): number;
};
const libIndex = (v: number): number => probeHist.countsArrayIndex(v);

/** Latency-like values: mostly µs, some ms, a few seconds and one beyond the 60 s initial range. */
function values(seed: number, n: number): number[] {
  const rng = createRng(seed);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const r = rng.next();
    const scale = r < 0.7 ? 1e3 : r < 0.95 ? 1e6 : r < 0.999 ? 1e9 : 1e11;
    out.push(Math.max(1, Math.round(rng.next() * 20 * scale)));
  }
  return out;
}

describe('NsCounts', () => {
  it('puts every value in the bucket hdr-histogram-js would', () => {
    const probe: number[] = [1, 2, 1023, 1024, 2047, 2048, 2049, 4095, 4096];
    for (let k = 11; k < 47; k++)
      probe.push(2 ** k - 1, 2 ** k, 2 ** k + 1, 3 * 2 ** (k - 1));
    probe.push(...values(1, 5000));
    const wrong = probe.filter((v) => NsCounts.indexOf(v) !== libIndex(v));
    expect(wrong).toEqual([]);
  });

  it('gives the histogram recording each value gives: counts, extremes, summary, encoding', () => {
    for (const seed of [2, 3, 4]) {
      const vs = values(seed, 20_000);
      const direct = newHist();
      const counts = new NsCounts();
      for (const v of vs) {
        direct.recordValue(v);
        counts.record(v);
      }
      const built = counts.toHistogram();
      expect(built.totalCount).toBe(direct.totalCount);
      expect(built.maxValue).toBe(direct.maxValue);
      expect(built.minNonZeroValue).toBe(direct.minNonZeroValue);
      expect(summarize(built)).toEqual(summarize(direct));
      expect(hdr.encodeIntoCompressedBase64(built)).toBe(
        hdr.encodeIntoCompressedBase64(direct),
      );
    }
  });

  it('adds like hdr-histogram-js adds', () => {
    const a = new NsCounts();
    const b = new NsCounts();
    const ha = newHist();
    const hb = newHist();
    values(5, 3000).forEach((v) => (a.record(v), ha.recordValue(v)));
    values(6, 3000).forEach((v) => (b.record(v), hb.recordValue(v)));
    a.add(b);
    a.add(new NsCounts());
    ha.add(hb);
    expect(summarize(a.toHistogram())).toEqual(summarize(ha));
    expect(hdr.encodeIntoCompressedBase64(a.toHistogram())).toBe(
      hdr.encodeIntoCompressedBase64(ha),
    );
  });

  it('an empty set is an empty histogram; one value is its own min and max', () => {
    expect(new NsCounts().toHistogram().totalCount).toBe(0);
    const one = new NsCounts();
    one.record(123_456_789);
    const h = one.toHistogram();
    expect([h.totalCount, h.minNonZeroValue, h.maxValue]).toEqual([
      1, 123_456_789, 123_456_789,
    ]);
  });
});

describe('meanOf', () => {
  it('is the mean getter of hdr-histogram-js, to the last bit', () => {
    for (const seed of [7, 8]) {
      const h = newHist();
      for (const v of values(seed, 10_000)) h.recordValue(v);
      expect(meanOf(h)).toBe(h.mean);
    }
    expect(meanOf(newHist())).toBe(0);
  });
});

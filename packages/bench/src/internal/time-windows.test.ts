import { LatencyWindows } from '@stb/core';
import {
  TimeWindows,
  windowBucket,
  windowBucketLowerBound,
} from './time-windows';

describe('windowBucket', () => {
  it('keeps values below 16 ns exact and cuts each octave above into 8 equal parts', () => {
    for (let v = 0; v < 16; v++) expect(windowBucket(v)).toBe(v);
    expect(windowBucket(16)).toBe(16);
    expect(windowBucket(17)).toBe(16); // [16, 18)
    expect(windowBucket(18)).toBe(17);
    expect(windowBucket(31)).toBe(23); // [30, 32)
    expect(windowBucket(32)).toBe(24);
    expect(windowBucketLowerBound(23)).toBe(30);
  });

  it('maps every value into the bucket whose bounds hold it (lower bound ≤ v < next lower bound)', () => {
    for (const v of [
      16, 100, 999, 1953, 2048, 2441, 123_456, 1_000_000, 7_777_777,
      2_147_483_647, 2_147_483_648, 4_294_967_295, 4_294_967_296,
      30_000_000_000,
    ]) {
      const b = windowBucket(v);
      expect(windowBucketLowerBound(b)).toBeLessThanOrEqual(v);
      expect(windowBucketLowerBound(b + 1)).toBeGreaterThan(v);
      // at most 12.5 % of the value wide
      expect(
        windowBucketLowerBound(b + 1) - windowBucketLowerBound(b),
      ).toBeLessThanOrEqual(v / 8);
    }
  });
});

describe('TimeWindows', () => {
  it('keeps 1-ms windows on a short run', () => {
    const w = new TimeWindows(0);
    for (let t = 0; t < 20; t++) w.add(t + 0.5, 1000 + t);
    const r = LatencyWindows.parse(w.result());
    expect(r.widthMs).toBe(1);
    expect(r.windows).toHaveLength(20);
    expect(r.windows[3]).toEqual([
      [windowBucketLowerBound(windowBucket(1003)), 1],
    ]);
  });

  it('doubles the width as the run grows, ending with 33–64 windows that hold every execution', () => {
    const w = new TimeWindows(250); // the measured window starts after a 250-ms warmup
    let n = 0;
    for (let t = 250; t < 250 + 10_000; t += 0.37) {
      w.add(t, 1_000_000 + (n % 7) * 50_000);
      n++;
    }
    const r = LatencyWindows.parse(w.result());
    expect(r.widthMs).toBe(256); // 10 s ÷ 256 ms = 39.06 → 40 windows
    expect(r.windows).toHaveLength(40);
    const total = r.windows.flat().reduce((a, [, c]) => a + c, 0);
    expect(total).toBe(n);
    // every full window holds 256 / 0.37 ≈ 692 executions
    expect(r.windows[5]?.reduce((a, [, c]) => a + c, 0)).toBeGreaterThan(680);
  });

  it('leaves idle windows empty and reports nothing when nothing ran', () => {
    expect(new TimeWindows(0).result()).toBeUndefined();
    const w = new TimeWindows(0);
    w.add(0.2, 500);
    w.add(9.5, 600);
    const r = LatencyWindows.parse(w.result());
    expect(r.windows).toHaveLength(10);
    expect(r.windows.slice(1, 9).every((p) => p.length === 0)).toBe(true);
  });
});

import { createRng } from '@stb/core';
import {
  InverseCdfSampler,
  KllSketch,
  sketchQuantile,
  sortNumbers,
  weightedItems,
} from './kll';

function rankError(sketch: KllSketch, sorted: number[]): number {
  let worst = 0;
  for (const q of [0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99]) {
    const v = sketchQuantile(sketch.toState(), q) as number;
    // true rank of v
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((sorted[mid] as number) <= v) lo = mid + 1;
      else hi = mid;
    }
    worst = Math.max(worst, Math.abs(lo / sorted.length - q));
  }
  return worst;
}

describe('KllSketch', () => {
  it('is exact while n <= k', () => {
    const s = new KllSketch(50);
    for (let i = 1; i <= 50; i++) s.update(i);
    const w = weightedItems(s.toState());
    expect(Array.from(w.values)).toEqual(
      Array.from({ length: 50 }, (_, i) => i + 1),
    );
    expect(w.total).toBe(50);
    expect(sketchQuantile(s.toState(), 0.5)).toBe(25);
  });

  it('keeps quantile rank error under 2 % on 200k values with bounded size', () => {
    const rng = createRng(1);
    const s = new KllSketch(200);
    const all: number[] = [];
    for (let i = 0; i < 200_000; i++) {
      const x = rng.exponential(0.01);
      all.push(x);
      s.update(x);
    }
    all.sort((a, b) => a - b);
    expect(s.n).toBe(200_000);
    expect(rankError(s, all)).toBeLessThan(0.02);
    const items = s.toState().levels.reduce((a, l) => a + l.length, 0);
    expect(items).toBeLessThan(1000);
    expect(s.min).toBe(all[0]);
    expect(s.max).toBe(all[all.length - 1]);
    const w = weightedItems(s.toState());
    expect(w.total).toBeGreaterThan(200_000 * 0.95);
    expect(w.total).toBeLessThan(200_000 * 1.05);
  });

  it('merges shards into a sketch as accurate as one over all data', () => {
    const rng = createRng(2);
    const a = new KllSketch(200);
    const b = new KllSketch(200);
    const all: number[] = [];
    for (let i = 0; i < 60_000; i++) {
      const x = rng.uniform(0, 1000);
      all.push(x);
      (i % 3 === 0 ? a : b).update(x);
    }
    const merged = KllSketch.fromState(a.toState());
    merged.merge(b.toState());
    all.sort((x, y) => x - y);
    expect(merged.n).toBe(60_000);
    expect(rankError(merged, all)).toBeLessThan(0.02);
  });

  it('is deterministic', () => {
    const run = (): number[][] => {
      const s = new KllSketch(64);
      const rng = createRng(9);
      for (let i = 0; i < 10_000; i++) s.update(rng.next());
      return s.toState().levels;
    };
    expect(run()).toEqual(run());
  });
});

describe('InverseCdfSampler', () => {
  it('reproduces point masses exactly and interpolates continuous values', () => {
    const s = new KllSketch(100);
    for (let i = 0; i < 70; i++) s.update(5);
    for (let i = 0; i < 30; i++) s.update(7);
    const sampler = InverseCdfSampler.fromSketch(
      s.toState(),
    ) as InverseCdfSampler;
    const rng = createRng(3);
    let fives = 0;
    for (let i = 0; i < 10_000; i++) {
      const v = sampler.sample(rng);
      expect(v).toBeGreaterThanOrEqual(5);
      expect(v).toBeLessThanOrEqual(7);
      if (v === 5) fives++;
    }
    // 69.5 % of the mass sits strictly on 5 (midpoint anchors), the rest spreads to 7
    expect(fives / 10_000).toBeGreaterThan(0.65);
    expect(fives / 10_000).toBeLessThan(0.72);
  });
});

describe('sortNumbers', () => {
  it('sorts like sort((a, b) => a - b), short and long arrays, with duplicates', () => {
    const rng = createRng(3);
    for (const n of [0, 1, 2, 7, 48, 49, 200, 1000]) {
      const v = Array.from({ length: n }, () =>
        rng.next() < 0.3 ? rng.int(5) : rng.next() * 100 - 50,
      );
      const expected = [...v].sort((a, b) => a - b);
      sortNumbers(v);
      expect(v).toEqual(expected);
    }
  });
});

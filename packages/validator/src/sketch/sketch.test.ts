import { createRng } from '@stb/core';

import { ksStatisticWeighted } from '../stats/ks';
import { DistinctCounter } from './distinct';
import { KllSketch, kllRankError } from './kll';

describe('KllSketch', () => {
  it('is exact below exactUpTo', () => {
    const s = new KllSketch({ k: 64, exactUpTo: 1000 });
    for (let i = 999; i >= 0; i--) s.update(i);
    expect(s.exact).toBe(true);
    const w = s.toWeighted();
    expect(Array.from(w.values)).toEqual(
      Array.from({ length: 1000 }, (_, i) => i),
    );
    expect(Array.from(w.weights).every((x) => x === 1)).toBe(true);
  });

  it('keeps ranks within its stated error bound with bounded memory', () => {
    const rng = createRng(11);
    const n = 200_000;
    const values = new Float64Array(n);
    const s = new KllSketch({ k: 200, exactUpTo: 200 });
    for (let i = 0; i < n; i++) {
      values[i] = rng.normal(0, 1) ** 3;
      s.update(values[i] as number);
    }
    expect(s.exact).toBe(false);
    expect(s.n).toBe(n);
    const w = s.toWeighted();
    expect(w.values.length).toBeLessThan(1200); // O(k), not O(n)
    values.sort();
    // KS between the sketch and the exact sample is its worst rank error
    const d = ksStatisticWeighted(w, {
      values,
      weights: new Float64Array(n).fill(1),
    });
    expect(d).toBeLessThan(kllRankError(200));
  });

  it('gives identical sketches for identical input (KS exactly 0)', () => {
    const a = new KllSketch({ k: 100, exactUpTo: 100 });
    const b = new KllSketch({ k: 100, exactUpTo: 100 });
    const rng = createRng(3);
    for (let i = 0; i < 50_000; i++) {
      const v = rng.exponential(1);
      a.update(v);
      b.update(v);
    }
    expect(ksStatisticWeighted(a.toWeighted(), b.toWeighted())).toBe(0);
  });
});

describe('DistinctCounter', () => {
  it('counts exactly up to its cap, then estimates within 3 %', () => {
    const c = new DistinctCounter({ exactCap: 10_000 });
    const rng = createRng(5);
    const key = (): [number, number] => [
      (rng.next() * 2 ** 32) >>> 0,
      (rng.next() * 2 ** 32) >>> 0,
    ];
    const keys = Array.from({ length: 5000 }, key);
    for (const [a, b] of keys) c.add(a, b);
    for (const [a, b] of keys) c.add(a, b);
    expect(c.exact).toBe(true);
    expect(c.count()).toBe(5000);
    for (let i = 0; i < 295_000; i++) {
      const [a, b] = key();
      c.add(a, b);
    }
    expect(c.exact).toBe(false);
    expect(Math.abs(c.count() - 300_000) / 300_000).toBeLessThan(0.03);
  });
});

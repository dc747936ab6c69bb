import { createRng } from '@stb/core';

import { DistinctCounter } from './distinct';

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

import { createRng, KllSketch } from '@stb/core';

import { InverseCdfSampler } from './inverse-cdf';

describe('InverseCdfSampler', () => {
  it('reproduces point masses exactly and interpolates continuous values', () => {
    const s = new KllSketch({ k: 100 });
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

describe('InverseCdfSampler.at', () => {
  /** The plain binary search over every anchor, which the guide table must reproduce exactly. */
  function reference(s: InverseCdfSampler, u: number): number {
    const p = s.probs;
    let lo = 0;
    let hi = p.length - 1;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if ((p[mid] as number) <= u) lo = mid;
      else hi = mid;
    }
    const [p0, p1] = [p[lo] as number, p[hi] as number];
    const [v0, v1] = [s.values[lo] as number, s.values[hi] as number];
    if (p1 <= p0 || v0 === v1) return v0;
    return v0 + ((v1 - v0) * (u - p0)) / (p1 - p0);
  }

  it('draws exactly what a search over all anchors gives (skewed, point masses, edges)', () => {
    const rng = createRng(8);
    const samplers: InverseCdfSampler[] = [];
    for (const n of [1, 2, 5, 100, 5000]) {
      const s = new KllSketch({ k: 64 });
      for (let i = 0; i < n; i++)
        s.update(rng.next() < 0.2 ? 3 : rng.exponential(1) ** 3);
      samplers.push(
        InverseCdfSampler.fromSketch(s.toState()) as InverseCdfSampler,
      );
    }
    samplers.push(
      InverseCdfSampler.fromQuantiles([1, 1, 1, 2, 9]) as InverseCdfSampler,
    );
    samplers.push(
      new InverseCdfSampler(
        Float64Array.of(0, 0.5, 0.5, 0.5, 1),
        Float64Array.of(0, 1, 2, 3, 4),
      ),
    );
    let mismatches = 0;
    let draws = 0;
    for (const s of samplers) {
      const us = [0, 1e-12, 0.5, 1 - 1e-16, 1, -0.1, 1.2, ...s.probs];
      for (let i = 0; i < 20_000; i++) us.push(rng.next());
      for (const u of us) {
        draws++;
        if (!Object.is(s.at(u), reference(s, u))) mismatches++;
      }
    }
    expect(draws).toBeGreaterThan(140_000);
    expect(mismatches).toBe(0);
  });
});

describe('InverseCdfSampler.fromSketch: few distinct values (issue 13)', () => {
  it('draws a sketch of 0 (84 %) and 1000 (16 %) as a step: only 0 or 1000, mean within 2 % of 160', () => {
    const s = new KllSketch({ k: 200 });
    const rng = createRng(21);
    for (let i = 0; i < 50_000; i++) s.update(rng.next() < 0.84 ? 0 : 1000);
    const sampler = InverseCdfSampler.fromSketch(
      s.toState(),
    ) as InverseCdfSampler;
    const draw = createRng(22);
    let sum = 0;
    const n = 200_000;
    let other = 0;
    for (let i = 0; i < n; i++) {
      const v = sampler.sample(draw);
      if (v !== 0 && v !== 1000) other++;
      sum += v;
    }
    expect(other).toBe(0);
    expect(Math.abs(sum / n - 160) / 160).toBeLessThan(0.02);
  });

  it('still interpolates a continuous sketch (draws are not just its items)', () => {
    const s = new KllSketch({ k: 200 });
    const rng = createRng(23);
    const items = new Set<number>();
    for (let i = 0; i < 50_000; i++) {
      const v = rng.exponential(0.01);
      s.update(v);
      items.add(v);
    }
    const sampler = InverseCdfSampler.fromSketch(
      s.toState(),
    ) as InverseCdfSampler;
    const draw = createRng(24);
    const out = Array.from({ length: 2000 }, () => sampler.sample(draw));
    expect(new Set(out).size).toBeGreaterThan(1900);
    expect(out.filter((v) => items.has(v)).length).toBeLessThan(100);
  });

  it('keeps an atom whole beside a continuous tail (0 µs inside transactions, 89 %, then 600–914 µs)', () => {
    // the pgbench -R sample's UPDATE → SELECT think times: 406 of 454 are 0. A sketch of the
    // transitions' size (k 64) re-encodes the zeros into items of unequal weight; their run must still
    // hold its mass
    const rng = createRng(31);
    const data: number[] = [];
    for (let i = 0; i < 406; i++) data.push(0);
    for (let i = 0; i < 48; i++) data.push(Math.round(rng.uniform(600, 914)));
    const s = new KllSketch({ k: 64 });
    for (const v of data) s.update(v);
    const sampler = InverseCdfSampler.fromSketch(
      s.toState(),
    ) as InverseCdfSampler;
    const draw = createRng(32);
    const n = 100_000;
    let zeros = 0;
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const v = sampler.sample(draw);
      if (v === 0) zeros++;
      sum += v;
    }
    const mean = data.reduce((a, b) => a + b, 0) / data.length;
    expect(zeros / n).toBeGreaterThan(0.87);
    expect(zeros / n).toBeLessThan(0.9);
    expect(Math.abs(sum / n - mean) / mean).toBeLessThan(0.1);
  });
});

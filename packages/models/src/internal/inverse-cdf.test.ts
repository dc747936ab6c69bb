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

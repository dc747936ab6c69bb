import { normalCdf, normalQuantile } from './normal';

describe('normalCdf / normalQuantile', () => {
  it('gives the textbook values', () => {
    expect(normalCdf(0)).toBeCloseTo(0.5, 7);
    expect(normalCdf(1.959963985)).toBeCloseTo(0.975, 6);
    expect(normalCdf(-1)).toBeCloseTo(0.158655254, 6);
    expect(normalQuantile(0.975)).toBeCloseTo(1.959963985, 7);
    expect(normalQuantile(0.001)).toBeCloseTo(-3.090232306, 6);
  });

  it('are inverse to each other across the range', () => {
    for (let p = 1e-6; p < 1; p += 0.01237)
      expect(normalCdf(normalQuantile(p))).toBeCloseTo(p, 6);
  });
});

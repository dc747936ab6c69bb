import { AliasTable, createRng } from './rng';

describe('createRng', () => {
  it('is deterministic per seed and differs across seeds', () => {
    const a = createRng(42);
    const b = createRng(42);
    const c = createRng(43);
    const xs = Array.from({ length: 5 }, () => a.next());
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(xs);
    expect(Array.from({ length: 5 }, () => c.next())).not.toEqual(xs);
  });

  it('derives independent, reproducible streams', () => {
    const s1 = createRng(1).derive(7);
    const s2 = createRng(1).derive(7);
    const s3 = createRng(1).derive(8);
    expect(s1.next()).toBe(s2.next());
    expect(s1.next()).not.toBe(s3.next());
  });

  it('draws uniform floats in [0,1) with the right mean', () => {
    const r = createRng('seed');
    let sum = 0;
    const n = 100_000;
    for (let i = 0; i < n; i++) {
      const x = r.next();
      expect(x >= 0 && x < 1).toBe(true);
      sum += x;
    }
    expect(Math.abs(sum / n - 0.5)).toBeLessThan(0.01);
  });

  it('draws exponentials with mean 1/rate and normals with mean and sd', () => {
    const r = createRng(5);
    const n = 50_000;
    let e = 0;
    let m = 0;
    let m2 = 0;
    for (let i = 0; i < n; i++) {
      e += r.exponential(4);
      const z = r.normal(10, 2);
      m += z;
      m2 += z * z;
    }
    expect(Math.abs(e / n - 0.25)).toBeLessThan(0.01);
    const mean = m / n;
    expect(Math.abs(mean - 10)).toBeLessThan(0.05);
    expect(Math.abs(Math.sqrt(m2 / n - mean * mean) - 2)).toBeLessThan(0.05);
  });
});

describe('AliasTable', () => {
  it('samples proportionally to weights', () => {
    const weights = [1, 0, 3, 6];
    const t = new AliasTable(weights);
    const r = createRng(9);
    const counts = [0, 0, 0, 0];
    const n = 100_000;
    for (let i = 0; i < n; i++) counts[t.sample(r)]! += 1;
    expect(counts[1]).toBe(0);
    weights.forEach((w, i) =>
      expect(Math.abs(counts[i]! / n - w / 10)).toBeLessThan(0.01),
    );
    const c = [0, 0, 0, 0];
    for (let i = 0; i < n; i++) c[r.categorical(weights)]! += 1;
    weights.forEach((w, i) =>
      expect(Math.abs(c[i]! / n - w / 10)).toBeLessThan(0.01),
    );
  });

  it('rejects empty and all-zero weights', () => {
    // a coded StbError (issue 15), no longer a plain RangeError
    expect(() => new AliasTable([])).toThrow(
      expect.objectContaining({ code: 'STB_OPTIONS_INVALID' }),
    );
    expect(() => new AliasTable([0, 0])).toThrow(/sum to zero/);
  });
});

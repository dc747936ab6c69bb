import jStat from 'jstat';

import { chiSquareSf, chiSquareTest } from './chi-square';
import { lnGamma } from './gamma';
import { ksPValue, ksTwoSample, lnKolmogorovSf } from './ks';
import { totalVariation } from './total-variation';

// Reference values computed with scipy 1.17.1 (`scipy.stats.ks_2samp(..., method='exact')`,
// `kstwobign.sf`, `chi2.sf`/`chi2.logsf`, `chi2_contingency(..., correction=False)`) and, where
// double precision underflows, mpmath at 50 digits (`gammainc(df/2, x/2, inf, regularized=True)`).
// They are committed numbers: the tests need no Python.

const rel = (a: number, b: number): number => Math.abs(a - b) / Math.abs(b);

describe('ksTwoSample (scipy exact reference)', () => {
  const a = [
    0.61, 0.29, 0.06, 0.59, -1.73, -0.74, 0.51, -0.56, 0.39, 1.64, 0.05, -0.06,
    0.64, -0.82, 0.37, 1.77, 1.09, -1.28, 2.36, 1.31, 1.05, -0.32, -0.4, 1.06,
    -2.47,
  ];
  const b = [
    2.2, 1.66, 1.38, 0.2, 0.36, 0.0, 0.96, 1.56, 0.44, 1.5, -0.3, 0.66, 2.31,
    3.29, -0.27, -0.37, 0.38, 0.7, 0.52, -0.72,
  ];
  const range = (lo: number, hi: number): number[] =>
    Array.from({ length: hi - lo }, (_, i) => lo + i);
  it.each([
    ['25 vs 20 normals', a, b, 0.23, 0.5286364448145011],
    ['4 vs 4', [1, 2, 3, 4], [3, 4, 5, 6], 0.5, 0.7714285714285716],
    [
      '40 vs 30 shifted',
      range(1, 41),
      range(16, 46),
      0.375,
      0.012260660144509307,
    ],
    [
      'with ties',
      [1, 1, 2, 2, 2, 3, 3, 4, 5, 5],
      [1, 2, 2, 3, 3, 3, 3, 4, 4, 5, 6, 6],
      0.25,
      0.7955589302338527,
    ],
    [
      '200 vs 250 overlapping',
      range(0, 200),
      range(150, 400),
      0.8,
      1.390779794864438e-71,
    ],
    [
      '300 vs 300 disjoint',
      range(0, 300),
      range(300, 600),
      1,
      1.4802978791996799e-179,
    ],
  ] as const)('%s', (...row) => {
    const [, x, y, d, p] = row;
    const r = ksTwoSample(x, y);
    expect(r.statistic).toBeCloseTo(d, 12);
    expect(r.method).toBe('exact');
    expect(rel(r.pValue, p)).toBeLessThan(1e-9);
    expect(r.log10PValue).toBeCloseTo(Math.log10(p), 8);
  });

  it('gives D = 0 and p = 1 for identical samples', () => {
    const r = ksTwoSample(a, [...a].reverse());
    expect(r.statistic).toBe(0);
    expect(r.pValue).toBe(1);
  });
});

describe('Kolmogorov distribution (scipy kstwobign.sf reference)', () => {
  it.each([
    [0.5, 0.9639452436648751],
    [1.0, 0.26999967167735456],
    [1.358, 0.05002679733444698],
    [2.0, 0.0006709252557796953],
    [5.0, 3.8574996959278356e-22],
  ])('Q(%d)', (lambda, q) => {
    expect(rel(Math.exp(lnKolmogorovSf(lambda)), q)).toBeLessThan(1e-10);
  });
  it('stays finite far below double precision (mpmath: log10 Q(20) = -347.1345555…, Q(40) = -1389.441312…)', () => {
    expect(lnKolmogorovSf(20) / Math.LN10).toBeCloseTo(-347.1345555269375, 9);
    expect(lnKolmogorovSf(40) / Math.LN10).toBeCloseTo(-1389.441312094742, 9);
  });
  it('asymptotic two-sample p-values are within 5 % of scipy `kstwo.sf(d, round(n1·n2/(n1+n2)))`', () => {
    const cases: [number, number, number, number][] = [
      [1000, 2000, 0.05, 0.0688387216652675],
      [5000, 5000, 0.05, 7.1667929173507955e-6],
      [100000, 100000, 0.01, 9.018048811843602e-5],
      [1e6, 1e6, 0.01, 7.374635645083527e-44],
    ];
    for (const [n1, n2, d, p] of cases) {
      const r = ksPValue(d, [n1, n2]);
      expect(r.method).toBe('asymptotic');
      expect(rel(r.pValue, p)).toBeLessThan(0.05);
    }
  });
  it('reports a bound when the p-value underflows', () => {
    const r = ksPValue(0.5, [1e6, 1e6]);
    expect(r.pValue).toBe(0);
    expect(r.bound).toBe('< 1e-300');
    expect(r.log10PValue).toBeLessThan(-300);
    expect(Number.isFinite(r.log10PValue)).toBe(true);
  });
});

describe('chi-square (scipy / mpmath reference)', () => {
  it.each([
    [3.841458820694124, 1, 0.04999999999999989],
    [11.0705, 5, 0.0499999554280436],
    [100, 10, 5.4497019829205215e-17],
    [1000, 10, 1.870290720915977e-208],
    [10, 50, 0.9999999998400414],
  ])('sf(%d, df %d)', (x, df, p) => {
    const r = chiSquareSf(x, df);
    expect(rel(r.pValue, p)).toBeLessThan(1e-9);
  });
  it.each([
    [2000, 10, -423.672954231023],
    [50000, 30000, -1017.524730021251],
    [1e5, 1e4, -14546.45452105326],
  ])('log10 sf(%d, df %d) without underflow', (x, df, log10p) => {
    const r = chiSquareSf(x, df);
    expect(r.pValue).toBe(0);
    expect(r.bound).toBe('< 1e-300');
    expect(rel(r.log10PValue, log10p)).toBeLessThan(1e-9);
  });
  it('agrees with jStat where jStat is accurate (moderate p-values)', () => {
    for (const [x, df] of [
      [5, 3],
      [20, 12],
      [42.5, 30],
      [0.5, 2],
    ] as const) {
      expect(
        rel(chiSquareSf(x, df).pValue, 1 - jStat.chisquare.cdf(x, df)),
      ).toBeLessThan(1e-7);
    }
  });
  it.each([
    [[10, 20, 30], [30, 20, 10], 20.0, 2, 4.539992976248486e-5],
    [
      [120, 90, 40, 30, 20],
      [100, 100, 50, 20, 30],
      7.455608718766614,
      4,
      0.11368276653975201,
    ],
    [
      [5000, 3000, 2000],
      [3000, 3000, 4000],
      1166.6666666666665,
      2,
      4.587248032856554e-254,
    ],
  ] as const)('contingency %j vs %j', (...row) => {
    const [a, b, stat, df, p] = row;
    const r = chiSquareTest(a, b);
    expect(r.statistic).toBeCloseTo(stat, 9);
    expect(r.df).toBe(df);
    expect(rel(r.pValue, p)).toBeLessThan(1e-9);
  });
  it('drops categories empty in both traces and handles degenerate tables', () => {
    expect(chiSquareTest([10, 0, 30], [30, 0, 10]).df).toBe(1);
    expect(chiSquareTest([5, 5], [0, 0]).pValue).toBe(1);
    expect(() => chiSquareTest([1], [1, 2])).toThrow(RangeError);
  });
});

describe('totalVariation', () => {
  it('is half the L1 distance of the normalised counts', () => {
    expect(totalVariation([1, 1], [1, 0])).toBeCloseTo(0.5, 15);
    expect(totalVariation([10, 20, 30], [30, 20, 10])).toBeCloseTo(1 / 3, 15);
    expect(totalVariation([3, 0], [0, 7])).toBe(1);
    expect(totalVariation([2, 4, 6], [1, 2, 3])).toBe(0);
    expect(totalVariation([2, 4, 6], [2, 4, 6])).toBe(0);
  });
});

describe('lnGamma', () => {
  it('matches known values', () => {
    expect(lnGamma(1)).toBeCloseTo(0, 14);
    expect(lnGamma(0.5)).toBeCloseTo(Math.log(Math.sqrt(Math.PI)), 14);
    expect(lnGamma(10)).toBeCloseTo(Math.log(362880), 12);
    expect(rel(lnGamma(1e5), 1051287.708973657)).toBeLessThan(1e-14);
  });
});

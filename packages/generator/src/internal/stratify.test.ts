import { createRng } from '@stb/core';
import { STRATA, stratifiedStream } from './stratify';

const streams = (key: number, from: number, n: number) =>
  Array.from({ length: n }, (_, j) =>
    stratifiedStream(createRng(7).derive(from + j), key, from + j),
  );

describe('stratifiedStream', () => {
  it('puts the k-th draws of a block of sessions in distinct strata, for every k', () => {
    for (const from of [0, 64, 640]) {
      const block = streams(12345, from, STRATA);
      for (let k = 0; k < 20; k++) {
        const strata = new Set(block.map((r) => Math.floor(r.next() * STRATA)));
        expect(strata.size).toBe(STRATA);
      }
    }
  });

  it('keeps each draw uniform and a session’s draws uncorrelated', () => {
    // 4096 sessions × 8 draws: the mean of each draw index, and the correlation of draws 0 and 1
    const rs = streams(99, 0, 4096);
    const draws = rs.map((r) => Array.from({ length: 8 }, () => r.next()));
    const flat = draws.flat();
    expect(Math.min(...flat)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...flat)).toBeLessThan(1);
    for (let k = 0; k < 8; k++) {
      const mean =
        draws.reduce((a, d) => a + (d[k] as number), 0) / draws.length;
      expect(Math.abs(mean - 0.5)).toBeLessThan(0.01);
    }
    const n = draws.length;
    const m0 = draws.reduce((a, d) => a + (d[0] as number), 0) / n;
    const m1 = draws.reduce((a, d) => a + (d[1] as number), 0) / n;
    let cov = 0;
    for (const d of draws)
      cov += ((d[0] as number) - m0) * ((d[1] as number) - m1);
    // the sd of a correlation of 4096 independent pairs is 1/64; 4 sd
    expect(Math.abs(cov / n / (1 / 12))).toBeLessThan(4 / 64);
  });

  it('depends on the key, the session index and the base stream alone', () => {
    const a = stratifiedStream(createRng(3).derive(70), 5, 70);
    const b = stratifiedStream(createRng(3).derive(70), 5, 70);
    const c = stratifiedStream(createRng(3).derive(70), 6, 70);
    const xa = Array.from({ length: 16 }, () => a.next());
    expect(Array.from({ length: 16 }, () => b.next())).toEqual(xa);
    expect(Array.from({ length: 16 }, () => c.next())).not.toEqual(xa);
  });

  it('derives from the base stream', () => {
    const s = stratifiedStream(createRng(3), 5, 0);
    expect(s.derive(2).next()).toBe(createRng(3).derive(2).next());
  });
});

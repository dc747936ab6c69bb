import { createRng, normalCdf } from '@stb/core';
import { CouplingFitter, mergeCoupling, thinkTimeCoupling } from './coupling';

/**
 * 4 sessions in closed loops of think times (exponential, mean 5 ms, then a 0.3-ms statement),
 * simulated in statement order as the generator runs: each think time is drawn when its session's
 * statement is taken, with rank Φ(ρ·Z + √(1 − ρ²)·ε), Z an AR(1) process of coefficient `phi`
 * advanced per draw and shared by the sessions. The fitter gets each think time with its exact
 * rank once its next statement is taken.
 */
function fit(rho2: number, phi: number, statements = 20_000): CouplingFitter {
  const rng = createRng(5);
  const f = new CouplingFitter();
  const sessions = [0, 1, 2, 3].map((i) => ({
    i,
    at: i * 1000,
    pending: undefined as { place: number; rank: number } | undefined,
  }));
  let z = rng.normal();
  for (let n = 0; n < statements; n++) {
    const s = sessions.reduce((a, b) => (b.at < a.at ? b : a));
    if (s.pending) f.add(s.pending.place, s.i, s.pending.rank);
    z = phi * z + Math.sqrt(1 - phi * phi) * rng.normal();
    const rank = normalCdf(
      Math.sqrt(rho2) * z + Math.sqrt(1 - rho2) * rng.normal(),
    );
    s.pending = { place: n, rank };
    s.at += 300 - Math.log(1 - rank) * 5000;
  }
  return f;
}

describe('think-time coupling fit', () => {
  it('finds none between independent sessions', () => {
    const state = fit(0, 0.9).toState();
    expect(state.gaps).toBeGreaterThan(19_000);
    expect(thinkTimeCoupling(state)).toBeUndefined();
  });

  it('recovers the shared process: ρ² and φ', () => {
    const c = thinkTimeCoupling(fit(0.3, 0.9).toState());
    expect(c).toBeDefined();
    expect(c?.rho2).toBeGreaterThan(0.25);
    expect(c?.rho2).toBeLessThan(0.35);
    expect(c?.phi).toBeGreaterThan(0.85);
    expect(c?.phi).toBeLessThan(0.95);
  });

  it('merges shards by adding their sums', () => {
    const a = fit(0.3, 0.9, 5000).toState();
    const b = fit(0, 0.9, 5000).toState();
    const m = mergeCoupling([a, undefined, b]);
    expect(m?.gaps).toBe(a.gaps + b.gaps);
    expect(m?.pairs[0]).toBe((a.pairs[0] ?? 0) + (b.pairs[0] ?? 0));
    expect(mergeCoupling([undefined])).toBeUndefined();
  });
});

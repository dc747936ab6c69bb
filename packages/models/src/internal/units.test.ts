import { createRng } from '@stb/core';
import type { Rng } from '@stb/core';
import type { UnitSession } from './units';
import { UnitFitter } from './units';

const BEGIN = 1;
const END = 2;
const exp = (rng: Rng, mean: number): number =>
  -Math.log(1 - rng.next()) * mean;

/** Feeds transactions (BEGIN at `start`, END 2 ms later) in time order; `sessions`: the class's connections. */
function fit(
  starts: { session: number; us: number }[],
  sessions: number,
  endUs: number,
): ReturnType<UnitFitter['toState']> {
  const f = new UnitFitter(0);
  const n = Math.max(...starts.map((x) => x.session)) + 1;
  const state: UnitSession[] = Array.from({ length: n }, () => ({
    inTxn: false,
    lastUnitUs: NaN,
  }));
  const events = starts
    .flatMap(({ session, us }) => [
      { session, us, b: BEGIN },
      { session, us: us + 2000, b: END },
    ])
    .sort((a, b) => a.us - b.us);
  for (const e of events) f.event(state[e.session] as UnitSession, e.us, e.b);
  return f.toState({ endUs, resolutionUs: 1, connections: sessions });
}

describe('UnitFitter', () => {
  it('finds a shared Poisson schedule (pgbench -R: the next free connection takes the next slot)', () => {
    const rng = createRng(5);
    const free = [0, 0, 0, 0];
    const starts: { session: number; us: number }[] = [];
    let slot = 0;
    while (slot < 60e6) {
      slot += exp(rng, 10_000); // 100 units/s for the class
      // the connection that has been free longest takes the slot
      const s = free.indexOf(Math.min(...free));
      const at = Math.max(slot, free[s] as number);
      starts.push({ session: s, us: Math.round(at) });
      free[s] = at + 3000;
    }
    const u = fit(starts, 4, 60e6);
    expect(u?.mode).toBe('dispatch');
    expect(u?.dispatchVmr).toBeGreaterThan(0.8);
  });

  it('keeps closed loops with regular think times independent', () => {
    const rng = createRng(6);
    const starts: { session: number; us: number }[] = [];
    for (let s = 0; s < 4; s++) {
      let t = rng.next() * 10_000;
      while (t < 60e6) {
        starts.push({ session: s, us: Math.round(t) });
        t += 2000 + 8000 + rng.next() * 4000; // unit + think of 8–12 ms
      }
    }
    const u = fit(starts, 4, 60e6);
    expect(u?.mode).toBe('independent');
    expect(u?.independentVmr).toBeLessThan(0.2);
  });

  it('does not decide for one connection, few units, or units of bare statements', () => {
    const starts = Array.from({ length: 400 }, (_, i) => ({
      session: i % 2,
      us: i * 10_000,
    }));
    expect(fit(starts, 1, 4e6)).toBeUndefined();
    expect(fit(starts.slice(0, 20), 2, 4e6)).toBeUndefined();
    const f = new UnitFitter(0);
    const s: UnitSession[] = [
      { inTxn: false, lastUnitUs: NaN },
      { inTxn: false, lastUnitUs: NaN },
    ];
    for (const { session, us } of starts)
      f.event(s[session] as UnitSession, us, 0);
    expect(
      f.toState({ endUs: 4e6, resolutionUs: 1, connections: 2 }),
    ).toBeUndefined();
  });
});

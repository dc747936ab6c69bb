import { createRng } from '@stb/core';
import { ArrivalFitter, TimingSampler, createArrivalProfile } from './arrival';

describe('arrival profile', () => {
  it('keeps a bursty rate profile when tiling it (busy bucket 9x the quiet ones)', () => {
    const f = new ArrivalFitter(1_000_000);
    // 10 one-second buckets: bucket 3 gets 90 sessions, the others 10 each
    for (let b = 0; b < 10; b++)
      for (let i = 0; i < (b === 3 ? 90 : 10); i++)
        f.sessionStart(b * 1e6 + i * 1000);
    f.event(
      {
        kind: 'event',
        startUs: 9_999_999,
        sessionId: 's',
        templateId: 't',
        params: [],
      },
      undefined,
    );
    const p = createArrivalProfile(f.toState());
    expect(p.periodUs).toBe(10_000_000);
    expect(p.sessionArrivalRate[3]).toBe(90);
    const rng = createRng(1);
    const perBucket = new Array<number>(10).fill(0);
    let t = -1;
    let n = 0;
    while ((t = p.nextSessionOffsetUs(t, rng)) < 5 * p.periodUs) {
      const b = Math.floor((t % p.periodUs) / 1e6);
      perBucket[b] = (perBucket[b] ?? 0) + 1;
      n++;
    }
    // 5 cycles × 180 sessions expected
    expect(Math.abs(n / (5 * 180) - 1)).toBeLessThan(0.05);
    expect(Math.abs((perBucket[3] as number) / n - 0.5)).toBeLessThan(0.03);
  });

  it('conditions think times on the transition', () => {
    const f = new ArrivalFitter(undefined);
    for (let i = 0; i < 100; i++) {
      f.event(
        {
          kind: 'event',
          startUs: i * 10,
          sessionId: 's',
          templateId: 'b',
          params: [],
        },
        { templateId: 'a', endUs: i * 10 - 1000 },
      );
      f.event(
        {
          kind: 'event',
          startUs: i * 10,
          sessionId: 's',
          templateId: 'c',
          params: [],
        },
        { templateId: 'a', endUs: i * 10 - 50 },
      );
    }
    const state = f.toState();
    expect(state.thinkTime.byTransition['a>b']?.n).toBe(100);
    expect(state.thinkTime.byTransition['a>c']?.min).toBe(50);
  });

  it("uses a rare transition's own think times when they differ from the fallback", () => {
    // a report connection's cycle: a → b after ~250 ms, b → c after ~4 ms, c → a after ~400 ms,
    // 14 times each (under the 30 a transition needs to be trusted whatever it holds)
    const f = new ArrivalFitter(undefined);
    const cycle: [string, string, number][] = [
      ['a', 'b', 250_000],
      ['b', 'c', 4_000],
      ['c', 'a', 400_000],
    ];
    let t = 0;
    for (let i = 0; i < 14; i++)
      for (const [prev, next, gap] of cycle) {
        t += gap + (i % 5) * 100;
        f.event(
          {
            kind: 'event',
            startUs: t,
            sessionId: 's',
            templateId: next,
            params: [],
          },
          { templateId: prev, endUs: t - gap - (i % 5) * 100 },
        );
      }
    const state = f.toState();
    expect(state.thinkTime.byTransition['b>c']?.n).toBe(14);
    const s = new TimingSampler(state);
    const rng = createRng(3);
    for (let i = 0; i < 50; i++) {
      const quick = s.thinkTimeUs('b', 'c', rng);
      expect(quick).toBeGreaterThanOrEqual(4_000);
      expect(quick).toBeLessThanOrEqual(4_400);
      const sleep = s.thinkTimeUs('c', 'a', rng);
      expect(sleep).toBeGreaterThanOrEqual(400_000);
      expect(sleep).toBeLessThanOrEqual(400_400);
    }
  });
  it("keeps a rare transition's own think times when they lie between the fallback's modes", () => {
    // pg-two-apps-web's report connection: a 188–425 ms read (a → b), a 0–8 ms one (b → c), a
    // 400 ms sleep (c → a), 14 times each; a KS test of a → b's 14 gaps against the pooled ones
    // does not reject, and pooled draws fell back to a mix with the quick gaps
    const f = new ArrivalFitter(undefined);
    let t = 0;
    const ab: number[] = [];
    for (let i = 0; i < 14; i++) {
      const read = 188_000 + ((i * 7919) % 14) * 17_000;
      ab.push(read);
      for (const [prev, next, gap] of [
        ['a', 'b', read],
        ['b', 'c', (i % 9) * 1_000],
        ['c', 'a', 401_000 + (i % 4) * 3_000],
      ] as [string, string, number][]) {
        t += gap;
        f.event(
          {
            kind: 'event',
            startUs: t,
            sessionId: 's',
            templateId: next,
            params: [],
          },
          { templateId: prev, endUs: t - gap },
        );
      }
    }
    const state = f.toState();
    const mean = (xs: number[]) => xs.reduce((a, x) => a + x, 0) / xs.length;
    const draw = (st: typeof state) => {
      const s = new TimingSampler(st);
      const rng = createRng(5);
      return Array.from({ length: 400 }, () => s.thinkTimeUs('a', 'b', rng));
    };
    const own = draw(state);
    expect(Math.min(...own)).toBeGreaterThanOrEqual(188_000);
    expect(Math.max(...own)).toBeLessThanOrEqual(409_000);
    expect(mean(own) / mean(ab)).toBeGreaterThan(0.93);
    expect(mean(own) / mean(ab)).toBeLessThan(1.07);
    // an artifact written before (minConditionalCount 30) keeps the KS rule: pooled, quick gaps too
    const pooled = draw({ ...state, minConditionalCount: 30 });
    expect(Math.min(...pooled)).toBeLessThan(10_000);
  });
});

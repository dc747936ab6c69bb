import type { Rng } from '@stb/core';
import { createRng } from '@stb/core';
import type { HmmParams } from '../internal/hmm-core';
import {
  HmmWorkspace,
  accumulate,
  createAccumulator,
  forward,
  randomParams,
  transpose,
  viterbi,
} from '../internal/hmm-core';
import type { SessionSequence } from '../sequence-model';
import { END_TOKEN } from '../sequence-model';
import type { HmmState } from './hmm';
import { HmmOptions, decodeHmmStates, hmmModel, trainHmm } from './hmm';

function params(pi: number[], a: number[][], b: number[][]): HmmParams {
  const n = pi.length;
  const m = (b[0] as number[]).length;
  return {
    n,
    m,
    pi: Float64Array.from(pi),
    a: Float64Array.from(a.flat()),
    bT: transpose(Float64Array.from(b.flat()), n, m),
  };
}

const small = params(
  [0.6, 0.4],
  [
    [0.7, 0.3],
    [0.4, 0.6],
  ],
  [
    [0.9, 0.1],
    [0.2, 0.8],
  ],
);

describe('hmm numerics (hand-computed case)', () => {
  const obs = Int32Array.of(0, 1, 0);

  it('forward probability equals the hand computation', () => {
    // alpha1 = [.54, .08]; alpha2 = [.041, .168]; alpha3 = [.08631, .02262]; P = .10893
    const ws = new HmmWorkspace(2);
    ws.ensure(3);
    const ll = forward(small, obs, ws);
    expect(Math.exp(ll)).toBeCloseTo(0.10893, 12);
    // scaled alphas are the normalised hand values
    expect(ws.alpha[4]).toBeCloseTo(0.08631 / 0.10893, 12);
    expect(ws.scale[0]).toBeCloseTo(0.62, 12);
  });

  it('expected counts equal brute-force enumeration of the 8 state paths', () => {
    const acc = createAccumulator(2, 2);
    accumulate(small, obs, { acc, ws: new HmmWorkspace(2) });
    const pi = [0.6, 0.4];
    const a = [
      [0.7, 0.3],
      [0.4, 0.6],
    ];
    const b = [
      [0.9, 0.1],
      [0.2, 0.8],
    ];
    let total = 0;
    const gamma0 = [0, 0];
    const xi = [
      [0, 0],
      [0, 0],
    ];
    const emit = [
      [0, 0],
      [0, 0],
    ];
    for (let path = 0; path < 8; path++) {
      const s = [(path >> 2) & 1, (path >> 1) & 1, path & 1];
      let p =
        (pi[s[0] as number] as number) * (b[s[0] as number]?.[0] as number);
      for (let t = 1; t < 3; t++)
        p *=
          (a[s[t - 1] as number]?.[s[t] as number] as number) *
          (b[s[t] as number]?.[obs[t] as number] as number);
      total += p;
      const add = (row: number[] | undefined, k: number): void => {
        if (row) row[k] = (row[k] ?? 0) + p;
      };
      add(gamma0, s[0] as number);
      for (let t = 0; t < 2; t++) add(xi[s[t] as number], s[t + 1] as number);
      for (let t = 0; t < 3; t++) add(emit[s[t] as number], obs[t] as number);
    }
    expect(total).toBeCloseTo(0.10893, 12);
    expect(acc.pi[0]).toBeCloseTo((gamma0[0] as number) / total, 12);
    for (let i = 0; i < 2; i++) {
      for (let j = 0; j < 2; j++)
        expect(acc.a[i * 2 + j]).toBeCloseTo(
          (xi[i]?.[j] as number) / total,
          12,
        );
      for (let o = 0; o < 2; o++)
        expect(acc.bT[o * 2 + i]).toBeCloseTo(
          (emit[i]?.[o] as number) / total,
          12,
        );
    }
  });

  it('viterbi finds the hand-computed best path 0,1,0', () => {
    expect(Array.from(viterbi(small, obs))).toEqual([0, 1, 0]);
  });
});

// Planted HMM over symbols X, Y, Z and END.
const X = 'a'.repeat(16);
const Y = 'b'.repeat(16);
const Z = 'c'.repeat(16);
const SYMBOLS = [X, Y, Z, END_TOKEN];
const PI = [0.8, 0.2];
const A = [
  [0.85, 0.15],
  [0.2, 0.8],
];
const B = [
  [0.7, 0.2, 0.0, 0.1],
  [0.05, 0.15, 0.75, 0.05],
];

function plantedSessions(n: number, rng: Rng): SessionSequence[] {
  const out: SessionSequence[] = [];
  for (let k = 0; k < n; k++) {
    const seq: string[] = [];
    let s = rng.categorical(PI);
    for (;;) {
      const o = SYMBOLS[rng.categorical(B[s] as number[])] as string;
      if (o === END_TOKEN) break;
      seq.push(o);
      s = rng.categorical(A[s] as number[]);
    }
    out.push({ sessionId: String(k), templates: seq });
  }
  return out;
}

describe('hmm model', () => {
  const sessions = plantedSessions(3000, createRng(11));
  let state: HmmState;

  beforeAll(async () => {
    state = await hmmModel.fit(
      async function* () {
        yield* sessions;
      },
      HmmOptions.parse({
        states: 2,
        restarts: 3,
        maxIterations: 200,
        tolerance: 1e-7,
      }),
      { rng: createRng(1), templates: [] },
    );
  });

  it('recovers a planted 2-state model up to state permutation (tolerance 0.05)', () => {
    const order = SYMBOLS.map((s) => state.symbols.indexOf(s));
    expect(order.every((i) => i >= 0)).toBe(true);
    const perms = [
      [0, 1],
      [1, 0],
    ];
    let bestErr = Infinity;
    for (const perm of perms) {
      let err = 0;
      for (let i = 0; i < 2; i++) {
        const pi = perm[i] as number;
        for (let j = 0; j < 2; j++)
          err = Math.max(
            err,
            Math.abs(
              (state.transition[pi]?.[perm[j] as number] as number) -
                (A[i]?.[j] as number),
            ),
          );
        for (let o = 0; o < 4; o++)
          err = Math.max(
            err,
            Math.abs(
              (state.emission[pi]?.[order[o] as number] as number) -
                (B[i]?.[o] as number),
            ),
          );
      }
      bestErr = Math.min(bestErr, err);
    }
    expect(bestErr).toBeLessThan(0.05);
  });

  it('training log-likelihood never decreases', async () => {
    const index = new Map(SYMBOLS.map((s, i) => [s, i]));
    const data = sessions.map((s) =>
      Int32Array.from(
        [...s.templates, END_TOKEN].map((t) => index.get(t) as number),
      ),
    );
    const init = randomParams({ n: 3, m: 4 }, createRng(5));
    const run = await trainHmm(() => data, init, {
      maxIterations: 40,
      tolerance: 1e-12,
    });
    expect(run.history.length).toBeGreaterThan(10);
    for (let i = 1; i < run.history.length; i++)
      expect(run.history[i] as number).toBeGreaterThanOrEqual(
        (run.history[i - 1] as number) - 1e-7,
      );
  });

  it('samples sessions with the planted symbol frequencies and ends them', () => {
    const sampler = hmmModel.createSampler(state, { templates: [] });
    const rng = createRng(8);
    const count = new Map<string, number>();
    let total = 0;
    let lengthSum = 0;
    for (let k = 0; k < 3000; k++) {
      const seq = [...sampler.nextSession(rng)];
      lengthSum += seq.length;
      for (const t of seq) {
        count.set(t, (count.get(t) ?? 0) + 1);
        total++;
      }
    }
    const orig = new Map<string, number>();
    let origTotal = 0;
    let origLength = 0;
    for (const s of sessions) {
      origLength += s.templates.length;
      for (const t of s.templates) {
        orig.set(t, (orig.get(t) ?? 0) + 1);
        origTotal++;
      }
    }
    for (const t of [X, Y, Z])
      expect(
        Math.abs((count.get(t) ?? 0) / total - (orig.get(t) ?? 0) / origTotal),
      ).toBeLessThan(0.03);
    expect(Math.abs(lengthSum / origLength - 1)).toBeLessThan(0.15);
  });

  it('predicts next-symbol distributions that sum to 1 and decodes states', () => {
    const p = hmmModel.createPredictor?.(state);
    const d = p?.nextDistribution([X, X]) ?? new Map<string, number>();
    expect([...d.values()].reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
    // after a run of Z the chain is in the Z state: Z is the most likely next symbol
    const dz = p?.nextDistribution([Z, Z, Z]) ?? new Map<string, number>();
    expect(dz.get(Z) as number).toBeGreaterThan(0.5);
    const path = decodeHmmStates(state, [X, X, Z, Z]);
    expect(path).toHaveLength(5);
    expect(path[0]).toBe(path[1]);
    expect(path[2]).toBe(path[3]);
    expect(path[0]).not.toBe(path[2]);
  });

  it('validates states on load', () => {
    expect(() =>
      hmmModel.parseState?.({ ...state, transition: [[1]] }),
    ).toThrow(/states × states/);
    expect(hmmModel.parseState?.(JSON.parse(JSON.stringify(state)))).toEqual(
      state,
    );
  });
});

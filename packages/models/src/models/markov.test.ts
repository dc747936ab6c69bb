import type { QueryTemplate, Rng } from '@stb/core';
import { createRng } from '@stb/core';
import type { SessionSequence } from '../sequence-model';
import { END_TOKEN, START_TOKEN } from '../sequence-model';
import type { MarkovState } from './markov';
import {
  MarkovOptions,
  createMarkovSampler,
  createStringMarkovSampler,
  markovModel,
} from './markov';

const ids = ['a', 'b', 'c'].map((c) => c.repeat(16));
const [A, B, C] = ids as [string, string, string];
const templates: QueryTemplate[] = ids.map((id) => ({
  kind: 'template',
  id,
  text: id,
  queryType: 'SELECT',
  tables: [],
  slots: [],
}));

/** Planted chain: START→A 0.7, START→B 0.3; A→B 0.5, A→C 0.3, A→END 0.2; B→A 0.6, B→END 0.4; C→A 1. */
const planted: Record<string, [string, number][]> = {
  start: [
    [A, 0.7],
    [B, 0.3],
  ],
  [A]: [
    [B, 0.5],
    [C, 0.3],
    [END_TOKEN, 0.2],
  ],
  [B]: [
    [A, 0.6],
    [END_TOKEN, 0.4],
  ],
  [C]: [[A, 1]],
};

function draw(rng: Rng, row: [string, number][]): string {
  return (row[rng.categorical(row.map((r) => r[1]))] as [string, number])[0];
}

function plantedSessions(n: number, seed: number): SessionSequence[] {
  const rng = createRng(seed);
  const out: SessionSequence[] = [];
  for (let s = 0; s < n; s++) {
    const seq: string[] = [];
    let cur = draw(rng, planted['start'] as [string, number][]);
    while (cur !== END_TOKEN) {
      seq.push(cur);
      cur = draw(rng, planted[cur] as [string, number][]);
    }
    out.push({ sessionId: String(s), templates: seq });
  }
  return out;
}

async function fit(
  sessions: SessionSequence[],
  options: unknown,
): Promise<MarkovState> {
  return markovModel.fit(
    async function* () {
      yield* sessions;
    },
    MarkovOptions.parse(options),
    { rng: createRng(0), templates },
  );
}

describe('markov', () => {
  it('recovers a planted first-order chain within 0.02 (20k sessions)', async () => {
    const state = await fit(plantedSessions(20_000, 1), { order: 1 });
    const predictor = markovModel.createPredictor?.(state);
    for (const [from, row] of Object.entries(planted)) {
      const history = from === 'start' ? [] : [from];
      const dist =
        predictor?.nextDistribution(history) ?? new Map<string, number>();
      for (const [to, p] of row)
        expect(Math.abs((dist.get(to) ?? 0) - p)).toBeLessThan(0.02);
      const sum = [...dist.values()].reduce((a, b) => a + b, 0);
      expect(sum).toBeCloseTo(1, 9);
    }
  });

  it('samples sessions whose transition frequencies match the planted chain', async () => {
    const state = await fit(plantedSessions(5000, 2), { order: 1 });
    const sampler = markovModel.createSampler(state, { templates });
    const rng = createRng(3);
    let ab = 0;
    let fromA = 0;
    let ends = 0;
    for (let s = 0; s < 5000; s++) {
      const seq = [...sampler.nextSession(rng)];
      for (let i = 0; i < seq.length; i++) {
        if (seq[i] === A) {
          fromA++;
          if (seq[i + 1] === B) ab++;
          if (i === seq.length - 1) ends++;
        }
        if (seq[i] === C) expect(seq[i + 1]).toBe(A);
      }
    }
    expect(Math.abs(ab / fromA - 0.5)).toBeLessThan(0.03);
    expect(Math.abs(ends / fromA - 0.2)).toBeLessThan(0.03);
  });

  it('learns a second-order dependency and backs off for unseen contexts', async () => {
    // After (A,B) always C; after (C,B) always END; first-order B is ambiguous.
    const sessions: SessionSequence[] = [];
    for (let i = 0; i < 200; i++) {
      sessions.push({ sessionId: `x${i}`, templates: [A, B, C, B] });
    }
    const order1 = await fit(sessions, { order: 1 });
    const order2 = await fit(sessions, { order: 2 });
    const p1 = markovModel.createPredictor?.(order1);
    const p2 = markovModel.createPredictor?.(order2);
    expect(p1?.nextDistribution([A, B]).get(C)).toBeCloseTo(0.5, 9);
    expect(p2?.nextDistribution([A, B]).get(C)).toBe(1);
    expect(p2?.nextDistribution([A, B, C, B]).get(END_TOKEN)).toBe(1);
    // (B, A) never seen at order 2: backs off to order 1 (A → B)
    expect(p2?.nextDistribution([B, A]).get(B)).toBe(1);
    const sampler = markovModel.createSampler(order2, { templates });
    const rng = createRng(4);
    for (let i = 0; i < 100; i++)
      expect([...sampler.nextSession(rng)]).toEqual([A, B, C, B]);
  });

  it('applies additive smoothing to every template and END', async () => {
    const state = await fit([{ sessionId: '1', templates: [A, A] }], {
      order: 1,
      smoothing: 1,
    });
    const dist = markovModel.createPredictor?.(state).nextDistribution([A]);
    // counts after A: A 1, END 1; vocab {A, END} (B, C unseen in data are not in the vocabulary)
    expect(dist?.get(A)).toBeCloseTo(2 / 4, 9);
    expect(dist?.get(END_TOKEN)).toBeCloseTo(2 / 4, 9);
  });

  it('merges shard states into the state of the whole', async () => {
    const sessions = plantedSessions(3000, 5);
    const whole = await fit(sessions, { order: 2 });
    const a = await fit(sessions.slice(0, 1000), { order: 2 });
    const b = await fit(sessions.slice(1000), { order: 2 });
    const merged = markovModel.merge?.(a, b) as MarkovState;
    expect(merged.sessions).toBe(whole.sessions);
    expect(merged.counts).toEqual(whole.counts);
    expect(new Set(merged.symbols)).toEqual(new Set(whole.symbols));
    expect(() => markovModel.merge?.(a, { ...b, order: 1 })).toThrow(
      /same --order/,
    );
  });

  it('validates states on load', () => {
    expect(() => markovModel.parseState?.({ stateVersion: 2 })).toThrow(
      /stateVersion/,
    );
  });
});

/** The string-keyed counting the integer tables replaced: contexts joined by spaces. */
function referenceCounts(
  sessions: SessionSequence[],
  k: number,
): { symbols: string[]; counts: Record<string, Record<string, number>>[] } {
  const counts: Map<string, Map<string, number>>[] = [];
  for (let o = 0; o <= k; o++) counts.push(new Map());
  const symbols = new Map<string, number>();
  for (const t of templates) symbols.set(t.id, symbols.size);
  for (const s of sessions) {
    const window: string[] = [];
    for (let i = 0; i <= s.templates.length; i++) {
      const next =
        i < s.templates.length ? (s.templates[i] as string) : END_TOKEN;
      for (let o = 0; o <= k; o++) {
        const key: string[] = [];
        for (let j = window.length - o; j < window.length; j++)
          key.push(j < 0 ? START_TOKEN : (window[j] as string));
        const table = counts[o] as Map<string, Map<string, number>>;
        let row = table.get(key.join(' '));
        if (!row) table.set(key.join(' '), (row = new Map()));
        row.set(next, (row.get(next) ?? 0) + 1);
      }
      if (i < s.templates.length) {
        if (!symbols.has(next)) symbols.set(next, symbols.size);
        window.push(next);
        if (window.length > k) window.shift();
      }
    }
  }
  const seen = new Set(counts[0]?.get('')?.keys() ?? []);
  return {
    symbols: [...symbols.keys()].filter((id) => seen.has(id)),
    counts: counts.map((table) => {
      const out: Record<string, Record<string, number>> = {};
      for (const [key, row] of table) out[key] = Object.fromEntries(row);
      return out;
    }),
  };
}

describe('markov integer tables', () => {
  it.each([1, 2, 3])(
    'order %i: the same counts, key order included, as string-keyed counting (ids outside the catalog too)',
    async (order) => {
      const rng = createRng(order);
      const pool = [...ids, 'x'.repeat(16), 'y'.repeat(16)];
      const sessions: SessionSequence[] = [];
      for (let s = 0; s < 300; s++) {
        const seq: string[] = [];
        const n = rng.int(12);
        for (let i = 0; i < n; i++)
          seq.push(pool[rng.int(pool.length)] as string);
        sessions.push({ sessionId: String(s), templates: seq });
      }
      const state = await fit(sessions, { order });
      const ref = referenceCounts(sessions, order);
      expect(JSON.stringify(state.counts)).toBe(JSON.stringify(ref.counts));
      expect(state.symbols).toEqual(ref.symbols);
    },
  );
});

describe('markov sampler', () => {
  it('draws exactly the sessions of the string-keyed reference (orders 1-3, smoothing, long sessions)', async () => {
    const rng = createRng(42);
    let sessions = 0;
    for (const order of [1, 2, 3])
      for (const smoothing of [0, 0.5]) {
        // random walks over a few templates, some far longer than the sampler's 64-symbol window
        const seqs: SessionSequence[] = Array.from({ length: 100 }, (_, s) => ({
          sessionId: String(s),
          templates: Array.from(
            { length: 1 + rng.int(s % 4 === 0 ? 300 : 12) },
            () => ids[rng.int(ids.length)] as string,
          ),
        }));
        const state = await fit(seqs, { order, smoothing });
        const coded = createMarkovSampler(state);
        const reference = createStringMarkovSampler(state);
        for (let s = 0; s < 300; s++) {
          const ra = createRng(1000 + s);
          const rb = createRng(1000 + s);
          expect([...coded.nextSession(ra)]).toEqual([
            ...reference.nextSession(rb),
          ]);
          expect(ra.next()).toBe(rb.next()); // same number of draws
          sessions++;
        }
      }
    expect(sessions).toBe(1800);
  });
});

// Issue 13: the chain is conditioned on being inside a transaction (txnCounts).
const [BEGIN, COMMIT, X, Y] = ['b0', 'c0', 'd0', 'e0'].map((c) =>
  c.repeat(8),
) as [string, string, string, string];
const txnTemplates: QueryTemplate[] = [
  {
    kind: 'template',
    id: BEGIN,
    text: 'BEGIN',
    queryType: 'TCL',
    tables: [],
    slots: [],
    boundary: 'begin',
    writes: false,
  },
  {
    kind: 'template',
    id: COMMIT,
    text: 'COMMIT',
    queryType: 'TCL',
    tables: [],
    slots: [],
    boundary: 'end',
    writes: false,
  },
  {
    kind: 'template',
    id: X,
    text: 'SELECT v FROM t WHERE id = $1',
    queryType: 'SELECT',
    tables: ['t'],
    slots: [{ type: 'int', column: 't.id', context: '=' }],
    writes: false,
  },
  {
    kind: 'template',
    id: Y,
    text: 'SELECT w FROM u WHERE id = $1',
    queryType: 'SELECT',
    tables: ['u'],
    slots: [{ type: 'int', column: 'u.id', context: '=' }],
    writes: false,
  },
];

/** Sessions of 1–5 blocks, each `BEGIN X COMMIT` (inside) or `X Y` (outside), half and half. */
function txnSessions(
  n: number,
  seed: number,
  txnShare = 0.5,
): SessionSequence[] {
  const rng = createRng(seed);
  return Array.from({ length: n }, (_, s) => {
    const seq: string[] = [];
    const blocks = 1 + rng.int(5);
    for (let b = 0; b < blocks; b++)
      seq.push(...(rng.next() < txnShare ? [BEGIN, X, COMMIT] : [X, Y]));
    return { sessionId: String(s), templates: seq };
  });
}

async function fitTxn(
  sessions: SessionSequence[],
  order: number,
): Promise<MarkovState> {
  return markovModel.fit(
    async function* () {
      yield* sessions;
    },
    MarkovOptions.parse({ order }),
    { rng: createRng(0), templates: txnTemplates },
  );
}

describe('markov conditioned on transactions (issue 13)', () => {
  it('never emits COMMIT outside a transaction; X inside is followed by COMMIT, outside by Y', async () => {
    const state = await fitTxn(txnSessions(2000, 11), 1);
    expect(state.txnCounts).toBeDefined();
    const sampler = markovModel.createSampler(state, {
      templates: txnTemplates,
    });
    const rng = createRng(12);
    let inside = 0;
    let outside = 0;
    for (let s = 0; s < 2000; s++) {
      const seq = [...sampler.nextSession(rng)];
      let inTxn = false;
      seq.forEach((t, i) => {
        if (t === COMMIT) expect(inTxn).toBe(true);
        if (t === X) {
          const next = seq[i + 1];
          if (inTxn) {
            expect(next).toBe(COMMIT);
            inside++;
          } else {
            expect(next).toBe(Y);
            outside++;
          }
        }
        if (t === BEGIN) inTxn = true;
        if (t === COMMIT) inTxn = false;
      });
      expect(inTxn).toBe(false); // every session ends outside a transaction
    }
    expect(inside).toBeGreaterThan(1000);
    expect(outside).toBeGreaterThan(1000);
  });

  it('counts the inside contexts in txnCounts, a part of counts', async () => {
    const state = await fitTxn(txnSessions(500, 13), 1);
    const txn = state.txnCounts?.[1] ?? {};
    // inside a transaction: after BEGIN comes X, after X comes COMMIT; nothing else is counted
    expect(Object.keys(txn).sort()).toEqual([BEGIN, X].sort());
    expect(Object.keys(txn[X] ?? {})).toEqual([COMMIT]);
    expect(txn[X]?.[COMMIT]).toBe(state.counts[1]?.[X]?.[COMMIT]);
    expect(state.counts[1]?.[X]?.[Y]).toBeGreaterThan(0);
  });

  it('leaves txnCounts out when no session opens a transaction (the state of before)', async () => {
    const state = await fitTxn(txnSessions(300, 14, 0), 2);
    expect(Object.keys(state).sort()).toEqual(
      [
        'counts',
        'maxLength',
        'order',
        'sessions',
        'smoothing',
        'stateVersion',
        'symbols',
      ].sort(),
    );
    const withPlain = await fit(plantedSessions(300, 15), { order: 1 });
    expect(withPlain.txnCounts).toBeUndefined();
  });

  it('merges txnCounts by addition (with and without transactions on a side)', async () => {
    const sessions = txnSessions(1200, 16);
    const whole = await fitTxn(sessions, 2);
    const a = await fitTxn(sessions.slice(0, 500), 2);
    const b = await fitTxn(sessions.slice(500), 2);
    const merged = markovModel.merge?.(a, b) as MarkovState;
    expect(merged.counts).toEqual(whole.counts);
    expect(merged.txnCounts).toEqual(whole.txnCounts);
    expect(merged.txnCounts?.[1]?.[X]?.[COMMIT]).toBe(
      (a.txnCounts?.[1]?.[X]?.[COMMIT] ?? 0) +
        (b.txnCounts?.[1]?.[X]?.[COMMIT] ?? 0),
    );
    const plain = txnSessions(300, 17, 0);
    const c = await fitTxn(plain, 2);
    expect(c.txnCounts).toBeUndefined();
    const both = await fitTxn([...sessions.slice(0, 500), ...plain], 2);
    const m2 = markovModel.merge?.(a, c) as MarkovState;
    expect(m2.txnCounts).toEqual(both.txnCounts);
    expect(m2.counts).toEqual(both.counts);
  });

  it('coded and string samplers draw the same sessions from a state with txnCounts', async () => {
    for (const order of [1, 2, 3]) {
      // transactions plus random statements in and out of them
      const rng = createRng(100 + order);
      const sessions = txnSessions(300, 200 + order).map((s) => ({
        ...s,
        templates: s.templates.flatMap((t) =>
          rng.next() < 0.3 ? [t, ids[rng.int(ids.length)] as string] : [t],
        ),
      }));
      const state = await fitTxn(sessions, order);
      expect(state.txnCounts).toBeDefined();
      const all = [...txnTemplates, ...templates];
      const coded = createMarkovSampler(state, all);
      const reference = createStringMarkovSampler(state, all);
      for (let s = 0; s < 300; s++) {
        const ra = createRng(5000 + s);
        const rb = createRng(5000 + s);
        expect([...coded.nextSession(ra)]).toEqual([
          ...reference.nextSession(rb),
        ]);
        expect(ra.next()).toBe(rb.next());
      }
    }
  });
});

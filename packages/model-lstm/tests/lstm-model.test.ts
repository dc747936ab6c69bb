import { createRng, isStbError, parsePluginOptions } from '@stb/core';
import type { SessionSequence, SequencePredictor } from '@stb/models';
import { END_TOKEN, markovModel } from '@stb/models';
import * as tf from '@tensorflow/tfjs';
import type { LstmState, LstmOptions } from '../src';
import { plugin } from '../src';
import { PLANTED_TEMPLATES, plantedSessions, sourceOf } from './planted';

const FIT_OPTIONS = {
  embeddingSize: 8,
  units: 16,
  epochs: 25,
  batchSize: 16,
  windowLength: 10,
  learningRate: 0.02,
  patience: 5,
  seed: 7,
};
const NEXT: Record<string, string> = {
  't-a': 't-c',
  't-b': 't-a',
  't-c': 't-d',
  't-d': 't-b',
};

/** Share of next-template predictions (argmax, END included) that hit on the held-out sessions. */
function accuracy(
  predictor: SequencePredictor,
  sessions: readonly SessionSequence[],
): number {
  let hits = 0;
  let total = 0;
  for (const s of sessions) {
    for (let i = 0; i <= s.templates.length; i++) {
      const dist = predictor.nextDistribution(s.templates.slice(0, i));
      let best = '';
      let bestP = -1;
      for (const [id, p] of dist)
        if (p > bestP) {
          best = id;
          bestP = p;
        }
      const target =
        i < s.templates.length ? (s.templates[i] as string) : END_TOKEN;
      if (best === target) hits++;
      total++;
    }
  }
  return hits / total;
}

/** Share of sampled positions 3.. that follow the planted rule. */
function ruleFidelity(sessions: readonly string[][]): number {
  let hits = 0;
  let total = 0;
  for (const s of sessions)
    for (let t = 3; t < s.length; t++) {
      total++;
      if (s[t] === NEXT[s[t - 3] as string]) hits++;
    }
  return hits / total;
}

function sample(state: LstmState, count: number, seed: number): string[][] {
  const sampler = plugin.createSampler(state, { templates: [] });
  const rng = createRng(seed);
  const out: string[][] = [];
  for (let i = 0; i < count; i++) out.push([...sampler.nextSession(rng)]);
  return out;
}

describe('lstm on a planted process a first-order Markov chain cannot capture', () => {
  const train = plantedSessions(300, { rng: createRng(1) });
  const heldOut = plantedSessions(100, { rng: createRng(2), prefix: 'h' });
  let state: LstmState;
  const epochs: { step?: number; loss?: number; message?: string }[] = [];

  beforeAll(async () => {
    state = await plugin.fit(
      sourceOf(train),
      parsePluginOptions(plugin, FIT_OPTIONS),
      {
        rng: createRng(3),
        templates: [],
        onProgress: (p) => {
          if (p.phase === 'epoch') epochs.push(p);
        },
      },
    );
  }, 60_000);

  it('beats Markov order 1 on held-out next-template accuracy by at least 0.2', async () => {
    const markov = await markovModel.fit(
      sourceOf(train),
      { order: 1, smoothing: 0 },
      { rng: createRng(3), templates: [] },
    );
    const markovAcc = accuracy(markovModel.createPredictor!(markov), heldOut);
    const lstmAcc = accuracy(plugin.createPredictor!(state), heldOut);
    // Chance is ~1/4 for Markov-1 here; the LSTM can reach ~0.7 (positions 0–2 and END are unpredictable).
    expect(markovAcc).toBeLessThan(0.4);
    expect(lstmAcc).toBeGreaterThan(markovAcc + 0.2);
    expect(lstmAcc).toBeGreaterThan(0.55);
  });

  it('reports progress per epoch with falling loss and a validation loss', () => {
    expect(epochs.length).toBe(state.training.epochs);
    expect(epochs[0]?.step).toBe(1);
    expect(epochs[0]?.message).toMatch(/val loss \d/);
    const first = epochs[0]?.loss ?? 0;
    expect(state.training.loss).toBeLessThan(first - 0.3);
    expect(state.training.valLoss).toBeDefined();
    expect(state.training.validationSessions).toBe(30);
    expect([...state.vocabulary].sort()).toEqual([...PLANTED_TEMPLATES].sort());
  });

  it('samples sessions that follow the planted rule', () => {
    const sessions = sample(state, 300, 11);
    const lengths = sessions.map((s) => s.length);
    const mean = lengths.reduce((a, b) => a + b, 0) / lengths.length;
    // Planted: lengths uniform in 9..15 (mean 12), rule followed with p = 0.9 + 0.1/4.
    expect(mean).toBeGreaterThan(10.5);
    expect(mean).toBeLessThan(13.5);
    expect(ruleFidelity(sessions)).toBeGreaterThan(0.8);
    const sharp = plugin.createSampler(
      { ...state, config: { ...state.config, temperature: 0.3 } },
      { templates: [] },
    );
    const rng = createRng(11);
    const sharpSessions: string[][] = [];
    for (let i = 0; i < 300; i++)
      sharpSessions.push([...sharp.nextSession(rng)]);
    expect(ruleFidelity(sharpSessions)).toBeGreaterThan(ruleFidelity(sessions));
  });

  it('round-trips its state through JSON and structured clone with identical predictions and samples', () => {
    const json = plugin.parseState!(JSON.parse(JSON.stringify(state)));
    const cloned = plugin.parseState!(structuredClone(state));
    const a = plugin.createPredictor!(state);
    const b = plugin.createPredictor!(json);
    const c = plugin.createPredictor!(cloned);
    for (const s of heldOut.slice(0, 10)) {
      for (let i = 0; i <= s.templates.length; i++) {
        const h = s.templates.slice(0, i);
        const pa = [...a.nextDistribution(h)];
        expect([...b.nextDistribution(h)]).toEqual(pa);
        expect([...c.nextDistribution(h)]).toEqual(pa);
      }
    }
    expect(sample(json, 20, 5)).toEqual(sample(state, 20, 5));
  });

  it('predicts the same distribution with or without its history cache', () => {
    const cached = plugin.createPredictor!(state);
    const s = heldOut[0] as SessionSequence;
    for (let i = 0; i <= s.templates.length; i++) {
      const fresh = plugin.createPredictor!(state);
      const h = s.templates.slice(0, i);
      expect([...cached.nextDistribution(h)]).toEqual([
        ...fresh.nextDistribution(h),
      ]);
    }
    // A different history after a longer one starts over.
    const other = heldOut[1] as SessionSequence;
    const fresh = plugin.createPredictor!(state);
    expect([...cached.nextDistribution(other.templates.slice(0, 4))]).toEqual([
      ...fresh.nextDistribution(other.templates.slice(0, 4)),
    ]);
  });

  it('gives probabilities summing to 1 over templates and END, also after an unknown template', () => {
    const p = plugin.createPredictor!(state);
    for (const h of [[], ['t-a', 't-b'], ['t-a', 'never-seen', 't-c']]) {
      const dist = p.nextDistribution(h);
      expect(dist.size).toBe(5);
      expect(dist.has(END_TOKEN)).toBe(true);
      const sum = [...dist.values()].reduce((x, y) => x + y, 0);
      expect(sum).toBeCloseTo(1, 9);
    }
  });
});

describe('lstm determinism and inputs', () => {
  const sessions = plantedSessions(60, { rng: createRng(21) });
  const small = (extra: Record<string, unknown> = {}): LstmOptions =>
    parsePluginOptions(plugin, {
      embeddingSize: 4,
      units: 6,
      epochs: 2,
      batchSize: 8,
      windowLength: 6,
      ...extra,
    });

  it('gives identical weights and samples for the same seed on the wasm backend, different for another seed', async () => {
    const ctx = { rng: createRng(1), templates: [] };
    const a = await plugin.fit(sourceOf(sessions), small({ seed: 5 }), ctx);
    const b = await plugin.fit(sourceOf(sessions), small({ seed: 5 }), {
      rng: createRng(999),
      templates: [],
    });
    const c = await plugin.fit(sourceOf(sessions), small({ seed: 6 }), ctx);
    expect(a.training.backend).toBe('wasm');
    expect(b.weights).toEqual(a.weights);
    expect(sample(b, 20, 3)).toEqual(sample(a, 20, 3));
    expect(c.weights.map((w) => w.data)).not.toEqual(
      a.weights.map((w) => w.data),
    );
    // Without a seed option, the context's rng decides.
    const d = await plugin.fit(sourceOf(sessions), small(), {
      rng: createRng(42),
      templates: [],
    });
    const e = await plugin.fit(sourceOf(sessions), small(), {
      rng: createRng(42),
      templates: [],
    });
    expect(e.weights).toEqual(d.weights);
  }, 30_000);

  it('does not leak tensors', async () => {
    await plugin.fit(sourceOf(sessions), small({ epochs: 1 }), {
      rng: createRng(1),
      templates: [],
    });
    const before = tf.memory().numTensors;
    await plugin.fit(sourceOf(sessions), small({ epochs: 2 }), {
      rng: createRng(1),
      templates: [],
    });
    expect(tf.memory().numTensors).toBe(before);
  });

  it('stops early when validation loss stops improving and keeps the best epoch', async () => {
    const state = await plugin.fit(
      sourceOf(sessions),
      small({ epochs: 200, patience: 2, learningRate: 0.05, units: 24 }),
      { rng: createRng(1), templates: [] },
    );
    expect(state.training.epochs).toBeLessThan(200);
    expect(state.training.epochs - state.training.bestEpoch).toBe(2);
  }, 30_000);

  it('trains without a validation set when there are too few sessions', async () => {
    const state = await plugin.fit(
      sourceOf(sessions.slice(0, 3)),
      small({ validationSplit: 0.1 }),
      { rng: createRng(1), templates: [] },
    );
    expect(state.training.validationSessions).toBe(0);
    expect(state.training.valLoss).toBeUndefined();
    expect(state.training.trainSessions).toBe(3);
  });

  it('down-samples sessions beyond maxTrainingTokens', async () => {
    const state = await plugin.fit(
      sourceOf(sessions),
      small({ maxTrainingTokens: 200, validationSplit: 0 }),
      { rng: createRng(1), templates: [] },
    );
    expect(state.training.trainTokens).toBeLessThanOrEqual(200);
    expect(state.training.trainSessions).toBeGreaterThan(3);
    expect(state.maxLength).toBe(
      Math.max(...sessions.map((s) => s.templates.length)),
    );
  });

  it('fails with STB_MODEL_EMPTY_INPUT on no sessions', async () => {
    await expect(
      plugin.fit(sourceOf([]), small(), { rng: createRng(1), templates: [] }),
    ).rejects.toMatchObject({ code: 'STB_MODEL_EMPTY_INPUT' });
  });

  it('trains with a one-step window', async () => {
    const state = await plugin.fit(
      sourceOf(sessions.slice(0, 10)),
      small({ windowLength: 1, epochs: 1 }),
      { rng: createRng(1), templates: [] },
    );
    expect(state.training.epochs).toBe(1);
    expect(Number.isFinite(state.training.loss)).toBe(true);
  });

  it('stops with STB_ABORTED when the signal fires, releasing its tensors', async () => {
    const before = tf.memory().numTensors;
    const controller = new AbortController();
    const fit = plugin.fit(sourceOf(sessions), small({ epochs: 50 }), {
      rng: createRng(1),
      templates: [],
      signal: controller.signal,
      onProgress: (p) => {
        if (p.phase === 'epoch') controller.abort();
      },
    });
    await expect(fit).rejects.toMatchObject({ code: 'STB_ABORTED' });
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects invalid options with STB_PLUGIN_OPTIONS_INVALID', () => {
    let err: unknown;
    try {
      parsePluginOptions(plugin, { units: 0, backend: 'gpu' });
    } catch (e) {
      err = e;
    }
    expect(isStbError(err, 'STB_PLUGIN_OPTIONS_INVALID')).toBe(true);
    expect((err as Error).message).toMatch(/units/);
    expect((err as Error).message).toMatch(/backend/);
  });
});

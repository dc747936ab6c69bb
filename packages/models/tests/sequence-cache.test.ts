import type { QueryTemplate, TraceEvent } from '@stb/core';
import { createRng, createTraceHeader } from '@stb/core';
import type { FitWorkloadModelOptions, ModelArtifact } from '../src/index';
import { createModelRegistry, fitWorkloadModel } from '../src/index';

/** Interleaved sessions with reused and fresh values; some sessions go idle and are split. */
const templates: QueryTemplate[] = Array.from({ length: 12 }, (_, i) => ({
  kind: 'template',
  id: (i + 1).toString(16).padStart(16, '0'),
  text: `SELECT ${i}`,
  queryType: 'SELECT',
  tables: [],
  slots: [{ type: 'int', column: null }],
}));

function makeEvents(n: number): TraceEvent[] {
  const rng = createRng(21);
  const out: TraceEvent[] = [];
  const cur = new Array<number>(40).fill(0);
  let t = 1_700_000_000_000_000;
  for (let i = 0; i < n; i++) {
    const s = rng.int(40);
    t += rng.int(5000) + (rng.next() < 0.002 ? 120_000_000 : 0);
    const c = cur[s] as number;
    out.push({
      kind: 'event',
      startUs: t,
      sessionId: `s${s}`,
      templateId: (templates[c] as QueryTemplate).id,
      params: [{ t: 'int', v: rng.next() < 0.5 ? s : rng.int(1000) }],
    });
    cur[s] = (c * 5 + 1 + rng.int(2)) % templates.length;
  }
  return out;
}

const events = makeEvents(6000);
const registry = createModelRegistry();

async function fit(
  model: string,
  overrides: Partial<FitWorkloadModelOptions>,
): Promise<{ artifact: unknown; passes: number }> {
  let passes = 0;
  const artifact = await fitWorkloadModel(
    async function* () {
      passes++;
      yield* events;
    },
    {
      catalog: templates,
      header: createTraceHeader({ dialect: 'postgres' }),
      model: registry.get(model),
      modelOptions:
        model === 'hmm' ? { states: 3, restarts: 1, maxIterations: 3 } : {},
      seed: 5,
      sessionIdleUs: 60_000_000,
      maxSessionEvents: 50,
      createdAt: '2026-01-01T00:00:00.000Z',
      ...overrides,
    },
  );
  return { artifact, passes };
}

describe('sequence cache', () => {
  it.each(['markov', 'hmm'])(
    '%s: reads the events once (twice with several session classes) when the sessions fit the cache, and fits the same model as re-reading them',
    async (model) => {
      const cached = await fit(model, {});
      // one pass, plus one for the per-class think times and durations when there are classes
      const classes = (cached.artifact as ModelArtifact).sessions.classes.length;
      expect(cached.passes).toBe(classes > 1 ? 2 : 1);
      const reread = await fit(model, { sequenceCacheSymbols: 0 });
      expect(reread.passes).toBeGreaterThan(cached.passes);
      expect(reread.artifact).toEqual(cached.artifact);
      // a budget exceeded part-way falls back to re-reading, with the same result
      const partial = await fit(model, { sequenceCacheSymbols: 2000 });
      expect(partial.passes).toBeGreaterThan(1);
      expect(partial.artifact).toEqual(cached.artifact);
    },
  );
});

import { computeTemplateId, createRng, parsePluginOptions } from '@stb/core';
import type { QueryTemplate, QueryType } from '@stb/core';
import type {
  END_TOKEN as MODELS_END_TOKEN,
  ModelFitProgress,
  SequenceModel,
  SequenceSampler,
  SessionSequence,
} from '@stb/models';
import { lazy, resolveTestFramework } from './framework';
import type { TestFramework } from './framework';
import { expectOptionsAccepted, pluginBaseProblems } from './plugin-shape';

/** `@stb/models`' END_TOKEN (a wire constant; the type pins it to the models package's value). */
const END_TOKEN: typeof MODELS_END_TOKEN = '</s>';

/** Options of {@link describeSequenceModel}. */
export interface DescribeSequenceModelOptions {
  /** Model options for the fit (default `{}`); keep the model small so the suite stays fast. */
  readonly options?: unknown;
  /** Timeout of the fit in ms (default 60 000). */
  readonly fitTimeoutMs?: number;
  /** False for a model whose samples never depend on the rng (skips the different-seeds check). Default true. */
  readonly stochastic?: boolean;
  /** Longest session the suite draws before it calls a session endless (default 10 000). */
  readonly maxSessionLength?: number;
  /** Test functions (default: jest or vitest globals). */
  readonly framework?: Partial<TestFramework>;
}

const SHAPES: [string, QueryType][] = [
  ['BEGIN', 'TCL'],
  ['SELECT abalance FROM accounts WHERE aid = $1', 'SELECT'],
  ['UPDATE accounts SET abalance = abalance + $1 WHERE aid = $2', 'UPDATE'],
  ['INSERT INTO history (aid, delta) VALUES ($1, $2)', 'INSERT'],
  ['COMMIT', 'TCL'],
];

/** The planted workload's templates: BEGIN, SELECT, UPDATE, INSERT, COMMIT. */
const TEMPLATES: QueryTemplate[] = SHAPES.map(([text, queryType]) => ({
  kind: 'template',
  id: computeTemplateId('postgres', text),
  text,
  queryType,
  tables: [],
  slots: [],
}));
const ID = TEMPLATES.map((t) => t.id);

/**
 * 80 sessions of 1–3 transactions: BEGIN, SELECT, then UPDATE → INSERT (70 %) or SELECT (30 %),
 * COMMIT. Deterministic (fixed seed).
 */
function plantedSessions(): SessionSequence[] {
  const rng = createRng('stb-testkit-planted');
  const [begin, select, update, insert, commit] = ID as [
    string,
    string,
    string,
    string,
    string,
  ];
  const out: SessionSequence[] = [];
  for (let s = 0; s < 80; s++) {
    const templates: string[] = [];
    const txns = 1 + rng.int(3);
    for (let x = 0; x < txns; x++) {
      templates.push(begin, select);
      if (rng.next() < 0.7) templates.push(update, insert);
      else templates.push(select);
      templates.push(commit);
    }
    out.push({ sessionId: `planted-${s}`, templates });
  }
  return out;
}

/**
 * The sequence-model conformance suite: plugin shape; a fit on a small planted workload (the
 * source is iterated as often as the model likes); a structured-clone-safe state with a numeric
 * `stateVersion` that survives `structuredClone` (and a JSON round trip through `parseState`);
 * samplers that yield only known template ids, end their sessions and repeat themselves exactly
 * under the same seed; predictors whose distributions sum to 1.
 * @example
 * import { describeSequenceModel } from '@stb/testkit';
 * import { plugin } from '../src';
 * describeSequenceModel(plugin, { options: { order: 2 } });
 */
// Long function: a conformance suite: a list of independent `it` cases, each short, registered in
// one describe block.
export function describeSequenceModel<
  TOptions,
  TState extends { stateVersion: number },
>(
  plugin: SequenceModel<TOptions, TState>,
  options: DescribeSequenceModelOptions = {},
): void {
  const { describe, it, expect } = resolveTestFramework(options.framework);
  const fitTimeoutMs = options.fitTimeoutMs ?? 60_000;
  const maxLength = options.maxSessionLength ?? 10_000;
  const endsSessions = plugin.endsSessions !== false;
  const sessions = plantedSessions();
  const known = new Set(ID);
  let sourceCalls = 0;
  const progress: ModelFitProgress[] = [];

  const fitted = lazy(async () => {
    const modelOptions = parsePluginOptions(plugin, options.options ?? {});
    return plugin.fit(
      async function* () {
        sourceCalls++;
        yield* sessions;
      },
      modelOptions,
      {
        rng: createRng('stb-testkit-fit'),
        templates: TEMPLATES,
        onProgress: (p) => progress.push(p),
      },
    );
  });

  /** Draws `count` sessions; each is cut at `maxLength` and flagged when it did not end. */
  const draw = (sampler: SequenceSampler, seed: number, count = 30) => {
    const rng = createRng(seed);
    const out: { ids: string[]; ended: boolean }[] = [];
    for (let s = 0; s < count; s++) {
      const ids: string[] = [];
      let ended = true;
      for (const id of sampler.nextSession(rng)) {
        if (ids.length >= maxLength) {
          ended = false;
          break;
        }
        ids.push(id);
      }
      out.push({ ids, ended });
    }
    return out;
  };

  const label =
    options.options === undefined ? '' : ` ${JSON.stringify(options.options)}`;
  describe(`sequence-model plugin ${String(plugin.name)}${label} (conformance)`, () => {
    it('has the plugin shape: kind, kebab-case name, apiVersion 1, options accepting {}', () => {
      expect(pluginBaseProblems(plugin, 'model')).toEqual([]);
      expectOptionsAccepted(expect, plugin, {});
      if (options.options !== undefined)
        expectOptionsAccepted(expect, plugin, options.options);
      expect(typeof plugin.fit).toBe('function');
      expect(typeof plugin.createSampler).toBe('function');
      for (const m of ['parseState', 'createPredictor', 'merge'] as const)
        if (plugin[m] !== undefined) expect(typeof plugin[m]).toBe('function');
      expect(
        plugin.endsSessions === undefined ||
          typeof plugin.endsSessions === 'boolean',
      ).toBe(true);
    });

    it(
      'fits a planted workload into a state with a numeric stateVersion',
      async () => {
        const state = await fitted();
        expect(typeof state).toBe('object');
        expect(Number.isFinite(state.stateVersion)).toBe(true);
        expect(sourceCalls).toBeGreaterThanOrEqual(1);
        for (const p of progress) expect(typeof p.phase).toBe('string');
      },
      fitTimeoutMs,
    );

    it(
      'samples only known template ids, and sessions end',
      async () => {
        const sampler = plugin.createSampler(await fitted(), {
          templates: TEMPLATES,
        });
        const drawn = draw(sampler, 1, 50);
        const unknown = drawn.flatMap((s) =>
          s.ids.filter((id) => !known.has(id)),
        );
        expect([...new Set(unknown)]).toEqual([]);
        expect(drawn.reduce((n, s) => n + s.ids.length, 0)).toBeGreaterThan(0);
        if (endsSessions) expect(drawn.filter((s) => !s.ended)).toHaveLength(0);
      },
      fitTimeoutMs,
    );

    it(
      'repeats itself under the same seed and differs under another',
      async () => {
        const state = await fitted();
        const a = draw(
          plugin.createSampler(state, { templates: TEMPLATES }),
          42,
        );
        const b = draw(
          plugin.createSampler(state, { templates: TEMPLATES }),
          42,
        );
        expect(b).toEqual(a);
        if (options.stochastic !== false) {
          const c = draw(
            plugin.createSampler(state, { templates: TEMPLATES }),
            43,
          );
          expect(c).not.toEqual(a);
        }
      },
      fitTimeoutMs,
    );

    it(
      'has a structured-clone-safe state (and a JSON round trip through parseState)',
      async () => {
        const state = await fitted();
        const expected = draw(
          plugin.createSampler(state, { templates: TEMPLATES }),
          7,
        );
        const cloned = structuredClone(state);
        expect(
          draw(plugin.createSampler(cloned, { templates: TEMPLATES }), 7),
        ).toEqual(expected);
        const parseState = plugin.parseState?.bind(plugin);
        if (parseState) {
          const revived = parseState(JSON.parse(JSON.stringify(state)));
          expect(revived.stateVersion).toBe(state.stateVersion);
          expect(
            draw(plugin.createSampler(revived, { templates: TEMPLATES }), 7),
          ).toEqual(expected);
        }
      },
      fitTimeoutMs,
    );

    const createPredictor = plugin.createPredictor?.bind(plugin);
    if (createPredictor)
      it(
        'predicts next-template distributions that sum to 1 over known ids and END',
        async () => {
          const predictor = createPredictor(await fitted());
          const first = sessions[0]?.templates ?? [];
          for (let k = 0; k <= first.length; k++) {
            const dist = predictor.nextDistribution(first.slice(0, k));
            let sum = 0;
            for (const [id, p] of dist) {
              expect({ id, known: known.has(id) || id === END_TOKEN }).toEqual({
                id,
                known: true,
              });
              expect(p >= 0 && p <= 1).toBe(true);
              sum += p;
            }
            expect(sum).toBeCloseTo(1, 5);
          }
        },
        fitTimeoutMs,
      );

    const merge = plugin.merge?.bind(plugin);
    if (merge)
      it(
        'merges two states into one that still samples known ids',
        async () => {
          const state = await fitted();
          const merged = merge(state, structuredClone(state));
          expect(Number.isFinite(merged.stateVersion)).toBe(true);
          const drawn = draw(
            plugin.createSampler(merged, { templates: TEMPLATES }),
            3,
          );
          expect(
            drawn.flatMap((s) => s.ids.filter((id) => !known.has(id))),
          ).toEqual([]);
        },
        fitTimeoutMs,
      );
  });
}

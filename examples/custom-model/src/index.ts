/**
 * `stb-plugin-model-unigram`: an example third-party sequence model for SQL Trace Bench.
 *
 * The `unigram` model forgets order: every statement of a generated session is drawn
 * independently from the templates' frequencies in the source, and a session ends with the
 * probability the source's sessions ended. Use it as a baseline (how much does the order of
 * statements matter to your validation score?) or as the skeleton of your own model.
 *
 * ```sh
 * npm install stb-plugin-model-unigram
 * stb learn -i postgresql.log -m unigram --model-package stb-plugin-model-unigram -o model.json
 * stb generate -m model.json --model-package stb-plugin-model-unigram -n 10000 -o synthetic.jsonl
 * ```
 */
import { z } from 'zod';
import { END_TOKEN, defineSequenceModel } from '@stb/models';
import type { SequenceModel } from '@stb/models';

/** Options of the `unigram` model. */
export const UnigramOptions = z.object({
  /** Templates seen fewer times than this are never generated (default 1: keep all). */
  minCount: z.number().int().min(1).default(1),
});
/** Options of the `unigram` model, after defaults. */
export type UnigramOptions = z.infer<typeof UnigramOptions>;

/** The fitted state: template ids with their counts, and how many sessions ended. */
export const UnigramState = z.object({
  stateVersion: z.literal(1),
  ids: z.array(z.string()),
  counts: z.array(z.number().int().nonnegative()),
  sessions: z.number().int().nonnegative(),
});
/** The fitted state of the `unigram` model (plain JSON, so it fits in an artifact). */
export type UnigramState = z.infer<typeof UnigramState>;

/** Index of the first cumulative weight above `u` (binary search). */
function pick(cumulative: Float64Array, u: number): number {
  let lo = 0;
  let hi = cumulative.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((cumulative[mid] as number) > u) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** The probabilities of the next template (or the end of the session), whatever came before. */
function distribution(state: UnigramState): Map<string, number> {
  const total = state.counts.reduce((a, b) => a + b, 0) + state.sessions;
  const out = new Map<string, number>();
  state.ids.forEach((id, i) => out.set(id, (state.counts[i] ?? 0) / total));
  out.set(END_TOKEN, state.sessions / total);
  return out;
}

/**
 * The `unigram` sequence model (exported as `plugin`, which is what `--model-package` and
 * `loadModelPackage` look for).
 */
export const plugin: SequenceModel<UnigramOptions, UnigramState> =
  defineSequenceModel<UnigramOptions, UnigramState>({
    kind: 'model',
    name: 'unigram',
    apiVersion: 1,
    options: UnigramOptions,
    // One pass: count templates and sessions. `source()` could be called again for more passes.
    async fit(source, options, ctx) {
      const counts = new Map<string, number>();
      let sessions = 0;
      for await (const session of source()) {
        ctx.signal?.throwIfAborted();
        sessions++;
        for (const id of session.templates)
          counts.set(id, (counts.get(id) ?? 0) + 1);
        if ((sessions & 1023) === 0)
          ctx.onProgress?.({ phase: 'count', step: sessions });
      }
      // Keep the catalog's order, so the state (and the artifact) is the same on every run.
      const ids = ctx.templates
        .map((t) => t.id)
        .filter((id) => (counts.get(id) ?? 0) >= options.minCount);
      return {
        stateVersion: 1,
        ids,
        counts: ids.map((id) => counts.get(id) ?? 0),
        sessions,
      };
    },
    createSampler(state) {
      // Cumulative weights: the templates, then the end of the session.
      const cumulative = new Float64Array(state.ids.length + 1);
      let sum = 0;
      state.ids.forEach((_, i) => {
        sum += state.counts[i] ?? 0;
        cumulative[i] = sum;
      });
      sum += Math.max(state.sessions, 1);
      cumulative[state.ids.length] = sum;
      return {
        *nextSession(rng) {
          for (;;) {
            const i = pick(cumulative, rng.next() * sum);
            if (i >= state.ids.length) return;
            yield state.ids[i] as string;
          }
        },
      };
    },
    // Optional capabilities.
    parseState: (state) => UnigramState.parse(state),
    createPredictor: (state) => {
      const d = distribution(state);
      return { nextDistribution: () => new Map(d) };
    },
    merge(a, b) {
      const counts = new Map<string, number>();
      for (const s of [a, b])
        s.ids.forEach((id, i) =>
          counts.set(id, (counts.get(id) ?? 0) + (s.counts[i] ?? 0)),
        );
      const ids = [...counts.keys()];
      return {
        stateVersion: 1,
        ids,
        counts: ids.map((id) => counts.get(id) ?? 0),
        sessions: a.sessions + b.sessions,
      };
    },
  });

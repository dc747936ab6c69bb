import type { Rng } from '@stb/core';
import { AliasTable } from '@stb/core';
import { z } from 'zod';
import { throwIfAborted } from '../internal/abort';
import type { HmmParams } from '../internal/hmm-core';
import {
  HmmWorkspace,
  accumulate,
  createAccumulator,
  floorParams,
  maximise,
  randomParams,
  transpose,
  viterbi,
} from '../internal/hmm-core';
import { parseOrThrow } from '../internal/parse';
import type {
  ModelFitProgress,
  SequencePredictor,
  SequenceSampler,
} from '../sequence-model';
import { END_TOKEN, defineSequenceModel } from '../sequence-model';

/** Options of the `hmm` model. */
export const HmmOptions = z.object({
  /** Number of hidden states (user or application modes). */
  states: z.number().int().min(1).max(256).default(8),
  /** Training restarts from different random initialisations; the best likelihood wins. */
  restarts: z.number().int().min(1).max(50).default(3),
  /** Baum-Welch iterations per restart during the restart phase. */
  restartIterations: z.number().int().min(1).default(10),
  /** Symbols (statements + session ends) the restart phase trains on at most (the first sessions). */
  restartSampleSymbols: z.number().int().min(1).default(50_000),
  /**
   * Sessions are kept in memory, encoded (4 bytes per statement), while the data has at most this
   * many symbols; larger inputs are re-read from the source on every iteration. Bounds memory.
   */
  cacheSymbols: z.number().int().nonnegative().default(4_000_000),
  /** Iteration cap of the final training. */
  maxIterations: z.number().int().min(1).default(100),
  /** Convergence: stop when the mean log-likelihood per symbol improves by less than this. */
  tolerance: z.number().positive().default(1e-5),
});
export type HmmOptions = z.infer<typeof HmmOptions>;

/** Fitted state of the `hmm` model (row-stochastic matrices). */
export const HmmState = z.object({
  stateVersion: z.literal(1),
  /** Emission alphabet: template ids, then END last. */
  symbols: z.array(z.string()).min(1),
  initial: z.array(z.number().nonnegative()),
  transition: z.array(z.array(z.number().nonnegative())),
  emission: z.array(z.array(z.number().nonnegative())),
  /** Mean log-likelihood per symbol at the end of training. */
  logLikelihoodPerSymbol: z.number(),
  iterations: z.number().int().nonnegative(),
  /** Longest session seen (bounds sampling). */
  maxLength: z.number().int().nonnegative(),
});
export type HmmState = z.infer<typeof HmmState>;

/** A source of encoded sequences (symbol indices, END included), iterable several times. */
type EncodedSource = () => AsyncIterable<Int32Array> | Iterable<Int32Array>;

/** Result of {@link trainHmm}. */
export interface HmmTraining {
  params: HmmParams;
  /** Log-likelihood of the data under the parameters before each iteration's update. */
  history: number[];
  symbols: number;
}

/**
 * Baum-Welch from `init` until the mean log-likelihood per symbol improves by less than
 * `tolerance` or `maxIterations` is reached.
 */
export async function trainHmm(
  data: EncodedSource,
  init: HmmParams,
  options: {
    maxIterations: number;
    tolerance: number;
    signal?: AbortSignal | undefined;
    onIteration?: (iteration: number, ll: number, symbols: number) => void;
  },
): Promise<HmmTraining> {
  let params = init;
  const history: number[] = [];
  const ws = new HmmWorkspace(init.n);
  let symbols = 0;
  for (let it = 0; it < options.maxIterations; it++) {
    throwIfAborted(options.signal, 'HMM training');
    const acc = createAccumulator(params.n, params.m);
    for await (const obs of data()) {
      const ll = accumulate(params, obs, { acc, ws });
      if (!Number.isFinite(ll))
        throw new Error(
          'a session has zero probability under the model (numerical underflow)',
        );
    }
    symbols = acc.symbols;
    history.push(acc.logLikelihood);
    options.onIteration?.(it + 1, acc.logLikelihood, symbols);
    params = maximise(params, acc);
    const prev = history[history.length - 2];
    if (
      prev !== undefined &&
      symbols > 0 &&
      (acc.logLikelihood - prev) / symbols < options.tolerance
    )
      break;
  }
  return { params, history, symbols };
}

function toParams(state: HmmState): HmmParams {
  const n = state.initial.length;
  const m = state.symbols.length;
  const b = new Float64Array(n * m);
  state.emission.forEach((row, i) => row.forEach((v, o) => (b[i * m + o] = v)));
  return {
    n,
    m,
    pi: Float64Array.from(state.initial),
    a: Float64Array.from(state.transition.flat()),
    bT: transpose(b, n, m),
  };
}

function fromParams(
  p: HmmParams,
  symbols: string[],
  extra: { ll: number; iterations: number; maxLength: number },
): HmmState {
  const { n, m } = p;
  const transition: number[][] = [];
  const emission: number[][] = [];
  for (let i = 0; i < n; i++) {
    transition.push(Array.from(p.a.subarray(i * n, i * n + n)));
    const row: number[] = [];
    for (let o = 0; o < m; o++) row.push(p.bT[o * n + i] as number);
    emission.push(row);
  }
  return {
    stateVersion: 1,
    symbols,
    initial: Array.from(p.pi),
    transition,
    emission,
    logLikelihoodPerSymbol: extra.ll,
    iterations: extra.iterations,
    maxLength: extra.maxLength,
  };
}

/**
 * The most likely hidden-state path (Viterbi) of a session's template ids under a fitted `hmm`
 * state; the session's END is included as the last symbol, so the path has `templates.length + 1`
 * entries. Unknown template ids raise a RangeError.
 */
export function decodeHmmStates(
  state: HmmState,
  templates: readonly string[],
): number[] {
  const index = new Map(state.symbols.map((s, i) => [s, i]));
  const obs = new Int32Array(templates.length + 1);
  templates.forEach((t, i) => {
    const o = index.get(t);
    if (o === undefined)
      throw new RangeError(`[stb] [model:hmm] Unknown template id \`${t}\`.`);
    obs[i] = o;
  });
  obs[templates.length] = state.symbols.length - 1;
  return Array.from(viterbi(toParams(state), obs));
}

function createHmmSampler(state: HmmState): SequenceSampler {
  const pi = new AliasTable(state.initial);
  const trans = state.transition.map((r) => new AliasTable(r));
  const emit = state.emission.map((r) => new AliasTable(r));
  const end = state.symbols.length - 1;
  const cap = Math.max(1000, state.maxLength * 10);
  return {
    *nextSession(rng: Rng) {
      let s = pi.sample(rng);
      for (let i = 0; i < cap; i++) {
        const o = (emit[s] as AliasTable).sample(rng);
        if (o === end) return;
        yield state.symbols[o] as string;
        s = (trans[s] as AliasTable).sample(rng);
      }
    },
  };
}

function createHmmPredictor(state: HmmState): SequencePredictor {
  const p = toParams(state);
  const index = new Map(state.symbols.map((s, i) => [s, i]));
  const { n, m } = p;
  return {
    nextDistribution(history) {
      // filtered state distribution after the history, then one step ahead
      let belief = Float64Array.from(p.pi);
      let first = true;
      for (const t of history) {
        const o = index.get(t);
        if (o === undefined) continue;
        const prior = first ? belief : new Float64Array(n);
        if (!first)
          for (let i = 0; i < n; i++)
            for (let j = 0; j < n; j++)
              prior[j] =
                (prior[j] as number) +
                (belief[i] as number) * (p.a[i * n + j] as number);
        first = false;
        let s = 0;
        for (let j = 0; j < n; j++) {
          prior[j] = (prior[j] as number) * (p.bT[o * n + j] as number);
          s += prior[j] as number;
        }
        belief = s > 0 ? prior.map((v) => v / s) : Float64Array.from(p.pi);
      }
      let next = belief;
      if (!first) {
        next = new Float64Array(n);
        for (let i = 0; i < n; i++)
          for (let j = 0; j < n; j++)
            next[j] =
              (next[j] as number) +
              (belief[i] as number) * (p.a[i * n + j] as number);
      }
      const out = new Map<string, number>();
      for (let o = 0; o < m; o++) {
        let v = 0;
        for (let j = 0; j < n; j++)
          v += (next[j] as number) * (p.bT[o * n + j] as number);
        if (v > 0)
          out.set(o === m - 1 ? END_TOKEN : (state.symbols[o] as string), v);
      }
      return out;
    },
  };
}

/**
 * The `hmm` sequence model: a discrete hidden Markov model whose states emit template ids (and
 * END, which ends the session). Trained by Baum-Welch with scaling: restarts on the first
 * sessions, then the best start is trained on all sessions until convergence.
 */
export const hmmModel = defineSequenceModel<HmmOptions, HmmState>({
  kind: 'model',
  name: 'hmm',
  apiVersion: 1,
  description:
    'Discrete hidden Markov model over templates (Baum-Welch with scaling, restarts).',
  options: HmmOptions,
  async fit(source, options, ctx) {
    const progress = (p: ModelFitProgress): void => ctx.onProgress?.(p);
    // Counting pass: alphabet, unigram, the restart sample.
    const index = new Map<string, number>();
    const unigramCounts: number[] = [];
    const sample: number[][] = [];
    let cache: number[][] | undefined = [];
    let sampleSymbols = 0;
    let total = 0;
    let sessions = 0;
    let maxLength = 0;
    for await (const s of source()) {
      throwIfAborted(ctx.signal, 'HMM training');
      sessions++;
      if (s.templates.length > maxLength) maxLength = s.templates.length;
      const enc: number[] = [];
      for (const t of s.templates) {
        let o = index.get(t);
        if (o === undefined) {
          index.set(t, (o = index.size));
          unigramCounts.push(0);
        }
        unigramCounts[o] = (unigramCounts[o] as number) + 1;
        enc.push(o);
      }
      total += enc.length + 1;
      if (cache) {
        if (total <= options.cacheSymbols) cache.push(enc);
        else cache = undefined;
      }
      if (sampleSymbols < options.restartSampleSymbols) {
        sample.push(enc);
        sampleSymbols += enc.length + 1;
      }
    }
    const symbols = [...index.keys(), END_TOKEN];
    const m = symbols.length;
    const end = m - 1;
    const unigram = new Float64Array(m);
    unigramCounts.forEach((c, o) => (unigram[o] = c / total));
    unigram[end] = sessions / total;
    const encode = (seq: readonly number[]): Int32Array => {
      const out = new Int32Array(seq.length + 1);
      out.set(seq);
      out[seq.length] = end;
      return out;
    };
    const sampleEncoded = sample.map(encode);
    const inMemory = sampleSymbols >= total;
    const cached = cache && !inMemory ? cache.map(encode) : undefined;
    cache = undefined;
    const encodeSession = (templates: readonly string[]): Int32Array => {
      const out = new Int32Array(templates.length + 1);
      templates.forEach((t, i) => (out[i] = index.get(t) ?? end));
      out[templates.length] = end;
      return out;
    };
    const full: EncodedSource = inMemory
      ? () => sampleEncoded
      : cached
        ? () => cached
        : async function* () {
            for await (const s of source()) yield encodeSession(s.templates);
          };

    // Restarts.
    let best: HmmParams | undefined;
    let bestLl = -Infinity;
    for (let r = 0; r < options.restarts; r++) {
      const init = randomParams({ n: options.states, m, unigram }, ctx.rng);
      const trained = await trainHmm(() => sampleEncoded, init, {
        maxIterations: options.restartIterations,
        tolerance: options.tolerance,
        signal: ctx.signal,
      });
      const ll = trained.history[trained.history.length - 1] ?? -Infinity;
      progress({
        phase: 'restart',
        step: r + 1,
        total: options.restarts,
        loss: -ll / Math.max(1, trained.symbols),
      });
      if (ll > bestLl || !best) {
        bestLl = ll;
        best = trained.params;
      }
    }
    let start = best as HmmParams;
    if (!inMemory) start = floorParams(start, 1e-6);
    const trained = await trainHmm(full, start, {
      maxIterations: options.maxIterations,
      tolerance: options.tolerance,
      signal: ctx.signal,
      onIteration: (it, ll, n) =>
        progress({
          phase: 'train',
          step: it,
          total: options.maxIterations,
          loss: -ll / Math.max(1, n),
        }),
    });
    // Report the likelihood of the final parameters (one more E-step is not worth a pass).
    const last = trained.history[trained.history.length - 1] ?? 0;
    return fromParams(trained.params, symbols, {
      ll: last / Math.max(1, trained.symbols),
      iterations: trained.history.length,
      maxLength,
    });
  },
  createSampler(state) {
    return createHmmSampler(state);
  },
  createPredictor(state) {
    return createHmmPredictor(state);
  },
  parseState(state) {
    const s = parseOrThrow(HmmState, state, 'Invalid hmm state');
    const n = s.initial.length;
    if (s.transition.length !== n || s.transition.some((r) => r.length !== n))
      throw new Error(
        'Invalid hmm state: `transition` must be states × states.',
      );
    if (
      s.emission.length !== n ||
      s.emission.some((r) => r.length !== s.symbols.length)
    )
      throw new Error(
        'Invalid hmm state: `emission` must be states × symbols.',
      );
    if (s.symbols[s.symbols.length - 1] !== END_TOKEN)
      throw new Error('Invalid hmm state: the last symbol must be END.');
    return s;
  },
});

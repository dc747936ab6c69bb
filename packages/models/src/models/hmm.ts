import { StbError } from '@stb/core';
import { z } from 'zod';
import { defineSequenceModel } from '../sequence-model';
import { parseOrThrow } from '../internal/parse';

/** Options of the `hmm` model. */
export const HmmOptions = z.object({
  /** Number of hidden states (user or application modes). */
  states: z.number().int().min(1).max(256).default(8),
  /** Training restarts from different random initialisations; the best likelihood wins. */
  restarts: z.number().int().min(1).max(50).default(3),
  /** Baum-Welch iterations per restart during the restart phase. */
  restartIterations: z.number().int().min(1).default(10),
  /** Symbols (statements) the restart phase trains on at most (a prefix of the sessions). */
  restartSampleSymbols: z.number().int().min(1).default(50000),
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

/**
 * The `hmm` sequence model: a discrete hidden Markov model whose states emit template ids (and
 * END, which ends the session). Trained by Baum-Welch with scaling and restarts.
 */
export const hmmModel = defineSequenceModel<HmmOptions, HmmState>({
  kind: 'model',
  name: 'hmm',
  apiVersion: 1,
  description:
    'Discrete hidden Markov model over templates (Baum-Welch with scaling, restarts).',
  options: HmmOptions,
  fit() {
    return Promise.reject(
      new StbError('STB_INTERNAL', '[stb] [model:hmm] Not implemented yet.'),
    );
  },
  createSampler() {
    throw new StbError(
      'STB_INTERNAL',
      '[stb] [model:hmm] Not implemented yet.',
    );
  },
  parseState(state) {
    return parseOrThrow(HmmState, state, 'Invalid hmm state');
  },
});

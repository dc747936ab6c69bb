import type { PluginBase, QueryTemplate, Rng } from '@stb/core';

/** Pseudo template id marking the start of a session in model contexts. Never a real template id. */
export const START_TOKEN = '<s>';
/** Pseudo template id marking the end of a session (returned by predictors). Never a real template id. */
export const END_TOKEN = '</s>';

/** The template ids of one session, in session order. */
export interface SessionSequence {
  sessionId: string;
  /** Template ids in session order. */
  templates: readonly string[];
}

/** Progress of a fit, reported through {@link ModelFitContext.onProgress}. */
export interface ModelFitProgress {
  /** What is running: `read`, `count`, `restart`, `train`, `epoch`… */
  phase: string;
  step?: number;
  total?: number;
  /** Training loss (e.g. negative mean log-likelihood per symbol), when the model has one. */
  loss?: number;
  message?: string;
}

/** What a sequence model's `fit` receives besides the data and its options. */
export interface ModelFitContext {
  /** The only source of randomness a model may use. */
  rng: Rng;
  /** Every template of the workload (the catalog), in a stable order. */
  templates: readonly QueryTemplate[];
  signal?: AbortSignal;
  onProgress?(p: ModelFitProgress): void;
}

/** What `createSampler` receives besides the state. */
export interface SamplerContext {
  templates: readonly QueryTemplate[];
}

/** Draws template-id sequences, one session at a time. */
export interface SequenceSampler {
  /** Yields template ids until the session ends. All randomness comes from `rng`. */
  nextSession(rng: Rng): Iterable<string>;
}

/** Next-template distribution given a session prefix (for held-out evaluation). */
export interface SequencePredictor {
  /**
   * Probabilities of the next template id (or {@link END_TOKEN}) after `history` (template ids of
   * the session so far, oldest first). Values sum to 1.
   */
  nextDistribution(history: readonly string[]): Map<string, number>;
}

/**
 * A sequence-model plugin: learns which template follows which within a session.
 * `TState` is structured-clone-safe data (plain objects, arrays, typed arrays) with a
 * `stateVersion`, so fitted models can be saved in artifacts and sent to workers.
 */
export interface SequenceModel<
  TOptions,
  TState extends { stateVersion: number },
> extends PluginBase<TOptions> {
  readonly kind: 'model';
  /**
   * Capability flag: false when samplers never end sessions by themselves; the generator then
   * cuts sessions at a learned session length. Default true.
   */
  readonly endsSessions?: boolean;
  /**
   * Learns from sessions. `source()` may be called several times (multi-pass training);
   * each call iterates the sessions anew in the same order. `options` are already validated.
   */
  fit(
    source: () => AsyncIterable<SessionSequence>,
    options: TOptions,
    ctx: ModelFitContext,
  ): Promise<TState>;
  /** A sampler for a fitted state. */
  createSampler(state: TState, ctx: SamplerContext): SequenceSampler;
  /** Validates a state read from an artifact; throws with a clear message when invalid. */
  parseState?(state: unknown): TState;
  /** Optional capability: next-template probabilities, used for held-out evaluation. */
  createPredictor?(state: TState): SequencePredictor;
  /** Optional capability: merges two states fitted on disjoint shards (e.g. Markov counts). */
  merge?(a: TState, b: TState): TState;
}

/** A sequence model of any options and state (what registries and artifacts hold). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnySequenceModel = SequenceModel<any, any>;

/**
 * Identity helper that pins a sequence model's generics.
 * @example
 * export const plugin = defineSequenceModel({
 *   kind: 'model', name: 'uniform', apiVersion: 1, options: z.object({}),
 *   async fit(source) { const ids = new Set<string>(); for await (const s of source()) for (const t of s.templates) ids.add(t); return { stateVersion: 1, ids: [...ids] }; },
 *   createSampler: (state) => ({ *nextSession(rng) { yield state.ids[rng.int(state.ids.length)]!; } }),
 * });
 */
export function defineSequenceModel<
  TOptions,
  TState extends { stateVersion: number },
>(model: SequenceModel<TOptions, TState>): SequenceModel<TOptions, TState> {
  return model;
}

/** True when `value` looks like a sequence-model plugin (kind `model`, apiVersion 1, `fit` and `createSampler`). */
export function isSequenceModel(value: unknown): value is AnySequenceModel {
  if (typeof value !== 'object' || value === null) return false;
  const p = value as Partial<AnySequenceModel>;
  return (
    p.kind === 'model' &&
    p.apiVersion === 1 &&
    typeof p.name === 'string' &&
    typeof p.options === 'object' &&
    p.options !== null &&
    typeof p.fit === 'function' &&
    typeof p.createSampler === 'function'
  );
}

import { PluginError, StbError, createRng } from '@stb/core';
import type { Rng } from '@stb/core';
import type { SequencePredictor, SequenceSampler } from '@stb/models';
import { END_TOKEN, defineSequenceModel } from '@stb/models';
import { readTrainingData, splitSessions } from './data';
import { BOUNDARY, LstmNetwork, softmax } from './network';
import { LstmOptions } from './options';
import {
  LstmState,
  decodeWeights,
  encodeFloat32,
  expectedWeightShapes,
} from './state';
import { loadTf } from './tf-loader';
import { trainNetwork } from './train';

function networkOf(state: LstmState): LstmNetwork {
  return new LstmNetwork(decodeWeights(state), {
    vocabularySize: state.vocabulary.length,
    embeddingSize: state.config.embeddingSize,
    units: state.config.units,
  });
}

function createLstmSampler(state: LstmState): SequenceSampler {
  const net = networkOf(state);
  const vocabulary = state.vocabulary;
  const temperature = state.config.temperature;
  const cap = Math.max(1000, state.maxLength * 10);
  return {
    *nextSession(rng: Rng) {
      const run = net.initialState();
      const logits = new Float64Array(net.outputs);
      const probs = new Float64Array(net.outputs);
      let token = BOUNDARY;
      for (let n = 0; n < cap; n++) {
        net.step(run, token, logits);
        softmax(logits, probs, temperature);
        token = rng.categorical(probs);
        if (token === BOUNDARY) return;
        yield vocabulary[token - 1] as string;
      }
    },
  };
}

/**
 * Predictor that runs the network over the history; when a call extends the previous call's
 * history (the usual held-out evaluation loop), it continues from the cached state, so scoring a
 * session costs one network step per template.
 */
function createLstmPredictor(state: LstmState): SequencePredictor {
  const net = networkOf(state);
  const vocabulary = state.vocabulary;
  const index = new Map(vocabulary.map((id, i) => [id, i + 1]));
  const run = net.initialState();
  const logits = new Float64Array(net.outputs);
  const probs = new Float64Array(net.outputs);
  const seen: string[] = [];
  let started = false;
  return {
    nextDistribution(history) {
      let same = started && history.length >= seen.length;
      for (let i = 0; same && i < seen.length; i++)
        same = history[i] === seen[i];
      if (!same) {
        seen.length = 0;
        net.step(run, BOUNDARY, logits);
        started = true;
      }
      for (let i = seen.length; i < history.length; i++) {
        const id = history[i] as string;
        net.step(run, index.get(id) ?? -1, logits);
        seen.push(id);
      }
      softmax(logits, probs);
      const out = new Map<string, number>();
      out.set(END_TOKEN, probs[BOUNDARY] as number);
      for (let i = 0; i < vocabulary.length; i++)
        out.set(vocabulary[i] as string, probs[i + 1] as number);
      return out;
    },
  };
}

function parseLstmState(value: unknown): LstmState {
  const r = LstmState.safeParse(value);
  const fail = (path: string, message: string): never => {
    throw new PluginError(
      'STB_MODEL_ARTIFACT_INVALID',
      `Invalid \`lstm\` state: at \`${path}\`: ${message.replace(/\.$/, '')}.`,
      { pluginKind: 'model', pluginName: 'lstm', details: { path } },
    );
  };
  if (!r.success) {
    const issue = r.error.issues[0];
    return fail(
      issue && issue.path.length > 0 ? issue.path.join('.') : '(root)',
      issue?.message ?? 'invalid',
    );
  }
  const state = r.data;
  if (new Set(state.vocabulary).size !== state.vocabulary.length)
    fail('vocabulary', 'template ids repeat');
  try {
    decodeWeights(state);
  } catch (err) {
    fail('weights', (err as Error).message);
  }
  return state;
}

/**
 * The `lstm` sequence model: next-template prediction with an LSTM over template ids (one-hot
 * input, bias-free dense embedding, stacked LSTM, softmax over templates and END), trained with
 * TensorFlow.js on the wasm backend. Sampling and prediction run in plain JavaScript from the
 * stored weights, so a loaded artifact samples without TensorFlow.js and without retraining.
 * @example
 * const registry = createModelRegistry();
 * await loadModelPackage(registry, '@stb/model-lstm');
 * const lstm = registry.get('lstm');
 */
export const lstmModel = defineSequenceModel<LstmOptions, LstmState>({
  kind: 'model',
  name: 'lstm',
  apiVersion: 1,
  description:
    'LSTM over template ids per session (TensorFlow.js, wasm backend); captures long-range order.',
  options: LstmOptions,
  async fit(source, options, ctx) {
    const rng =
      options.seed === undefined
        ? ctx.rng.derive('lstm')
        : createRng(options.seed);
    const data = await readTrainingData(source(), {
      rng: rng.derive('read'),
      maxTokens: options.maxTrainingTokens,
      signal: ctx.signal,
    });
    if (data.sessionsRead === 0)
      throw new StbError(
        'STB_MODEL_EMPTY_INPUT',
        '[stb] [model:lstm] No sessions to learn from. Check the input trace and its filters.',
      );
    const { train, validation } = splitSessions(
      data.sessions,
      options.validationSplit,
      rng.derive('split'),
    );
    ctx.onProgress?.({
      phase: 'read',
      step: data.sessionsRead,
      message: `${data.sessionsRead} sessions, ${data.tokensRead} templates read; ${train.length} sessions train, ${validation.length} validate`,
    });
    const tf = await loadTf(options.backend);
    const out = await trainNetwork(tf, {
      vocabularySize: data.vocabulary.length,
      train,
      validation,
      options,
      rng: rng.derive('train'),
      signal: ctx.signal,
      onProgress: ctx.onProgress ? (p) => ctx.onProgress?.(p) : undefined,
    });
    const shapes = expectedWeightShapes(data.vocabulary.length, options);
    return {
      stateVersion: 1,
      vocabulary: data.vocabulary,
      config: {
        embeddingSize: options.embeddingSize,
        units: options.units,
        layers: options.layers,
        windowLength: options.windowLength,
        temperature: options.temperature,
      },
      weights: shapes.map(({ name, shape }, i) => ({
        name,
        shape,
        dtype: 'float32' as const,
        data: encodeFloat32(out.weights[i] as Float32Array),
      })),
      maxLength: data.maxLength,
      training: {
        backend: options.backend,
        epochs: out.epochs,
        bestEpoch: out.bestEpoch,
        loss: out.loss,
        ...(out.valLoss === undefined ? {} : { valLoss: out.valLoss }),
        trainSessions: train.length,
        trainTokens: out.trainTokens,
        validationSessions: validation.length,
      },
    };
  },
  createSampler(state) {
    return createLstmSampler(state);
  },
  createPredictor(state) {
    return createLstmPredictor(state);
  },
  parseState(state) {
    return parseLstmState(state);
  },
});

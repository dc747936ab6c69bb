import type { Rng } from '@stb/core';
import { StbError } from '@stb/core';
import type { ModelFitProgress } from '@stb/models';
import type * as Tf from '@tensorflow/tfjs';
import type { StreamBatch } from './data';
import { shuffle, streamBatches, throwIfAborted, toStream } from './data';
import type { LstmOptions } from './options';
import { expectedWeightShapes } from './state';
import type { TfModule } from './tf-loader';

/** What {@link trainNetwork} needs besides tfjs. */
export interface TrainInput {
  vocabularySize: number;
  train: Int32Array[];
  validation: Int32Array[];
  options: LstmOptions;
  rng: Rng;
  signal?: AbortSignal | undefined;
  onProgress?: ((p: ModelFitProgress) => void) | undefined;
}

/** Trained weights (in {@link expectedWeightShapes} order) and how training went. */
export interface TrainOutput {
  weights: Float32Array[];
  epochs: number;
  bestEpoch: number;
  loss: number;
  valLoss: number | undefined;
  trainTokens: number;
}

/** Initial weights drawn from `rng` (Glorot-uniform kernels, orthogonal recurrent kernels, forget-gate bias 1). */
export function initialWeights(
  vocabularySize: number,
  options: Pick<LstmOptions, 'embeddingSize' | 'units' | 'layers'>,
  rng: Rng,
): Float32Array[] {
  const u = options.units;
  return expectedWeightShapes(vocabularySize, options).map(
    ({ name, shape }) => {
      const size = shape.reduce((a, b) => a * b, 1);
      if (name.endsWith('/recurrent_kernel'))
        return orthogonal(shape[0] as number, shape[1] as number, rng);
      if (name.endsWith('/bias')) {
        const b = new Float32Array(size);
        if (name.startsWith('lstm_')) b.fill(1, u, 2 * u);
        return b;
      }
      return glorotUniform(shape[0] as number, shape[1] as number, rng);
    },
  );
}

function glorotUniform(fanIn: number, fanOut: number, rng: Rng): Float32Array {
  const limit = Math.sqrt(6 / (fanIn + fanOut));
  const out = new Float32Array(fanIn * fanOut);
  for (let i = 0; i < out.length; i++) out[i] = rng.uniform(-limit, limit);
  return out;
}

/** A rows × cols matrix (rows ≤ cols) with orthonormal rows (Gram–Schmidt on Gaussian rows). */
function orthogonal(rows: number, cols: number, rng: Rng): Float32Array {
  const m: Float64Array[] = [];
  for (let r = 0; r < rows; r++) {
    const v = new Float64Array(cols);
    for (;;) {
      for (let j = 0; j < cols; j++) v[j] = rng.normal();
      for (const q of m) {
        let dot = 0;
        for (let j = 0; j < cols; j++)
          dot += (v[j] as number) * (q[j] as number);
        for (let j = 0; j < cols; j++)
          v[j] = (v[j] as number) - dot * (q[j] as number);
      }
      let norm = 0;
      for (let j = 0; j < cols; j++) norm += (v[j] as number) ** 2;
      norm = Math.sqrt(norm);
      if (norm > 1e-6) {
        for (let j = 0; j < cols; j++) v[j] = (v[j] as number) / norm;
        break;
      }
    }
    m.push(v);
  }
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) out.set(m[r] as Float64Array, r * cols);
  return out;
}

/** Trainable tensors of the network, in the layout of {@link expectedWeightShapes}. */
export interface Params {
  embedding: Tf.Variable;
  layers: { kernel: Tf.Variable; recurrent: Tf.Variable; bias: Tf.Variable }[];
  outputKernel: Tf.Variable;
  outputBias: Tf.Variable;
  all: Tf.Variable[];
}

/** Recurrent state of every layer for a batch of rows. */
export interface RecurrentState {
  h: Tf.Tensor2D[];
  c: Tf.Tensor2D[];
}

/**
 * The training graph: one-hot → embedding (bias-free dense) → LSTM layers → dense logits, over a
 * [rows, steps] window. The state is reset to zero wherever the input is the boundary token, as
 * {@link LstmNetwork.step} does. Returns the summed cross-entropy over the window and the final state.
 */
export function forward(
  tf: TfModule,
  params: Params,
  input: { batch: StreamBatch; state: RecurrentState; outputs: number },
): { nllSum: Tf.Scalar; state: RecurrentState } {
  const { batch, state, outputs } = input;
  const { rows, steps } = batch;
  const n = rows * steps;
  const x = tf.tensor1d(batch.inputs, 'int32');
  const y = tf.tensor1d(batch.targets, 'int32');
  const xHot = tf.cast(tf.oneHot(x, outputs), 'float32');
  let layerInput: Tf.Tensor2D = tf.matMul(xHot, params.embedding);
  const keep = unstackSteps(
    tf,
    tf.reshape(tf.cast(tf.notEqual(x, 0), 'float32'), [rows, steps, 1]),
  );
  const h: Tf.Tensor2D[] = [];
  const c: Tf.Tensor2D[] = [];
  params.layers.forEach((layer, l) => {
    const units = layer.recurrent.shape[0];
    const pre = unstackSteps(
      tf,
      tf.reshape(tf.add(tf.matMul(layerInput, layer.kernel), layer.bias), [
        rows,
        steps,
        4 * units,
      ]),
    );
    let hl = state.h[l] as Tf.Tensor2D;
    let cl = state.c[l] as Tf.Tensor2D;
    const outs: Tf.Tensor2D[] = [];
    for (let t = 0; t < steps; t++) {
      const k = keep[t] as Tf.Tensor2D;
      hl = tf.mul(hl, k);
      cl = tf.mul(cl, k);
      const z = tf.add(pre[t] as Tf.Tensor2D, tf.matMul(hl, layer.recurrent));
      const [zi, zf, zg, zo] = tf.split<Tf.Tensor2D>(z, 4, 1);
      cl = tf.add(
        tf.mul(tf.sigmoid(zf as Tf.Tensor2D), cl),
        tf.mul(tf.sigmoid(zi as Tf.Tensor2D), tf.tanh(zg as Tf.Tensor2D)),
      );
      hl = tf.mul(tf.sigmoid(zo as Tf.Tensor2D), tf.tanh(cl));
      outs.push(hl);
    }
    h.push(hl);
    c.push(cl);
    layerInput = tf.reshape(tf.stack(outs, 1), [n, units]);
  });
  const logits = tf.add(
    tf.matMul(layerInput, params.outputKernel),
    params.outputBias,
  );
  const yHot = tf.cast(tf.oneHot(y, outputs), 'float32');
  const nllSum = tf.neg(
    tf.sum(tf.mul(yHot, tf.logSoftmax(logits))),
  ) as Tf.Scalar;
  return { nllSum, state: { h, c } };
}

/**
 * Splits [rows, steps, n] into `steps` tensors of [rows, n]. A single step is reshaped instead:
 * tfjs 4.22's Unpack gradient fails for an op with one output (it receives a tensor, not a list).
 */
function unstackSteps(tf: TfModule, t: Tf.Tensor3D): Tf.Tensor2D[] {
  const [rows, steps, n] = t.shape;
  if (steps === 1) return [tf.reshape(t, [rows, n])];
  return tf.unstack(t, 1) as Tf.Tensor2D[];
}

/** Variables holding `weights` (in {@link expectedWeightShapes} order). */
export function createParams(
  tf: TfModule,
  weights: readonly Float32Array[],
  shape: {
    vocabularySize: number;
    options: Pick<LstmOptions, 'embeddingSize' | 'units' | 'layers'>;
  },
): Params {
  const { options } = shape;
  const shapes = expectedWeightShapes(shape.vocabularySize, options);
  const all = weights.map((values, i) =>
    tf.tidy(() =>
      tf.variable(
        tf.tensor(values, (shapes[i] as { shape: number[] }).shape),
        true,
      ),
    ),
  );
  return {
    embedding: all[0] as Tf.Variable,
    layers: Array.from({ length: options.layers }, (_, l) => ({
      kernel: all[1 + 3 * l] as Tf.Variable,
      recurrent: all[2 + 3 * l] as Tf.Variable,
      bias: all[3 + 3 * l] as Tf.Variable,
    })),
    outputKernel: all[all.length - 2] as Tf.Variable,
    outputBias: all[all.length - 1] as Tf.Variable,
    all,
  };
}

/** A zero recurrent state for `rows` parallel streams. */
export function zeroState(
  tf: TfModule,
  rows: number,
  options: Pick<LstmOptions, 'units' | 'layers'>,
): RecurrentState {
  const make = (): Tf.Tensor2D[] =>
    Array.from({ length: options.layers }, () =>
      tf.zeros([rows, options.units]),
    );
  return { h: make(), c: make() };
}

function disposeState(state: RecurrentState): void {
  for (const t of state.h) t.dispose();
  for (const t of state.c) t.dispose();
}

/**
 * Trains the network with truncated back-propagation through time over parallel token streams
 * (state carried across windows), Adam, global-norm gradient clipping and early stopping on the
 * validation loss (training loss without a validation set). Keeps the best epoch's weights.
 */
export async function trainNetwork(
  tf: TfModule,
  input: TrainInput,
): Promise<TrainOutput> {
  const { options, rng } = input;
  const outputs = input.vocabularySize + 1;
  const init = initialWeights(input.vocabularySize, options, rng);
  const params = createParams(tf, init, {
    vocabularySize: input.vocabularySize,
    options,
  });
  const all = params.all;
  const optimizer = tf.train.adam(options.learningRate);
  const validationStream =
    input.validation.length > 0 ? toStream(input.validation) : undefined;
  let best = Infinity;
  let bestEpoch = 0;
  let bestWeights = all.map((v) => v.dataSync().slice() as Float32Array);
  let bestLoss = NaN;
  let bestValLoss: number | undefined;
  let sinceBest = 0;
  let epoch = 0;
  let trainTokens = 0;
  try {
    while (epoch < options.epochs) {
      epoch++;
      const stream = toStream(shuffle([...input.train], rng));
      trainTokens = stream.length - 1;
      const { nll, count } = await trainEpoch(tf, {
        params,
        optimizer,
        stream,
        options,
        signal: input.signal,
      });
      const loss = count > 0 ? nll / count : NaN;
      const valLoss = validationStream
        ? evaluate(tf, params, { stream: validationStream, options, outputs })
        : undefined;
      const score = valLoss ?? loss;
      if (!Number.isFinite(score))
        throw new StbError(
          'STB_MODEL_FIT_FAILED',
          `[stb] [model:lstm] Training diverged at epoch ${epoch} (loss is not finite). Lower \`learningRate\` or \`clipNorm\`.`,
          { details: { epoch } },
        );
      input.onProgress?.({
        phase: 'epoch',
        step: epoch,
        total: options.epochs,
        loss,
        message:
          valLoss === undefined
            ? `loss ${loss.toFixed(4)}`
            : `loss ${loss.toFixed(4)}, val loss ${valLoss.toFixed(4)}`,
      });
      if (score < best - 1e-4) {
        best = score;
        bestEpoch = epoch;
        bestLoss = loss;
        bestValLoss = valLoss;
        bestWeights = all.map((v) => v.dataSync().slice() as Float32Array);
        sinceBest = 0;
      } else if (options.patience > 0 && ++sinceBest >= options.patience) {
        break;
      }
    }
  } finally {
    optimizer.dispose();
    for (const v of all) v.dispose();
  }
  return {
    weights: bestWeights,
    epochs: epoch,
    bestEpoch,
    loss: bestLoss,
    valLoss: bestValLoss,
    trainTokens,
  };
}

/** One pass over a training stream; returns the summed loss and the number of tokens. */
async function trainEpoch(
  tf: TfModule,
  input: {
    params: Params;
    optimizer: Tf.Optimizer;
    stream: Int32Array;
    options: LstmOptions;
    signal: AbortSignal | undefined;
  },
): Promise<{ nll: number; count: number }> {
  const { params, optimizer, options } = input;
  const outputs = params.outputBias.shape[0];
  let state: RecurrentState | undefined;
  let nll = 0;
  let count = 0;
  try {
    for (const batch of streamBatches(input.stream, {
      rows: options.batchSize,
      window: options.windowLength,
    })) {
      throwIfAborted(input.signal);
      state ??= zeroState(tf, batch.rows, options);
      const prev: RecurrentState = state;
      let next: RecurrentState | undefined;
      const tokens = batch.rows * batch.steps;
      const { value, grads } = tf.variableGrads(() => {
        const out = forward(tf, params, { batch, state: prev, outputs });
        next = {
          h: out.state.h.map((t) => tf.keep(t)),
          c: out.state.c.map((t) => tf.keep(t)),
        };
        return tf.div<Tf.Scalar>(out.nllSum, tokens);
      }, params.all);
      disposeState(prev);
      state = next;
      nll += (value.dataSync()[0] as number) * tokens;
      count += tokens;
      value.dispose();
      tf.tidy(() => {
        const names = Object.keys(grads);
        const norm = tf.sqrt(
          tf.addN(names.map((k) => tf.sum(tf.square(grads[k] as Tf.Tensor)))),
        );
        const scale = tf.minimum(
          1,
          tf.div(options.clipNorm, tf.maximum(norm, 1e-12)),
        );
        optimizer.applyGradients(
          names.map((name) => ({
            name,
            tensor: tf.mul(grads[name] as Tf.Tensor, scale),
          })),
        );
      });
      for (const g of Object.values(grads)) g.dispose();
      // Let timers, progress bars and abort signals run between steps.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  } finally {
    if (state) disposeState(state);
  }
  return { nll, count };
}

/** Mean cross-entropy (nats per token) over a stream, with state carried across windows. */
function evaluate(
  tf: TfModule,
  params: Params,
  input: { stream: Int32Array; options: LstmOptions; outputs: number },
): number {
  let nll = 0;
  let count = 0;
  let state: RecurrentState | undefined;
  for (const batch of streamBatches(input.stream, {
    rows: input.options.batchSize,
    window: input.options.windowLength,
  })) {
    state ??= zeroState(tf, batch.rows, input.options);
    const prev: RecurrentState = state;
    const next = tf.tidy(() => {
      const out = forward(tf, params, {
        batch,
        state: prev,
        outputs: input.outputs,
      });
      nll += out.nllSum.dataSync()[0] as number;
      return [...out.state.h, ...out.state.c];
    });
    disposeState(prev);
    const layers = input.options.layers;
    state = { h: next.slice(0, layers), c: next.slice(layers) };
    count += batch.rows * batch.steps;
  }
  if (state) disposeState(state);
  return count > 0 ? nll / count : NaN;
}

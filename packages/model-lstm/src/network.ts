import type { DecodedWeights } from './state';

/** Token index of the session boundary: START as an input, END as an output. */
export const BOUNDARY = 0;

/** Recurrent state of every layer (h and c), updated in place by {@link LstmNetwork.step}. */
export interface LstmRunState {
  h: Float64Array[];
  c: Float64Array[];
}

/**
 * The fitted network run one token at a time in plain JavaScript (float64 arithmetic), so
 * sampling and prediction need no TensorFlow.js and give the same result on every machine.
 * It computes exactly what training computes: embedding row, LSTM layers (gates i, f, g, o), and
 * output logits; the state is zero at a session's START.
 */
export class LstmNetwork {
  readonly vocabularySize: number;
  readonly outputs: number;
  private readonly w: DecodedWeights;
  private readonly units: number;
  private readonly embeddingSize: number;
  private readonly z: Float64Array;
  private readonly input: Float64Array;

  constructor(
    weights: DecodedWeights,
    shape: { vocabularySize: number; embeddingSize: number; units: number },
  ) {
    this.w = weights;
    this.vocabularySize = shape.vocabularySize;
    this.outputs = shape.vocabularySize + 1;
    this.units = shape.units;
    this.embeddingSize = shape.embeddingSize;
    this.z = new Float64Array(4 * shape.units);
    this.input = new Float64Array(Math.max(shape.units, shape.embeddingSize));
  }

  /** A zero state (the state before a session's START token). */
  initialState(): LstmRunState {
    const layers = this.w.layers.length;
    return {
      h: Array.from({ length: layers }, () => new Float64Array(this.units)),
      c: Array.from({ length: layers }, () => new Float64Array(this.units)),
    };
  }

  /**
   * Feeds one input token (0 = START, i = vocabulary[i - 1], -1 = a template unknown to the model,
   * which contributes a zero embedding) and writes the output logits into `logits`.
   */
  step(state: LstmRunState, token: number, logits: Float64Array): void {
    const u = this.units;
    const e = this.embeddingSize;
    const x = this.input;
    if (token === BOUNDARY) {
      for (let l = 0; l < state.h.length; l++) {
        (state.h[l] as Float64Array).fill(0);
        (state.c[l] as Float64Array).fill(0);
      }
    }
    if (token < 0) x.fill(0, 0, e);
    else {
      const emb = this.w.embedding;
      const off = token * e;
      for (let k = 0; k < e; k++) x[k] = emb[off + k] as number;
    }
    let inDim = e;
    const z = this.z;
    const g4 = 4 * u;
    for (let l = 0; l < this.w.layers.length; l++) {
      const { kernel, recurrent, bias } = this.w.layers[
        l
      ] as DecodedWeights['layers'][number];
      const h = state.h[l] as Float64Array;
      const c = state.c[l] as Float64Array;
      for (let j = 0; j < g4; j++) z[j] = bias[j] as number;
      for (let k = 0; k < inDim; k++) {
        const xk = x[k] as number;
        if (xk === 0) continue;
        const row = k * g4;
        for (let j = 0; j < g4; j++)
          z[j] = (z[j] as number) + xk * (kernel[row + j] as number);
      }
      for (let k = 0; k < u; k++) {
        const hk = h[k] as number;
        if (hk === 0) continue;
        const row = k * g4;
        for (let j = 0; j < g4; j++)
          z[j] = (z[j] as number) + hk * (recurrent[row + j] as number);
      }
      for (let j = 0; j < u; j++) {
        const i = sigmoid(z[j] as number);
        const f = sigmoid(z[u + j] as number);
        const g = Math.tanh(z[2 * u + j] as number);
        const o = sigmoid(z[3 * u + j] as number);
        const cj = f * (c[j] as number) + i * g;
        c[j] = cj;
        h[j] = o * Math.tanh(cj);
      }
      for (let j = 0; j < u; j++) x[j] = h[j] as number;
      inDim = u;
    }
    const v = this.outputs;
    const ok = this.w.outputKernel;
    const ob = this.w.outputBias;
    for (let j = 0; j < v; j++) logits[j] = ob[j] as number;
    for (let k = 0; k < u; k++) {
      const xk = x[k] as number;
      const row = k * v;
      for (let j = 0; j < v; j++)
        logits[j] = (logits[j] as number) + xk * (ok[row + j] as number);
    }
  }
}

function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/** Softmax of `logits / temperature` into `out` (may be the same array). */
export function softmax(
  logits: Float64Array,
  out: Float64Array,
  temperature = 1,
): void {
  let max = -Infinity;
  for (let j = 0; j < logits.length; j++)
    if ((logits[j] as number) > max) max = logits[j] as number;
  let sum = 0;
  for (let j = 0; j < logits.length; j++) {
    const p = Math.exp(((logits[j] as number) - max) / temperature);
    out[j] = p;
    sum += p;
  }
  for (let j = 0; j < out.length; j++) out[j] = (out[j] as number) / sum;
}

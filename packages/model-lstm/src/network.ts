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
  private readonly units: number;
  /** Per input token (0…V, then V + 1 for unknown): bias + embedding row × first-layer kernel. */
  private readonly inputGates: Float64Array;
  private readonly layers: {
    kernel: Float64Array;
    recurrent: Float64Array;
    bias: Float64Array;
  }[];
  private readonly outputKernel: Float64Array;
  private readonly outputBias: Float64Array;
  private readonly z: Float64Array;
  private readonly input: Float64Array;

  constructor(
    weights: DecodedWeights,
    shape: { vocabularySize: number; embeddingSize: number; units: number },
  ) {
    const u = shape.units;
    const e = shape.embeddingSize;
    const g4 = 4 * u;
    this.vocabularySize = shape.vocabularySize;
    this.outputs = shape.vocabularySize + 1;
    this.units = u;
    // Matrices are stored transposed ([out, in]) so each output is a contiguous dot product.
    this.layers = weights.layers.map((l, i) => ({
      kernel: transpose(l.kernel, i === 0 ? e : u, g4),
      recurrent: transpose(l.recurrent, u, g4),
      bias: Float64Array.from(l.bias),
    }));
    this.outputKernel = transpose(weights.outputKernel, u, this.outputs);
    this.outputBias = Float64Array.from(weights.outputBias);
    this.z = new Float64Array(g4);
    this.input = new Float64Array(u);
    // The first layer's input term depends only on the token: precompute it once per token, in
    // the order step() would sum it (bias, then embedding × kernel).
    const first = this.layers[0];
    const tokens = this.outputs + 1;
    this.inputGates = new Float64Array(tokens * g4);
    if (!first) return;
    for (let t = 0; t < tokens; t++) {
      const off = t * g4;
      this.inputGates.set(first.bias, off);
      if (t === this.outputs) continue; // unknown template: zero embedding
      const emb = weights.embedding.subarray(t * e, (t + 1) * e);
      for (let j = 0; j < g4; j++) {
        let acc = this.inputGates[off + j] as number;
        const col = j * e;
        for (let k = 0; k < e; k++)
          acc += (emb[k] as number) * (first.kernel[col + k] as number);
        this.inputGates[off + j] = acc;
      }
    }
  }

  /** A zero state (the state before a session's START token). */
  initialState(): LstmRunState {
    const layers = this.layers.length;
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
    const g4 = 4 * u;
    const x = this.input;
    const z = this.z;
    if (token === BOUNDARY) {
      for (let l = 0; l < state.h.length; l++) {
        (state.h[l] as Float64Array).fill(0);
        (state.c[l] as Float64Array).fill(0);
      }
    }
    const row0 = (token < 0 ? this.outputs : token) * g4;
    for (let l = 0; l < this.layers.length; l++) {
      const { kernel, recurrent, bias } = this.layers[l] as {
        kernel: Float64Array;
        recurrent: Float64Array;
        bias: Float64Array;
      };
      const h = state.h[l] as Float64Array;
      const c = state.c[l] as Float64Array;
      for (let j = 0; j < g4; j++) {
        let acc: number;
        if (l === 0) acc = this.inputGates[row0 + j] as number;
        else {
          acc = bias[j] as number;
          const col = j * u;
          for (let k = 0; k < u; k++)
            acc += (x[k] as number) * (kernel[col + k] as number);
        }
        const col = j * u;
        for (let k = 0; k < u; k++)
          acc += (h[k] as number) * (recurrent[col + k] as number);
        z[j] = acc;
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
      x.set(h);
    }
    const v = this.outputs;
    const ok = this.outputKernel;
    const ob = this.outputBias;
    for (let j = 0; j < v; j++) {
      let acc = ob[j] as number;
      const col = j * u;
      for (let k = 0; k < u; k++)
        acc += (x[k] as number) * (ok[col + k] as number);
      logits[j] = acc;
    }
  }
}

/** [rows, cols] row-major → [cols, rows] row-major, as float64. */
function transpose(m: Float32Array, rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++)
      out[c * rows + r] = m[r * cols + c] as number;
  return out;
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

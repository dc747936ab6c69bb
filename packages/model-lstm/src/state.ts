import { z } from 'zod';

/** One weight tensor: float32 values, little-endian, base64-encoded. */
export const LstmWeight = z.object({
  name: z.string(),
  shape: z.array(z.number().int().nonnegative()),
  dtype: z.literal('float32'),
  data: z.string(),
});
/** One weight tensor of an {@link LstmState}. */
export type LstmWeight = z.infer<typeof LstmWeight>;

/** Network shape and sampling settings stored with the weights. */
export const LstmConfig = z.object({
  embeddingSize: z.number().int().min(1),
  units: z.number().int().min(1),
  layers: z.number().int().min(1),
  windowLength: z.number().int().min(1),
  temperature: z.number().positive(),
});
/** Network shape and sampling settings of an {@link LstmState}. */
export type LstmConfig = z.infer<typeof LstmConfig>;

/** What training did (for reports; not needed to sample). */
export const LstmTrainingSummary = z.object({
  backend: z.string(),
  epochs: z.number().int().nonnegative(),
  bestEpoch: z.number().int().nonnegative(),
  loss: z.number(),
  valLoss: z.number().optional(),
  trainSessions: z.number().int().nonnegative(),
  trainTokens: z.number().int().nonnegative(),
  validationSessions: z.number().int().nonnegative(),
});
/** Training summary of an {@link LstmState}. */
export type LstmTrainingSummary = z.infer<typeof LstmTrainingSummary>;

/**
 * Fitted state of the `lstm` model: plain JSON (structured-clone-safe).
 * Token 0 is the session boundary (START as input, END as output); token `i + 1` is
 * `vocabulary[i]`.
 */
export const LstmState = z.object({
  stateVersion: z.literal(1),
  vocabulary: z.array(z.string()),
  config: LstmConfig,
  /**
   * In order: `embedding` [V+1, E]; per layer l `lstm_l/kernel` [in, 4U], `lstm_l/recurrent_kernel`
   * [U, 4U], `lstm_l/bias` [4U] (gate order i, f, g, o); `output/kernel` [U, V+1], `output/bias` [V+1].
   */
  weights: z.array(LstmWeight),
  /** Longest training session, bounds sampled sessions that never draw END. */
  maxLength: z.number().int().nonnegative(),
  training: LstmTrainingSummary,
});
/** Fitted state of the `lstm` model. */
export type LstmState = z.infer<typeof LstmState>;

/** Encodes float32 values as base64 (little-endian bytes). */
export function encodeFloat32(values: Float32Array): string {
  const bytes = Buffer.from(
    values.buffer,
    values.byteOffset,
    values.byteLength,
  );
  if (isLittleEndian) return bytes.toString('base64');
  const copy = Buffer.from(bytes);
  copy.swap32();
  return copy.toString('base64');
}

/** Decodes base64 little-endian float32 values; `expected` checks the element count. */
export function decodeFloat32(data: string, expected: number): Float32Array {
  const bytes = Buffer.from(data, 'base64');
  if (bytes.length !== expected * 4)
    throw new RangeError(
      `holds ${bytes.length} bytes where ${expected * 4} were expected`,
    );
  const out = new Float32Array(expected);
  const view = new Uint8Array(out.buffer);
  view.set(bytes);
  if (!isLittleEndian) Buffer.from(out.buffer).swap32();
  return out;
}

const isLittleEndian =
  new Uint8Array(new Uint32Array([0x01020304]).buffer)[0] === 0x04;

/** The weight names and shapes a state of this vocabulary size and config must hold, in order. */
export function expectedWeightShapes(
  vocabularySize: number,
  config: Pick<LstmConfig, 'embeddingSize' | 'units' | 'layers'>,
): { name: string; shape: number[] }[] {
  const v = vocabularySize + 1;
  const { embeddingSize: e, units: u, layers } = config;
  const out = [{ name: 'embedding', shape: [v, e] }];
  for (let l = 0; l < layers; l++) {
    out.push(
      { name: `lstm_${l}/kernel`, shape: [l === 0 ? e : u, 4 * u] },
      { name: `lstm_${l}/recurrent_kernel`, shape: [u, 4 * u] },
      { name: `lstm_${l}/bias`, shape: [4 * u] },
    );
  }
  out.push(
    { name: 'output/kernel', shape: [u, v] },
    { name: 'output/bias', shape: [v] },
  );
  return out;
}

/** Decoded weights, in {@link expectedWeightShapes} order. */
export interface DecodedWeights {
  embedding: Float32Array;
  layers: {
    kernel: Float32Array;
    recurrent: Float32Array;
    bias: Float32Array;
  }[];
  outputKernel: Float32Array;
  outputBias: Float32Array;
}

/**
 * Checks the weights against the vocabulary and config and decodes them.
 * @throws RangeError naming the first weight that does not fit.
 */
export function decodeWeights(state: LstmState): DecodedWeights {
  const expected = expectedWeightShapes(state.vocabulary.length, state.config);
  if (state.weights.length !== expected.length)
    throw new RangeError(
      `The state holds ${state.weights.length} weight tensors where its config needs ${expected.length}.`,
    );
  const arrays = expected.map((exp, i) => {
    const w = state.weights[i] as LstmWeight;
    if (
      w.name !== exp.name ||
      w.shape.length !== exp.shape.length ||
      w.shape.some((d, j) => d !== exp.shape[j])
    )
      throw new RangeError(
        `Weight ${i} is \`${w.name}\` [${w.shape.join(', ')}] where \`${exp.name}\` [${exp.shape.join(', ')}] was expected.`,
      );
    const size = exp.shape.reduce((a, b) => a * b, 1);
    try {
      return decodeFloat32(w.data, size);
    } catch (err) {
      throw new RangeError(`Weight \`${w.name}\` ${(err as Error).message}.`);
    }
  });
  const layers: DecodedWeights['layers'] = [];
  for (let l = 0; l < state.config.layers; l++) {
    layers.push({
      kernel: arrays[1 + 3 * l] as Float32Array,
      recurrent: arrays[2 + 3 * l] as Float32Array,
      bias: arrays[3 + 3 * l] as Float32Array,
    });
  }
  return {
    embedding: arrays[0] as Float32Array,
    layers,
    outputKernel: arrays[arrays.length - 2] as Float32Array,
    outputBias: arrays[arrays.length - 1] as Float32Array,
  };
}

import { z } from 'zod';

/** Options of the `lstm` sequence model (validated by the host before `fit`). */
export const LstmOptions = z.object({
  /** Width of the embedding (a bias-free dense layer over the one-hot template id). */
  embeddingSize: z.number().int().min(1).max(1024).default(32),
  /** Hidden units per LSTM layer. */
  units: z.number().int().min(1).max(1024).default(64),
  /** Stacked LSTM layers. */
  layers: z.number().int().min(1).max(4).default(1),
  /** Maximum passes over the training sessions. */
  epochs: z.number().int().min(1).max(10000).default(20),
  /** Parallel token streams per training step. */
  batchSize: z.number().int().min(1).max(4096).default(32),
  /** Adam learning rate. */
  learningRate: z.number().positive().max(1).default(0.005),
  /**
   * Truncated back-propagation window (time steps per training step). The recurrent state is
   * carried across windows, so context longer than the window still reaches the prediction; only
   * gradients stop at the window.
   */
  windowLength: z.number().int().min(1).max(1000).default(20),
  /** Share of sessions held out to measure validation loss (0 = none). */
  validationSplit: z.number().min(0).max(0.5).default(0.1),
  /**
   * Early stopping: stop after this many epochs without a better validation loss (training loss
   * when there is no validation set) and keep the best weights. 0 turns early stopping off.
   */
  patience: z.number().int().min(0).default(3),
  /** Sampling temperature: below 1 sharpens, above 1 flattens the next-template distribution. */
  temperature: z.number().positive().max(100).default(1),
  /** Seed for weight initialisation and shuffling; default: derived from the fit context's rng. */
  seed: z.union([z.number().int(), z.string()]).optional(),
  /** Gradients are rescaled when their global L2 norm exceeds this. */
  clipNorm: z.number().positive().default(5),
  /**
   * Upper bound on tokens held for training; larger inputs are down-sampled by session
   * (seeded), which keeps memory bounded.
   */
  maxTrainingTokens: z.number().int().positive().default(2_000_000),
  /** TensorFlow.js backend used for training. Sampling and prediction are pure JavaScript. */
  backend: z.enum(['wasm', 'cpu']).default('wasm'),
});
/** Validated options of the `lstm` model. */
export type LstmOptions = z.infer<typeof LstmOptions>;

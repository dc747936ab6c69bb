/**
 * `@stb/model-lstm`: an LSTM sequence model for SQL Trace Bench, a separately installable model
 * package built on the public plugin API of `@stb/models`. Load it with
 * `stb learn -m lstm --model-package @stb/model-lstm`, or `loadModelPackage(registry, '@stb/model-lstm')`.
 * @packageDocumentation
 */
import { lstmModel } from './lstm-model';

export { lstmModel } from './lstm-model';

/**
 * The package's plugin export, imported by `loadModelPackage` (`@stb/models`): the `lstm`
 * sequence model (same object as {@link lstmModel}).
 */
export const plugin = lstmModel;

/** Options of the `lstm` model (zod schema and validated type). */
export { LstmOptions } from './options';

/** The fitted state of the `lstm` model (zod schema and type), with its parts. */
export {
  LstmState,
  LstmConfig,
  LstmWeight,
  LstmTrainingSummary,
} from './state';

import { StbError } from '@stb/core';
import type { TraceEvent } from '@stb/core';
import type { ModelArtifact } from './artifact';
import type { FitWorkloadModelOptions } from './workload-types';

/**
 * Fits a workload model: one streaming pass over `events()` learns the parameter and arrival
 * models; the sequence model then reads sessions through a source that calls `events()` again
 * (once per pass it needs).
 */
export async function fitWorkloadModel(
  _events: () => AsyncIterable<TraceEvent>,
  _options: FitWorkloadModelOptions,
): Promise<ModelArtifact> {
  await Promise.resolve();
  throw new StbError('STB_INTERNAL', '[stb] [models] Not implemented yet.');
}

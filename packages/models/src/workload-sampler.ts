import { StbError } from '@stb/core';
import type { ModelArtifact } from './artifact';
import type {
  CreateWorkloadSamplerOptions,
  WorkloadSampler,
} from './workload-types';

/** Creates the sampler the generator draws sessions, parameters and timing from. */
export function createWorkloadSampler(
  _artifact: ModelArtifact,
  _options: CreateWorkloadSamplerOptions,
): WorkloadSampler {
  throw new StbError('STB_INTERNAL', '[stb] [models] Not implemented yet.');
}

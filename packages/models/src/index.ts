/**
 * `@stb/models`: the sequence-model plugin interface and registry, the built-in `markov` and
 * `hmm` models, parameter and arrival models, and versioned model artifacts.
 * @packageDocumentation
 */

/** Sequence-model plugin API. */
export {
  START_TOKEN,
  END_TOKEN,
  defineSequenceModel,
  isSequenceModel,
} from './sequence-model';
export type {
  SessionSequence,
  ModelFitProgress,
  ModelFitContext,
  SamplerContext,
  SequenceSampler,
  SequencePredictor,
  SequenceModel,
  AnySequenceModel,
} from './sequence-model';

/** Registry and run-time loading of model packages. */
export {
  KNOWN_MODEL_PACKAGES,
  builtinModels,
  createModelRegistry,
  loadModelPackage,
} from './registry';
export type { ModelRegistry, LoadModelPackageOptions } from './registry';

/** Built-in models. */
export { markovModel, MarkovOptions, MarkovState } from './models/markov';
export { hmmModel, HmmOptions, HmmState, decodeHmmStates } from './models/hmm';

/** Artifacts. */
export {
  MODEL_ARTIFACT_FORMAT_VERSION,
  ModelArtifact,
  ModelSourceSummary,
  parseModelArtifact,
  readModelArtifact,
  writeModelArtifact,
} from './artifact';
export type {
  ReadModelArtifactOptions,
  WriteModelArtifactOptions,
} from './artifact';
export {
  ParameterModelState,
  ArrivalModelState,
  SessionModelState,
  SessionClassState,
  UnitProcessState,
  ThinkTimeCouplingState,
  SlotModelState,
  KllSketchState,
} from './state-schemas';

/** Merging the artifacts of a sharded fit. */
export { mergeModelArtifacts } from './merge-artifacts';
export type { MergeModelArtifactsOptions } from './merge-artifacts';

/** Fitting and sampling whole workloads. */
export { fitWorkloadModel } from './fit-workload';
export { createWorkloadSampler } from './workload-sampler';
export type { ThinkTimeCoupling } from './internal/coupling';
export type {
  PrivacyOptions,
  FitWorkloadModelOptions,
  SessionParamState,
  SessionArrivalProfile,
  SessionClassSampler,
  WorkloadSampler,
  CreateWorkloadSamplerOptions,
} from './workload-types';

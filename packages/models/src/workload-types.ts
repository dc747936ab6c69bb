import type {
  ConnAttributes,
  ParamValue,
  QueryTemplate,
  Rng,
  TemplateCatalog,
  TraceHeader,
} from '@stb/core';
import type { ModelArtifact } from './artifact';
import type { ThinkTimeCoupling } from './internal/coupling';
import type { ModelRegistry } from './registry';
import type {
  AnySequenceModel,
  ModelFitProgress,
  SequenceSampler,
} from './sequence-model';

/** Privacy of generated values (see docs/models.md "Privacy"). */
export interface PrivacyOptions {
  /**
   * `default` (the default): a string, JSON, UUID, date or other non-numeric literal seen in
   * fewer than `minSessions` distinct sessions is neither stored in the artifact nor emitted;
   * values of its slot are synthesised in its format instead. Numbers keep their distribution
   * (sketches), booleans and nulls their shares. `strict`: also numbers only as quantile curves,
   * and no value of any type from fewer sessions. `keep-literals`: copy source values (the
   * behaviour before privacy was the default; the artifact then holds source literals).
   */
  mode?: 'default' | 'strict' | 'keep-literals';
  /** @deprecated Use `mode: 'strict'`. True means `strict` when `mode` is not given. */
  enabled?: boolean;
  /** Distinct sessions a literal must occur in to be kept verbatim (k, default 5). */
  minSessions?: number;
}

/** Options of `fitWorkloadModel`. */
export interface FitWorkloadModelOptions {
  /** The templates of the trace (its template records). */
  catalog: TemplateCatalog | readonly QueryTemplate[];
  /** The trace's header (dialect, source files). */
  header: TraceHeader;
  /** The sequence model plugin to fit. */
  model: AnySequenceModel;
  /** Options for the sequence model, validated with its zod schema. */
  modelOptions?: unknown;
  /** Package that provides `model`, recorded in the artifact so readers can load it. */
  modelPackage?: string;
  /** Seed of the fit's RNG (default 0). */
  seed?: number;
  privacy?: PrivacyOptions;
  /**
   * A session with no event for this long (trace time, µs) is closed and counted as ended
   * (default 30 minutes). Bounds memory when session ids never end.
   */
  sessionIdleUs?: number;
  /** Longer sessions are split into pieces of this many statements (default 100 000). */
  maxSessionEvents?: number;
  /**
   * Memory budget of the sequence cache, in symbols (one per statement plus one per session, 4
   * bytes each; default 4 000 000 ≈ 16 MB). While every session's template sequence fits, the
   * sequence model's passes replay them from memory; otherwise every pass re-reads `events()`.
   * 0 always re-reads.
   */
  sequenceCacheSymbols?: number;
  /** Session-start bucket width, µs (default: chosen so the trace spans at most 1440 buckets, at least 1 s). */
  bucketUs?: number;
  /** Creation time written to the artifact (default now), for reproducible files. */
  createdAt?: string;
  /**
   * Fit one shard of the sessions: those whose id hashes to `index` (FNV-1a of the session id,
   * mod `count`, as `stb bench --shard` picks). Every shard still reads every event, so session
   * roles and arrival buckets use the whole capture; the artifact records `shard` and is meant
   * for `mergeModelArtifacts` (docs/scaling.md).
   */
  shard?: { index: number; count: number };
  /**
   * Whether a pool's transactions may be learned as dispatched from one class-wide schedule
   * (docs/models.md "Dispatched units"): `auto` (default) decides from the data; `off` keeps
   * per-connection think times. A sharded fit learns the units one fit learns (the shard that
   * owns a class's first session fits them over all of the class's connections); every shard must
   * use the same mode (it is recorded in `shard.fit`).
   */
  unitDispatch?: 'auto' | 'off';
  signal?: AbortSignal;
  onProgress?(p: ModelFitProgress): void;
}

/**
 * Per-session memory of the parameter sampler: the last value of every (template, slot), so later
 * statements can reuse them (pgbench's `aid` in SELECT after UPDATE). Create with
 * `WorkloadSampler.newSession`, one per generated session.
 */
export interface SessionParamState {
  /** Last value per `<templateId>#<slot>`. */
  readonly lastValues: Map<string, ParamValue>;
}

/** The learned session-arrival process: a rate per time bucket, tiled over time. */
export interface SessionArrivalProfile {
  /** Width of a bucket, µs. */
  readonly bucketUs: number;
  /** Session arrivals per second in each bucket of the source. */
  readonly sessionArrivalRate: readonly number[];
  /** Length of the profile, µs (buckets × bucketUs); offsets beyond it tile the profile. */
  readonly periodUs: number;
  /** Epoch µs of the source's first session start. */
  readonly originUs: number;
  /** Mean session arrivals per second over the profile. */
  readonly meanRatePerSecond: number;
  /**
   * Offset (µs from the origin) of the next session start after `currentOffsetUs`, drawn from a
   * non-homogeneous Poisson process with the learned rates (cycling the profile). The first call
   * may pass 0 (or a negative number to allow a start at offset 0).
   */
  nextSessionOffsetUs(currentOffsetUs: number, rng: Rng): number;
}

/**
 * One session class of the session model (docs/models.md "Session model"): its own sequence
 * model, pooled connections, initial sessions, arrivals, lengths, think times and durations.
 */
export interface SessionClassSampler {
  readonly id: number;
  readonly label: string;
  /** Template-id sequences of this class's sessions. */
  readonly sequence: SequenceSampler;
  /** Pooled connections: open from their offset to the end of the run. */
  readonly poolCount: number;
  /** Offset of a pooled connection's first statement from the run's start, µs. */
  poolOffsetUs(rng: Rng): number;
  /** Sessions already open when the capture began (generated once). */
  readonly initialCount: number;
  /** Offset of an initial session's first statement, µs. */
  initialOffsetUs(rng: Rng): number;
  /** Width of an arrival bucket, µs. */
  readonly arrivalBucketUs: number;
  /** Sessions starting in each bucket of one period (tiled for longer runs). */
  readonly arrivalCounts: readonly number[];
  /**
   * The capture's span (µs) the counts were taken over: the last bucket holds the arrivals of
   * only its first `span + 1 − (buckets − 1) × width` µs. Absent: every bucket is whole.
   */
  readonly arrivalSpanUs?: number | undefined;
  /**
   * The connection attributes of a new session of this class (user, database, application name),
   * drawn by the class's counts; undefined when the source named none. Draws from `rng` only when
   * the class has several.
   */
  connection(rng: Rng): ConnAttributes | undefined;
  /** Statements of a session that ends (initial and arriving sessions), ≥ 1. */
  sessionLength(rng: Rng): number;
  thinkTimeUs(
    prevTemplateId: string | undefined,
    nextTemplateId: string,
    rng: Rng,
  ): number;
  durationUs(templateId: string, rng: Rng): number | undefined;
  /**
   * For a class whose pooled connections' units of work are dispatched (docs/models.md
   * "Dispatched units"): the gap from one unit start of the class to the next, µs, before scale,
   * at probability `u` ∈ [0, 1] of its distribution (the inverse CDF, so callers may stratify).
   * Undefined for classes whose connections keep their own think times.
   */
  readonly unitGapUs: ((u: number) => number) | undefined;
  /**
   * With `unitGapUs`, when the class's rate varied over the capture: its unit starts per bucket
   * from the capture start, and the mean of the gaps (the rate the schedule runs at past the
   * capture). The generator maps its schedule through it (docs/models.md "Dispatched units").
   */
  readonly unitProfile?: {
    readonly bucketUs: number;
    readonly counts: readonly number[];
    readonly meanGapUs: number;
  };
}

/** What the generator draws from: sequence, parameters, timing. Deterministic given the rngs. */
export interface WorkloadSampler {
  readonly artifact: ModelArtifact;
  /** Templates by id. */
  readonly templates: ReadonlyMap<string, QueryTemplate>;
  /** Template-id sequences per session. */
  readonly sequence: SequenceSampler;
  /** Fresh per-session parameter memory. */
  newSession(rng: Rng): SessionParamState;
  /** Parameter values of one statement; records them in `session` for later reuse. */
  params(
    templateId: string,
    session: SessionParamState,
    rng: Rng,
    eventStartUs: number,
  ): ParamValue[];
  /**
   * Time from the end of the previous statement (its start + duration, or its start when the
   * source had no durations) to the start of `nextTemplateId`, µs. 0 for the first statement.
   */
  thinkTimeUs(
    prevTemplateId: string | undefined,
    nextTemplateId: string,
    rng: Rng,
  ): number;
  /** A statement duration for the template, µs, or undefined when the source had none. */
  durationUs(templateId: string, rng: Rng): number | undefined;
  /** Session arrivals. */
  readonly sessionStarts: SessionArrivalProfile;
  /** Statements per session, learned from the source (for models that do not end sessions themselves). */
  sessionLength(rng: Rng): number;
  /** True when the sequence model ends sessions itself (all built-ins do). */
  readonly endsSessions: boolean;
  /** Session classes (at least one). */
  readonly classes: readonly SessionClassSampler[];
  /**
   * How sessions' think times move together (docs/models.md "Think-time coupling"); undefined
   * when the source showed none or the artifact predates it.
   */
  readonly coupling: ThinkTimeCoupling | undefined;
}

/** Options of `createWorkloadSampler`. */
export interface CreateWorkloadSamplerOptions {
  /** Registry holding the artifact's model kind. */
  registry: ModelRegistry;
}

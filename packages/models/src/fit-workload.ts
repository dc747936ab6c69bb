import type { QueryTemplate, TraceEvent } from '@stb/core';
import { StbError, createRng, isStbError, parsePluginOptions } from '@stb/core';
import type { ModelArtifact } from './artifact';
import { MODEL_ARTIFACT_FORMAT_VERSION } from './artifact';
import { throwIfAborted } from './internal/abort';
import { boundaryTable } from './internal/boundaries';
import { fitClassTimings } from './internal/class-timings';
import { COUPLING_COARSEST_CLOCK_US } from './internal/coupling';
import { DEQUANTIZE_FROM_US, dequantize } from './internal/dequantize';
import { FirstPass } from './internal/first-pass';
import type { PrivacySettings } from './internal/param-fit';
import { SlotFitter } from './internal/param-fit';
import type {
  SessionClassing,
  SessionProfiles,
} from './internal/session-classes';
import {
  ClassStats,
  arrivalBucketUs,
  classConns,
  classifySessions,
  connLabel,
} from './internal/session-classes';
import type { TrackedSession } from './internal/sessions';
import { SessionTracker } from './internal/sessions';
import { checkShard, shardOwner } from './merge-artifacts';
import type { ModelFitProgress, SessionSequence } from './sequence-model';
import type {
  ArrivalModelState,
  ParameterModelState,
  SessionClassState,
  SessionModelState,
  SlotModelState,
  UnitProcessState,
} from './state-schemas';
import type { FitWorkloadModelOptions } from './workload-types';

const DEFAULT_IDLE_US = 30 * 60 * 1_000_000;
const DEFAULT_MAX_SESSION_EVENTS = 100_000;
const DEFAULT_MIN_SESSIONS = 5;
const DEFAULT_SEQUENCE_CACHE_SYMBOLS = 4_000_000;

interface SequenceSession extends TrackedSession {
  templates: string[];
  mine: boolean;
}

/**
 * Streams sessions' template sequences out of an event stream (the sequence model's `source`).
 * Holds only open sessions.
 */
export async function* sessionSequences(
  events: AsyncIterable<TraceEvent>,
  options: {
    idleUs: number;
    maxEvents: number;
    signal?: AbortSignal | undefined;
    /** Only these sessions (a shard's); the others are tracked so sessions close as in a full pass. */
    owns?: ((sessionId: string) => boolean) | undefined;
  },
): AsyncGenerator<SessionSequence> {
  const ready: SessionSequence[] = [];
  const owns = options.owns;
  const tracker = new SessionTracker<SequenceSession>(
    options,
    (id, ordinal, first) => ({
      id,
      ordinal,
      events: 0,
      lastUs: first.startUs,
      templates: [],
      mine: owns ? owns(id) : true,
    }),
    (s) => {
      if (s.mine) ready.push({ sessionId: s.id, templates: s.templates });
    },
  );
  let n = 0;
  for await (const e of events) {
    if ((++n & 1023) === 0) throwIfAborted(options.signal, 'Fitting');
    const s = tracker.push(e);
    if (s.mine) s.templates.push(e.templateId);
    while (ready.length > 0) yield ready.shift() as SessionSequence;
  }
  tracker.finish();
  while (ready.length > 0) yield ready.shift() as SessionSequence;
}

/**
 * Fits a workload model: one streaming pass over `events()` learns the parameter and arrival
 * models (memory grows with templates, slots and sketch sizes, not with events); the sequence
 * model then reads sessions through a source that calls `events()` again for every pass it needs.
 * @throws StbError `STB_MODEL_EMPTY_INPUT` without events, `STB_TRACE_UNKNOWN_TEMPLATE` for an
 * event whose template is not in the catalog, `STB_PLUGIN_OPTIONS_INVALID`, `STB_MODEL_FIT_FAILED`
 * when the sequence model fails, `STB_ABORTED`.
 * @example
 * const artifact = await fitWorkloadModel(() => readEvents('trace.stb.jsonl'), {
 *   catalog: templates, header, model: createModelRegistry().get('markov'), modelOptions: { order: 2 }, seed: 1,
 * });
 */
export async function fitWorkloadModel(
  input: () => AsyncIterable<TraceEvent>,
  options: FitWorkloadModelOptions,
): Promise<ModelArtifact> {
  const fit = fitSettings(input, options);
  const { signal, onProgress, trackerOptions, owns } = fit;

  // Pass 1: parameters, arrivals, counts, and the sessions' template sequences while they fit
  // the sequence cache.
  const pass = new FirstPass(fit.templates, {
    bucketUs: options.bucketUs,
    sequenceCacheSymbols:
      options.sequenceCacheSymbols ?? DEFAULT_SEQUENCE_CACHE_SYMBOLS,
    trackerOptions,
    minSessions: fit.privacy.minSessions,
    owns,
    signal,
    onProgress,
  });
  await pass.read(fit.events());
  if (pass.eventCount === 0) {
    throw new StbError(
      'STB_MODEL_EMPTY_INPUT',
      fit.shard && pass.seen > 0
        ? `[stb] [models] Shard ${fit.shard.index}/${fit.shard.count} has no sessions (sessions go to shards by a hash of their id). Use fewer shards.`
        : '[stb] [models] The trace has no events, so there is nothing to fit. Check the input and its filters.',
    );
  }
  onProgress?.({
    phase: 'read',
    step: pass.eventCount,
    total: pass.eventCount,
  });

  // Pass 2+: the sequence model, fed from the sequence cache when every session fitted in it,
  // else by re-reading the events for every pass.
  const countOf = (t: QueryTemplate): number =>
    pass.counts[pass.index.get(t.id) as number] as number;
  const used = fit.templates.filter((t) => countOf(t) > 0);
  const rng = createRng(options.seed ?? 0).derive('sequence');
  const source = pass.buffer.overflow
    ? () => sessionSequences(fit.events(), { ...trackerOptions, signal, owns })
    : () => pass.buffer.replay(pass.ids, signal);
  const state = await fitSequenceModel(fit, { source, rng, used });

  // Session classes, their sequence models, timings and dispatched units.
  const sessions = await fitSessionModel(fit, pass, {
    source,
    rng,
    used,
    global: state,
  });

  const parameters: ParameterModelState = { stateVersion: 1, templates: {} };
  for (const t of used) {
    const slotFitters = pass.fitters[pass.index.get(t.id) as number] ?? [];
    const out: SlotModelState[] = [];
    for (let i = 0; i < slotFitters.length; i++) {
      const f = slotFitters[i] ?? new SlotFitter(fit.privacy.minSessions);
      out.push(f.toState(fit.privacy, pass.sourceNames));
    }
    parameters.templates[t.id] = out;
  }

  const artifact: ModelArtifact = {
    format: 'stb-model',
    formatVersion: MODEL_ARTIFACT_FORMAT_VERSION,
    kind: fit.model.name,
    createdAt: options.createdAt ?? new Date().toISOString(),
    dialect: options.header.dialect,
    source: {
      events: pass.eventCount,
      sessions: pass.sessionCount,
      templates: used.length,
      startUs: pass.startUs,
      endUs: pass.endUs,
    },
    templates: used.map((t) => ({ ...t, count: countOf(t) })),
    sequence: { options: fit.modelOptions, state },
    parameters,
    arrival: pass.arrival.toState(),
    sessions,
    privacy: fit.privacy,
  };
  // How sessions' think times move together: kept while any pair was seen (shards' sums add
  // up before the coupling is decided), not on a clock too coarse to time think times
  if (
    options.header.timeResolutionUs <= COUPLING_COARSEST_CLOCK_US &&
    pass.coupling.pairs.some((n) => n > 0)
  )
    artifact.sessions.coupling = pass.coupling.toState();
  if (options.modelPackage !== undefined)
    artifact.modelPackage = options.modelPackage;
  const files = options.header.source.files;
  if (files) artifact.source.files = [...files];
  if (fit.shard)
    artifact.shard = {
      index: fit.shard.index,
      count: fit.shard.count,
      fit: {
        sessionIdleUs: trackerOptions.idleUs,
        maxSessionEvents: trackerOptions.maxEvents,
        bucketUs: options.bucketUs ?? null,
        seed: options.seed ?? 0,
        unitDispatch: fit.dispatch ? 'auto' : 'off',
      },
    };
  return artifact;
}

/** The options of a fit, checked and with their defaults. */
interface FitSettings {
  model: FitWorkloadModelOptions['model'];
  modelOptions: unknown;
  signal: AbortSignal | undefined;
  onProgress: ((p: ModelFitProgress) => void) | undefined;
  resolutionUs: number;
  /** The events of every pass (coarse timestamps spread over their tick). */
  events: () => AsyncIterable<TraceEvent>;
  templates: QueryTemplate[];
  privacy: PrivacySettings;
  trackerOptions: { idleUs: number; maxEvents: number };
  shard: ReturnType<typeof checkShard>;
  owns: ((sessionId: string) => boolean) | undefined;
  bucketUs: number | undefined;
  /** Dispatched units are learned (`unitDispatch` is not `off`). */
  dispatch: boolean;
}

/**
 * Checks the options (model options, privacy, shard, in that order) and resolves their defaults.
 * @throws StbError `STB_PLUGIN_OPTIONS_INVALID`, `STB_OPTIONS_INVALID`.
 */
function fitSettings(
  input: () => AsyncIterable<TraceEvent>,
  options: FitWorkloadModelOptions,
): FitSettings {
  const { model, signal } = options;
  const resolutionUs = options.header.timeResolutionUs;
  // Coarse timestamps: every pass sees each tick's statements spread over the tick.
  const events =
    resolutionUs >= DEQUANTIZE_FROM_US
      ? () => dequantize(input(), resolutionUs)
      : input;
  const onProgress = options.onProgress
    ? (p: ModelFitProgress): void => options.onProgress?.(p)
    : undefined;
  const modelOptions: unknown = parsePluginOptions(model, options.modelOptions);
  const templates = [...options.catalog];
  const mode =
    options.privacy?.mode ??
    (options.privacy?.enabled === true ? 'strict' : 'default');
  const minSessions = options.privacy?.minSessions ?? DEFAULT_MIN_SESSIONS;
  if (!Number.isInteger(minSessions) || minSessions < 1)
    throw new StbError(
      'STB_OPTIONS_INVALID',
      `[stb] [models] \`privacy.minSessions\` must be a positive integer, got ${String(minSessions)}. Pass k ≥ 1.`,
    );
  const privacy: PrivacySettings = {
    enabled: mode === 'strict',
    minSessions,
    mode,
  };
  const trackerOptions = {
    idleUs: options.sessionIdleUs ?? DEFAULT_IDLE_US,
    maxEvents: options.maxSessionEvents ?? DEFAULT_MAX_SESSION_EVENTS,
  };
  const shard = checkShard(options, { model, privacy });
  return {
    model,
    modelOptions,
    signal,
    onProgress,
    resolutionUs,
    events,
    templates,
    privacy,
    trackerOptions,
    shard,
    owns: shard ? shardOwner(shard) : undefined,
    bucketUs: options.bucketUs,
    dispatch: options.unitDispatch !== 'off',
  };
}

/**
 * The global sequence model over every session of the shard.
 * @throws StbError `STB_MODEL_FIT_FAILED` when the model fails (its own coded errors pass through).
 */
async function fitSequenceModel(
  fit: FitSettings,
  o: {
    source: () => AsyncIterable<SessionSequence>;
    rng: ReturnType<typeof createRng>;
    used: QueryTemplate[];
  },
): Promise<unknown> {
  try {
    return await fit.model.fit(o.source, fit.modelOptions, {
      rng: o.rng,
      templates: o.used,
      signal: fit.signal,
      onProgress: fit.onProgress,
    });
  } catch (err) {
    if (isStbError(err)) throw err;
    throw new StbError(
      'STB_MODEL_FIT_FAILED',
      `[stb] [model:${fit.model.name}] Fitting failed: ${err instanceof Error ? err.message : String(err)}. Check the model options.`,
      { cause: err },
    );
  }
}

/**
 * The session model: the sessions' classes (from the first pass's profiles), a sequence model per
 * class, and, in a second pass when needed, per-class timings and the dispatched units.
 */
async function fitSessionModel(
  fit: FitSettings,
  pass: FirstPass,
  o: {
    source: () => AsyncIterable<SessionSequence>;
    rng: ReturnType<typeof createRng>;
    used: QueryTemplate[];
    /** The global sequence model's state (a single class's). */
    global: unknown;
  },
): Promise<SessionModelState> {
  const { capture, bounds, closeOfOrdinal } = pass;
  const { resolutionUs } = fit;
  // Template-mix aliasing needs every session's mix: a shard takes it from its record of every
  // session, so its groups are keyed as one fit's.
  const alias = capture?.aliases();
  const connKeys = pass.connKeys.keys;
  const classing = classifySessions(
    pass.profiles,
    resolutionUs,
    alias
      ? { bounds, keepAllGroups: true, alias, connKeys }
      : { mixes: pass.mixes, connKeys },
  );
  const classSequences = await fitClassSequences(classing, {
    model: fit.model,
    modelOptions: fit.modelOptions,
    rng: o.rng,
    used: o.used,
    signal: fit.signal,
    global: o.global,
    source: (i) => {
      const all = o.source();
      return (async function* () {
        let k = 0;
        for await (const s of all) if (classing.classOf[k++] === i) yield s;
      })();
    },
  });
  // Dispatched units are decided per class of the whole capture: a shard forms those classes from
  // its record of every session, and learns the units of the classes whose first session it owns.
  const unitClassing = !fit.dispatch
    ? undefined
    : capture && alias
      ? capture.classify(resolutionUs, bounds, { alias, connKeys })
      : classing;
  const learnUnits = !unitClassing
    ? []
    : capture
      ? capture.unitOwners(unitClassing)
      : unitClassing.classes.map((c) => c.pool && c.sessions >= 2);
  const pooled = learnUnits.some(Boolean);
  const second =
    classing.classes.length > 1 || pooled
      ? await fitClassTimings(fit.events, classing, {
          trackerOptions: fit.trackerOptions,
          closeOfOrdinal,
          bucketUs: fit.bucketUs,
          signal: fit.signal,
          timings: classing.classes.length > 1,
          units:
            unitClassing && pooled
              ? {
                  classing: unitClassing,
                  closeOf: capture
                    ? (ordinal) => capture.closeOf(ordinal)
                    : (ordinal) => closeOfOrdinal.get(ordinal),
                  learn: learnUnits,
                }
              : undefined,
          boundaryOf: boundaryTable(fit.templates),
          resolutionUs,
          owns: fit.owns,
        })
      : { timings: [], units: [] };
  const sessions = buildSessionModel(pass.profiles, classing, {
    resolutionUs,
    templateIds: pass.ids,
    classSequences,
    classTimings:
      second.timings.length > 0 ? second.timings : [pass.arrival.toState()],
    classUnits:
      capture && unitClassing
        ? capture.onOwnClasses(unitClassing, classing, second.units)
        : second.units,
    minConnSessions: fit.privacy.enabled ? fit.privacy.minSessions : 1,
  });
  if (fit.shard)
    sessions.classes.forEach((c, i) => {
      // the global close index of the class's first session: the merge orders classes by it
      c.firstClose = pass.firstCloseOf.get(
        classing.classes[i]?.firstMember as number,
      );
    });
  return sessions;
}

/** Fits the sequence model once per class (the global state serves a single class). */
async function fitClassSequences(
  classing: SessionClassing,
  o: {
    model: FitWorkloadModelOptions['model'];
    modelOptions: unknown;
    rng: ReturnType<typeof createRng>;
    used: QueryTemplate[];
    signal: AbortSignal | undefined;
    global: unknown;
    source: (classIndex: number) => AsyncIterable<SessionSequence>;
  },
): Promise<unknown[]> {
  if (classing.classes.length <= 1) return [o.global];
  const out: unknown[] = [];
  for (let i = 0; i < classing.classes.length; i++) {
    try {
      out.push(
        await o.model.fit(() => o.source(i), o.modelOptions, {
          rng: o.rng.derive(`class:${i}`),
          templates: o.used,
          signal: o.signal,
        }),
      );
    } catch (err) {
      if (isStbError(err)) throw err;
      throw new StbError(
        'STB_MODEL_FIT_FAILED',
        `[stb] [model:${o.model.name}] Fitting session class ${i} failed: ${err instanceof Error ? err.message : String(err)}. Check the model options.`,
        { cause: err },
      );
    }
  }
  return out;
}

/** The artifact's session model from the profiles and classes. */
function buildSessionModel(
  profiles: SessionProfiles,
  classing: SessionClassing,
  o: {
    resolutionUs: number;
    templateIds: readonly string[];
    classSequences: unknown[];
    classTimings: ArrivalModelState[];
    classUnits: (UnitProcessState | undefined)[];
    /** Connection attributes named by fewer sessions are left out (strict privacy: k). */
    minConnSessions: number;
  },
): SessionModelState {
  const bucketUs = arrivalBucketUs(classing.spanUs, o.resolutionUs);
  const buckets = Math.max(1, Math.ceil((classing.spanUs + 1) / bucketUs));
  const stats = classing.classes.map(() => new ClassStats(bucketUs, buckets));
  let busyUs = 0;
  for (let i = 0; i < profiles.size; i++) {
    (stats[classing.classOf[i] as number] as ClassStats).add(profiles, i, {
      role: classing.roleOf[i] as number,
      originUs: classing.captureStartUs,
    });
    busyUs += Math.max(
      0,
      (profiles.lastEndUs[i] as number) - (profiles.firstUs[i] as number),
    );
  }
  const span = classing.captureEndUs - classing.captureStartUs;
  const classes: SessionClassState[] = classing.classes.map((c, i) => {
    const st = stats[i] as ClassStats;
    const dominant = o.templateIds[c.dominant] ?? '';
    const timing: ArrivalModelState =
      o.classTimings[i] ?? (o.classTimings[0] as ArrivalModelState);
    const kind = c.pool ? 'pooled connections' : 'sessions';
    const units = o.classUnits[i];
    const conns = classConns(c.conns, o.minConnSessions);
    return {
      id: i,
      label: `${kind}${connLabel(conns)}, mostly ${dominant.slice(0, 8)}`,
      dominantTemplate: dominant,
      sessions: c.sessions,
      statements: c.statements,
      ...(conns ? { conns } : {}),
      pool: { count: st.poolCount, offsetUs: st.poolOffsets.toState() },
      initial: {
        count: st.initialCount,
        offsetUs: st.initialOffsets.toState(),
      },
      arrivals: { bucketUs, counts: st.counts },
      ...(units ? { units } : {}),
      length: st.length.toState(),
      lengthUs: st.lengthUs.toState(),
      sequence: o.classSequences[i] ?? o.classSequences[0],
      timing: {
        ...timing,
        originUs: classing.captureStartUs,
        bucketUs,
        sessionStarts: st.counts,
        spanUs: Math.max(0, classing.spanUs),
        sessionLength: st.length.toState(),
      },
    };
  });
  return {
    stateVersion: 1,
    captureStartUs: classing.captureStartUs,
    captureEndUs: classing.captureEndUs,
    timeResolutionUs: o.resolutionUs,
    meanConcurrency: span > 0 ? busyUs / span : profiles.size > 0 ? 1 : 0,
    classes,
  };
}

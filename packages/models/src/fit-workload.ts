import type { QueryTemplate, TraceEvent } from '@stb/core';
import {
  StbError,
  createRng,
  hash32,
  isStbError,
  parsePluginOptions,
  templateFacts,
} from '@stb/core';
import type { ModelArtifact } from './artifact';
import { MODEL_ARTIFACT_FORMAT_VERSION } from './artifact';
import { ArrivalFitter } from './internal/arrival';
import { throwIfAborted } from './internal/abort';
import { DEQUANTIZE_FROM_US, dequantize } from './internal/dequantize';
import type { PrivacySettings } from './internal/param-fit';
import { SlotFitter } from './internal/param-fit';
import { SequenceBuffer } from './internal/sequence-buffer';
import type {
  CaptureBounds,
  SessionClassing,
} from './internal/session-classes';
import {
  ClassStats,
  DominantMixes,
  SessionProfiles,
  SessionRole,
  TemplateTally,
  arrivalBucketUs,
  classifySessions,
} from './internal/session-classes';
import { SessionValues, valuePrimitive } from './internal/session-values';
import type { TrackedSession } from './internal/sessions';
import { SessionTracker } from './internal/sessions';
import { CaptureSessions } from './internal/unit-shards';
import { UnitFitter } from './internal/units';
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
const PROGRESS_EVERY = 65_536;

interface FitSession extends TrackedSession {
  /** A number identifying the session id (pieces of a split session share it), for distinct-session counts. */
  key: number;
  /** Arrival index of the previous template (-1: none yet). */
  prevTemplate: number;
  prevEndUs: number;
  /** Current value of every reuse source (`<template>#<slot>` as an index), created on first use. */
  values: SessionValues | undefined;
  /** Template indices so far, while the sequence buffer has room. */
  seq: number[] | undefined;
  firstUs: number;
  lastStartUs: number;
  maxGapUs: number;
  tally: TemplateTally;
  /** False for another shard's session (a sharded fit tracks it only for the capture's bounds). */
  mine: boolean;
}

interface SequenceSession extends TrackedSession {
  templates: string[];
  mine: boolean;
}

/** A 52-bit number for a session id: pieces of one session count as one session. */
function sessionKey(id: string): number {
  return hash32(id) * 1048576 + (hash32(`#${id}`) >>> 12);
}

function templateList(options: FitWorkloadModelOptions): QueryTemplate[] {
  return [...options.catalog];
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
// Long function: the fit's passes in their order (pass 1 over the events, the sequence model,
// classes, units, the artifact) over shared interned template tables; each pass's work is in
// internal/ helpers.
export async function fitWorkloadModel(
  input: () => AsyncIterable<TraceEvent>,
  options: FitWorkloadModelOptions,
): Promise<ModelArtifact> {
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
  const templates = templateList(options);
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
  const owns = shard ? shardOwner(shard) : undefined;

  // Pass 1: parameters, arrivals, counts, and the sessions' template sequences while they fit
  // the sequence cache. Templates and reuse sources are interned to small integers.
  const index = new Map<string, number>();
  templates.forEach((t, i) => {
    if (!index.has(t.id)) index.set(t.id, i);
  });
  const ids = templates.map((t) => t.id);
  const counts = new Float64Array(templates.length);
  const arrival = new ArrivalFitter(options.bucketUs);
  const arrivalIndex = new Int32Array(templates.length).fill(-1);
  const fitters: (SlotFitter[] | undefined)[] = [];
  /** Per template index: reuse source index per slot. */
  const sourceIds: (number[] | undefined)[] = [];
  /** Reuse source names, `<templateId>#<slot>`. */
  const sourceNames: string[] = [];
  const buffer = new SequenceBuffer(
    options.sequenceCacheSymbols ?? DEFAULT_SEQUENCE_CACHE_SYMBOLS,
  );
  let eventCount = 0;
  let seen = 0;
  let sessionCount = 0;
  /** Sessions closed so far, every shard's (a sharded fit's global close index). */
  let closed = 0;
  const firstCloseOf = new OrdinalMap();
  const bounds: CaptureBounds = {
    startUs: Infinity,
    lastStartUs: -Infinity,
    endUs: -Infinity,
  };
  const profiles = new SessionProfiles();
  const mixes = new DominantMixes();
  /** A shard's record of every session of the capture (template-mix aliases, dispatched units). */
  const capture = shard ? new CaptureSessions() : undefined;
  const closeOfOrdinal = new OrdinalMap();
  let finishing = false;
  let startUs = Infinity;
  let endUs = -Infinity;
  const tracker = new SessionTracker<FitSession>(
    trackerOptions,
    (id, ordinal, first) => ({
      id,
      ordinal,
      key: sessionKey(id),
      events: 0,
      lastUs: first.startUs,
      prevTemplate: -1,
      prevEndUs: first.startUs,
      values: undefined,
      seq: buffer.overflow || (owns && !owns(id)) ? undefined : [],
      firstUs: first.startUs,
      lastStartUs: first.startUs,
      maxGapUs: 0,
      tally: new TemplateTally(),
      mine: owns ? owns(id) : true,
    }),
    (s) => {
      const closeIndex = closed++;
      if (s.firstUs < bounds.startUs) bounds.startUs = s.firstUs;
      if (s.lastStartUs > bounds.lastStartUs)
        bounds.lastStartUs = s.lastStartUs;
      if (s.prevEndUs > bounds.endUs) bounds.endUs = s.prevEndUs;
      const summary = {
        firstUs: s.firstUs,
        lastStartUs: s.lastStartUs,
        lastEndUs: s.prevEndUs,
        events: s.events,
        maxGapUs: s.maxGapUs,
        dominant: s.tally.dominant,
      };
      if (!s.mine) {
        capture?.add(summary, s.tally, {
          ordinal: s.ordinal,
          openAtEnd: finishing,
          own: -1,
        });
        return;
      }
      sessionCount++;
      arrival.sessionEnd(s.events);
      mixes.add(s.tally);
      if (s.seq) buffer.add(s.id, s.seq);
      const profileIndex = profiles.add(summary, finishing);
      closeOfOrdinal.set(s.ordinal, profileIndex);
      firstCloseOf.set(profileIndex, closeIndex);
      capture?.add(summary, s.tally, {
        ordinal: s.ordinal,
        openAtEnd: finishing,
        own: profileIndex,
      });
    },
  );
  for await (const e of events()) {
    if ((seen & 1023) === 0) throwIfAborted(signal, 'Fitting');
    seen++;
    const ti = index.get(e.templateId);
    if (ti === undefined) {
      throw new StbError(
        'STB_TRACE_UNKNOWN_TEMPLATE',
        `[stb] [models] Event ${seen} uses template \`${e.templateId}\`, which is not in the catalog. Pass the trace's template records as \`catalog\`.`,
        { details: { templateId: e.templateId, event: seen } },
      );
    }
    // a shard buckets arrivals from the capture's first session start, as one fit does
    if (owns) arrival.originUs ??= e.startUs;
    const session = tracker.push(e);
    if (!session.mine) {
      // another shard's session: what the capture's bounds and its profile need (its role and
      // dominant template, for the capture-wide classes: CaptureSessions)
      if (!tracker.lastIsNew) {
        const gap = e.startUs - session.lastStartUs;
        if (gap > session.maxGapUs) session.maxGapUs = gap;
      }
      if (e.startUs > session.lastStartUs) session.lastStartUs = e.startUs;
      session.prevEndUs = e.startUs + (e.durationUs ?? 0);
      session.tally.add(ti);
      continue;
    }
    eventCount++;
    counts[ti] = (counts[ti] as number) + 1;
    if (e.startUs < startUs) startUs = e.startUs;
    if (e.startUs > endUs) endUs = e.startUs;
    if (tracker.lastIsNew) arrival.sessionStart(e.startUs);
    let ai = arrivalIndex[ti] as number;
    if (ai < 0) arrivalIndex[ti] = ai = arrival.templateIndex(e.templateId);
    arrival.eventAt(e, ai, session);
    session.prevTemplate = ai;
    session.prevEndUs = e.startUs + (e.durationUs ?? 0);
    if (!tracker.lastIsNew) {
      const gap = e.startUs - session.lastStartUs;
      if (gap > session.maxGapUs) session.maxGapUs = gap;
    }
    if (e.startUs > session.lastStartUs) session.lastStartUs = e.startUs;
    session.tally.add(ti);
    if (session.seq) {
      if (buffer.overflow) session.seq = undefined;
      else session.seq.push(ti);
    }

    const params = e.params;
    if (params.length === 0) continue;
    const slotFitters = (fitters[ti] ??= []);
    const sources = (sourceIds[ti] ??= []);
    for (let i = 0; i < params.length; i++) {
      const p = params[i];
      if (p === undefined) continue;
      let f = slotFitters[i];
      if (!f) slotFitters[i] = f = new SlotFitter(privacy.minSessions);
      f.add(p, e.startUs, session.key);
      const v = valuePrimitive(p);
      if (v === undefined) continue;
      let source = sources[i];
      if (source === undefined) {
        sources[i] = source = sourceNames.length;
        sourceNames.push(`${e.templateId}#${i}`);
      }
      // Several sources may hold the value (pgbench's tid and bid can both be 2): credit the one
      // that matched most often so far (ties: the most recent), so coincidences do not dilute it.
      const values = (session.values ??= new SessionValues());
      const credit = values.creditFor(p.t, v, f);
      if (credit >= 0) f.addReuse(credit);
      values.set(source, p.t, v);
    }
    if (onProgress && eventCount % PROGRESS_EVERY === 0)
      onProgress({ phase: 'read', step: eventCount });
  }
  finishing = true;
  tracker.finish();
  if (eventCount === 0) {
    throw new StbError(
      'STB_MODEL_EMPTY_INPUT',
      shard && seen > 0
        ? `[stb] [models] Shard ${shard.index}/${shard.count} has no sessions (sessions go to shards by a hash of their id). Use fewer shards.`
        : '[stb] [models] The trace has no events, so there is nothing to fit. Check the input and its filters.',
    );
  }
  onProgress?.({ phase: 'read', step: eventCount, total: eventCount });

  // Pass 2+: the sequence model, fed from the sequence cache when every session fitted in it,
  // else by re-reading the events for every pass.
  const countOf = (t: QueryTemplate): number =>
    counts[index.get(t.id) as number] as number;
  const used = templates.filter((t) => countOf(t) > 0);
  const rng = createRng(options.seed ?? 0).derive('sequence');
  const source = buffer.overflow
    ? () => sessionSequences(events(), { ...trackerOptions, signal, owns })
    : () => buffer.replay(ids, signal);
  let state: unknown;
  try {
    state = await model.fit(source, modelOptions, {
      rng,
      templates: used,
      signal,
      onProgress,
    });
  } catch (err) {
    if (isStbError(err)) throw err;
    throw new StbError(
      'STB_MODEL_FIT_FAILED',
      `[stb] [model:${model.name}] Fitting failed: ${err instanceof Error ? err.message : String(err)}. Check the model options.`,
      { cause: err },
    );
  }

  // Template-mix aliasing needs every session's mix: a shard takes it from its record of every
  // session, so its groups are keyed as one fit's.
  const alias = capture?.aliases();
  const classing = classifySessions(
    profiles,
    resolutionUs,
    alias ? { bounds, keepAllGroups: true, alias } : { mixes },
  );
  const classSequences = await fitClassSequences(classing, {
    model,
    modelOptions,
    rng,
    used,
    signal,
    global: state,
    source: (i) => {
      const all = source();
      return (async function* () {
        let k = 0;
        for await (const s of all) if (classing.classOf[k++] === i) yield s;
      })();
    },
  });
  // Dispatched units are decided per class of the whole capture: a shard forms those classes from
  // its record of every session, and learns the units of the classes whose first session it owns.
  const dispatch = options.unitDispatch !== 'off';
  const unitClassing = !dispatch
    ? undefined
    : capture && alias
      ? capture.classify(resolutionUs, bounds, alias)
      : classing;
  const learnUnits = !unitClassing
    ? []
    : capture
      ? capture.unitOwners(unitClassing)
      : unitClassing.classes.map((c) => c.pool && c.sessions >= 2);
  const pooled = learnUnits.some(Boolean);
  const second =
    classing.classes.length > 1 || pooled
      ? await fitClassTimings(events, classing, {
          trackerOptions,
          closeOfOrdinal,
          bucketUs: options.bucketUs,
          signal,
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
          boundaryOf: boundaryTable(templates),
          resolutionUs,
          owns,
        })
      : { timings: [], units: [] };
  const sessions = buildSessionModel(profiles, classing, {
    resolutionUs,
    templateIds: ids,
    classSequences,
    classTimings:
      second.timings.length > 0 ? second.timings : [arrival.toState()],
    classUnits:
      capture && unitClassing
        ? capture.onOwnClasses(unitClassing, classing, second.units)
        : second.units,
  });
  if (shard)
    sessions.classes.forEach((c, i) => {
      // the global close index of the class's first session: the merge orders classes by it
      c.firstClose = firstCloseOf.get(
        classing.classes[i]?.firstMember as number,
      );
    });

  const parameters: ParameterModelState = { stateVersion: 1, templates: {} };
  for (const t of used) {
    const slotFitters = fitters[index.get(t.id) as number] ?? [];
    const out: SlotModelState[] = [];
    for (let i = 0; i < slotFitters.length; i++) {
      const f = slotFitters[i] ?? new SlotFitter(privacy.minSessions);
      out.push(f.toState(privacy, sourceNames));
    }
    parameters.templates[t.id] = out;
  }

  const artifact: ModelArtifact = {
    format: 'stb-model',
    formatVersion: MODEL_ARTIFACT_FORMAT_VERSION,
    kind: model.name,
    createdAt: options.createdAt ?? new Date().toISOString(),
    dialect: options.header.dialect,
    source: {
      events: eventCount,
      sessions: sessionCount,
      templates: used.length,
      startUs,
      endUs,
    },
    templates: used.map((t) => ({ ...t, count: countOf(t) })),
    sequence: { options: modelOptions, state },
    parameters,
    arrival: arrival.toState(),
    sessions,
    privacy,
  };
  if (options.modelPackage !== undefined)
    artifact.modelPackage = options.modelPackage;
  const files = options.header.source.files;
  if (files) artifact.source.files = [...files];
  if (shard)
    artifact.shard = {
      index: shard.index,
      count: shard.count,
      fit: {
        sessionIdleUs: trackerOptions.idleUs,
        maxSessionEvents: trackerOptions.maxEvents,
        bucketUs: options.bucketUs ?? null,
        seed: options.seed ?? 0,
        unitDispatch: dispatch ? 'auto' : 'off',
      },
    };
  return artifact;
}

/** Session ordinal → close index, in a growable typed array. */
class OrdinalMap {
  #a = new Int32Array(1024);

  set(ordinal: number, value: number): void {
    while (ordinal >= this.#a.length) {
      const b = new Int32Array(this.#a.length * 2);
      b.set(this.#a);
      this.#a = b;
    }
    this.#a[ordinal] = value;
  }

  get(ordinal: number): number {
    return this.#a[ordinal] as number;
  }
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

interface TimingSession {
  id: string;
  ordinal: number;
  events: number;
  lastUs: number;
  prevTemplate: number;
  prevEndUs: number;
  /** Undefined for another shard's session. */
  fitter: ArrivalFitter | undefined;
  /** The unit fitter of the session's class when it is one of the class's pooled connections. */
  units: UnitFitter | undefined;
  inTxn: boolean;
  lastUnitUs: number;
}

/** Transaction boundary per template id: 1 begin, 2 end (core's template facts). */
function boundaryTable(
  templates: readonly QueryTemplate[],
): Map<string, number> {
  const out = new Map<string, number>();
  for (const t of templates) {
    const b = templateFacts(t).boundary;
    if (b === 'begin' || b === 'end') out.set(t.id, b === 'begin' ? 1 : 2);
  }
  return out;
}

/**
 * Second pass over the events, once the first has seen the capture's end (a session's class and
 * role are known only then): think times and durations per class when there are several classes,
 * and each class's unit process over its pooled connections.
 */
async function fitClassTimings(
  events: () => AsyncIterable<TraceEvent>,
  classing: SessionClassing,
  o: {
    trackerOptions: { idleUs: number; maxEvents: number };
    closeOfOrdinal: OrdinalMap;
    bucketUs: number | undefined;
    signal: AbortSignal | undefined;
    timings: boolean;
    /**
     * Learn unit processes: the classes of the whole capture (`classing`, by `closeOf` a session
     * ordinal) whose `learn` is set, each over all of its pooled connections (any shard's).
     */
    units:
      | {
          classing: SessionClassing;
          closeOf: (ordinal: number) => number;
          learn: readonly boolean[];
        }
      | undefined;
    boundaryOf: ReadonlyMap<string, number>;
    resolutionUs: number;
    owns: ((sessionId: string) => boolean) | undefined;
  },
): Promise<{
  timings: ArrivalModelState[];
  units: (UnitProcessState | undefined)[];
}> {
  const fitters = classing.classes.map(() => new ArrivalFitter(o.bucketUs));
  const u = o.units;
  const units = (u?.classing.classes ?? []).map((_, i) =>
    u?.learn[i] === true
      ? new UnitFitter(
          u.classing.captureStartUs,
          u.classing.captureEndUs - u.classing.captureStartUs,
        )
      : undefined,
  );
  const tracker = new SessionTracker<TimingSession>(
    o.trackerOptions,
    (id, ordinal, first) => {
      const close = o.closeOfOrdinal.get(ordinal);
      const ci = classing.classOf[close] as number;
      const mine = !o.owns || o.owns(id);
      const unitClose = u?.closeOf(ordinal) ?? -1;
      return {
        id,
        ordinal,
        events: 0,
        lastUs: first.startUs,
        prevTemplate: -1,
        prevEndUs: first.startUs,
        fitter: mine ? fitters[ci] : undefined,
        units:
          u && u.classing.roleOf[unitClose] === SessionRole.Pool
            ? units[u.classing.classOf[unitClose] as number]
            : undefined,
        inTxn: false,
        lastUnitUs: NaN,
      };
    },
    () => undefined,
  );
  let n = 0;
  for await (const e of events()) {
    if ((n++ & 1023) === 0) throwIfAborted(o.signal, 'Fitting');
    const s = tracker.push(e);
    s.units?.event(s, e.startUs, o.boundaryOf.get(e.templateId) ?? 0);
    if (!o.timings || !s.fitter) continue;
    if (tracker.lastIsNew) s.fitter.sessionStart(e.startUs);
    const ai = s.fitter.templateIndex(e.templateId);
    s.fitter.eventAt(e, ai, s);
    s.prevTemplate = ai;
    s.prevEndUs = e.startUs + (e.durationUs ?? 0);
  }
  tracker.finish();
  return {
    timings: o.timings ? fitters.map((f) => f.toState()) : [],
    units: units.map((f, i) =>
      u
        ? f?.toState({
            endUs: u.classing.captureEndUs,
            resolutionUs: o.resolutionUs,
            connections: (u.classing.classes[i] as { sessions: number })
              .sessions,
          })
        : undefined,
    ),
  };
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
    return {
      id: i,
      label: `${kind}, mostly ${dominant.slice(0, 8)}`,
      dominantTemplate: dominant,
      sessions: c.sessions,
      statements: c.statements,
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

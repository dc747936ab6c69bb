import type { QueryTemplate, TraceEvent } from '@stb/core';
import { StbError, createRng, isStbError, parsePluginOptions } from '@stb/core';
import type { ModelArtifact } from './artifact';
import { MODEL_ARTIFACT_FORMAT_VERSION } from './artifact';
import { ArrivalFitter } from './internal/arrival';
import { throwIfAborted } from './internal/abort';
import type { PrivacySettings } from './internal/param-fit';
import { SlotFitter } from './internal/param-fit';
import type { TrackedSession } from './internal/sessions';
import { SessionTracker } from './internal/sessions';
import { valueKey } from './internal/value-key';
import type { ModelFitProgress, SessionSequence } from './sequence-model';
import type { ParameterModelState, SlotModelState } from './state-schemas';
import type { FitWorkloadModelOptions } from './workload-types';

const DEFAULT_IDLE_US = 30 * 60 * 1_000_000;
const DEFAULT_MAX_SESSION_EVENTS = 100_000;
const DEFAULT_MIN_SESSIONS = 5;
const PROGRESS_EVERY = 65_536;

interface FitSession extends TrackedSession {
  prevTemplate: string | undefined;
  prevEndUs: number;
  /** Current value key per `<template>#<slot>`. */
  values: Map<string, string>;
  /** Sources currently holding a value key, least recent first. */
  holders: Map<string, Set<string>>;
}

interface SequenceSession extends TrackedSession {
  templates: string[];
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
  },
): AsyncGenerator<SessionSequence> {
  const ready: SessionSequence[] = [];
  const tracker = new SessionTracker<SequenceSession>(
    options,
    (id, ordinal, first) => ({
      id,
      ordinal,
      events: 0,
      lastUs: first.startUs,
      templates: [],
    }),
    (s) => ready.push({ sessionId: s.id, templates: s.templates }),
  );
  let n = 0;
  for await (const e of events) {
    if ((++n & 1023) === 0) throwIfAborted(options.signal, 'Fitting');
    tracker.push(e).session.templates.push(e.templateId);
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
  events: () => AsyncIterable<TraceEvent>,
  options: FitWorkloadModelOptions,
): Promise<ModelArtifact> {
  const { model, signal } = options;
  const onProgress = options.onProgress
    ? (p: ModelFitProgress): void => options.onProgress?.(p)
    : undefined;
  const modelOptions: unknown = parsePluginOptions(model, options.modelOptions);
  const templates = templateList(options);
  const byId = new Map(templates.map((t) => [t.id, t]));
  const privacy: PrivacySettings = {
    enabled: options.privacy?.enabled ?? false,
    minSessions: options.privacy?.minSessions ?? DEFAULT_MIN_SESSIONS,
  };
  const trackerOptions = {
    idleUs: options.sessionIdleUs ?? DEFAULT_IDLE_US,
    maxEvents: options.maxSessionEvents ?? DEFAULT_MAX_SESSION_EVENTS,
  };

  // Pass 1: parameters, arrivals, counts.
  const slots = new Map<string, { fitters: SlotFitter[]; keys: string[] }>();
  const counts = new Map<string, number>();
  const arrival = new ArrivalFitter(options.bucketUs);
  let eventCount = 0;
  let sessionCount = 0;
  let startUs = Infinity;
  let endUs = -Infinity;
  const tracker = new SessionTracker<FitSession>(
    trackerOptions,
    (id, ordinal, first) => ({
      id,
      ordinal,
      events: 0,
      lastUs: first.startUs,
      prevTemplate: undefined,
      prevEndUs: first.startUs,
      values: new Map(),
      holders: new Map(),
    }),
    (s) => {
      sessionCount++;
      arrival.sessionEnd(s.events);
    },
  );
  for await (const e of events()) {
    if ((eventCount & 1023) === 0) throwIfAborted(signal, 'Fitting');
    eventCount++;
    if (!byId.has(e.templateId)) {
      throw new StbError(
        'STB_TRACE_UNKNOWN_TEMPLATE',
        `[stb] [models] Event ${eventCount} uses template \`${e.templateId}\`, which is not in the catalog. Pass the trace's template records as \`catalog\`.`,
        { details: { templateId: e.templateId, event: eventCount } },
      );
    }
    counts.set(e.templateId, (counts.get(e.templateId) ?? 0) + 1);
    if (e.startUs < startUs) startUs = e.startUs;
    if (e.startUs > endUs) endUs = e.startUs;
    const { session, isNew } = tracker.push(e);
    if (isNew) arrival.sessionStart(e.startUs);
    arrival.event(
      e,
      session.prevTemplate === undefined
        ? undefined
        : { templateId: session.prevTemplate, endUs: session.prevEndUs },
    );
    session.prevTemplate = e.templateId;
    session.prevEndUs = e.startUs + (e.durationUs ?? 0);

    let entry = slots.get(e.templateId);
    if (!entry) slots.set(e.templateId, (entry = { fitters: [], keys: [] }));
    const { fitters, keys } = entry;
    for (let i = 0; i < e.params.length; i++) {
      const p = e.params[i];
      if (p === undefined) continue;
      let f = fitters[i];
      if (!f) fitters[i] = f = new SlotFitter(privacy.minSessions);
      f.add(p, e.startUs, session.ordinal);
      if (p.t === 'null' || p.t === 'bool') continue;
      const key = valueKey(p);
      const source = (keys[i] ??= `${e.templateId}#${i}`);
      const holders = session.holders.get(key);
      if (holders) {
        // Several sources may hold the value (pgbench's tid and bid can both be 2): credit the one
        // that matched most often so far (ties: the most recent), so coincidences do not dilute it.
        let best: string | undefined =
          f.bestReuse !== undefined && holders.has(f.bestReuse)
            ? f.bestReuse
            : undefined;
        let bestCount = best === undefined ? -1 : Infinity;
        if (best === undefined)
          for (const src of holders) {
            const c = f.reuse.get(src) ?? 0;
            if (c >= bestCount) {
              best = src;
              bestCount = c;
            }
          }
        if (best !== undefined) f.addReuse(best);
      }
      const old = session.values.get(source);
      if (old !== undefined && old !== key) {
        const set = session.holders.get(old);
        set?.delete(source);
        if (set?.size === 0) session.holders.delete(old);
      }
      session.values.set(source, key);
      let set = session.holders.get(key);
      if (!set) session.holders.set(key, (set = new Set()));
      set.delete(source);
      set.add(source);
    }
    if (onProgress && eventCount % PROGRESS_EVERY === 0)
      onProgress({ phase: 'read', step: eventCount });
  }
  tracker.finish();
  if (eventCount === 0) {
    throw new StbError(
      'STB_MODEL_EMPTY_INPUT',
      '[stb] [models] The trace has no events, so there is nothing to fit. Check the input and its filters.',
    );
  }
  onProgress?.({ phase: 'read', step: eventCount, total: eventCount });

  // Pass 2+: the sequence model.
  const used = templates.filter((t) => counts.has(t.id));
  const rng = createRng(options.seed ?? 0).derive('sequence');
  let state: unknown;
  try {
    state = await model.fit(
      () => sessionSequences(events(), { ...trackerOptions, signal }),
      modelOptions,
      { rng, templates: used, signal, onProgress },
    );
  } catch (err) {
    if (isStbError(err)) throw err;
    throw new StbError(
      'STB_MODEL_FIT_FAILED',
      `[stb] [model:${model.name}] Fitting failed: ${err instanceof Error ? err.message : String(err)}. Check the model options.`,
      { cause: err },
    );
  }

  const parameters: ParameterModelState = { stateVersion: 1, templates: {} };
  for (const t of used) {
    const fitters = slots.get(t.id)?.fitters ?? [];
    const out: SlotModelState[] = [];
    for (let i = 0; i < fitters.length; i++) {
      const f = fitters[i] ?? new SlotFitter(privacy.minSessions);
      out.push(f.toState(privacy));
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
    templates: used.map((t) => ({ ...t, count: counts.get(t.id) ?? 0 })),
    sequence: { options: modelOptions, state },
    parameters,
    arrival: arrival.toState(),
    privacy,
  };
  if (options.modelPackage !== undefined)
    artifact.modelPackage = options.modelPackage;
  const files = options.header.source.files;
  if (files) artifact.source.files = [...files];
  return artifact;
}

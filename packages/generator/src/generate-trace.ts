import { createHash } from 'node:crypto';
import { StbError, createTraceHeader, withTemplateRecords } from '@stb/core';
import type {
  QueryTemplate,
  TraceEvent,
  TraceHeader,
  TraceRecord,
} from '@stb/core';
import type { ModelArtifact, ModelRegistry } from '@stb/models';
import { makePlan } from './internal/plan';
import type { Counters, RunHooks } from './internal/run';
import { runEvents } from './internal/run';
import type { RenderSqlOptions } from './render-sql';

/** Progress of a generation, reported about every 16 k events and at the end. */
export interface GenerateProgress {
  /** Events emitted so far. */
  events: number;
  /** Sessions started so far. */
  sessions: number;
  /** Simulated time covered so far, µs from the first event. */
  simulatedUs: number;
  /** Fraction done in [0, 1], when the stop condition makes it known. */
  fraction?: number;
}

/** Options of {@link generateTrace}. */
export interface GenerateTraceOptions {
  /** Seed of every random draw; same artifact + options + seed → byte-identical output. */
  seed: number;
  /** Stop after this many events (default 1000 when no stop condition is given). */
  count?: number;
  /** Start this many sessions, then let them finish. */
  sessions?: number;
  /** Stop at this much simulated time after the first event, µs. */
  durationUs?: number;
  /**
   * Session multiplier (default 1): `scale: 10` starts ten times as many concurrent sessions,
   * each with the original rhythm. It does not speed time up.
   */
  scale?: number;
  /**
   * Time multiplier (default 1) for session inter-arrival gaps and think times: 0.5 halves them (a
   * denser workload of the same sessions), 2 stretches them. Statement durations are not scaled
   * (they describe the server).
   */
  timeScale?: number;
  /** Epoch µs of the first event (default: the source trace's first event). */
  startUs?: number;
  /** Add executable SQL (`sql`) to every event: true for the artifact's dialect, or options. */
  render?: boolean | RenderSqlOptions;
  /**
   * Leave no transaction open (default true): a session that ends inside a transaction gets a
   * closing COMMIT, and a `count` stop ends the open transactions *before* the count is reached
   * (no new transaction starts when the remaining budget is needed to close the open ones), so the
   * trace has exactly `count` events.
   */
  closeTransactions?: boolean;
  /**
   * With `closeTransactions`: stop at `count` model events and append the closing COMMITs after
   * them, beyond `count` (the behaviour before the session model; default false).
   */
  appendClosers?: boolean;
  /** Generate only sessions whose index ≡ `index` (mod `count`); shards merge to a full run. */
  shard?: { index: number; count: number };
  /** Prefix of generated session ids (default `s`): ids are `<prefix><session index>`. */
  sessionIdPrefix?: string;
  /** Registry holding the artifact's model kind (default: the built-in models). */
  registry?: ModelRegistry;
  /** `createdAt` of the header (default: the artifact's `createdAt`, for reproducible files). */
  createdAt?: string;
  signal?: AbortSignal;
  onProgress?: (p: GenerateProgress) => void;
}

/** What a generation produced (final once the records are exhausted). */
export interface GenerateSummary {
  /** Events emitted, closing COMMITs included. */
  events: number;
  /** Closing COMMITs appended for transactions open when the run stopped or a session ended. */
  closingEvents: number;
  /** Sessions started (in this shard). */
  sessions: number;
  /** Distinct templates used. */
  templates: number;
  /** Epoch µs of the first and last event start (undefined when no event). */
  firstStartUs: number | undefined;
  lastStartUs: number | undefined;
  /** Why the run ended. */
  stoppedBy: 'count' | 'sessions' | 'duration' | 'exhausted';
}

/** The record stream of {@link generateTrace}, with its summary. */
export interface GeneratedTrace extends AsyncGenerator<TraceRecord> {
  /** The header the stream starts with. */
  readonly header: TraceHeader;
  /** Counts so far (final after the stream ended). */
  summary(): GenerateSummary;
}

/** Events between two progress reports (a multiple of the loop's abort-check interval). */
const PROGRESS_EVERY = 16384;

/** SHA-256 (first 16 hex digits) of the artifact's JSON: identifies the model a trace came from. */
export function artifactHash(artifact: ModelArtifact): string {
  return createHash('sha256')
    .update(JSON.stringify(artifact))
    .digest('hex')
    .slice(0, 16);
}

/** The event stream of {@link generateEvents}, with what a writer needs around it. */
export interface GeneratedEvents extends Iterable<TraceEvent> {
  /** The header of the trace (its `source.generator` records kind, seed, options, artifact hash). */
  readonly header: TraceHeader;
  /** The template of an id used by the events (without the source's `count`). */
  template(id: string): QueryTemplate | undefined;
  /** Counts so far (final after the events are exhausted). */
  summary(): GenerateSummary;
}

/**
 * The synchronous core of {@link generateTrace}: the events alone, as a plain iterable (no async
 * hop per event), for in-process consumers that want the highest throughput. Iterate it once.
 * @example
 * const run = generateEvents(artifact, { seed: 7, count: 1_000_000 });
 * for (const e of run) histogram.add(e.templateId);
 * @throws StbError as {@link generateTrace}.
 */
export function generateEvents(
  artifact: ModelArtifact,
  options: GenerateTraceOptions,
): GeneratedEvents {
  const plan = makePlan(artifact, options);
  const generator: Record<string, unknown> = {
    kind: artifact.kind,
    seed: options.seed,
    artifactHash: artifactHash(artifact),
    options: {
      count: plan.count,
      sessions: plan.sessions,
      durationUs: options.durationUs,
      scale: plan.scale,
      timeScale: plan.timeScale,
      startUs: plan.startUs,
      render: plan.render,
      closeTransactions: plan.closeTransactions,
      appendClosers: plan.appendClosers,
      shard: plan.shard,
    },
  };
  if (artifact.modelPackage !== undefined)
    generator['modelPackage'] = artifact.modelPackage;
  // its think times are drawn from the log's, stamps' rounding included: no finer than the log's
  // time resolution (times the time scale); `stb bench` replays gaps below it as none
  const logResolutionUs = artifact.sessions?.timeResolutionUs;
  if (logResolutionUs !== undefined && logResolutionUs > 1)
    generator['thinkResolutionUs'] = Math.max(
      1,
      Math.round(logResolutionUs * plan.timeScale),
    );
  const header = createTraceHeader({
    dialect: artifact.dialect,
    source: {
      tool: 'generate',
      ...(artifact.source.files ? { files: artifact.source.files } : {}),
      generator,
    },
    timeResolutionUs: 1,
    createdAt: options.createdAt ?? artifact.createdAt,
  });
  const counters: Counters = {
    events: 0,
    closingEvents: 0,
    sessions: 0,
    templates: 0,
    firstStartUs: undefined,
    lastStartUs: undefined,
    stoppedBy: 'exhausted',
  };
  const { signal, onProgress } = options;
  const progress = (): void => {
    if (!onProgress) return;
    const p: GenerateProgress = {
      events: counters.events,
      sessions: counters.sessions,
      simulatedUs:
        counters.lastStartUs === undefined
          ? 0
          : counters.lastStartUs - plan.startUs,
    };
    if (plan.count !== undefined)
      p.fraction = Math.min(1, counters.events / plan.count);
    else if (plan.sessions !== undefined)
      p.fraction = Math.min(1, counters.sessions / plan.sessions);
    else if (plan.endUs !== undefined)
      p.fraction = Math.min(1, p.simulatedUs / (plan.endUs - plan.startUs));
    onProgress(p);
  };
  const hooks: RunHooks = {
    every(n) {
      if (signal?.aborted)
        throw new StbError(
          'STB_ABORTED',
          '[stb] [generator] Generation was aborted.',
        );
      if (n % PROGRESS_EVERY === 0) progress();
    },
    done: progress,
  };
  const events = (): Generator<TraceEvent> => runEvents(plan, counters, hooks);
  return {
    header,
    [Symbol.iterator]: events,
    template: (id) =>
      plan.info.get(id)?.template ??
      (id === plan.closer.template.id ? plan.closer.template : undefined),
    summary: () => ({ ...counters }),
  };
}

/**
 * Generates a synthetic trace from a fitted model artifact: the header (its `source.generator`
 * records the model kind, seed, options and artifact hash), each template record before its first
 * use, then events in global `startUs` order. Sessions arrive by the learned arrival process; each
 * walks the sequence model with its own RNG derived from `(seed, session index)`, so `count`
 * prefixes, shards and parallel runs agree with a sequential run. Stops at `count` events,
 * `sessions` sessions or `durationUs` of simulated time (default 1000 events).
 * @example
 * const artifact = await readModelArtifact('model.json', { registry });
 * await writeTrace('synthetic.jsonl', generateTrace(artifact, { seed: 7, count: 100_000 }));
 * @throws StbError `STB_OPTIONS_INVALID` for bad options, `STB_PLUGIN_NOT_FOUND` when the
 * artifact's model kind is not in the registry, `STB_ABORTED` when `signal` aborts.
 */
export function generateTrace(
  artifact: ModelArtifact,
  options: GenerateTraceOptions,
): GeneratedTrace {
  const run = generateEvents(artifact, options);
  const records = withTemplateRecords(run.header, run, (id) =>
    run.template(id),
  );
  return Object.assign(records, {
    header: run.header,
    summary: () => run.summary(),
  });
}

import {
  clampDerivedStart,
  kllRankError,
  MAX_START_CLAMP_US,
  type QueryTemplate,
  type QueryType,
  StbError,
  type TemplateCatalog,
  type TraceEvent,
  type TraceHeader,
  VALIDATION_PROPERTIES,
  VALIDATION_REPORT_VERSION,
  type ValidationCdf,
  type ValidationProperty,
  type ValidationPropertyId,
  type ValidationReport,
  type ValidationTraceSummary,
} from '@stb/core';

import {
  type CollectorConfig,
  TemplateIndex,
  TraceCollector,
} from './collector';
import {
  buildCharts,
  buildTemplateRows,
  compareBurstiness,
  compareParameters,
  compareConnections,
  compareQueryTypes,
  compareRepeatRate,
  compareSessionArrival,
  compareSketches,
  compareTemplates,
  compareTransitions,
  type Comparison,
  notApplicable,
  propertyLabel,
} from './compare';
import { LeakTracker } from './leak';
import { cdfPoints } from './sketch/weighted';
import { compareConcurrency, compareStatementRate } from './load';
import { resolveWeights } from './weights';

/** One side of a comparison: a trace as a stream, with its templates. */
export interface TraceInput {
  /** The trace's header record, when known (dialect and time resolution are used). */
  header?: TraceHeader;
  /**
   * Templates of the trace. May still be filling while `events` streams (templates are looked up
   * only after the stream ends).
   */
  catalog: TemplateCatalog | Iterable<QueryTemplate>;
  events: AsyncIterable<TraceEvent> | Iterable<TraceEvent>;
  /** Display label (e.g. the file name). */
  label?: string;
}

/** Progress of {@link validateTraces}. */
export interface ValidateProgress {
  trace: 'original' | 'generated';
  events: number;
}

/** Options of {@link validateTraces}. */
export interface ValidateOptions {
  /** Weight overrides by property id (merged into {@link defaultWeights}). */
  weights?: Partial<Record<ValidationPropertyId, number>>;
  /** Records `minScore` and `passed` in the report. */
  minScore?: number;
  /** KLL k of trace-wide sketches (default 2048, rank error ≈ 0.18 %). */
  sketchK?: number;
  /** Values kept exactly by each trace-wide sketch (default 16384). */
  sketchExactUpTo?: number;
  /** KLL k of per-slot parameter sketches (default 200, rank error ≈ 1.7 %). */
  parameterSketchK?: number;
  /** Distinct values per categorical slot before it is compared by text length (default 256). */
  maxCategories?: number;
  /** Open sessions kept; beyond, the least recently active quarter is closed (default 100 000). */
  maxOpenSessions?: number;
  /** Burstiness window sizes in µs (default 10 ms, 100 ms, 1 s, 10 s, 60 s). */
  windowsUs?: readonly number[];
  /** Templates in the transition heat map (default 12). */
  topTemplates?: number;
  /** Bins of the relative time axis (default 24). */
  arrivalBins?: number;
  /**
   * k (default 5, the models' default): a value seen in fewer distinct sessions is rare. The leak
   * check counts rare original literals found in the generated trace; categorical slots compare
   * each trace's rare values pooled as one category.
   */
  minSessions?: number;
  /** The leak gate: `leak.passed` is false when the leaked share exceeds it (e.g. 0). */
  maxLeak?: number;
  /**
   * Distinct original literals the leak check tracks exactly (default 200 000, about 20 MB);
   * beyond, it samples literals by hash and `leak.samplingRate` says which share it checked.
   */
  leakMaxLiterals?: number;
  /** Report creation time (default now), for reproducible output. */
  createdAt?: string;
  signal?: AbortSignal;
  /** Called every 65 536 events per trace and at the end of each. */
  onProgress?: (progress: ValidateProgress) => void;
}

const DEFAULT_WINDOWS_US = [10_000, 100_000, 1_000_000, 10_000_000, 60_000_000];
const MIN_WINDOWS = 10;
const PROGRESS_EVERY = 65_536;
const PARAM_CDFS = 3;

function toLookup(
  catalog: TemplateCatalog | Iterable<QueryTemplate>,
): (id: string) => QueryTemplate | undefined {
  const maybe = catalog as Partial<TemplateCatalog>;
  if (typeof maybe.get === 'function') {
    const c = catalog as TemplateCatalog;
    return (id) => c.get(id);
  }
  const byId = new Map<string, QueryTemplate>();
  for (const t of catalog) byId.set(t.id, t);
  return (id) => byId.get(id);
}

/** Sessions in {@link Stamps}' end map before its first sweep. */
const SWEEP_FROM = 100_000;

/**
 * Where a coarse trace's clock was read. A server that logs a statement when it ends (PostgreSQL's
 * `log_min_duration_statement`, MySQL's slow log) stamps its end; the parser then gives it a
 * start of stamp − duration, off the grid by the duration. Flooring such a start onto the grid
 * reads the stamp one tick early, and compares the other trace's floored starts with end stamps:
 * on the pgbench `-R` sample the think times of a generator that reproduced the log's
 * per-transition think times exactly scored 0.93 instead of 1. So the coarse trace's events are
 * counted while it is read (start on the grid, or start + duration on it), and when most stamps
 * are ends, a finer trace's events are stamped as that server would: the end floored onto the
 * grid, less the duration, and moved to the session's previous end when before it, as the
 * extractor does. The coarse trace's own events are left as they are.
 */
class Stamps {
  #atStart = 0;
  #atEnd = 0;
  #counting: boolean;
  constructor(counting: boolean) {
    this.#counting = counting;
  }

  /** Counts the coarse trace's events; a no-op once {@link stop} was called, or when not coarse. */
  count(e: TraceEvent, r: number): void {
    if (!this.#counting) return;
    if (e.startUs % r === 0) this.#atStart++;
    else if (e.durationUs !== undefined && (e.startUs + e.durationUs) % r === 0)
      this.#atEnd++;
  }

  /** The coarse trace is read: floor the other one by what was counted. */
  stop(): void {
    this.#counting = false;
  }

  /** True when the coarse trace was stamped at statement ends (most of its events). */
  get atEnd(): boolean {
    return this.#atEnd > this.#atStart;
  }

  /** Previous stamped end per session of the finer trace (for the start clamp). */
  readonly #ends = new Map<string, number>();
  /** Size of `#ends` that triggers the next sweep of ends out of the clamp's reach. */
  #sweepAt = SWEEP_FROM;
  /** Re-stamped events not yet passed on, by start (a start moves back by at most one tick). */
  readonly #pending: TraceEvent[] = [];

  /**
   * Hands `add` the event as the coarse trace's server would have stamped it, in start order (a
   * callback, not a generator: this runs once per event).
   */
  stamp(e: TraceEvent, r: number, add: (e: TraceEvent) => void): void {
    // the coarse trace's own events stay as they were recorded
    if (this.#counting) {
      add(e);
      return;
    }
    if (e.durationUs === undefined || !this.atEnd) {
      this.#release(e.startUs - r, add);
      add(
        e.startUs % r === 0
          ? e
          : { ...e, startUs: Math.floor(e.startUs / r) * r },
      );
      return;
    }
    // as the extractor does for such logs: a start before the session's previous end moves to it
    const startUs = clampDerivedStart(
      Math.floor((e.startUs + e.durationUs) / r) * r - e.durationUs,
      this.#ends.get(e.sessionId),
    );
    this.#ends.set(e.sessionId, startUs + e.durationUs);
    if (this.#ends.size > this.#sweepAt) {
      // an end over the clamp's reach behind this start can clamp nothing any more; the next
      // sweep waits until the map has doubled, so sweeping stays linear in the events
      for (const [id, end] of this.#ends)
        if (end < e.startUs - 2 * MAX_START_CLAMP_US) this.#ends.delete(id);
      this.#sweepAt = Math.max(SWEEP_FROM, 2 * this.#ends.size);
    }
    // a later event (in start order) lands no earlier than its start less a tick
    this.#release(e.startUs - r, add);
    const out = startUs === e.startUs ? e : { ...e, startUs };
    const p = this.#pending;
    let i = p.length;
    while (i > 0 && (p[i - 1] as TraceEvent).startUs > startUs) i--;
    if (i === p.length) p.push(out);
    else p.splice(i, 0, out);
  }

  /** The held events, at the end of the trace. */
  drain(add: (e: TraceEvent) => void): void {
    this.#release(Infinity, add);
  }

  #release(beforeUs: number, add: (e: TraceEvent) => void): void {
    const p = this.#pending;
    let n = 0;
    while (n < p.length && (p[n] as TraceEvent).startUs < beforeUs) n++;
    if (n === 0) return;
    for (let i = 0; i < n; i++) add(p[i] as TraceEvent);
    p.splice(0, n);
  }
}

async function consume(
  input: TraceInput,
  collector: TraceCollector,
  options: {
    trace: ValidateProgress['trace'];
    opts: ValidateOptions;
    leak: (e: TraceEvent) => void;
    /** The common time resolution, µs: a finer trace's times are floored onto its grid. */
    resolutionUs: number;
    /** Where the coarse trace's stamps were taken; counted while it is read, see {@link Stamps}. */
    stamps: Stamps;
  },
): Promise<void> {
  const { signal, onProgress } = options.opts;
  const { leak, resolutionUs: r, stamps } = options;
  const add = (e: TraceEvent): void => collector.add(e);
  let n = 0;
  for await (const event of input.events) {
    if (r > 1) {
      stamps.count(event, r);
      stamps.stamp(event, r, add);
    } else collector.add(event);
    leak(event);
    if (++n % PROGRESS_EVERY === 0) {
      if (signal?.aborted)
        throw new StbError(
          'STB_ABORTED',
          '[stb] [validator] Validation aborted.',
          {
            cause: signal.reason,
          },
        );
      onProgress?.({ trace: options.trace, events: n });
    }
  }
  if (signal?.aborted)
    throw new StbError('STB_ABORTED', '[stb] [validator] Validation aborted.', {
      cause: signal.reason,
    });
  stamps.drain(add);
  collector.finish();
  onProgress?.({ trace: options.trace, events: n });
}

function summary(
  c: TraceCollector,
  input: TraceInput,
  fallbackLabel: string,
): ValidationTraceSummary {
  const s: ValidationTraceSummary = {
    label: input.label ?? fallbackLabel,
    events: c.events,
    sessions: c.sessions,
    templates: c.templateCounts.filter((n) => n > 0).length,
    firstStartUs: c.events > 0 ? c.minUs : null,
    lastStartUs: c.events > 0 ? c.maxUs : null,
    eventsWithDuration: c.eventsWithDuration,
    repeatRate: c.repeatRate(),
  };
  if (input.header) s.dialect = input.header.dialect;
  return s;
}

/**
 * Compares an original and a generated trace in one streaming pass over each, and scores how
 * faithful the generated one is: per-property effect sizes in [0, 1] (1 = indistinguishable) with
 * classical tests beside them, and a weighted composite. Identical traces score exactly 1.
 * Memory is bounded by templates × sketch sizes (plus open sessions), not by events.
 * @example
 * const report = await validateTraces(
 *   { catalog: a.catalog, events: a.events },
 *   { catalog: b.catalog, events: b.events },
 *   { minScore: 0.9 },
 * );
 * console.log(report.score, report.passed);
 */
export async function validateTraces(
  original: TraceInput,
  generated: TraceInput,
  options: ValidateOptions = {},
): Promise<ValidationReport> {
  const weights = resolveWeights(options.weights);
  const { config, resolution } = collectorConfig(original, generated, options);
  const index = new TemplateIndex();
  const a = new TraceCollector(index, config);
  const b = new TraceCollector(index, config);
  const leak = new LeakTracker({
    minSessions: config.rareSessions,
    maxLiterals: options.leakMaxLiterals ?? 200_000,
  });
  // the original is read first: when it is the coarse trace, its stamps say how to floor the
  // generated one
  const stamps = new Stamps(
    (original.header?.timeResolutionUs ?? 1) >= resolution,
  );
  await consume(original, a, {
    trace: 'original',
    opts: options,
    leak: (e) => leak.addOriginal(e),
    resolutionUs: resolution,
    stamps,
  });
  stamps.stop();
  await consume(generated, b, {
    trace: 'generated',
    opts: options,
    leak: (e) => leak.addGenerated(e),
    resolutionUs: resolution,
    stamps,
  });

  // templates are looked up only now: catalogs may have filled while the events streamed
  const lookA = toLookup(original.catalog);
  const lookB = toLookup(generated.catalog);
  const warnings: string[] = [];
  const templateOf = (i: number): QueryTemplate | undefined => {
    const id = index.ids[i] as string;
    return lookA(id) ?? lookB(id);
  };
  const missing = index.ids.filter(
    (_, i) => templateOf(i) === undefined,
  ).length;
  if (missing > 0)
    warnings.push(
      `${missing} template id(s) used by events have no template record; their query type counts as OTHER.`,
    );
  const templateOfId = (id: string): QueryTemplate | undefined =>
    lookA(id) ?? lookB(id);

  const bins = options.arrivalBins ?? 24;
  const params = compareParameters(a, b, { index, templateOf });
  const hasDurations = a.eventsWithDuration > 0 && b.eventsWithDuration > 0;
  const rate = compareStatementRate(a.load, b.load);
  const concurrency = compareConcurrency(a.load, b.load);
  const comparisons: Record<ValidationPropertyId, Comparison> = {
    queryTypes: compareQueryTypes(
      a,
      b,
      (i: number): QueryType => templateOf(i)?.queryType ?? 'OTHER',
    ),
    templates: compareTemplates(a, b, index),
    transitions: compareTransitions(a, b),
    parameters: params.comparison,
    interArrival: compareSketches(a.interArrival, b.interArrival),
    thinkTime: compareSketches(a.thinkTime, b.thinkTime),
    sessionLength: compareSketches(a.sessionLength, b.sessionLength, {
      smallSample: true,
    }),
    sessionArrival: compareSessionArrival(a, b, bins),
    burstiness: compareBurstiness(a, b, MIN_WINDOWS),
    repeatRate: compareRepeatRate(a, b),
    durations: hasDurations
      ? compareSketches(a.durations, b.durations)
      : notApplicable('Durations are not present in both traces.'),
    statementRate: rate.comparison,
    concurrency: concurrency.comparison,
    connections: compareConnections(a, b),
  };
  const { properties, score } = scoreProperties(comparisons, weights);
  if (score === null)
    warnings.push('No weighted property was applicable; the score is 0.');

  const rows = buildTemplateRows(a, b, {
    index,
    templateOf,
    params: params.rows,
  });
  const paramCdfs = parameterCdfs(a, b, { index, rows });
  const report: ValidationReport = {
    format: 'stb-validation-report',
    version: VALIDATION_REPORT_VERSION,
    createdAt: options.createdAt ?? new Date().toISOString(),
    score: score ?? 0,
    weights: { ...weights },
    properties,
    original: summary(a, original, 'original'),
    generated: summary(b, generated, 'generated'),
    templates: rows,
    charts: {
      ...buildCharts(a, b, {
        index,
        topN: options.topTemplates ?? 12,
        bins,
        minWindows: MIN_WINDOWS,
        paramCdfs,
        includeDurations: hasDurations,
      }),
      load: { statementRate: rate.chart, concurrency: concurrency.chart },
    },
    sketch: {
      kind: 'kll',
      k: config.kGlobal,
      exactUpTo: config.exactGlobal,
      rankError:
        a.interArrival.exact && b.interArrival.exact
          ? 0
          : kllRankError(config.kGlobal),
    },
    leak: leak.result(
      (id, slot) => templateOfId(id)?.slots[slot]?.column ?? null,
      options.maxLeak,
    ),
    warnings,
  };
  if (options.minScore !== undefined) {
    report.minScore = options.minScore;
    report.passed = report.score >= options.minScore;
  }
  return report;
}

/**
 * The collectors' sizes from the options, and the coarser time resolution of the two traces
 * (burstiness windows finer than it are left out).
 * @throws StbError `STB_OPTIONS_INVALID` for `minScore`, `minSessions` or `maxLeak` out of range.
 */
function collectorConfig(
  original: TraceInput,
  generated: TraceInput,
  options: ValidateOptions,
): { config: CollectorConfig; resolution: number } {
  if (
    options.minScore !== undefined &&
    !(options.minScore >= 0 && options.minScore <= 1)
  )
    throw new StbError(
      'STB_OPTIONS_INVALID',
      '[stb] [validator] `minScore` must be between 0 and 1. Fix the threshold.',
    );
  const resolution = Math.max(
    original.header?.timeResolutionUs ?? 1,
    generated.header?.timeResolutionUs ?? 1,
  );
  const windowsUs = (options.windowsUs ?? DEFAULT_WINDOWS_US).filter(
    (w) => w >= resolution,
  );
  const leakK = options.minSessions ?? 5;
  if (!Number.isInteger(leakK) || leakK < 1)
    throw new StbError(
      'STB_OPTIONS_INVALID',
      '[stb] [validator] `minSessions` must be a positive integer. Pass k ≥ 1.',
    );
  const config: CollectorConfig = {
    kGlobal: options.sketchK ?? 2048,
    exactGlobal: options.sketchExactUpTo ?? 16_384,
    kParam: options.parameterSketchK ?? 200,
    exactParam: 512,
    maxCategories: options.maxCategories ?? 256,
    maxOpenSessions: options.maxOpenSessions ?? 100_000,
    windowsUs,
    repeatExactCap: 100_000,
    rareSessions: leakK,
    resolutionUs: resolution,
  };
  if (
    options.maxLeak !== undefined &&
    !(options.maxLeak >= 0 && options.maxLeak <= 1)
  )
    throw new StbError(
      'STB_OPTIONS_INVALID',
      '[stb] [validator] `maxLeak` must be a share between 0 and 1. Fix the gate.',
    );
  return { config, resolution };
}

/**
 * The report's properties, in their fixed order, and the composite: the weighted mean of the
 * applicable scores, clamped to [0, 1] (null when no weighted property applies).
 */
function scoreProperties(
  comparisons: Record<ValidationPropertyId, Comparison>,
  weights: Record<ValidationPropertyId, number>,
): { properties: ValidationProperty[]; score: number | null } {
  const properties: ValidationProperty[] = VALIDATION_PROPERTIES.map((id) => {
    const c = comparisons[id];
    const p: ValidationProperty = {
      id,
      label: propertyLabel(id),
      applicable: c.applicable,
      score: c.applicable ? c.score : null,
      weight: weights[id],
      distance: c.distance,
      test: c.test,
    };
    if (c.note !== undefined) p.note = c.note;
    return p;
  });
  let num = 0;
  let den = 0;
  for (const p of properties) {
    if (!p.applicable || p.score === null || p.weight === 0) continue;
    num += p.weight * p.score;
    den += p.weight;
  }
  return {
    properties,
    score: den === 0 ? null : Math.min(1, Math.max(0, num / den)),
  };
}

/** CDFs of the most frequent numeric parameters present in both traces (the first PARAM_CDFS). */
function parameterCdfs(
  a: TraceCollector,
  b: TraceCollector,
  o: {
    index: TemplateIndex;
    rows: ReturnType<typeof buildTemplateRows>;
  },
): ValidationCdf[] {
  const paramCdfs: ValidationCdf[] = [];
  for (const row of o.rows) {
    if (paramCdfs.length >= PARAM_CDFS) break;
    const i = o.index.ids.indexOf(row.id);
    for (const slot of row.slots) {
      if (paramCdfs.length >= PARAM_CDFS) break;
      if (slot.kind !== 'numeric') continue;
      const sa = a.slots[i]?.[slot.index]?.numeric;
      const sb = b.slots[i]?.[slot.index]?.numeric;
      if (sa === undefined || sb === undefined) continue;
      paramCdfs.push({
        id: `param:${row.id}:${slot.index}`,
        label: `$${slot.index + 1}${slot.column ? ` (${slot.column})` : ''} of ${row.queryType ?? 'template'} ${row.id}`,
        unit: '',
        original: cdfPoints(sa.toWeighted()),
        generated: cdfPoints(sb.toWeighted()),
      });
    }
  }
  return paramCdfs;
}

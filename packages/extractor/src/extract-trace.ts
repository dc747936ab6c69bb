import { Piscina } from 'piscina';
import {
  batch,
  map,
  ParseError,
  resolveWorkerFile,
  StbError,
  TemplateCatalog,
  toStbError,
  type AnyIterable,
  type OnInvalid,
  type QueryTemplate,
  type RawQueryEvent,
  type TemplatePath,
  type TraceEvent,
} from '@stb/core';
import {
  createExtractor,
  type InvalidUtf8Position,
  type ExtractorOptions,
} from './extractor';
import { ReorderBuffer } from './internal/reorder';
import type { WorkerResult, WorkerTask } from './worker';

/** Options of {@link extractTrace}. */
export interface ExtractOptions extends ExtractorOptions {
  /**
   * Events across sessions are sorted by `startUs` within this window (µs, default 10 s); within a
   * session the input order is kept.
   */
  reorderWindowUs?: number;
  /** Most events held by the reorder window before the oldest leave early (default 100 000). */
  maxReorderEvents?: number;
  /**
   * Worker threads (piscina) extracting in parallel; 0 (default) extracts in this thread, which is
   * fastest for short OLTP statements (see docs/extraction.md). Needs the built `dist`.
   */
  workers?: number;
  /** Raw events per worker task (default 2000). */
  batchSize?: number;
  /**
   * What to do with an event whose SQL holds invalid UTF-8 (U+FFFD): `throw` (default) a
   * `STB_INPUT_ENCODING` error naming file, line and column; `skip` it (counted); `collect` keeps
   * it and lists its position in the summary.
   */
  onInvalid?: OnInvalid;
  signal?: AbortSignal;
  /** Called at most every `progressIntervalMs` (default 500) and once at the end. */
  onProgress?: (progress: ExtractProgress) => void;
  progressIntervalMs?: number;
}

/** Progress of a running extraction. */
export interface ExtractProgress {
  events: number;
  templates: number;
  done: boolean;
}

/** Counts of a finished (or running) extraction. */
export interface ExtractSummary {
  /** Events yielded. */
  events: number;
  /** Distinct templates. */
  templates: number;
  /** Templates by the path that made them. */
  templatesByPath: Record<TemplatePath, number>;
  /** Events by the path that made their template. */
  eventsByPath: Record<TemplatePath, number>;
  /** Events whose statement no parser accepted (lexer path where a parser exists). */
  failedParseEvents: number;
  /** Templates no parser accepted. */
  failedParseTemplates: number;
  /** Events whose SQL held invalid UTF-8. */
  invalidUtf8Events: number;
  /** Positions of the first 100 of them. */
  invalidUtf8: InvalidUtf8Position[];
  /** Events skipped (`onInvalid: 'skip'`). */
  skipped: number;
  /** Events with `outcome.ok === false`. */
  failedEvents: number;
  /** Events released from the reorder window early because it was full. */
  reorderOverflow: number;
}

/** A running extraction: iterate it once for the trace records. */
export interface ExtractRun extends AsyncIterable<TraceEvent | QueryTemplate> {
  /** Every template met so far (grows while iterating). */
  readonly catalog: TemplateCatalog;
  /** Counts so far. */
  summary(): ExtractSummary;
}

/** Largest correction of a derived start time (see `accept`), µs. */
const MAX_START_CLAMP_US = 1_000_000;

interface SessionState {
  lastKey: number;
  /** End (start + duration) of the session's previous statement, when it had a duration. */
  lastEndUs: number | undefined;
  txnCount: number;
  inTxn: boolean;
  current: number;
}

function emptyByPath(): Record<TemplatePath, number> {
  return { 'libpg-query': 0, 'node-sql-parser': 0, lexer: 0 };
}

/** The fields extraction reads, so less is cloned to a worker. */
function slim(raw: RawQueryEvent): RawQueryEvent {
  const out: RawQueryEvent = {
    sessionId: raw.sessionId,
    sql: raw.sql,
    source: raw.source,
    dialect: raw.dialect,
  };
  if (raw.startUs !== undefined) out.startUs = raw.startUs;
  if (raw.durationUs !== undefined) out.durationUs = raw.durationUs;
  if (raw.params) out.params = raw.params;
  if (raw.error) out.error = raw.error;
  return out;
}

/**
 * Extracts a trace from raw query events: yields each template record right before the first
 * event that uses it, then the event, ready for core's trace writer after a header.
 * @example
 * ```ts
 * const run = extractTrace(parseLogs(['postgresql.log']), { onInvalid: 'collect' });
 * for await (const rec of run) write(rec); // templates and events
 * run.summary().templates; // 12
 * ```
 */
export function extractTrace(
  source: AnyIterable<RawQueryEvent>,
  options: ExtractOptions = {},
): ExtractRun {
  const catalog = new TemplateCatalog();
  const s: ExtractSummary = {
    events: 0,
    templates: 0,
    templatesByPath: emptyByPath(),
    eventsByPath: emptyByPath(),
    failedParseEvents: 0,
    failedParseTemplates: 0,
    invalidUtf8Events: 0,
    invalidUtf8: [],
    skipped: 0,
    failedEvents: 0,
    reorderOverflow: 0,
  };
  let started = false;
  const iterate = () => run(source, options, { catalog, s });
  return {
    catalog,
    summary: () => ({
      ...s,
      templates: catalog.size,
      templatesByPath: { ...s.templatesByPath },
      eventsByPath: { ...s.eventsByPath },
      invalidUtf8: [...s.invalidUtf8],
    }),
    [Symbol.asyncIterator]() {
      if (started)
        throw new StbError(
          'STB_USAGE',
          '[stb] [extractor] An extraction run can be iterated only once. Call `extractTrace` again.',
        );
      started = true;
      return iterate()[Symbol.asyncIterator]();
    },
  };
}

async function* run(
  source: AnyIterable<RawQueryEvent>,
  options: ExtractOptions,
  state: { catalog: TemplateCatalog; s: ExtractSummary },
): AsyncGenerator<TraceEvent | QueryTemplate> {
  const { catalog, s } = state;
  const onInvalid = options.onInvalid ?? 'throw';
  const workers = Math.max(0, Math.floor(options.workers ?? 0));
  const buffer = new ReorderBuffer<TraceEvent>(
    options.reorderWindowUs ?? 10_000_000,
    options.maxReorderEvents ?? 100_000,
  );
  const sessions = new Map<string, SessionState>();
  const emitted = new Set<string>();
  const interval = options.progressIntervalMs ?? 500;
  let lastProgress = Date.now();
  let seen = 0;
  const exOptions: ExtractorOptions = {};
  if (options.dialect) exOptions.dialect = options.dialect;
  if (options.squashLists !== undefined)
    exOptions.squashLists = options.squashLists;
  if (options.maxCachedShapes !== undefined)
    exOptions.maxCachedShapes = options.maxCachedShapes;

  /** Accepts one extracted result: checks, counts, txn index, reorder. Returns false when skipped. */
  const accept = (r: WorkerResult): boolean => {
    if (r.invalidUtf8) {
      const p = r.invalidUtf8;
      if (onInvalid === 'throw')
        throw new ParseError(
          'STB_INPUT_ENCODING',
          `[stb] [extractor] Invalid UTF-8 in a statement (${p.file}:${p.line}:${p.column}). Fix the log's encoding, or pass onInvalid 'collect' to keep it or 'skip' to drop it.`,
          { position: { source: p.file, line: p.line, column: p.column } },
        );
      s.invalidUtf8Events++;
      if (s.invalidUtf8.length < 100) s.invalidUtf8.push(p);
      if (onInvalid === 'skip') {
        s.skipped++;
        return false;
      }
    }
    const ev = r.event;
    const template = r.template ?? catalog.get(ev.templateId);
    if (template === undefined)
      throw new StbError(
        'STB_INTERNAL',
        `[stb] [extractor] Template ${ev.templateId} arrived after its first event. Report this bug.`,
      );
    if (catalog.add(template)) {
      const path = template.path ?? 'lexer';
      s.templatesByPath[path]++;
      if (path === 'lexer') s.failedParseTemplates++;
    }
    const path = template.path ?? 'lexer';
    s.eventsByPath[path]++;
    if (path === 'lexer') s.failedParseEvents++;
    if (ev.outcome && !ev.outcome.ok) s.failedEvents++;
    let st = sessions.get(ev.sessionId);
    if (st === undefined) {
      st = {
        lastKey: Number.NEGATIVE_INFINITY,
        lastEndUs: undefined,
        txnCount: 0,
        inTxn: false,
        current: 0,
      };
      sessions.set(ev.sessionId, st);
    }
    if (r.boundary === 'begin' && !st.inTxn) {
      st.inTxn = true;
      st.current = st.txnCount;
    }
    if (st.inTxn) ev.txn = st.current;
    if (r.boundary === 'end' && st.inTxn) {
      st.inTxn = false;
      st.txnCount++;
    }
    // A connection runs one statement at a time. Where the start was derived from a logged end
    // time (log_min_duration_statement: start = log time − duration) and the log time is coarser
    // than the duration (milliseconds), the derived start can fall before the previous
    // statement's end: move it to that end (by at most 1 s), so think times are never negative
    // and the session's order holds.
    const endUs = st.lastEndUs;
    if (
      ev.durationUs !== undefined &&
      endUs !== undefined &&
      ev.startUs < endUs &&
      endUs - ev.startUs <= MAX_START_CLAMP_US
    )
      ev.startUs = endUs;
    st.lastEndUs =
      ev.durationUs === undefined ? undefined : ev.startUs + ev.durationUs;
    const key = ev.startUs > st.lastKey ? ev.startUs : st.lastKey;
    st.lastKey = key;
    buffer.push(key, ev);
    return true;
  };

  /** The next record to yield (a template before its first event), or undefined. */
  let pendingEvent: TraceEvent | undefined;
  const next = (all: boolean): TraceEvent | QueryTemplate | undefined => {
    if (pendingEvent) {
      const e = pendingEvent;
      pendingEvent = undefined;
      return e;
    }
    const ev = buffer.pop(all);
    if (ev === undefined) return undefined;
    s.events++;
    s.reorderOverflow = buffer.overflowed;
    if (!emitted.has(ev.templateId)) {
      emitted.add(ev.templateId);
      pendingEvent = ev;
      return catalog.get(ev.templateId);
    }
    return ev;
  };

  const tick = (): void => {
    if (options.signal?.aborted)
      throw new StbError(
        'STB_ABORTED',
        '[stb] [extractor] Extraction aborted.',
        { cause: options.signal.reason },
      );
    if (options.onProgress) {
      const now = Date.now();
      if (now - lastProgress >= interval) {
        lastProgress = now;
        options.onProgress({
          events: s.events,
          templates: catalog.size,
          done: false,
        });
      }
    }
  };

  if (workers === 0) {
    const ex = await createExtractor(exOptions);
    for await (const raw of source) {
      if ((++seen & 1023) === 0) tick();
      let r: WorkerResult;
      try {
        r = ex.extract(raw);
      } catch (err) {
        throw new ParseError(
          'STB_EXTRACT_FAILED',
          `[stb] [extractor] Extraction failed unexpectedly (${raw.source.file}:${raw.source.line}). Report this bug with the statement.`,
          {
            cause: err,
            position: { source: raw.source.file, line: raw.source.line },
          },
        );
      }
      if (accept(r))
        for (let rec = next(false); rec !== undefined; rec = next(false))
          yield rec;
    }
  } else {
    const pool = new Piscina<WorkerTask, WorkerResult[]>({
      filename: resolveWorkerFile(__dirname, '@stb/extractor'),
      minThreads: workers,
      maxThreads: workers,
      idleTimeout: 1000,
    });
    const inflight: Promise<WorkerResult[]>[] = [];
    const settle = async function* (p: Promise<WorkerResult[]>) {
      let results: WorkerResult[];
      try {
        results = await p;
      } catch (err) {
        if (options.signal?.aborted)
          throw new StbError(
            'STB_ABORTED',
            '[stb] [extractor] Extraction aborted.',
            { cause: err },
          );
        const e = toStbError(err);
        throw new StbError(
          'STB_WORKER_CRASHED',
          `[stb] [extractor] An extraction worker failed: ${e.message}`,
          { cause: err },
        );
      }
      for (const r of results)
        if (accept(r))
          for (let rec = next(false); rec !== undefined; rec = next(false))
            yield rec;
    };
    try {
      for await (const events of batch(
        map(source, slim),
        options.batchSize ?? 2000,
      )) {
        tick();
        const p = pool.run(
          { options: exOptions, events },
          options.signal ? { signal: options.signal } : {},
        );
        p.catch(() => undefined);
        inflight.push(p);
        if (inflight.length >= workers * 2)
          yield* settle(inflight.shift() as Promise<WorkerResult[]>);
      }
      while (inflight.length > 0)
        yield* settle(inflight.shift() as Promise<WorkerResult[]>);
    } finally {
      await pool.destroy();
    }
  }
  for (let rec = next(true); rec !== undefined; rec = next(true)) yield rec;
  options.onProgress?.({
    events: s.events,
    templates: catalog.size,
    done: true,
  });
}

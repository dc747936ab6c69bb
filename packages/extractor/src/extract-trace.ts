import type { Piscina as PiscinaPool } from 'piscina';
import {
  batch,
  clampDerivedStart,
  encodeTraceEvent,
  eventLineField,
  eventLineHead,
  eventLineTail,
  map,
  ParseError,
  resolveWorkerFile,
  StbError,
  stringifyEventRest,
  toStbError,
  type AnyIterable,
  type EncodedTraceEvent,
  type OnInvalid,
  type QueryTemplate,
  type RawQueryEvent,
  type TemplateCatalog,
  type TemplatePath,
  type TraceEvent,
} from '@stb/core';
import {
  createExtractor,
  type Extracted,
  type Extractor,
  type InvalidUtf8Position,
  type ExtractorOptions,
} from './extractor';
import { EncodedStore } from './internal/encoded-store';
import { lazyRequire } from './internal/lazy-require';
import { ReorderBuffer } from './internal/reorder';
import { RunTemplates } from './internal/run-templates';
import {
  isPacked,
  PACKED_BEGIN,
  PACKED_END,
  PACKED_EXTRA,
  PACKED_FAILED,
  PACKED_INTS,
  type PackedExtra,
  type PackedResults,
} from './packed';
import type { WorkerResult, WorkerTask } from './worker';

const utf8 = new TextDecoder();

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
  /**
   * Keep every template met in the run's `catalog` (default true). With false, the run holds a
   * template only until it gives its record, and reading `catalog` throws `STB_USAGE`: for
   * callers that write the records and look nothing up (`stb parse`; what it saves is measured in
   * docs/extraction.md, "Memory bound").
   */
  keepTemplates?: boolean;
}

/** Options of {@link extractTraceBatches} and {@link assembleTraceBatches}. */
export interface ExtractBatchOptions extends ExtractOptions {
  /**
   * Hold the events of the reorder window, and give them, encoded as their JSON Lines text
   * ({@link EncodedTraceEvent}, exactly what `writeTrace` writes for the event) instead of as
   * objects: a string per event is far cheaper for the garbage collector than the event's object
   * graph while the window holds it. For callers that write the trace (`stb parse`); default false.
   */
  encodeEvents?: boolean;
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
  /**
   * Every template met so far (grows while iterating). Throws `STB_USAGE` when the run was
   * started with `keepTemplates: false`.
   */
  readonly catalog: TemplateCatalog;
  /** Counts so far. */
  summary(): ExtractSummary;
}

/**
 * A running batched extraction: iterate it once for arrays of trace records (events as
 * {@link EncodedTraceEvent} under `encodeEvents`).
 */
export interface ExtractBatchRun<
  E extends TraceEvent | EncodedTraceEvent = TraceEvent,
> extends AsyncIterable<(E | QueryTemplate)[]> {
  /**
   * Every template met so far (grows while iterating). Throws `STB_USAGE` when the run was
   * started with `keepTemplates: false`.
   */
  readonly catalog: TemplateCatalog;
  /** Counts so far. */
  summary(): ExtractSummary;
}

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
  if (raw.user !== undefined) out.user = raw.user;
  if (raw.database !== undefined) out.database = raw.database;
  if (raw.application !== undefined) out.application = raw.application;
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
  return startRun((state) => run(source, options, state), options);
}

/**
 * A run of `iterate` (per event or per batch) over a new run's state: its catalog and summary
 * readable while it runs, and iterable once.
 */
function startRun<T>(
  iterate: (state: RunState) => AsyncIterable<T>,
  options: Pick<ExtractOptions, 'keepTemplates'>,
): {
  readonly catalog: TemplateCatalog;
  summary(): ExtractSummary;
  [Symbol.asyncIterator](): AsyncIterator<T>;
} {
  const { summary, state, once } = newRun(options.keepTemplates ?? true);
  return {
    get catalog() {
      return state.catalog.catalog;
    },
    summary,
    [Symbol.asyncIterator]() {
      once();
      return iterate(state)[Symbol.asyncIterator]();
    },
  };
}

/** A new run's templates, summary and the guard against a second iteration. */
function newRun(keepTemplates: boolean): {
  summary: () => ExtractSummary;
  state: RunState;
  once: () => void;
} {
  const catalog = new RunTemplates(keepTemplates);
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
  return {
    state: { catalog, s },
    summary: () => ({
      ...s,
      templates: catalog.size,
      templatesByPath: { ...s.templatesByPath },
      eventsByPath: { ...s.eventsByPath },
      invalidUtf8: [...s.invalidUtf8],
    }),
    once: () => {
      if (started)
        throw new StbError(
          'STB_USAGE',
          '[stb] [extractor] An extraction run can be iterated only once. Call `extractTrace` again.',
        );
      started = true;
    },
  };
}

/** Per-extraction state shared by the sequential, pooled and batched paths. */
interface RunState {
  catalog: RunTemplates;
  s: ExtractSummary;
}

/**
 * The reorder window of the assembly: final events in, records out in trace order. A
 * `ReorderBuffer<TraceEvent>` is one as it is (events held as objects).
 */
interface EventWindow<E> {
  push(key: number, ev: TraceEvent): void;
  pop(all: boolean): E | undefined;
  readonly overflowed: number;
}

/**
 * The window holding events encoded (`encodeEvents`): each event's JSON line goes to an
 * {@link EncodedStore} outside the JavaScript heap as it enters, and is read back as an
 * {@link EncodedTraceEvent} as it leaves.
 */
class EncodedWindow implements EventWindow<EncodedTraceEvent> {
  readonly #buffer: ReorderBuffer<number>;
  readonly #store = new EncodedStore();
  constructor(windowUs: number, maxItems: number) {
    this.#buffer = new ReorderBuffer<number>(windowUs, maxItems);
  }
  get overflowed(): number {
    return this.#buffer.overflowed;
  }
  push(key: number, ev: TraceEvent): void {
    const rest = stringifyEventRest(ev);
    this.#buffer.push(
      key,
      rest === undefined
        ? this.#store.put(ev.templateId, encodeTraceEvent(ev).json)
        : this.#store.putEvent(ev, rest),
    );
  }
  /** Starts a line written in parts (a packed statement's); `hold` takes its slot. */
  begin(most: number): EncodedStore {
    this.#store.begin(most);
    return this.#store;
  }
  /** Holds the line the store stored as `slot` under `key`. */
  hold(key: number, slot: number): void {
    this.#buffer.push(key, slot);
  }
  pop(all: boolean): EncodedTraceEvent | undefined {
    const slot = this.#buffer.pop(all);
    if (slot === undefined) return undefined;
    const templateId = this.#store.templateId(slot);
    return { kind: 'encoded-event', templateId, json: this.#store.take(slot) };
  }
}

/**
 * The ids' fields of the packed batch last met, as its bodies hold them: by session index, the
 * byte length of `,"sessionId":…` and, for a session renamed (`PackedResults.renamed`), the
 * bytes to write instead; by template index, the byte length of `,"templateId":…`.
 */
class BatchFields {
  #batch: PackedResults | undefined;
  #renamed: (Buffer | undefined)[] = [];
  #sessionBytes: number[] = [];
  #templateBytes: number[] = [];

  #for(p: PackedResults): void {
    if (p === this.#batch) return;
    this.#batch = p;
    this.#renamed = [];
    this.#sessionBytes = [];
    this.#templateBytes = [];
  }

  /**
   * Bytes of the body's own `,"sessionId":…` (by session index) or `,"templateId":…` (by
   * template index).
   */
  fieldBytes(
    p: PackedResults,
    i: number,
    key: 'sessionId' | 'templateId',
  ): number {
    this.#for(p);
    const sessions = key === 'sessionId';
    const cache = sessions ? this.#sessionBytes : this.#templateBytes;
    let n = cache[i];
    if (n === undefined) {
      const ids = sessions ? p.sessions : p.templateIds;
      n = Buffer.byteLength(eventLineField(key, ids[i] as string));
      cache[i] = n;
    }
    return n;
  }

  /** `,"sessionId":…` of the session's new id (a renamed one). */
  renamedField(p: PackedResults, si: number): Buffer {
    this.#for(p);
    let id = this.#renamed[si];
    if (id === undefined) {
      id = Buffer.from(eventLineField('sessionId', p.renamed?.[si] as string));
      this.#renamed[si] = id;
    }
    return id;
  }
}

/** How the rest of a packed body starts, after its id fields. */
const PARAMS_FIELD = Buffer.from(',"params":[');

/** True when `bytes` holds `prefix` at `at`. */
function startsAt(bytes: Uint8Array, at: number, prefix: Uint8Array): boolean {
  if (at + prefix.length > bytes.length) return false;
  for (let k = 0; k < prefix.length; k++)
    if (bytes[at + k] !== prefix[k]) return false;
  return true;
}

/** The result of a packed statement that crossed whole (`extra.eventJson`). */
function wholeResult(
  p: PackedResults,
  i: number,
  extra: PackedExtra,
): WorkerResult {
  const r: WorkerResult = {
    event: JSON.parse(extra.eventJson as string) as TraceEvent,
    isNew: extra.template !== undefined,
  };
  const renamed = p.renamed?.[p.ints[i * PACKED_INTS + 1] as number];
  if (renamed !== undefined) r.event.sessionId = renamed;
  const flags = p.ints[i * PACKED_INTS + 3] as number;
  if (flags & PACKED_BEGIN) r.boundary = 'begin';
  else if (flags & PACKED_END) r.boundary = 'end';
  if (extra.template) r.template = extra.template;
  if (extra.invalidUtf8) r.invalidUtf8 = extra.invalidUtf8;
  if (extra.conn) r.conn = extra.conn;
  return r;
}

/**
 * The sequential part of an extraction: checks and counts each extracted result, gives it its
 * session's transaction index and start correction, and holds it in the reorder window; hands
 * out trace records (each template right before its first event) in the order a sequential run
 * gives them. Synchronous, so batched callers pay no `await` per event.
 */
class TraceAssembler<E extends TraceEvent | EncodedTraceEvent = TraceEvent> {
  readonly #buffer: EventWindow<E>;
  readonly #fields = new BatchFields();
  readonly #sessions = new Map<string, SessionState>();
  readonly #emitted = new Set<string>();
  readonly #onInvalid: OnInvalid;
  #pendingEvent: E | undefined;

  constructor(
    readonly state: RunState,
    options: ExtractBatchOptions,
  ) {
    this.#onInvalid = options.onInvalid ?? 'throw';
    const windowUs = options.reorderWindowUs ?? 10_000_000;
    const maxItems = options.maxReorderEvents ?? 100_000;
    // E is EncodedTraceEvent exactly when encodeEvents is set (the overloads of the callers).
    this.#buffer = (options.encodeEvents === true
      ? new EncodedWindow(windowUs, maxItems)
      : new ReorderBuffer<TraceEvent>(windowUs, maxItems)) as EventWindow<
      TraceEvent | EncodedTraceEvent
    > as EventWindow<E>;
  }

  // What #session and #place decided for the statement they took (fields: no object per
  // statement, and nothing young stored into this long-lived object).
  /** Its transaction index, or -1 outside a transaction. */
  #txn = -1;
  /** Its start after the derived-start correction. */
  #start = 0;
  /** Its key in the reorder window. */
  #key = 0;
  /** True when it is its session's first statement. */
  #first = false;

  /**
   * Checks a statement (invalid UTF-8) and counts it and its template; false when it is skipped.
   */
  #count(
    templateId: string,
    given: QueryTemplate | undefined,
    invalidUtf8: InvalidUtf8Position | undefined,
  ): boolean {
    const { catalog, s } = this.state;
    if (invalidUtf8) {
      const p = invalidUtf8;
      if (this.#onInvalid === 'throw')
        throw new ParseError(
          'STB_INPUT_ENCODING',
          `[stb] [extractor] Invalid UTF-8 in a statement (${p.file}:${p.line}:${p.column}). Fix the log's encoding, or pass onInvalid 'collect' to keep it or 'skip' to drop it.`,
          { position: { source: p.file, line: p.line, column: p.column } },
        );
      s.invalidUtf8Events++;
      if (s.invalidUtf8.length < 100) s.invalidUtf8.push(p);
      if (this.#onInvalid === 'skip') {
        s.skipped++;
        return false;
      }
    }
    if (given && catalog.add(given)) {
      const path = given.path ?? 'lexer';
      s.templatesByPath[path]++;
      if (path === 'lexer') s.failedParseTemplates++;
    }
    const path = catalog.pathOf(templateId);
    if (path === undefined)
      throw new StbError(
        'STB_INTERNAL',
        `[stb] [extractor] Template ${templateId} arrived after its first event. Report this bug.`,
      );
    s.eventsByPath[path]++;
    if (path === 'lexer') s.failedParseEvents++;
    return true;
  }

  /** The statement's session, moved on by its transaction boundary (sets #first and #txn). */
  #session(
    sessionId: string,
    boundary: 'begin' | 'end' | undefined,
  ): SessionState {
    let st = this.#sessions.get(sessionId);
    this.#first = st === undefined;
    if (st === undefined) {
      st = {
        lastKey: Number.NEGATIVE_INFINITY,
        lastEndUs: undefined,
        txnCount: 0,
        inTxn: false,
        current: 0,
      };
      this.#sessions.set(sessionId, st);
    }
    if (boundary === 'begin' && !st.inTxn) {
      st.inTxn = true;
      st.current = st.txnCount;
    }
    this.#txn = st.inTxn ? st.current : -1;
    if (boundary === 'end' && st.inTxn) {
      st.inTxn = false;
      st.txnCount++;
    }
    return st;
  }

  /** The statement's start and window key in its session (sets #start and #key). */
  #place(
    st: SessionState,
    startUs: number,
    durationUs: number | undefined,
  ): void {
    // A connection runs one statement at a time. Where the start was derived from a logged end
    // time (log_min_duration_statement: start = log time − duration) and the log time is coarser
    // than the duration (milliseconds), the derived start can fall before the previous
    // statement's end: move it to that end (by at most 1 s), so think times are never negative
    // and the session's order holds.
    const start =
      durationUs === undefined
        ? startUs
        : clampDerivedStart(startUs, st.lastEndUs);
    this.#start = start;
    st.lastEndUs = durationUs === undefined ? undefined : start + durationUs;
    const key = start > st.lastKey ? start : st.lastKey;
    st.lastKey = key;
    this.#key = key;
  }

  /** Accepts one extracted result: checks, counts, txn index, reorder. Returns false when skipped. */
  accept(r: WorkerResult): boolean {
    const ev = r.event;
    if (!this.#count(ev.templateId, r.template, r.invalidUtf8)) return false;
    if (ev.outcome && !ev.outcome.ok) this.state.s.failedEvents++;
    const st = this.#session(ev.sessionId, r.boundary);
    this.#place(st, ev.startUs, ev.durationUs);
    if (this.#txn >= 0) ev.txn = this.#txn;
    if (this.#first && r.conn) ev.conn = r.conn;
    if (ev.durationUs !== undefined) ev.startUs = this.#start;
    // The event is final here (txn index, start): an encoding window encodes it now, and it is
    // written as it is.
    this.#buffer.push(this.#key, ev);
    return true;
  }

  /**
   * {@link accept} for statement `i` of a packed batch: the same checks and counts, and the
   * same line, written from the statement's body and the final start, transaction index and
   * connection (without an event object when the window is encoded).
   */
  acceptPacked(
    p: PackedResults,
    i: number,
    extra: PackedExtra | undefined,
  ): boolean {
    if (extra?.eventJson !== undefined)
      return this.accept(wholeResult(p, i, extra));
    const o = i * PACKED_INTS;
    const flags = p.ints[o + 3] as number;
    const ti = p.ints[o + 2] as number;
    const templateId = p.templateIds[ti] as string;
    if (!this.#count(templateId, extra?.template, extra?.invalidUtf8))
      return false;
    if (flags & PACKED_FAILED) this.state.s.failedEvents++;
    const si = p.ints[o + 1] as number;
    const renamed = p.renamed?.[si];
    const sessionId: string = renamed ?? (p.sessions[si] as string);
    const st = this.#session(
      sessionId,
      flags & PACKED_BEGIN ? 'begin' : flags & PACKED_END ? 'end' : undefined,
    );
    const dur = p.times[i * 2 + 1] as number;
    this.#place(
      st,
      p.times[i * 2] as number,
      Number.isNaN(dur) ? undefined : dur,
    );
    const tail = eventLineTail(
      this.#txn >= 0 ? this.#txn : undefined,
      this.#first && extra?.conn ? JSON.stringify(extra.conn) : undefined,
    );
    const from = i === 0 ? 0 : (p.ints[o - PACKED_INTS] as number);
    const to = p.ints[o] as number;
    const buffer = this.#buffer;
    const encoded = buffer instanceof EncodedWindow;
    // where the body's own `,"sessionId":…` ends: needed to hold the body without its ids, or
    // to write a renamed session's id instead
    const sessionEnd =
      encoded || renamed !== undefined
        ? from + this.#fields.fieldBytes(p, si, 'sessionId')
        : from;
    if (encoded) {
      // Held from `,"params":` on: the start, session and template go beside it in the store.
      const rest = sessionEnd + this.#fields.fieldBytes(p, ti, 'templateId');
      if (rest < to && startsAt(p.bodies, rest, PARAMS_FIELD)) {
        const store = buffer.begin(to - rest + tail.length * 3);
        store.copy(p.bodies, rest, to);
        store.write(tail);
        buffer.hold(
          this.#key,
          store.endEvent(templateId, this.#start, sessionId),
        );
        return true;
      }
    }
    // A renamed session: its id written here, the body's own skipped.
    const id =
      renamed === undefined ? undefined : this.#fields.renamedField(p, si);
    const bodyFrom = renamed === undefined ? from : sessionEnd;
    const head = eventLineHead(this.#start);
    if (encoded) {
      const store = buffer.begin(
        head.length + (to - bodyFrom) + (id?.length ?? 0) + tail.length * 3,
      );
      store.writeAscii(head);
      if (id !== undefined) store.copy(id, 0, id.length);
      store.copy(p.bodies, bodyFrom, to);
      store.write(tail);
      buffer.hold(this.#key, store.end(templateId));
    } else {
      const body = utf8.decode(p.bodies.subarray(bodyFrom, to));
      const ids = id === undefined ? '' : utf8.decode(id);
      buffer.push(
        this.#key,
        JSON.parse(head + ids + body + tail) as TraceEvent,
      );
    }
    return true;
  }

  /** The next record to yield (a template before its first event), or undefined. */
  next(all: boolean): E | QueryTemplate | undefined {
    if (this.#pendingEvent) {
      const e = this.#pendingEvent;
      this.#pendingEvent = undefined;
      return e;
    }
    const ev = this.#buffer.pop(all);
    if (ev === undefined) return undefined;
    const { catalog, s } = this.state;
    s.events++;
    s.reorderOverflow = this.#buffer.overflowed;
    if (!this.#emitted.has(ev.templateId)) {
      this.#emitted.add(ev.templateId);
      this.#pendingEvent = ev;
      const template = catalog.take(ev.templateId);
      if (template === undefined)
        throw new StbError(
          'STB_INTERNAL',
          `[stb] [extractor] Template ${ev.templateId} was not held for its first event. Report this bug.`,
        );
      return template;
    }
    return ev;
  }

  /** Moves every ready record (all of them when `all`) to `out`. */
  drain(all: boolean, out: (E | QueryTemplate)[]): void {
    for (let rec = this.next(all); rec !== undefined; rec = this.next(all))
      out.push(rec);
  }
}

function extractFailed(raw: RawQueryEvent, err: unknown): ParseError {
  return new ParseError(
    'STB_EXTRACT_FAILED',
    `[stb] [extractor] Extraction failed unexpectedly (${raw.source.file}:${raw.source.line}). Report this bug with the statement.`,
    {
      cause: err,
      position: { source: raw.source.file, line: raw.source.line },
    },
  );
}

function extractorOptions(options: ExtractOptions): ExtractorOptions {
  const exOptions: ExtractorOptions = {};
  if (options.dialect) exOptions.dialect = options.dialect;
  if (options.squashLists !== undefined)
    exOptions.squashLists = options.squashLists;
  if (options.maxCachedShapes !== undefined)
    exOptions.maxCachedShapes = options.maxCachedShapes;
  return exOptions;
}

/** Throws on abort; reports progress at most every `progressIntervalMs`. */
function ticker(options: ExtractOptions, state: RunState): () => void {
  const interval = options.progressIntervalMs ?? 500;
  let lastProgress = Date.now();
  return () => {
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
          events: state.s.events,
          templates: state.catalog.size,
          done: false,
        });
      }
    }
  };
}

/**
 * {@link extractTrace} over batches of raw events, giving the trace records in arrays (one
 * `await` per batch): the same records in the same order. Extracts in this thread.
 * @example
 * ```ts
 * const run = extractTraceBatches(parseLogBatches(['postgresql.log']));
 * for await (const recs of run) for (const rec of recs) write(rec);
 * ```
 */
export function extractTraceBatches(
  source: AnyIterable<RawQueryEvent[]>,
  options: ExtractBatchOptions & { encodeEvents: true },
): ExtractBatchRun<EncodedTraceEvent>;
export function extractTraceBatches(
  source: AnyIterable<RawQueryEvent[]>,
  options?: ExtractBatchOptions & { encodeEvents?: false },
): ExtractBatchRun;
export function extractTraceBatches(
  source: AnyIterable<RawQueryEvent[]>,
  options: ExtractBatchOptions,
): ExtractBatchRun<TraceEvent | EncodedTraceEvent>;
export function extractTraceBatches(
  source: AnyIterable<RawQueryEvent[]>,
  options: ExtractBatchOptions = {},
): ExtractBatchRun<TraceEvent | EncodedTraceEvent> {
  return startRun((state) => runBatches(source, options, state), options);
}

/**
 * One statement extracted as the trace assembly takes it, in input order: what
 * {@link assembleTraceBatches} consumes. With `transfer` (the result crosses threads, and a
 * structured clone or JSON copies all it is given), a copy that carries the template only the
 * first time `ex` meets it; without, the extractor's own result, unchanged.
 * @throws ParseError `STB_EXTRACT_FAILED` (a bug) naming the statement's file and line.
 */
export function extractResult(
  ex: Extractor,
  raw: RawQueryEvent,
  o: { transfer?: boolean } = {},
): WorkerResult {
  let r: Extracted;
  try {
    r = ex.extract(raw);
  } catch (err) {
    throw extractFailed(raw, err);
  }
  if (o.transfer !== true) return r;
  const w: WorkerResult = { event: r.event, isNew: r.isNew };
  if (r.isNew) w.template = r.template;
  if (r.boundary) w.boundary = r.boundary;
  if (r.invalidUtf8) w.invalidUtf8 = r.invalidUtf8;
  if (r.conn) w.conn = r.conn;
  return w;
}

/**
 * The sequential rest of {@link extractTraceBatches} over statements already extracted (by
 * {@link extractResult}, in input order, possibly on another thread, and there possibly packed
 * by {@link packResults}): transaction indexes, the reorder window, each template before its
 * first event. Same records as `extractTraceBatches` on the raw events.
 */
export function assembleTraceBatches(
  source: AnyIterable<WorkerResult[] | PackedResults>,
  options: ExtractBatchOptions & { encodeEvents: true },
): ExtractBatchRun<EncodedTraceEvent>;
export function assembleTraceBatches(
  source: AnyIterable<WorkerResult[] | PackedResults>,
  options?: ExtractBatchOptions & { encodeEvents?: false },
): ExtractBatchRun;
export function assembleTraceBatches(
  source: AnyIterable<WorkerResult[] | PackedResults>,
  options: ExtractBatchOptions,
): ExtractBatchRun<TraceEvent | EncodedTraceEvent>;
export function assembleTraceBatches(
  source: AnyIterable<WorkerResult[] | PackedResults>,
  options: ExtractBatchOptions = {},
): ExtractBatchRun<TraceEvent | EncodedTraceEvent> {
  return startRun((state) => assemble(source, options, state), options);
}

/** A trace record of a batched run: events as objects, or encoded (`encodeEvents`). */
type BatchRecord = TraceEvent | EncodedTraceEvent | QueryTemplate;

async function* runBatches(
  source: AnyIterable<RawQueryEvent[]>,
  options: ExtractBatchOptions,
  state: RunState,
): AsyncGenerator<BatchRecord[]> {
  const ex = await createExtractor(extractorOptions(options));
  yield* assemble(
    map(source, (raws) => raws.map((raw) => extractResult(ex, raw))),
    options,
    state,
  );
}

async function* assemble(
  source: AnyIterable<WorkerResult[] | PackedResults>,
  options: ExtractBatchOptions,
  state: RunState,
): AsyncGenerator<BatchRecord[]> {
  const asm = new TraceAssembler<TraceEvent | EncodedTraceEvent>(
    state,
    options,
  );
  const tick = ticker(options, state);
  for await (const results of source) {
    tick();
    const out: BatchRecord[] = [];
    if (isPacked(results)) {
      let x = 0;
      for (let i = 0; i < results.count; i++) {
        const extra =
          (results.ints[i * PACKED_INTS + 3] as number) & PACKED_EXTRA
            ? results.extras[x++]
            : undefined;
        if (asm.acceptPacked(results, i, extra)) asm.drain(false, out);
      }
    } else for (const r of results) if (asm.accept(r)) asm.drain(false, out);
    if (out.length > 0) yield out;
  }
  const out: BatchRecord[] = [];
  asm.drain(true, out);
  if (out.length > 0) yield out;
  options.onProgress?.({
    events: state.s.events,
    templates: state.catalog.size,
    done: true,
  });
}

async function* run(
  source: AnyIterable<RawQueryEvent>,
  options: ExtractOptions,
  state: RunState,
): AsyncGenerator<TraceEvent | QueryTemplate> {
  const workers = Math.max(0, Math.floor(options.workers ?? 0));
  const asm = new TraceAssembler<TraceEvent>(state, {
    ...options,
    encodeEvents: false,
  });
  let seen = 0;
  const exOptions = extractorOptions(options);
  const tick = ticker(options, state);
  const accept = (r: WorkerResult) => asm.accept(r);
  const next = (all: boolean) => asm.next(all);

  if (workers === 0) {
    const ex = await createExtractor(exOptions);
    for await (const raw of source) {
      if ((++seen & 1023) === 0) tick();
      let r: WorkerResult;
      try {
        r = ex.extract(raw);
      } catch (err) {
        throw extractFailed(raw, err);
      }
      if (accept(r))
        for (let rec = next(false); rec !== undefined; rec = next(false))
          yield rec;
    }
  } else {
    // Required here, not imported at the top: only this path uses the pool (see `lazyRequire`).
    const { Piscina } = lazyRequire('piscina') as {
      Piscina: typeof PiscinaPool;
    };
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
    events: state.s.events,
    templates: state.catalog.size,
    done: true,
  });
}

import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import os, { availableParallelism } from 'node:os';
import path from 'node:path';
import {
  StbError,
  createTraceHeader,
  detectInputKind,
  materializeInput,
  openTrace,
  readTraceRecords,
  writeTrace,
} from '@stb/core';
import type {
  EncodedTraceEvent,
  MaterializedInput,
  QueryTemplate,
  Dialect,
  RawQueryEvent,
  TraceEvent,
  TraceHeader,
  WritableTraceRecord,
  WriteTraceSummary,
} from '@stb/core';
import { assembleTraceBatches, extractTraceBatches } from '@stb/extractor';
import type { ExtractBatchRun, ExtractSummary } from '@stb/extractor';
import {
  holdYoungGeneration,
  relaxHeapGrowing,
  scavengeAlone,
} from './heap-growing';
import type { YoungGenerationHold } from './heap-growing';
import { parseOnThread } from './log-thread';
import type { LogThreadRun } from './log-thread';
import { parseRangesOnThreads, RANGE_BYTES } from './range-thread';
import type { RangeTaken } from './range-thread';
import {
  explainNoStatements,
  loadFormatPackage,
  parseLogBatches,
  planPgRanges,
  withFormats,
} from '@stb/parser';
import type {
  AnyLogFormat,
  ParseFilters,
  ParseLogsOptions,
  ParseProgress,
  ParseSummary,
  PgRangePlan,
} from '@stb/parser';
import { createdAtFromEnv } from './outputs';

/** Default `--max-invalid`: 1 % of the lines read. */
export const DEFAULT_MAX_INVALID = 0.01;

/**
 * Throws `STB_PARSE_INVALID_LINE` when more than `maxInvalid` of the lines read were invalid,
 * naming the first one.
 */
export function checkInvalidShare(s: ParseSummary, maxInvalid: number): void {
  const bad = s.invalidLines;
  if (bad === 0 || bad <= maxInvalid * s.linesRead) return;
  const first = s.invalid[0];
  const pct = (x: number): string => `${(100 * x).toFixed(x < 0.001 ? 3 : 1)}%`;
  throw new StbError(
    'STB_PARSE_INVALID_LINE',
    `[stb] [cli] ${bad} of ${s.linesRead} log lines (${pct(bad / Math.max(1, s.linesRead))}) are invalid, first at \`${first?.file ?? '?'}\`:${first?.line ?? '?'} (${first?.reason ?? 'invalid'}); more than \`--max-invalid\` ${pct(maxInvalid)}. Check the format (\`--format\`, \`--prefix\`), or raise \`--max-invalid\` to keep what parses.`,
    {
      details: {
        invalidLines: bad,
        linesRead: s.linesRead,
        file: first?.file ?? null,
        line: first?.line ?? null,
      },
    },
  );
}

/** Options of {@link logRecords}. */
export interface LogInputOptions {
  /** Log format name (default: detected per file). */
  format?: string | undefined;
  filters?: ParseFilters | undefined;
  /** Per-format parser options, keyed by format name. */
  formatOptions?: Record<string, unknown> | undefined;
  signal: AbortSignal;
  onProgress?: (events: number) => void;
  /** Called as input bytes are read: on-disk bytes read so far, all inputs together. */
  onBytes?: (bytesRead: number) => void;
  /** Most invalid lines tolerated, as a share of lines read (default 0.01 = 1 %). */
  maxInvalid?: number | undefined;
  /** Longest line accepted, in UTF-16 units (default 64 Mi). */
  maxLineLength?: number | undefined;
  /** Log-format plugin packages to load (`--format-package`), resolved from `from`. */
  formatPackages?: readonly string[] | undefined;
  from?: string | undefined;
  /**
   * Threads besides this one (`--workers`, default 0): with 1 or more, the logs are read and
   * parsed on a thread of their own while this one extracts and writes; same trace.
   */
  workers?: number | undefined;
  /**
   * {@link logRecords}: keep every template record for `templates()` (a fit needs them all up
   * front); without, `stb parse` holds a template only until it is written (issue 19). The
   * extraction run itself never keeps them here (`keepTemplates: false`).
   */
  collectTemplates?: boolean | undefined;
  /** Tests: hand parsed events over in batches of at most this many (with `workers`). */
  handOffEvents?: number | undefined;
  /**
   * Tests: with `workers` ≥ 2, the parse thread extracts every n-th batch itself, the others going
   * to the extraction threads (by default it extracts only when they fall behind).
   */
  extractHereEvery?: number | undefined;
  /** Tests: with `workers` ≥ 2, called at the end with the batches the parse thread extracted. */
  onExtractedHere?: ((batches: number) => void) | undefined;
  /**
   * With `workers` ≥ 1 and events held encoded (`--ranges`): one uncompressed PostgreSQL stderr
   * log is parsed in byte ranges on `workers` threads, this one taking ranges too
   * (`range-thread.ts`); any other input as without it, after a warning. The same trace.
   */
  ranges?: boolean | undefined;
  /** Tests: bytes per range with `ranges` (default `RANGE_BYTES`). */
  rangeBytes?: number | undefined;
  /** Tests: the main thread parses no byte range before a range thread has (default true). */
  mainParses?: boolean | undefined;
  /** Tests: told how each byte range was taken (`RangeTaken`). */
  onRange?:
    ((index: number, how: RangeTaken, why?: string) => void) | undefined;
  /**
   * Give events as their JSON Lines text (`EncodedTraceEvent`), encoded as they enter the reorder
   * window (`encodeEvents` of the extractor): for callers that only write the trace.
   */
  encodeEvents?: boolean | undefined;
  /** Told, once the logs are read, of each log whose last line was cut ({@link cutLogWarnings}). */
  onWarning?: ((message: string) => void) | undefined;
}

/**
 * One `[stb]` line per log whose last line has no line end (a log still being written, a partial
 * copy), naming it and where the skipped entry starts: the entry is not read as a shorter
 * statement (see `FileParseSummary.truncatedAt`).
 */
export function cutLogWarnings(s: ParseSummary): string[] {
  return s.files
    .filter((f) => f.truncatedAt !== undefined)
    .map(
      (f) =>
        `[stb] ${f.file}:${f.linesRead}: the log's last line has no line end (a log still being written, or a partial copy): its entry, from line ${f.truncatedAt}, is skipped as truncated.`,
    );
}

/** A log being parsed and extracted into trace records. */
export interface LogTrace {
  /** Records in batches (arrays), as `writeTrace` takes them (events encoded under `encodeEvents`). */
  records: AsyncIterable<WritableTraceRecord[]>;
  /** The header yielded first (undefined before the records are read). */
  header(): TraceHeader | undefined;
  /** The templates yielded so far, in order (only with `collectTemplates`; a bug otherwise). */
  templates(): QueryTemplate[];
  /** Parser and extractor counts (final once `records` is exhausted). */
  summary(): { parse: ParseSummary; extract: ExtractSummary };
}

/** Sums the bytes read of each input (inputs are read one after another). */
function bytesProgress(
  onBytes: (bytesRead: number) => void,
): (p: ParseProgress) => void {
  const done = new Map<string, number>();
  return (p) => {
    done.set(p.file, p.bytesRead);
    let total = 0;
    for (const n of done.values()) total += n;
    onBytes(total);
  };
}

/** A parse's first batch (already taken), the rest of its batches and its summary. */
interface StartedParse<B> {
  rest: AsyncIterable<B>;
  summary: () => ParseSummary;
}

/**
 * Takes the first batch of `run` (so the header can name the formats and the first dialect)
 * and gives an iterable of all of them again.
 * @throws StbError `STB_MODEL_EMPTY_INPUT` when there is none.
 */
async function startParse<B>(
  files: readonly string[],
  run: AsyncIterable<B> & { summary: () => ParseSummary },
  size: (batch: B) => number,
): Promise<StartedParse<B> & { firstBatch: B }> {
  const it = run[Symbol.asyncIterator]();
  const first = await it.next();
  if (first.done || size(first.value) === 0) {
    const parsed = run.summary();
    throw new StbError(
      'STB_MODEL_EMPTY_INPUT',
      `[stb] [cli] No SQL statements found: ${explainNoStatements(parsed)}.`,
      {
        details: {
          files: [...files],
          formats: parsed.files.map((f) => f.format),
          skipped: parsed.skipped,
          filtered: parsed.filtered,
        },
      },
    );
  }
  const firstBatch: B = first.value;
  const rest: AsyncIterable<B> = {
    [Symbol.asyncIterator]: () => {
      let head: B | undefined = firstBatch;
      return {
        next: () => {
          if (head === undefined) return it.next();
          const value = head;
          head = undefined;
          return Promise.resolve({ done: false, value });
        },
        return: async () => {
          await it.return?.();
          return { done: true, value: undefined };
        },
      };
    },
  };
  return { rest, summary: run.summary, firstBatch };
}

/** What {@link extractedLog} gives: the records, the parse summary, the trace's dialect. */
interface ExtractedLog {
  run: ExtractBatchRun<TraceEvent | EncodedTraceEvent>;
  raw: () => ParseSummary;
  dialect: Dialect;
}

/** The trace records of batches parsed and extracted on other threads, assembled here. */
async function assembledOnThreads(
  files: readonly string[],
  thread: LogThreadRun,
  options: LogInputOptions,
): Promise<ExtractedLog> {
  const started = await startParse(files, thread, (b) =>
    Array.isArray(b) ? b.length : b.count,
  );
  return {
    run: assembleTraceBatches(started.rest, {
      signal: options.signal,
      encodeEvents: options.encodeEvents === true,
      // the records are written; nothing looks a template up in the run
      keepTemplates: false,
    }),
    raw: started.summary,
    dialect: thread.dialect() as Dialect,
  };
}

/**
 * With `ranges`: whether the one input is a PostgreSQL stderr log to parse in byte ranges
 * (`planPgRanges`), and on how many range threads besides this one (which parses ranges too): one
 * per worker, at most one per core, two at least. Otherwise a warning says why not.
 */
async function rangePlan(
  files: readonly string[],
  options: LogInputOptions,
  parse: ParseLogsOptions,
): Promise<
  { plan: PgRangePlan; threads: number; rangeBytes: number } | undefined
> {
  const workers = options.workers ?? 0;
  if (options.ranges !== true || workers < 1) return undefined;
  const rangeBytes = options.rangeBytes ?? RANGE_BYTES;
  const plan =
    options.encodeEvents === true && (options.formatPackages?.length ?? 0) === 0
      ? await planPgRanges(files, { ...parse, minBytes: 2 * rangeBytes })
      : undefined;
  if (plan === undefined) {
    options.onWarning?.(
      `[stb] [cli] \`--ranges\`: parsing with the default split instead. Byte ranges take one uncompressed PostgreSQL stderr log of at least ${2 * rangeBytes} bytes whose log_line_prefix has a time, written as JSONL or JSON, without --format-package or filters on users, databases, applications or sessions.`,
    );
    return undefined;
  }
  return {
    plan,
    threads: Math.min(workers, Math.max(2, availableParallelism())),
    rangeBytes,
  };
}

/**
 * The parse and extraction of `logRecords`: in this thread, or (`workers` > 0) parsed and
 * extracted on a thread of its own while this one assembles (transaction indexes, reorder
 * window, template order) and the caller writes. Same records either way (tested).
 */
async function extractedLog(
  files: readonly string[],
  options: LogInputOptions,
): Promise<ExtractedLog> {
  const onProgress = options.onBytes
    ? bytesProgress(options.onBytes)
    : undefined;
  const parse = {
    ...(options.format === undefined ? {} : { format: options.format }),
    ...(options.filters === undefined ? {} : { filters: options.filters }),
    ...(options.formatOptions === undefined
      ? {}
      : { formatOptions: options.formatOptions }),
    ...(options.maxLineLength === undefined
      ? {}
      : { maxLineLength: options.maxLineLength }),
    onInvalid: 'collect' as const,
  };
  const ranges = await rangePlan(files, options, parse);
  if (ranges !== undefined) {
    // The window holds packed bytes (see heap-growing.ts), and with two JavaScript threads busy,
    // scavenges are cheaper done by each thread itself (see scavengeAlone).
    relaxHeapGrowing();
    scavengeAlone();
    const thread = parseRangesOnThreads({
      plan: ranges.plan,
      options: parse,
      threads: ranges.threads,
      rangeBytes: ranges.rangeBytes,
      onProgress,
      signal: options.signal,
      onRange: options.onRange,
      mainParses: options.mainParses,
    });
    return assembledOnThreads(files, thread, options);
  }
  if ((options.workers ?? 0) > 0) {
    const pack = options.encodeEvents === true;
    // Threads beyond the parse thread extract (packed hand-offs only), at most one per core
    // (two at least): each holds an isolate and an extractor.
    const extractThreads = Math.min(
      Math.max(0, (options.workers ?? 0) - 1),
      Math.max(2, availableParallelism()),
    );
    // This thread then only orders and writes packed bytes (see heap-growing.ts), and three
    // JavaScript threads share the cores: scavenges are cheaper done by each thread itself.
    // Its young generation is held too, at half V8's size (see YoungGenerationHold).
    let youngGeneration: YoungGenerationHold | undefined;
    if (pack && extractThreads > 0) {
      relaxHeapGrowing();
      scavengeAlone();
      youngGeneration = holdYoungGeneration();
    }
    const thread = parseOnThread({
      inputs: [...files],
      parse,
      formatPackages: [...(options.formatPackages ?? [])],
      from: options.from,
      handOffEvents: options.handOffEvents,
      extractHereEvery: options.extractHereEvery,
      onExtractedHere: options.onExtractedHere,
      // Events held encoded: extracted batches can cross as bodies and numbers.
      pack,
      extractThreads,
      onProgress,
      signal: options.signal,
      youngGeneration,
    });
    return assembledOnThreads(files, thread, options);
  }
  const loaded: AnyLogFormat[] = [];
  for (const pkg of options.formatPackages ?? [])
    loaded.push(...(await loadFormatPackage(pkg, { from: options.from })));
  const started = await startParse(
    files,
    parseLogBatches([...files], {
      ...parse,
      ...(loaded.length === 0 ? {} : { formats: withFormats(loaded) }),
      signal: options.signal,
      ...(onProgress ? { onProgress } : {}),
    }),
    (b) => b.length,
  );
  return {
    run: extractTraceBatches(started.rest, {
      signal: options.signal,
      encodeEvents: options.encodeEvents === true,
      keepTemplates: false,
    }),
    raw: started.summary,
    dialect: (started.firstBatch[0] as RawQueryEvent).dialect,
  };
}

/**
 * Parses logs and extracts templates: the trace records (header first; its dialect comes from the
 * first statement), through `traceFromLog` (`@stb/extractor`). Streams in bounded memory.
 * @throws StbError `STB_MODEL_EMPTY_INPUT` when the logs hold no statement.
 */
export async function logRecords(
  files: readonly string[],
  options: LogInputOptions,
): Promise<LogTrace> {
  const { run, raw: rawSummary, dialect } = await extractedLog(files, options);
  const raw = { summary: rawSummary };
  const header = (): TraceHeader => {
    // Formats are known once each file's first lines were read: with several inputs, before the
    // first event (the merge by time reads every input's head first; stdin is read from the
    // start).
    const s = raw.summary();
    const resolutions = s.files
      .map((f) => f.timeResolutionUs)
      .filter((r): r is number => r !== undefined && r > 0);
    return createTraceHeader({
      dialect,
      source: {
        tool: 'parse',
        files: files.map((f) => (f === '-' ? '-' : path.basename(f))),
        formats: s.files.map((f) => f.format),
      },
      timeResolutionUs: resolutions.length > 0 ? Math.max(...resolutions) : 1,
      ...createdAtFromEnv(),
    });
  };
  let headerRecord: TraceHeader | undefined;
  const keep = options.collectTemplates === true;
  const templates: QueryTemplate[] = [];
  async function* records(): AsyncGenerator<WritableTraceRecord[]> {
    headerRecord = header();
    yield [headerRecord];
    for await (const batch of run) {
      if (keep)
        for (const r of batch) if (r.kind === 'template') templates.push(r);
      yield batch;
      options.onProgress?.(run.summary().events);
    }
    options.onProgress?.(run.summary().events);
    // Before the output is committed: a log that lost more than --max-invalid of its lines is
    // bad input (exit 3), not a trace to carry on with.
    checkInvalidShare(raw.summary(), options.maxInvalid ?? DEFAULT_MAX_INVALID);
    if (options.onWarning)
      for (const w of cutLogWarnings(raw.summary())) options.onWarning(w);
  }
  return {
    records: records(),
    header: () => headerRecord,
    templates: () => {
      if (!keep)
        throw new StbError(
          'STB_INTERNAL',
          '[stb] [cli] logRecords was called without `collectTemplates`, so it kept no templates. Report this bug.',
        );
      return templates;
    },
    summary: () => ({ parse: raw.summary(), extract: run.summary() }),
  };
}

/** A trace on disk, ready for multi-pass fitting. */
export interface FitInput {
  header: TraceHeader;
  templates: QueryTemplate[];
  events: () => AsyncIterable<TraceEvent>;
  /** Removes temporary files. */
  cleanup(): Promise<void>;
  /** Set when the input was a log: what parsing found. */
  parsed?: { written: WriteTraceSummary; extract: ExtractSummary };
}

async function* traceEvents(
  file: string,
  signal: AbortSignal,
): AsyncGenerator<TraceEvent> {
  const t = await openTrace(file, { signal });
  yield* t.events;
}

/**
 * Prepares inputs for `fitWorkloadModel`, which needs every template up front and may read the
 * events several times: a trace is scanned once for its header and templates; logs are parsed
 * into a temporary trace file first (removed by `cleanup`), and stdin or a pipe is copied to a
 * file before anything (also removed by `cleanup`).
 */
export async function openFitInput(
  given: readonly string[],
  options: LogInputOptions,
): Promise<FitInput> {
  // stdin and pipes (`<(zcat trace.gz)`) are copied to files first: telling a log from a trace
  // reads their head, and a fit reads a trace's events more than once
  const materialized: MaterializedInput[] = [];
  try {
    for (const f of given)
      materialized.push(await materializeInput(f, { signal: options.signal }));
    const input = await openFitFiles(
      materialized.map((c) => c.file),
      options,
    );
    return {
      ...input,
      cleanup: async () => {
        await input.cleanup();
        for (const c of materialized) await c.cleanup();
      },
    };
  } catch (err) {
    for (const c of materialized) await c.cleanup();
    throw err;
  }
}

async function openFitFiles(
  files: readonly string[],
  options: LogInputOptions,
): Promise<FitInput> {
  const kinds = await Promise.all(files.map((f) => detectInputKind(f)));
  if (kinds.includes('model'))
    throw new StbError(
      'STB_USAGE',
      `[stb] [cli] \`${files[kinds.indexOf('model')] ?? ''}\` is a model artifact, not a log or trace. Pass it with \`--model\`.`,
    );
  let file: string;
  let temp: string | undefined;
  let parsed: FitInput['parsed'];
  let header: TraceHeader | undefined;
  let templates: QueryTemplate[] = [];
  if (kinds.every((k) => k === 'trace') && files.length === 1) {
    file = files[0] as string;
    for await (const r of readTraceRecords(file, { signal: options.signal })) {
      if (r.kind === 'header') header = r;
      else if (r.kind === 'template') templates.push(r);
    }
  } else if (kinds.includes('trace')) {
    throw new StbError(
      'STB_USAGE',
      '[stb] [cli] Pass either one trace or one or more logs to `-i`, not a mix. Merge logs with `stb parse` first.',
    );
  } else {
    // The fit reads the events more than once: they go to a temporary trace; the header and the
    // templates come from the extraction itself.
    temp = path.join(
      os.tmpdir(),
      `stb-learn-${process.pid}-${randomBytes(4).toString('hex')}.jsonl`,
    );
    try {
      const log = await logRecords(files, {
        ...options,
        collectTemplates: true,
      });
      const written = await writeTrace(temp, log.records, {
        signal: options.signal,
      });
      parsed = { written, extract: log.summary().extract };
      header = log.header();
      templates = log.templates();
    } catch (err) {
      await fsp.rm(temp, { force: true });
      throw err;
    }
    file = temp;
  }
  if (!header)
    throw new StbError(
      'STB_TRACE_MISSING_HEADER',
      `[stb] [cli] \`${files[0] ?? ''}\` has no header record. Recreate it with \`stb parse\`.`,
    );
  const input: FitInput = {
    header,
    templates,
    events: () => traceEvents(file, options.signal),
    cleanup: async () => {
      if (temp) await fsp.rm(temp, { force: true });
    },
  };
  if (parsed) input.parsed = parsed;
  return input;
}

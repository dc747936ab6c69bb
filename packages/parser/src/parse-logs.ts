import {
  ParseError,
  PluginError,
  STDIN_NAME,
  StbError,
  isStbError,
  parsePluginOptions,
  openInput,
  splitLineBatches,
} from '@stb/core';
import type { Dialect, InputLine, OnInvalid, RawQueryEvent } from '@stb/core';
import { promises as fsp } from 'node:fs';
import type { AnyLogFormat } from './detect';
import {
  MIN_DETECT_CONFIDENCE,
  rankLogFormats,
  unknownFormatError,
} from './detect';
import { builtinLogFormats } from './formats/builtin';
import type { LogFormatContext } from './log-format';
import { isLoggingControl } from './internal/logging-control';
import { mergeByTime } from './internal/merge-files';
import type { MergeInput } from './internal/merge-files';

/** Progress of {@link parseLogs}, per input. */
export interface ParseProgress {
  file: string;
  /** On-disk (compressed) bytes read so far. */
  bytesRead: number;
  /** On-disk size, when known. */
  totalBytes?: number;
  /** Events emitted so far, all inputs together. */
  events: number;
}

/** Which events {@link parseLogs} keeps. Lists match exactly; times are epoch µs. */
export interface ParseFilters {
  databases?: readonly string[];
  users?: readonly string[];
  applications?: readonly string[];
  /** Keep events starting at or after this time (events without a time are kept). */
  from?: number;
  /** Keep events starting before this time (events without a time are kept). */
  to?: number;
  /** Drop sessions whose id (with or without the file prefix) equals a string or matches a RegExp. */
  excludeSessions?: readonly (string | RegExp)[];
}

/** Options of {@link parseLogs}. */
export interface ParseLogsOptions {
  /** Force a format by plugin name (else each input is detected from its first lines). */
  format?: string;
  /** The plugins to choose from (default {@link builtinLogFormats}). */
  formats?: readonly AnyLogFormat[];
  /**
   * Options of the format: `formatOptions[pluginName]` when present, else (with `format` forced)
   * `formatOptions` itself. Validated by the plugin's schema (`STB_PLUGIN_OPTIONS_INVALID`).
   */
  formatOptions?: Record<string, unknown>;
  /** What to do with lines that cannot be parsed (default `'throw'`). */
  onInvalid?: OnInvalid;
  /** Called after each chunk read and at the end of each input. */
  onProgress?: (p: ParseProgress) => void;
  signal?: AbortSignal;
  filters?: ParseFilters;
  /**
   * Keep statements that only switch the server's statement logging (`SET SESSION sql_log_off`,
   * `SET log_statement`…; default false: they are the capture tool's, not the workload's, and are
   * counted as skipped `logging-control`).
   */
  keepLoggingControl?: boolean;
  /** Longest line accepted (UTF-16 units); longer raises `STB_PARSE_LINE_TOO_LONG`. */
  maxLineLength?: number;
  /** Most invalid lines kept under `'collect'` (default 10 000); the rest are only counted. */
  maxCollected?: number;
  /** Lines read for format detection (default 200). */
  detectLines?: number;
}

/** An invalid line kept under `onInvalid: 'collect'`. */
export interface InvalidLine {
  file: string;
  line: number;
  reason: string;
}

/** What {@link parseLogs} read from one input. */
export interface FileParseSummary {
  file: string;
  fileIndex: number;
  /** Plugin used (`none` for an empty input). */
  format: string;
  /** Detection confidence (1 when forced). */
  confidence: number;
  dialect: Dialect | undefined;
  /** Finest time difference the input resolves, µs; undefined when it has no times. */
  timeResolutionUs: number | undefined;
  events: number;
  linesRead: number;
  /** On-disk bytes read. */
  bytesRead: number;
  /** Entries that gave no event, by kind (`connection`, `error`, `invalid`, …). */
  skipped: Record<string, number>;
  /** Events dropped by {@link ParseFilters}. */
  filtered: number;
  /** Distinct sessions with at least one kept event. */
  sessions: number;
  /**
   * Set when the input's last line has no line end (a log still being written, a partial copy):
   * the line where the entry it cut starts. That entry is skipped as `truncated`, not read as a
   * shorter statement (formats whose server ends every line: PostgreSQL stderr, csvlog, jsonlog,
   * MySQL general and slow logs).
   */
  truncatedAt?: number;
}

/** Summary of a whole {@link parseLogs} call. */
export interface ParseSummary {
  files: FileParseSummary[];
  events: number;
  linesRead: number;
  skipped: Record<string, number>;
  filtered: number;
  sessions: number;
  /** Invalid lines (under `'collect'`, at most `maxCollected`). */
  invalid: InvalidLine[];
  /** Invalid lines counted but not kept (beyond `maxCollected`). */
  invalidDropped: number;
  /**
   * Lines lost to invalid records: one per invalid line, plus every line of a multi-line record
   * skipped while resynchronising (a csvlog record with an unclosed quote).
   */
  invalidLines: number;
  /** False while the run is still being iterated. */
  complete: boolean;
}

/** A running parse: iterate it once for the events, then read {@link ParseRun.summary}. */
export interface ParseRun extends AsyncIterable<RawQueryEvent> {
  /** The summary so far; final once iteration has ended (`complete: true`). */
  summary(): ParseSummary;
}

/** A running parse giving events in arrays (batches), see {@link parseLogBatches}. */
export interface ParseBatchRun extends AsyncIterable<RawQueryEvent[]> {
  /** The summary so far; final once iteration has ended (`complete: true`). */
  summary(): ParseSummary;
}

/**
 * Most events per batch of {@link parseLogBatches}: small, so a batch and what is made of it die
 * young (see core's read chunk size).
 */
const BATCH_EVENTS = 512;

/**
 * Lines of an input read in batches, as the `AsyncIterable<InputLine>` a plugin takes: lines of
 * the current batch are handed out without a generator layer. `head` holds the lines read ahead
 * for detection; they are handed out first.
 */
class BatchedLines implements AsyncIterable<InputLine> {
  head: InputLine[] = [];
  done = false;
  constructor(
    private readonly batches: AsyncIterator<InputLine[]>,
    private readonly onLine: (line: number) => void,
  ) {}

  /** Reads batches until `n` lines are in `head` or the input ended. */
  async peek(n: number): Promise<InputLine[]> {
    while (this.head.length < n && !this.done) {
      const r = await this.batches.next();
      if (r.done) this.done = true;
      else {
        for (const l of r.value) this.head.push(l);
        const last = r.value[r.value.length - 1];
        if (last) this.onLine(last.line);
      }
    }
    return this.head.slice(0, n);
  }

  async close(): Promise<void> {
    await this.batches.return?.();
  }

  /** The lines as arrays: `head` first, then the batches not read yet. */
  arrays(): AsyncIterable<InputLine[]> {
    return {
      [Symbol.asyncIterator]: (): AsyncIterator<InputLine[]> => {
        let head: InputLine[] | undefined = this.head;
        return {
          next: async (): Promise<IteratorResult<InputLine[]>> => {
            if (head !== undefined && head.length > 0) {
              const value = head;
              head = undefined;
              return { done: false, value };
            }
            while (!this.done) {
              const r = await this.batches.next();
              if (r.done) {
                this.done = true;
                break;
              }
              if (r.value.length === 0) continue;
              this.onLine((r.value[r.value.length - 1] as InputLine).line);
              return r;
            }
            return { done: true, value: undefined };
          },
          return: async (): Promise<IteratorResult<InputLine[]>> => {
            await this.close();
            return { done: true, value: undefined };
          },
        };
      },
    };
  }

  [Symbol.asyncIterator](): AsyncIterator<InputLine> {
    let batch = this.head;
    let i = 0;
    const end = (): IteratorResult<InputLine> => ({
      done: true,
      value: undefined,
    });
    const refill = async (): Promise<IteratorResult<InputLine>> => {
      for (;;) {
        if (this.done) return end();
        const r = await this.batches.next();
        if (r.done) {
          this.done = true;
          return end();
        }
        if (r.value.length === 0) continue;
        batch = r.value;
        i = 1;
        this.onLine((batch[batch.length - 1] as InputLine).line);
        return { done: false, value: batch[0] as InputLine };
      }
    };
    return {
      next: () =>
        i < batch.length
          ? Promise.resolve({ done: false, value: batch[i++] as InputLine })
          : refill(),
      return: async () => {
        await this.close();
        return end();
      },
    };
  }
}

function resolveFormat(
  formats: readonly AnyLogFormat[],
  name: string,
): AnyLogFormat {
  const f = formats.find((x) => x.name === name);
  if (f) return f;
  throw new PluginError(
    'STB_PLUGIN_NOT_FOUND',
    `[stb] [parser] Unknown log format \`${name}\`. Use one of: ${formats.map((x) => x.name).join(', ')}.`,
    { pluginKind: 'log-format', pluginName: name },
  );
}

/** @internal */
export function optionsFor(
  plugin: AnyLogFormat,
  options: ParseLogsOptions,
): unknown {
  const all = options.formatOptions;
  if (!all) return {};
  const own = all[plugin.name];
  if (typeof own === 'object' && own !== null) return own;
  return options.format !== undefined ? all : {};
}

/** @internal */
export function addCount(
  rec: Record<string, number>,
  kind: string,
  n = 1,
): void {
  rec[kind] = (rec[kind] ?? 0) + n;
}

function excluded(
  patterns: readonly (string | RegExp)[],
  local: string,
  full: string,
): boolean {
  for (const p of patterns) {
    if (typeof p === 'string') {
      if (p === local || p === full) return true;
    } else if (p.test(local) || p.test(full)) return true;
  }
  return false;
}

/** What every file of a parse run shares: the inputs, the options and the run's summary. @internal */
export interface ParseRunState {
  files: string[];
  formats: readonly AnyLogFormat[];
  onInvalid: OnInvalid;
  maxCollected: number;
  filters: ParseFilters;
  summary: ParseSummary;
  options: ParseLogsOptions;
  /** Per-file summaries added to {@link summary} before the file is opened (several inputs). */
  registered: (FileParseSummary | undefined)[];
  /** Most events per batch (default {@link BATCH_EVENTS}). */
  batchEvents?: number;
}

/** One file opened for parsing: its summary (already in the run's), its lines and its progress. @internal */
export interface OpenedFile {
  file: string;
  fs: FileParseSummary;
  lines: BatchedLines;
  progress: () => void;
  /** The input is gzip (decompressed as read). */
  gzip: boolean;
  /** On-disk size, when known. */
  totalBytes: number | undefined;
}

/** @internal */
export function blankFileSummary(
  file: string,
  fileIndex: number,
): FileParseSummary {
  return {
    file,
    fileIndex,
    format: 'none',
    confidence: 0,
    dialect: undefined,
    timeResolutionUs: undefined,
    events: 0,
    linesRead: 0,
    bytesRead: 0,
    skipped: {},
    filtered: 0,
    sessions: 0,
  };
}

/** Opens one input (size for progress, decompression, line splitting) and adds its summary. @internal */
export async function openFile(
  run: ParseRunState,
  input: string,
  fileIndex: number,
): Promise<OpenedFile> {
  const { summary, options } = run;
  const file = input === '-' ? STDIN_NAME : input;
  let totalBytes: number | undefined;
  if (input !== '-') {
    try {
      totalBytes = (await fsp.stat(input)).size;
    } catch {
      totalBytes = undefined; // readLines raises the proper error
    }
  }
  const registered = run.registered[fileIndex];
  const fs = registered ?? blankFileSummary(file, fileIndex);
  if (registered === undefined) summary.files.push(fs);
  const progress = () => {
    const p: ParseProgress = {
      file,
      bytesRead: fs.bytesRead,
      events: summary.events,
    };
    if (totalBytes !== undefined) p.totalBytes = totalBytes;
    options.onProgress?.(p);
  };
  // openInput + splitLines is readLines without its extra generator layer per line.
  const opened = await openInput(input, {
    signal: options.signal,
    onBytes: (n) => {
      fs.bytesRead = n;
      progress();
    },
  });
  const raw = splitLineBatches(opened.stream, opened.name, {
    maxLineLength: options.maxLineLength,
    gzip: opened.gzip,
    signal: options.signal,
  });
  const lines = new BatchedLines(raw[Symbol.asyncIterator](), (n) => {
    fs.linesRead = n;
  });
  return { file, fs, lines, progress, gzip: opened.gzip, totalBytes };
}

/**
 * The file's format: the forced one, or the best-ranked on its first lines.
 * @throws StbError `STB_PARSE_UNKNOWN_FORMAT` (the lines are closed first) when none is sure enough.
 * @internal
 */
export async function chooseFormat(
  run: ParseRunState,
  f: OpenedFile,
  head: readonly InputLine[],
): Promise<AnyLogFormat> {
  const { formats, options } = run;
  let plugin: AnyLogFormat;
  if (options.format !== undefined) {
    plugin = resolveFormat(formats, options.format);
    f.fs.confidence = 1;
  } else {
    const ranked = rankLogFormats(
      head.map((l) => l.text),
      formats,
    );
    const best = ranked[0];
    if (!best || best.confidence < MIN_DETECT_CONFIDENCE) {
      await f.lines.close();
      throw unknownFormatError(formats, f.file);
    }
    plugin = best.format;
    f.fs.confidence = best.confidence;
  }
  f.fs.format = plugin.name;
  f.fs.dialect = plugin.dialect;
  f.fs.timeResolutionUs = plugin.timeResolutionUs;
  return plugin;
}

/** What a format plugin reports through: skipped and invalid lines, the time resolution. @internal */
export function formatContext(
  run: ParseRunState,
  f: OpenedFile,
  plugin: AnyLogFormat,
): LogFormatContext {
  const { summary, onInvalid, maxCollected, options } = run;
  const { file, fs } = f;
  const invalidRecord = (line: number, why: string, lines: number) => {
    summary.invalidLines += lines;
    if (onInvalid === 'throw') {
      throw new ParseError(
        'STB_PARSE_INVALID_LINE',
        `[stb] [parser] Line ${line} of \`${file}\` is not valid ${plugin.name}: ${why}. Check the format (\`--format\`, \`--prefix\`), or let the CLI skip bad lines with \`--max-invalid\` (library: \`onInvalid: 'collect'\`).`,
        {
          position: { source: file, line },
          details: { format: plugin.name, reason: why },
        },
      );
    }
    if (onInvalid === 'collect') {
      if (summary.invalid.length < maxCollected)
        summary.invalid.push({ file, line, reason: why });
      else summary.invalidDropped++;
    }
  };
  return {
    file,
    fileIndex: fs.fileIndex,
    onInvalid,
    signal: options.signal,
    report(kind, line, reason) {
      addCount(fs.skipped, kind);
      addCount(summary.skipped, kind);
      if (kind === 'truncated') fs.truncatedAt = line;
      if (kind !== 'invalid') return;
      invalidRecord(line, reason ?? 'unparseable line', 1);
    },
    reportInvalidSpan(first, last, reason) {
      addCount(fs.skipped, 'invalid');
      addCount(summary.skipped, 'invalid');
      invalidRecord(first, reason, Math.max(1, last - first + 1));
    },
    setTimeResolutionUs(us) {
      fs.timeResolutionUs = us;
    },
  };
}

/**
 * Why an event is not kept (the logging-control rule, then the filters): `logging-control`,
 * `filtered`, or undefined when it is kept. Counts nothing (see {@link eventFilter}); `prefix` is
 * what its file's session ids are prefixed with.
 * @internal
 */
export function eventDrop(
  run: Pick<ParseRunState, 'filters' | 'options'>,
  prefix = '',
): (ev: RawQueryEvent) => 'logging-control' | 'filtered' | undefined {
  const { databases, users, applications, from, to, excludeSessions } =
    run.filters;
  const keepLoggingControl = run.options.keepLoggingControl === true;
  return (ev) => {
    if (!keepLoggingControl && isLoggingControl(ev.sql))
      return 'logging-control';
    const local = ev.sessionId;
    if (
      (databases &&
        (ev.database === undefined || !databases.includes(ev.database))) ||
      (users && (ev.user === undefined || !users.includes(ev.user))) ||
      (applications &&
        (ev.application === undefined ||
          !applications.includes(ev.application))) ||
      (from !== undefined && ev.startUs !== undefined && ev.startUs < from) ||
      (to !== undefined && ev.startUs !== undefined && ev.startUs >= to) ||
      (excludeSessions && excluded(excludeSessions, local, prefix + local))
    )
      return 'filtered';
    return undefined;
  };
}

/**
 * The event filter of one file: applies the logging-control rule and the filters; counts and
 * prefixes what is kept. `sessions` holds the session ids already counted (shared by a caller
 * that counts more of them, the byte ranges' stitcher).
 * @internal
 */
export function eventFilter(
  run: Pick<ParseRunState, 'summary' | 'options' | 'files' | 'filters'>,
  fs: FileParseSummary,
  sessions = new Set<string>(),
): (ev: RawQueryEvent) => boolean {
  const { summary, options } = run;
  const fileIndex = fs.fileIndex;
  const prefix = run.files.length > 1 ? `${fileIndex}:` : '';
  const drop = eventDrop(run, prefix);
  return (ev: RawQueryEvent): boolean => {
    const why = drop(ev);
    if (why === 'logging-control') {
      addCount(fs.skipped, why);
      addCount(summary.skipped, why);
      return false;
    }
    if (why === 'filtered') {
      fs.filtered++;
      summary.filtered++;
      return false;
    }
    const full = prefix + ev.sessionId;
    ev.sessionId = full;
    ev.fileIndex = fileIndex;
    if (!sessions.has(full)) {
      sessions.add(full);
      fs.sessions++;
      summary.sessions++;
    }
    fs.events++;
    summary.events++;
    if ((summary.events & 1023) === 0 && options.signal?.aborted)
      throw new StbError('STB_ABORTED', '[stb] [parser] Parsing was aborted.');
    return true;
  };
}

/** Reads one file: format detection, then its events in batches, on the run's shared counters. */
async function* parseFile(
  run: ParseRunState,
  input: string,
  fileIndex: number,
): AsyncGenerator<RawQueryEvent[]> {
  const { summary, options } = run;
  const f = await openFile(run, input, fileIndex);
  const { file, fs, lines, progress } = f;
  const head = await lines.peek(options.detectLines ?? 200);
  if (head.length === 0) {
    summary.linesRead += fs.linesRead;
    progress();
    return;
  }
  const plugin = await chooseFormat(run, f, head);
  const pluginOptions = parsePluginOptions(plugin, optionsFor(plugin, options));
  const ctx = formatContext(run, f, plugin);
  const keep = eventFilter(run, fs);
  const batchEvents = run.batchEvents ?? BATCH_EVENTS;
  let batch: RawQueryEvent[] = [];
  try {
    if (plugin.parseBatches) {
      for await (const evs of plugin.parseBatches(
        lines.arrays(),
        pluginOptions,
        ctx,
      )) {
        for (const ev of evs) {
          if (!keep(ev)) continue;
          batch.push(ev);
          if (batch.length >= batchEvents) {
            yield batch;
            batch = [];
          }
        }
      }
    } else {
      for await (const ev of plugin.parse(lines, pluginOptions, ctx)) {
        if (!keep(ev)) continue;
        batch.push(ev);
        if (batch.length >= batchEvents) {
          yield batch;
          batch = [];
        }
      }
    }
    if (batch.length > 0) yield batch;
  } catch (err) {
    if (isStbError(err)) throw err;
    throw new StbError(
      'STB_INTERNAL',
      `[stb] [parser] The \`${plugin.name}\` format failed on \`${file}\` after line ${fs.linesRead}: ${(err as Error).message}. Please report this with the log's format.`,
      { cause: err, details: { source: file, line: fs.linesRead } },
    );
  } finally {
    summary.linesRead += fs.linesRead;
    progress();
  }
}

/** Adds what a file's parse counted in `from` (a run of its own) to `into`. */
function foldSummary(
  run: ParseRunState,
  fs: FileParseSummary,
  from: ParseSummary,
): void {
  const into = run.summary;
  Object.assign(fs, from.files[0], { fileIndex: fs.fileIndex });
  into.events += from.events;
  into.linesRead += from.linesRead;
  into.filtered += from.filtered;
  into.sessions += from.sessions;
  for (const [kind, n] of Object.entries(from.skipped))
    addCount(into.skipped, kind, n);
  addInvalid(into, from, run.maxCollected);
}

/** Adds `from`'s invalid lines to `into`'s, collecting at most `maxCollected`. @internal */
export function addInvalid(
  into: ParseSummary,
  from: ParseSummary,
  maxCollected: number,
): void {
  for (const bad of from.invalid) {
    if (into.invalid.length < maxCollected) into.invalid.push(bad);
    else into.invalidDropped++;
  }
  into.invalidDropped += from.invalidDropped;
  into.invalidLines += from.invalidLines;
}

/**
 * Where an input enters the merge by time: the key of its first kept event, read on a run of its
 * own (closed again; the input is opened anew when the merge reaches that key). An input with no
 * kept event was read to its end: its counts are folded into the run's summary and it is not
 * read again. Standard input cannot be read twice, so it is open from the start.
 */
async function mergeInput(
  run: ParseRunState,
  input: string,
  fileIndex: number,
): Promise<MergeInput | undefined> {
  const fs = blankFileSummary(input === '-' ? STDIN_NAME : input, fileIndex);
  run.summary.files.push(fs);
  run.registered[fileIndex] = fs;
  const open = () => parseFile(run, input, fileIndex);
  if (input === '-') return { index: fileIndex, first: -Infinity, open };
  const own: ParseRunState = {
    ...run,
    summary: emptyParseSummary(),
    registered: [],
    batchEvents: 1,
  };
  const head = parseFile(own, input, fileIndex);
  try {
    const r = await head.next();
    const seen = own.summary.files[0];
    if (seen) {
      fs.format = seen.format;
      fs.confidence = seen.confidence;
      fs.dialect = seen.dialect;
      fs.timeResolutionUs = seen.timeResolutionUs;
    }
    if (!r.done) {
      const first = (r.value[0] as RawQueryEvent).startUs ?? -Infinity;
      return { index: fileIndex, first, open };
    }
  } finally {
    await head.return(undefined);
  }
  foldSummary(run, fs, own.summary);
  return undefined;
}

/**
 * Several inputs, merged by time ({@link mergeByTime}): sessions never span inputs (their ids are
 * prefixed by the input's index), so each input is parsed alone, as it would be on its own.
 */
async function* parseMerged(
  run: ParseRunState,
): AsyncGenerator<RawQueryEvent[]> {
  const inputs: MergeInput[] = [];
  for (let i = 0; i < run.files.length; i++) {
    const m = await mergeInput(run, run.files[i] as string, i);
    if (m) inputs.push(m);
  }
  yield* mergeByTime(inputs, BATCH_EVENTS);
}

/** The summary of a parse that has read nothing yet. */
export function emptyParseSummary(): ParseSummary {
  return {
    files: [],
    events: 0,
    linesRead: 0,
    skipped: {},
    filtered: 0,
    sessions: 0,
    invalid: [],
    invalidDropped: 0,
    invalidLines: 0,
    complete: false,
  };
}

/** A parse run: its summary, and its batches (the files in order; iterable once). */
function parseRun(
  inputs: readonly string[] | string,
  options: ParseLogsOptions,
): {
  summary: () => ParseSummary;
  batches: () => AsyncIterator<RawQueryEvent[]>;
} {
  const files = typeof inputs === 'string' ? [inputs] : [...inputs];
  const summary = emptyParseSummary();
  const run: ParseRunState = {
    files,
    formats: options.formats ?? builtinLogFormats,
    onInvalid: options.onInvalid ?? 'throw',
    maxCollected: options.maxCollected ?? 10_000,
    filters: options.filters ?? {},
    summary,
    options,
    registered: [],
  };
  let started = false;
  const batches = (): AsyncIterator<RawQueryEvent[]> => {
    if (started)
      throw new StbError(
        'STB_USAGE',
        '[stb] [parser] A parse run can be iterated only once. Call `parseLogs` again.',
      );
    started = true;
    // one input is parsed as it comes; several are merged by time
    let cur: AsyncGenerator<RawQueryEvent[]> | undefined;
    if (files.length > 1) cur = parseMerged(run);
    else if (files.length === 1) cur = parseFile(run, files[0] as string, 0);
    return {
      next: async () => {
        if (cur !== undefined) {
          const r = await cur.next();
          if (!r.done) return r;
          cur = undefined;
        }
        summary.complete = true;
        return { done: true, value: undefined };
      },
      return: async () => {
        await cur?.return(undefined);
        cur = undefined;
        return { done: true, value: undefined };
      },
    };
  };
  return { summary: () => summary, batches };
}

/**
 * {@link parseLogs} giving events in arrays of up to 512 (one `await` per batch, for consumers
 * that loop synchronously, such as `stb parse`). Same events, order and summary.
 * @example
 * const run = parseLogBatches(['postgresql.log']);
 * for await (const batch of run) for (const ev of batch) console.log(ev.sql);
 */
export function parseLogBatches(
  inputs: readonly string[] | string,
  options: ParseLogsOptions = {},
): ParseBatchRun {
  const { summary, batches } = parseRun(inputs, options);
  return { summary, [Symbol.asyncIterator]: batches };
}

/**
 * Parses one or more logs (paths, or `-` for stdin; gzip detected by content) into a stream of
 * {@link RawQueryEvent}s. Each input's format is detected from its first lines unless `format`
 * is given. Events of one input come in log order. Several inputs are merged by time: each step
 * takes the earliest next event of any input (`startUs`; an event without one keeps its input's
 * last time; the lower input index on a tie), and an input is opened when the merge reaches its
 * first event, so rotated logs are read one after another and logs of the same period together.
 * Session ids are then prefixed with the input's index (`0:`, `1:`) so sessions of different
 * files never merge.
 * @throws StbError `STB_PARSE_UNKNOWN_FORMAT`, `STB_PARSE_INVALID_LINE` (under `onInvalid:
 * 'throw'`), `STB_INPUT_NOT_FOUND`, `STB_GZIP_CORRUPT`, `STB_PARSE_LINE_TOO_LONG`, `STB_ABORTED`.
 * @example
 * const run = parseLogs(['postgresql.log.gz'], { onInvalid: 'collect' });
 * for await (const ev of run) console.log(ev.sessionId, ev.sql);
 * console.log(run.summary().files[0].skipped);
 */
export function parseLogs(
  inputs: readonly string[] | string,
  options: ParseLogsOptions = {},
): ParseRun {
  const { summary, batches } = parseRun(inputs, options);
  return {
    summary,
    [Symbol.asyncIterator]: () => {
      const it = batches();
      let batch: RawQueryEvent[] = [];
      let i = 0;
      return {
        next: async (): Promise<IteratorResult<RawQueryEvent>> => {
          while (i >= batch.length) {
            const r = await it.next();
            if (r.done) return r;
            batch = r.value;
            i = 0;
          }
          return { done: false, value: batch[i++] as RawQueryEvent };
        },
        return: async () => {
          await it.return?.();
          return { done: true, value: undefined };
        },
      };
    },
  };
}

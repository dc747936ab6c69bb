import { createReadStream, readSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import {
  StbError,
  isStbError,
  parsePluginOptions,
  splitLineBatches,
} from '@stb/core';
import type { Dialect, RawQueryEvent } from '@stb/core';
import { postgresStderr, StderrParser } from './formats/postgres-stderr';
import type { PostgresStderrOptions } from './formats/postgres-stderr';
import { CompiledPrefix, detectPgPrefix } from './internal/pg-prefix';
import {
  PG_MAX_PENDING,
  PG_SUB_SEVERITIES,
  type PgBoundaryState,
  type PgKeyStart,
  type PgSessionState,
} from './internal/pg-processor';
import type { LogFormatContext } from './log-format';
import {
  addCount,
  addInvalid,
  blankFileSummary,
  chooseFormat,
  emptyParseSummary,
  eventDrop,
  eventFilter,
  formatContext,
  openFile,
  optionsFor,
  type FileParseSummary,
  type ParseLogsOptions,
  type ParseRunState,
  type ParseSummary,
} from './parse-logs';
import { builtinLogFormats } from './formats/builtin';

export type {
  PgBoundaryState,
  PgKeyStart,
  PgSessionState,
} from './internal/pg-processor';

/**
 * How one PostgreSQL stderr log is parsed in byte ranges (see {@link planPgRanges}): the file,
 * its size, the `log_line_prefix` every range uses, and what its summary says of the format.
 */
export interface PgRangePlan {
  file: string;
  size: number;
  /**
   * Where the ranges read the file's bytes, when not `file`: a name of the same open file, such as
   * `/proc/self/fd/<n>` of a descriptor the run holds, so that a log renamed or removed while it
   * is parsed (rotated) is still the one parsed.
   */
  readFrom?: string | undefined;
  /**
   * The file's device and inode, taken before it was read to plan: whoever opens it later to
   * read the ranges checks that it is still the planned file (a log rotated meanwhile is not).
   */
  identity?: { dev: number; ino: number } | undefined;
  prefix: string;
  format: string;
  confidence: number;
  dialect: Dialect | undefined;
  timeResolutionUs: number | undefined;
}

/** A parse summary of the planned file with nothing counted yet, and its file's summary. */
function planSummary(plan: PgRangePlan): {
  summary: ParseSummary;
  fs: FileParseSummary;
} {
  const summary = emptyParseSummary();
  const fs = blankFileSummary(plan.file, 0);
  fs.format = plan.format;
  fs.confidence = plan.confidence;
  fs.dialect = plan.dialect;
  fs.timeResolutionUs = plan.timeResolutionUs;
  summary.files.push(fs);
  return { summary, fs };
}

/** The options of a parse that byte ranges cannot give exactly, or not cheaply. */
function rangesUnfit(options: ParseLogsOptions): boolean {
  const f = options.filters ?? {};
  return (
    options.formats !== undefined ||
    options.onInvalid === 'throw' ||
    options.onInvalid === undefined ||
    f.databases !== undefined ||
    f.users !== undefined ||
    f.applications !== undefined ||
    f.excludeSessions !== undefined
  );
}

/**
 * Whether `inputs` can be parsed in byte ranges, and how: one uncompressed PostgreSQL stderr
 * file (detected or forced) of at least `minBytes`, whose `log_line_prefix` (given, or detected
 * as one thread would) has a time, parsed with no filter on sessions, users, databases or
 * applications and with invalid lines collected. Undefined otherwise (also when the file cannot
 * be read or its format not be told: the one-thread parse then raises the error).
 */
export async function planPgRanges(
  inputs: readonly string[],
  options: ParseLogsOptions & { minBytes: number },
): Promise<PgRangePlan | undefined> {
  if (inputs.length !== 1 || inputs[0] === '-' || rangesUnfit(options))
    return undefined;
  const input = inputs[0] as string;
  const run: ParseRunState = {
    files: [input],
    formats: builtinLogFormats,
    onInvalid: 'collect',
    maxCollected: options.maxCollected ?? 10_000,
    filters: {},
    summary: emptyParseSummary(),
    options: { ...options, onProgress: undefined },
    registered: [],
  };
  let f: Awaited<ReturnType<typeof openFile>>;
  let identity: PgRangePlan['identity'];
  try {
    // before the file is opened to plan: a file replaced from here on is not the one planned
    const st = await stat(input);
    identity = { dev: st.dev, ino: st.ino };
    f = await openFile(run, input, 0);
  } catch {
    return undefined;
  }
  try {
    const size = f.totalBytes;
    if (f.gzip || size === undefined || size < options.minBytes)
      return undefined;
    const head = await f.lines.peek(options.detectLines ?? 200);
    if (head.length === 0) return undefined;
    let plugin;
    try {
      plugin = await chooseFormat(run, f, head);
    } catch {
      return undefined;
    }
    if (plugin.name !== postgresStderr.name) return undefined;
    let opts: PostgresStderrOptions;
    try {
      opts = parsePluginOptions(
        plugin,
        optionsFor(plugin, options),
      ) as PostgresStderrOptions;
    } catch {
      return undefined;
    }
    let prefix: CompiledPrefix;
    try {
      if (opts.prefix !== undefined) prefix = new CompiledPrefix(opts.prefix);
      else {
        const want = opts.detectLines ?? 1000;
        const lines = await f.lines.peek(want);
        const best = detectPgPrefix(lines.slice(0, want).map((l) => l.text));
        prefix = best ? best.prefix : new CompiledPrefix('%m [%p] ');
      }
    } catch {
      return undefined;
    }
    if (prefix.timeResolutionUs === undefined) return undefined;
    return {
      file: input,
      size,
      identity,
      prefix: prefix.prefix,
      format: plugin.name,
      confidence: f.fs.confidence,
      dialect: plugin.dialect,
      timeResolutionUs: prefix.timeResolutionUs,
    };
  } finally {
    await f.lines.close();
  }
}

const WINDOW = 64 * 1024;
/** Bytes of a line decoded to match its prefix and severity. */
const LINE_HEAD = 4096;

/**
 * Where the byte range that should start at `pos` starts: the first line at or after `pos` that
 * begins an entry of its own (matches the prefix, with a primary severity such as LOG or ERROR,
 * not DETAIL or STATEMENT, which continue the entry before them), or `size` when none does.
 * Two ranges that meet at a nominal position agree on it: the function of the file's bytes only.
 */
export function findPgRangeStart(
  fd: number,
  at: { pos: number; size: number },
  logLinePrefix: string,
): number {
  const { size } = at;
  const prefix = new CompiledPrefix(logLinePrefix);
  let pos = at.pos;
  if (pos <= 0) return 0;
  const buf = Buffer.allocUnsafe(WINDOW);
  /** Offset of the next newline at or after `from`, or -1. */
  const nextNewline = (from: number): number => {
    let p = from;
    while (p < size) {
      const n = readSync(fd, buf, 0, Math.min(WINDOW, size - p), p);
      if (n <= 0) return -1;
      const i = buf.indexOf(10, 0);
      if (i !== -1 && i < n) return p + i;
      p += n;
    }
    return -1;
  };
  // A line starts at `pos` when the byte before it ends a line.
  const one = Buffer.allocUnsafe(1);
  readSync(fd, one, 0, 1, pos - 1);
  if (one[0] !== 10) {
    const nl = nextNewline(pos);
    if (nl === -1) return size;
    pos = nl + 1;
  }
  const head = Buffer.allocUnsafe(LINE_HEAD);
  while (pos < size) {
    const n = readSync(fd, head, 0, Math.min(LINE_HEAD, size - pos), pos);
    const nl = head.indexOf(10, 0);
    let text = head.toString('utf8', 0, nl !== -1 && nl < n ? nl : n);
    if (text.endsWith('\r')) text = text.slice(0, -1);
    if (text.length > 0 && text.charCodeAt(0) !== 9) {
      const m = prefix.match(text);
      if (m && !PG_SUB_SEVERITIES.has(m.severity)) return pos;
    }
    const next = nl !== -1 && nl < n ? pos + nl : nextNewline(pos + n);
    if (next === -1) return size;
    pos = next + 1;
  }
  return size;
}

/** One byte range to parse: its index, its bytes' offsets, and how to start. */
export interface PgRangeSpec {
  index: number;
  start: number;
  end: number;
  /**
   * The number of the range's first line in the file, when known. A range parsed without it
   * numbers its lines from 1: then nothing that names a line (an invalid line, a cut last line)
   * may be used, see {@link PgRangeEnd.lineBound}.
   */
  firstLine?: number | undefined;
  /** Where the ranges before this one ended (the exact state); else the range starts empty. */
  seed?: PgBoundaryState | undefined;
  /** The start time of the last event before the range's first one, with {@link seed}. */
  lastStartUs?: number | undefined;
}

/** What a byte range's parse leaves for the ranges after it (see {@link parsePgRange}). */
export interface PgRangeEnd {
  index: number;
  /** The range's counts as a parse of it alone, its file summary's `sessions` not counted. */
  summary: ParseSummary;
  /** Its processor's sessions and the events not out yet (`endRange`). */
  state: PgBoundaryState;
  /** Without a seed: each key's start in the range. */
  starts: [string, PgKeyStart][];
  /** Without a seed: the keys whose sessions got provisional ids, with the ids they would have. */
  adopted: [string, string][];
  /** The processor forced an event out (its queue passed its bound). */
  cut: boolean;
  /** Lines in the range. */
  lines: number;
  /**
   * Something names a line by its number in the range: a line reported (invalid, cut). The
   * caller that extracts the range's statements sets it too when an extraction names its
   * statement's line (invalid UTF-8): the extractor finds that, not the parser.
   */
  lineBound: boolean;
  /** An event had no start time before any other had one (its start is the event's before it). */
  startUnknown: boolean;
  /** The start time of the range's last event that had one. */
  lastStartUs: number | undefined;
}

/**
 * The error of a log that changed under a byte-range parse (`STB_INPUT_UNREADABLE`): `what`
 * says how (cut short, gone), `cause` is the system's error when there is one.
 */
export function pgRangeInputChanged(
  file: string,
  what: string,
  cause?: unknown,
): StbError {
  return new StbError(
    'STB_INPUT_UNREADABLE',
    `[stb] [parser] \`${file}\` changed while it was parsed in byte ranges: ${what}. Parse it again, or without \`--ranges\`.`,
    { ...(cause === undefined ? {} : { cause }), details: { source: file } },
  );
}

/** Provisional session ids of range `index` (see `PgProcessorOptions.rangeTag`). */
export function pgRangeTag(index: number): string {
  return `\u0000r${index}:`;
}

/**
 * Parses the bytes of one range of a PostgreSQL stderr log as a one-thread parse of the whole
 * file would parse them given the state before them (`seed`), or, without a seed, as if the
 * range began the file, recording what that state could change (`PgRangeEnd.starts`, ids made
 * provisional). Events come in arrays, one per 64 KiB read, in the one-thread parse's order, those of the
 * range's last statements excepted: they stay in {@link PgRangeEnd.state}. `end()` is valid once
 * the iteration has ended.
 */
export function parsePgRange(
  plan: PgRangePlan,
  spec: PgRangeSpec,
  options: ParseLogsOptions,
): { batches: AsyncIterable<RawQueryEvent[]>; end: () => PgRangeEnd } {
  const { summary, fs } = planSummary(plan);
  const run: ParseRunState = {
    files: [plan.file],
    formats: builtinLogFormats,
    onInvalid: options.onInvalid ?? 'collect',
    maxCollected: options.maxCollected ?? 10_000,
    filters: options.filters ?? {},
    summary,
    options: { ...options, signal: undefined, onProgress: undefined },
    registered: [],
  };
  let lineBound = false;
  const base = formatContext(
    run,
    { file: plan.file, fs } as Parameters<typeof formatContext>[1],
    postgresStderr,
  );
  const ctx: LogFormatContext = {
    ...base,
    report(kind, line, reason) {
      if (kind === 'invalid' || kind === 'truncated') lineBound = true;
      base.report(kind, line, reason);
    },
    reportInvalidSpan(first, last, reason) {
      lineBound = true;
      base.reportInvalidSpan?.(first, last, reason);
    },
  };
  const keep = eventFilter(run, fs);
  const parser = new StderrParser(new CompiledPrefix(plan.prefix), ctx, {
    ...(spec.seed === undefined ? { rangeTag: pgRangeTag(spec.index) } : {}),
    seed: spec.seed,
  });
  let result: PgRangeEnd | undefined;
  let lastStartUs = spec.lastStartUs;
  let startUnknown = false;
  const keptOf = (evs: readonly RawQueryEvent[]): RawQueryEvent[] => {
    const kept: RawQueryEvent[] = [];
    for (const ev of evs) {
      if (!keep(ev)) continue;
      if (ev.startUs !== undefined) lastStartUs = ev.startUs;
      else if (lastStartUs !== undefined) ev.startUs = lastStartUs;
      else startUnknown = true;
      kept.push(ev);
    }
    return kept;
  };
  async function* batches(): AsyncGenerator<RawQueryEvent[]> {
    // 64 KiB reads, as a one-thread parse's (`createReadStream`'s `end` is inclusive).
    const stream =
      spec.end > spec.start
        ? createReadStream(plan.readFrom ?? plan.file, {
            start: spec.start,
            end: spec.end - 1,
            highWaterMark: WINDOW,
          })
        : undefined;
    const chunks = stream ?? Readable.from([]);
    const firstLine = spec.firstLine ?? 1;
    let last = firstLine - 1;
    try {
      for await (const lines of splitLineBatches(chunks, plan.file, {
        maxLineLength: options.maxLineLength,
        firstLine,
      })) {
        const tail = lines[lines.length - 1];
        if (tail) last = tail.line;
        for (let i = 0; i < lines.length; i++) {
          const l = lines[i] as (typeof lines)[number];
          parser.line(l.text, l.line, l.unterminated === true);
        }
        if (parser.out.length > 0) {
          const kept = keptOf(parser.out);
          parser.out.length = 0;
          if (kept.length > 0) yield kept;
        }
      }
    } catch (err) {
      // As a one-thread parse wraps what the format raises that is not an StbError.
      if (isStbError(err)) throw err;
      throw new StbError(
        'STB_INTERNAL',
        `[stb] [parser] The \`${postgresStderr.name}\` format failed on \`${plan.file}\` after line ${last}: ${(err as Error).message}. Please report this with the log's format.`,
        { cause: err, details: { source: plan.file, line: last } },
      );
    }
    // A file cut short while it is parsed (truncated in place) ends the range early: never a
    // range shorter than planned taken for the whole of it.
    const got = stream?.bytesRead ?? 0;
    if (got !== spec.end - spec.start)
      throw pgRangeInputChanged(
        plan.file,
        `${got} bytes read at offset ${spec.start} where ${spec.end - spec.start} were planned (was it truncated?)`,
      );
    const state = parser.endRange();
    const kept = keptOf(parser.out);
    parser.out.length = 0;
    if (kept.length > 0) yield kept;
    fs.linesRead = last - firstLine + 1;
    summary.linesRead = fs.linesRead;
    fs.bytesRead = spec.end - spec.start;
    result = {
      index: spec.index,
      summary,
      state,
      starts: [...parser.proc.starts],
      adopted: parser.proc.adopted,
      cut: parser.proc.cut,
      lines: fs.linesRead,
      lineBound,
      startUnknown,
      lastStartUs,
    };
  }
  return {
    batches: { [Symbol.asyncIterator]: batches },
    end: () => {
      if (result === undefined)
        throw new Error('parsePgRange: end() before the end of the batches');
      return result;
    },
  };
}

/** What the stitcher does with a range's end (see {@link PgRangeStitcher.accept}). */
export type PgRangeVerdict =
  | {
      /** The range's events are the one-thread parse's once renamed. */
      exact: true;
      /** The events of the ranges before it that come first (the state's tail), kept ones only. */
      before: RawQueryEvent[];
      /** Provisional session id → the one-thread parse's. */
      rename: Map<string, string>;
    }
  | {
      /** Parse the range again from {@link PgRangeStitcher.seed}: its events are not exact. */
      exact: false;
      why: string;
    };

const ANCHORS = new Set(['statement', 'connection', 'disconnection']);

function hasAttributes(s: PgSessionState): boolean {
  return (
    s.user !== undefined ||
    s.database !== undefined ||
    s.application !== undefined ||
    s.client !== undefined
  );
}

/**
 * The main thread's side of a byte-range parse of one PostgreSQL stderr log: takes the ranges'
 * ends in order and keeps what a one-thread parse would hold between them (the sessions, the
 * events not out yet, the summary), so that it can tell whether a range parsed without that state
 * gave the one-thread parse's events, what to rename, and else the state to parse it again from.
 *
 * A range parsed alone is exact when every key with a session open before it comes to a
 * statement, a connection or a disconnection before any line that would act on that session
 * (bare `duration:` lines are given to its open statement here, as the processor would have;
 * parse, bind and other lines that only touch it, and continuation lines, change nothing it
 * keeps, a `DETAIL: parameters` after its statement excepted), none of those sessions waits for
 * an ERROR's STATEMENT, the events held before the range are done before the processor's bound
 * would force any out, and nothing named a line or lacked a time. Tested against one thread on
 * every stderr fixture with ranges of a few hundred bytes and more
 * (`packages/cli/tests/parse-ranges.test.ts`).
 */
export class PgRangeStitcher {
  readonly summary: ParseSummary;
  readonly #fs: FileParseSummary;
  /** The one-thread parse's sessions where the last range accepted ends, by key. */
  #sessions = new Map<string, PgSessionState>();
  #tail: { ev: RawQueryEvent; done: boolean }[] = [];
  readonly #seen = new Set<string>();
  #lines = 0;
  #lastStartUs: number | undefined;
  readonly #maxPending = PG_MAX_PENDING;
  readonly #maxCollected: number;
  /** Why a kept event would not be (the one-thread rule, `eventDrop`), counting nothing. */
  readonly #drop: ReturnType<typeof eventDrop>;
  /** The one-thread filter (`eventFilter`), counting into this summary and {@link #seen}. */
  readonly #keep: ReturnType<typeof eventFilter>;

  constructor(
    readonly plan: PgRangePlan,
    options: ParseLogsOptions,
  ) {
    const { summary, fs } = planSummary(plan);
    this.summary = summary;
    this.#fs = fs;
    this.#maxCollected = options.maxCollected ?? 10_000;
    const filters = options.filters ?? {};
    this.#drop = eventDrop({ filters, options });
    this.#keep = eventFilter(
      // no abort check here: the threads' iteration ends on the signal
      {
        summary,
        options: { ...options, signal: undefined },
        files: [plan.file],
        filters,
      },
      fs,
      this.#seen,
    );
  }

  /** The state to parse the next range to accept from, with its first line's number. */
  seed(): {
    seed: PgBoundaryState;
    firstLine: number;
    lastStartUs: number | undefined;
  } {
    return {
      seed: { sessions: [...this.#sessions.values()], tail: this.#tail },
      firstLine: this.#lines + 1,
      lastStartUs: this.#lastStartUs,
    };
  }

  /** Counts a session id of a kept event (`sessions` of the summary). */
  session(id: string): void {
    if (this.#seen.has(id)) return;
    this.#seen.add(id);
    this.#fs.sessions++;
    this.summary.sessions++;
  }

  /** The held events given out (kept ones), counted as a one-thread parse counts them. */
  #emit(items: readonly { ev: RawQueryEvent }[]): RawQueryEvent[] {
    const out: RawQueryEvent[] = [];
    for (const { ev } of items) {
      if (!this.#keep(ev)) continue;
      if (ev.startUs !== undefined) this.#lastStartUs = ev.startUs;
      else if (this.#lastStartUs !== undefined) ev.startUs = this.#lastStartUs;
      out.push(ev);
    }
    return out;
  }

  /** Why a range's end (parsed alone) is not the one-thread parse's, or undefined. */
  #unfit(
    end: PgRangeEnd,
    starts: ReadonlyMap<string, PgKeyStart>,
  ): string | undefined {
    // The first range starts where the file does: parsed alone is parsed exactly.
    if (end.index === 0) return undefined;
    if (end.cut) return 'its processor forced an event out';
    if (end.lineBound) return 'a line was reported';
    const tail = this.#tail;
    // The start time one thread has before the range's first event: after the held events'.
    let lastStartUs = this.#lastStartUs;
    for (const t of tail)
      if (t.ev.startUs !== undefined && this.#drop(t.ev) === undefined)
        lastStartUs = t.ev.startUs;
    if (end.startUnknown && lastStartUs !== undefined)
      return 'an event had no time';
    for (const [key, s] of this.#sessions) {
      const st = starts.get(key);
      if (st === undefined) {
        if (s.open >= 0) return `session ${s.id} is still open`;
        continue;
      }
      if (s.error !== undefined) return `session ${s.id} waits for a STATEMENT`;
      if (st.kind === undefined || !ANCHORS.has(st.kind))
        return `session ${s.id} starts with another line`;
      // A DETAIL the session's open statement would take its parameters from.
      let lastWasEvent = s.lastWasEvent;
      for (const step of st.prelude) {
        if (step === 't') lastWasEvent = false;
        else if (
          step === 'd' &&
          lastWasEvent &&
          s.open >= 0 &&
          tail[s.open]?.ev.params === undefined
        )
          return `session ${s.id} starts with parameters`;
      }
      if (s.open >= 0 && tail.length + st.pos + 1 > this.#maxPending)
        return 'the held events pass the bound';
      if (
        st.kind === 'statement' &&
        hasAttributes(s) &&
        !this.#seen.has(s.id) &&
        !tail.some(
          (t) => t.ev.sessionId === s.id && this.#drop(t.ev) === undefined,
        )
      )
        return `session ${s.id} has its first event in the range`;
    }
    if (
      this.summary.skipped['logging-control'] === undefined &&
      tail.some((t) => this.#drop(t.ev) === 'logging-control')
    )
      return 'a held event is skipped first';
    return undefined;
  }

  /**
   * A range's end, parsed alone (no seed), in order: whether its events are exact, and if so the
   * held events to give out before them and the ids to rename; the state moves past it.
   */
  accept(end: PgRangeEnd): PgRangeVerdict {
    const starts = new Map(end.starts);
    const why = this.#unfit(end, starts);
    if (why !== undefined) return { exact: false, why };
    const rs = end.summary;
    const rfs = rs.files[0] as FileParseSummary;
    // Bare `duration:` lines a key started with: the processor gives the first to the open
    // statement that has none, where the range alone reported it `duration-only`.
    const given: [RawQueryEvent, number][] = [];
    for (const [key, s] of this.#sessions) {
      const st = starts.get(key);
      if (st === undefined || s.open < 0) continue;
      const item = this.#tail[s.open];
      const first = st.prelude.find((x) => typeof x === 'number');
      if (item && first !== undefined && item.ev.durationUs === undefined)
        given.push([item.ev, first]);
    }
    if (given.length > 0) {
      const left = (rs.skipped['duration-only'] ?? 0) - given.length;
      // The first `duration-only` report would come later: the counts' key order could differ.
      if (left > 0 && this.summary.skipped['duration-only'] === undefined)
        return { exact: false, why: 'a duration line moves' };
      for (const rec of [rs.skipped, rfs.skipped]) {
        if (left > 0) rec['duration-only'] = left;
        else delete rec['duration-only'];
      }
      for (const [ev, us] of given) ev.durationUs = us;
    }
    const before = this.#emit(this.#tail);
    const rename = new Map<string, string>();
    const tag = pgRangeTag(end.index);
    for (const [key, concrete] of end.adopted) {
      const open = this.#sessions.get(key);
      rename.set(`${tag}${key}`, open ? open.id : concrete);
    }
    // What the range keeps names lines by their number in the range: in the file from here on.
    const base = this.#lines;
    for (const t of end.state.tail)
      t.ev.source = { ...t.ev.source, line: t.ev.source.line + base };
    for (const st of end.state.sessions)
      if (st.error !== undefined)
        st.error = { ...st.error, line: st.error.line + base };
    const next = new Map(this.#sessions);
    for (const key of starts.keys()) next.delete(key);
    for (const s of end.state.sessions) {
      const old = this.#sessions.get(s.key);
      if (s.adopted === undefined) {
        next.set(s.key, s);
        continue;
      }
      const { adopted, ...rest } = s;
      const merged: PgSessionState = {
        ...rest,
        id: rename.get(s.id) ?? adopted,
      };
      if (old && starts.get(s.key)?.kind === 'statement') {
        // Made by the range's first statement of a session open before it: what the range's
        // connection lines set, else what the session had.
        merged.user = s.user ?? old.user;
        merged.database = s.database ?? old.database;
        merged.application = s.application ?? old.application;
        merged.client = s.client ?? old.client;
      }
      next.set(s.key, merged);
    }
    for (const t of end.state.tail) {
      const id = rename.get(t.ev.sessionId);
      if (id !== undefined) t.ev.sessionId = id;
    }
    this.#sessions = next;
    this.#tail = end.state.tail;
    this.#merge(end);
    return { exact: true, before, rename };
  }

  /** The end of a range parsed from {@link seed}: exact; the state moves past it. */
  acceptSeeded(end: PgRangeEnd): void {
    this.#sessions = new Map(end.state.sessions.map((s) => [s.key, s]));
    this.#tail = end.state.tail;
    this.#merge(end);
  }

  #merge(end: PgRangeEnd): void {
    const into = this.summary;
    const fs = this.#fs;
    const from = end.summary;
    const ffs = from.files[0] as FileParseSummary;
    into.events += from.events;
    fs.events += ffs.events;
    into.linesRead += end.lines;
    fs.linesRead += end.lines;
    fs.bytesRead += ffs.bytesRead;
    into.filtered += from.filtered;
    fs.filtered += ffs.filtered;
    for (const [kind, n] of Object.entries(from.skipped)) {
      addCount(into.skipped, kind, n);
      addCount(fs.skipped, kind, n);
    }
    addInvalid(into, from, this.#maxCollected);
    if (ffs.truncatedAt !== undefined) fs.truncatedAt = ffs.truncatedAt;
    this.#lines += end.lines;
    if (end.lastStartUs !== undefined) this.#lastStartUs = end.lastStartUs;
  }

  /**
   * The input ended after the last range: what a one-thread parse's `finish` does (every session
   * closed, an ERROR still waiting for its STATEMENT reported, every held event out). Returns the
   * kept ones; the summary is then complete.
   */
  finish(): RawQueryEvent[] {
    const fs = this.#fs;
    for (const s of this.#sessions.values()) {
      if (s.error === undefined) continue;
      addCount(fs.skipped, 'error');
      addCount(this.summary.skipped, 'error');
    }
    this.#sessions.clear();
    const out = this.#emit(this.#tail);
    this.#tail = [];
    this.summary.complete = true;
    return out;
  }
}

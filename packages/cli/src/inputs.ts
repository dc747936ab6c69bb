import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import {
  StbError,
  createTraceHeader,
  openTrace,
  readTraceRecords,
  writeTrace,
} from '@stb/core';
import type {
  QueryTemplate,
  RawQueryEvent,
  TraceEvent,
  TraceHeader,
  TraceRecord,
  WriteTraceSummary,
} from '@stb/core';
import { extractTraceBatches } from '@stb/extractor';
import type { ExtractSummary } from '@stb/extractor';
import { explainNoStatements, parseLogBatches } from '@stb/parser';
import type { ParseFilters, ParseProgress, ParseSummary } from '@stb/parser';

/** What `-i` points at. */
export type InputKind = 'trace' | 'log' | 'model';

const GZIP_0 = 0x1f;
const GZIP_1 = 0x8b;

/** The first bytes of a file, decompressed when gzip (best effort: a truncated stream is fine). */
async function head(file: string): Promise<string> {
  let handle: fsp.FileHandle;
  try {
    handle = await fsp.open(file, 'r');
  } catch (err) {
    const code = (err as { code?: string }).code;
    throw new StbError(
      code === 'ENOENT' ? 'STB_INPUT_NOT_FOUND' : 'STB_INPUT_UNREADABLE',
      `[stb] [cli] Cannot read \`${file}\` (${code ?? 'error'}). Check the path.`,
      { cause: err, details: { file } },
    );
  }
  try {
    const buf = Buffer.alloc(65536);
    const { bytesRead } = await handle.read(buf, 0, buf.length, 0);
    let bytes = buf.subarray(0, bytesRead);
    if (bytes[0] === GZIP_0 && bytes[1] === GZIP_1) {
      try {
        bytes = gunzipSync(bytes, { finishFlush: 2 /* Z_SYNC_FLUSH */ });
      } catch {
        return '';
      }
    }
    return bytes.toString('utf8');
  } finally {
    await handle.close();
  }
}

/**
 * Tells a model artifact, a trace and a raw log apart by content, never by extension: an artifact
 * starts `{"format":"stb-model"`, a trace has its header record first (JSONL, or the JSON
 * document form), anything else is a log.
 */
export async function detectInput(file: string): Promise<InputKind> {
  if (file === '-') return 'log';
  const text = (await head(file)).trimStart();
  if (/^\{\s*"format"\s*:\s*"stb-model"/.test(text)) return 'model';
  if (/^\{\s*"kind"\s*:\s*"header"/.test(text)) return 'trace';
  if (/^\{\s*"header"\s*:\s*\{\s*"kind"\s*:\s*"header"/.test(text))
    return 'trace';
  if (/\.csv(\.gz)?$/i.test(file)) {
    // A CSV trace: its header lives in the sidecar; the first line names the trace columns.
    const first = text.split(/\r?\n/, 1)[0] ?? '';
    if (first.startsWith('time,startUs,sessionId,templateId')) return 'trace';
  }
  return 'log';
}

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
}

/** A log being parsed and extracted into trace records. */
export interface LogTrace {
  /** Records in batches (arrays), as `writeTrace` takes them. */
  records: AsyncIterable<TraceRecord[]>;
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

/**
 * Parses logs and extracts templates: the trace records (header first; its dialect comes from the
 * first statement). Streams in bounded memory.
 * @throws StbError `STB_MODEL_EMPTY_INPUT` when the logs hold no statement.
 */
export async function logRecords(
  files: readonly string[],
  options: LogInputOptions,
): Promise<LogTrace> {
  const raw = parseLogBatches([...files], {
    ...(options.format === undefined ? {} : { format: options.format }),
    ...(options.filters === undefined ? {} : { filters: options.filters }),
    ...(options.formatOptions === undefined
      ? {}
      : { formatOptions: options.formatOptions }),
    onInvalid: 'collect',
    signal: options.signal,
    ...(options.onBytes ? { onProgress: bytesProgress(options.onBytes) } : {}),
  });
  const it = raw[Symbol.asyncIterator]();
  const first = await it.next();
  if (first.done || first.value.length === 0) {
    const parsed = raw.summary();
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
  const firstBatch: RawQueryEvent[] = first.value;
  const firstRaw = firstBatch[0] as RawQueryEvent;
  const rest: AsyncIterable<RawQueryEvent[]> = {
    [Symbol.asyncIterator]: () => {
      let head: RawQueryEvent[] | undefined = firstBatch;
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
  const run = extractTraceBatches(rest, { signal: options.signal });
  const header = (): TraceHeader => {
    // Formats are known once each file's first lines were read; files not reached yet are
    // detected later, so list the ones known now.
    const s = raw.summary();
    const resolutions = s.files
      .map((f) => f.timeResolutionUs)
      .filter((r): r is number => r !== undefined && r > 0);
    return createTraceHeader({
      dialect: firstRaw.dialect,
      source: {
        tool: 'parse',
        files: files.map((f) => (f === '-' ? '-' : path.basename(f))),
        formats: s.files.map((f) => f.format),
      },
      timeResolutionUs: resolutions.length > 0 ? Math.max(...resolutions) : 1,
    });
  };
  async function* records(): AsyncGenerator<TraceRecord[]> {
    yield [header()];
    for await (const batch of run) {
      yield batch;
      options.onProgress?.(run.summary().events);
    }
    options.onProgress?.(run.summary().events);
    // Before the output is committed: a log that lost more than --max-invalid of its lines is
    // bad input (exit 3), not a trace to carry on with.
    checkInvalidShare(raw.summary(), options.maxInvalid ?? DEFAULT_MAX_INVALID);
  }
  return {
    records: records(),
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
 * into a temporary trace file first (removed by `cleanup`).
 */
export async function openFitInput(
  files: readonly string[],
  options: LogInputOptions,
): Promise<FitInput> {
  const kinds = await Promise.all(files.map((f) => detectInput(f)));
  if (kinds.includes('model'))
    throw new StbError(
      'STB_USAGE',
      `[stb] [cli] \`${files[kinds.indexOf('model')] ?? ''}\` is a model artifact, not a log or trace. Pass it with \`--model\`.`,
    );
  let file: string;
  let temp: string | undefined;
  let parsed: FitInput['parsed'];
  if (kinds.every((k) => k === 'trace') && files.length === 1) {
    file = files[0] as string;
  } else if (kinds.includes('trace')) {
    throw new StbError(
      'STB_USAGE',
      '[stb] [cli] Pass either one trace or one or more logs to `-i`, not a mix. Merge logs with `stb parse` first.',
    );
  } else {
    temp = path.join(
      os.tmpdir(),
      `stb-learn-${process.pid}-${randomBytes(4).toString('hex')}.jsonl`,
    );
    try {
      const log = await logRecords(files, options);
      const written = await writeTrace(temp, log.records, {
        signal: options.signal,
      });
      parsed = { written, extract: log.summary().extract };
    } catch (err) {
      await fsp.rm(temp, { force: true });
      throw err;
    }
    file = temp;
  }
  let header: TraceHeader | undefined;
  const templates: QueryTemplate[] = [];
  for await (const r of readTraceRecords(file, { signal: options.signal })) {
    if (r.kind === 'header') header = r;
    else if (r.kind === 'template') templates.push(r);
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

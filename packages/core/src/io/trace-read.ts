import { Readable } from 'node:stream';
import type { parse as ParseCsv } from 'csv-parse';
import { TemplateCatalog } from '../catalog';
import type { OnInvalid } from '../errors';
import { ParseError, StbError, isStbError } from '../errors';
import type { TraceEvent, TraceHeader, TraceRecord } from '../schema';
import { TRACE_FORMAT_VERSION } from '../schema';
import {
  decodeText,
  openInput,
  readFirstChunk,
  MAX_LINE_LENGTH,
  splitLineBatches,
  toReadError,
} from './input';
import { JsonDocScanner } from './json-doc-scanner';
import { lazyRequire } from './lazy-require';
import { csvSidecarPath, isoToUs, traceFormatOf } from './trace-format';
import type { TraceFileFormat } from './trace-format';
import {
  isFastEvent,
  migrateTrace,
  parseBodyRecord,
  parseHeader,
} from './trace-validate';

/** Progress of a trace read. */
export interface TraceReadProgress {
  /** Bytes read from the input so far (compressed bytes for gzip). */
  bytesRead: number;
  /** Records read so far (header and templates included). */
  records: number;
}

/** Options of {@link readTraceRecords} and {@link openTrace}. */
export interface ReadTraceOptions {
  /**
   * What to do with a bad record after the header: `'throw'` (default) raises its ParseError;
   * `'skip'` and `'collect'` drop it and pass the error to `onInvalidRecord`. A bad or missing
   * header always throws.
   */
  onInvalid?: OnInvalid;
  /** Receives each bad record's error when `onInvalid` is `'skip'` or `'collect'`. */
  onInvalidRecord?: (e: ParseError) => void;
  signal?: AbortSignal;
  /** Called about every 16 k records and at the end. */
  onProgress?: (p: TraceReadProgress) => void;
  /**
   * CSV traces: path of the sidecar with the header and templates. Default: next to the file
   * (`trace.csv` → `trace.templates.json`); required when a CSV trace comes from stdin.
   */
  sidecar?: string;
  /**
   * Receives the trace file's bytes as they are read (compressed, as on disk; not the sidecar's),
   * in order from the first: `stb bench` hashes the file with them instead of reading it twice.
   */
  onRawChunk?: (chunk: Buffer) => void;
}

/** An opened trace: see {@link openTrace}. */
export interface TraceStream {
  header: TraceHeader;
  /**
   * Templates read so far; it fills as the reader goes, a chunk ahead of the events handed out
   * (a template is in it before its first event comes out).
   */
  catalog: TemplateCatalog;
  /**
   * The events one by one; iterate to the end, or call `events.return()`, to close the input.
   * Iterate this or {@link TraceStream.eventBatches}, not both: they share one reader.
   */
  events: AsyncGenerator<TraceEvent>;
  /**
   * The same events in arrays, one per chunk read (never empty): one `await` per chunk instead of
   * one per event, for consumers that loop over events synchronously (`stb bench` reads its
   * trace this way). Iterate to the end, or call `eventBatches.return()`, to close the input.
   */
  eventBatches: AsyncGenerator<TraceEvent[]>;
}

/** One raw value read from the input, before validation. */
interface RawItem {
  value?: unknown;
  error?: ParseError;
  line: number;
  /** Overrides the input name (CSV sidecar records). */
  source?: string;
}

const PROGRESS_EVERY = 16384;

function invalidJson(
  at: { source: string; line: number; field?: string },
  cause: unknown,
): ParseError {
  const { source, line, field } = at;
  const where = field ? ` in field \`${field}\`` : '';
  return new ParseError(
    'STB_TRACE_INVALID_JSON',
    `[stb] [core] Invalid JSON at \`${source}\`:${line}${where} (${(cause as Error).message.replace(/ in JSON at .*$|, ".*$/, '')}). Is the line truncated? Fix or remove it (library callers may skip bad records with \`onInvalid: 'skip'\`).`,
    field === undefined
      ? { cause, position: { source, line } }
      : { cause, position: { source, line, field } },
  );
}

/**
 * Reads chunks until the format is known, then returns a stream that replays them (the same
 * stream with the chunks pushed back, or a new one when the input has already ended).
 */
async function sniffFormat(
  stream: Readable,
  name: string,
): Promise<{
  format: TraceFileFormat | 'empty' | 'unknown';
  stream: Readable;
}> {
  const chunks: Buffer[] = [];
  let size = 0;
  for (;;) {
    const chunk = await readFirstChunk(stream, name);
    if (chunk === null) {
      const all = Buffer.concat(chunks);
      stream.destroy();
      return {
        format: traceFormatOf(all.toString('utf8'), true) ?? 'unknown',
        stream: Readable.from(size > 0 ? [all] : []),
      };
    }
    chunks.push(chunk);
    size += chunk.length;
    const all = Buffer.concat(chunks);
    const verdict = traceFormatOf(all.toString('utf8'), size > 1 << 20);
    if (verdict !== undefined) {
      stream.unshift(all);
      return { format: verdict, stream };
    }
  }
}

/**
 * JSON Lines: one array of items per chunk read (64 KiB), so the reader pays one `await` per
 * chunk rather than one per line (issue 16: the bench reads its trace on the statement path).
 */
async function* jsonlItems(
  stream: Readable,
  name: string,
  options: { gzip: boolean; signal: AbortSignal | undefined },
): AsyncGenerator<RawItem[]> {
  // A trace's line is one record: as long as its event's values (a bulk INSERT's thousands of
  // rows), so no limit below the longest string.
  for await (const lines of splitLineBatches(stream, name, {
    ...options,
    maxLineLength: MAX_LINE_LENGTH,
  })) {
    const items: RawItem[] = [];
    for (const { text, line } of lines) {
      if (text.length === 0 || /^\s*$/.test(text)) continue;
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (err) {
        items.push({ error: invalidJson({ source: name, line }, err), line });
        continue;
      }
      items.push({ value, line });
    }
    if (items.length > 0) yield items;
  }
}

async function* jsonDocItems(
  stream: Readable,
  name: string,
  options: { gzip: boolean; signal: AbortSignal | undefined },
): AsyncGenerator<RawItem[]> {
  const scanner = new JsonDocScanner(name);
  const emit = function* (eof: boolean): Generator<RawItem> {
    for (;;) {
      const item = scanner.next(eof);
      if (!item) return;
      try {
        yield { value: JSON.parse(item.text), line: item.line };
      } catch (err) {
        yield {
          error: invalidJson({ source: name, line: item.line }, err),
          line: item.line,
        };
      }
    }
  };
  for await (const chunk of decodeText(stream, name, {
    ...options,
    line: () => scanner.line,
  })) {
    scanner.feed(chunk);
    const items = [...emit(false)];
    if (items.length > 0) yield items;
  }
  const last = [...emit(true)];
  if (last.length > 0) yield last;
}

async function* csvItems(
  stream: Readable,
  name: string,
  options: {
    gzip: boolean;
    signal: AbortSignal | undefined;
    sidecar: string | undefined;
  },
): AsyncGenerator<RawItem[]> {
  // required here, not imported at the top: only CSV traces use it (see `lazyRequire`); before the
  // sidecar's records are handed on, and the input closed if it is missing
  let parseCsv: typeof ParseCsv;
  try {
    ({ parse: parseCsv } = lazyRequire('csv-parse') as {
      parse: typeof ParseCsv;
    });
  } catch (err) {
    stream.destroy();
    throw err;
  }
  const sidecar = options.sidecar;
  if (sidecar === undefined) {
    stream.destroy();
    throw new ParseError(
      'STB_TRACE_MISSING_HEADER',
      `[stb] [core] A CSV trace on stdin has no header: its header and templates live in a sidecar file. Pass \`sidecar\` (the \`<name>.templates.json\` written with the CSV).`,
      { position: { source: name, line: 1 } },
    );
  }
  let sidecarInput;
  try {
    sidecarInput = await openInput(sidecar, { signal: options.signal });
  } catch (err) {
    stream.destroy();
    throw new ParseError(
      'STB_TRACE_MISSING_HEADER',
      `[stb] [core] The CSV trace \`${name}\` needs its sidecar \`${sidecar}\` (header and templates), which cannot be read. Keep the \`.templates.json\` written with the CSV next to it.`,
      { cause: err, position: { source: name, line: 1 } },
    );
  }
  try {
    for await (const items of jsonDocItems(sidecarInput.stream, sidecar, {
      gzip: sidecarInput.gzip,
      signal: options.signal,
    })) {
      yield items.map((item) => ({ ...item, source: sidecar }));
    }
  } catch (err) {
    stream.destroy();
    throw err;
  }
  yield* csvEventItems(stream, name, { ...options, parseCsv });
}

async function* csvEventItems(
  stream: Readable,
  name: string,
  options: {
    gzip: boolean;
    signal: AbortSignal | undefined;
    parseCsv: typeof ParseCsv;
  },
): AsyncGenerator<RawItem[]> {
  const parser = options.parseCsv({
    bom: true,
    info: true,
    skip_empty_lines: true,
    relax_column_count: true,
  });
  stream.on('error', (err) => parser.destroy(err));
  stream.pipe(parser);
  let col: Record<string, number> | undefined;
  let ncols = 0;
  let prevEnd = 0;
  let prevEmpty = 0;
  // rows the parser has ready go out together: an array when its buffer runs dry (or at 512)
  let batch: RawItem[] = [];
  const take = (item: RawItem): RawItem[] | null => {
    batch.push(item);
    if (batch.length < 512 && parser.readableLength > 0) return null;
    const full = batch;
    batch = [];
    return full;
  };
  try {
    for await (const rec of parser as AsyncIterable<{
      record: string[];
      info: { lines: number; empty_lines: number };
    }>) {
      const { record, info } = rec;
      const line = prevEnd + 1 + (info.empty_lines - prevEmpty);
      prevEnd = info.lines;
      prevEmpty = info.empty_lines;
      if (col === undefined) {
        col = {};
        record.forEach((h, i) => {
          (col as Record<string, number>)[h.trim()] = i;
        });
        ncols = record.length;
        const missing = ['sessionId', 'templateId', 'params'].filter(
          (c) => col?.[c] === undefined,
        );
        if (col['startUs'] === undefined && col['time'] === undefined)
          missing.push('startUs');
        if (missing.length > 0) {
          throw new ParseError(
            'STB_TRACE_SCHEMA_MISMATCH',
            `[stb] [core] The CSV trace \`${name}\` lacks the column(s) ${missing.map((m) => `\`${m}\``).join(', ')} in its header row. Write CSV traces with \`writeTrace\` / \`stb … -o x.csv\`.`,
            { position: { source: name, line, field: missing[0] } },
          );
        }
        continue;
      }
      if (record.length !== ncols) {
        const full = take({
          error: new ParseError(
            'STB_TRACE_SCHEMA_MISMATCH',
            `[stb] [core] Row at \`${name}\`:${line} has ${record.length} fields; the header has ${ncols}. Is the line truncated or an SQL text unquoted? Fix the row (library callers may skip bad records with \`onInvalid: 'skip'\`).`,
            { position: { source: name, line } },
          ),
          line,
        });
        if (full !== null) yield full;
        continue;
      }
      const full = take(csvRowToItem(record, col, { name, line }));
      if (full !== null) yield full;
    }
    if (batch.length > 0) yield batch;
  } catch (err) {
    // the rows before the failure first, as one row at a time would have handed them over
    if (batch.length > 0) {
      const before = batch;
      batch = [];
      yield before;
    }
    if (isStbError(err)) throw err;
    const e = err as { code?: string; lines?: number; message: string };
    if (typeof e.code === 'string' && e.code.startsWith('CSV_')) {
      const line = typeof e.lines === 'number' ? e.lines : prevEnd + 1;
      throw new ParseError(
        'STB_PARSE_INVALID_LINE',
        `[stb] [core] The CSV trace \`${name}\` is not valid CSV near line ${line} (${e.code}). Check quoting (RFC 4180: double quotes inside a quoted field are doubled).`,
        { cause: err, position: { source: name, line } },
      );
    }
    throw toReadError(err, name, { ...options, line: prevEnd });
  } finally {
    stream.unpipe(parser);
    parser.destroy();
    stream.destroy();
  }
}

function csvRowToItem(
  record: string[],
  col: Record<string, number>,
  at: { name: string; line: number },
): RawItem {
  const { name, line } = at;
  const cell = (key: string): string => {
    const i = col[key];
    return i === undefined ? '' : (record[i] as string);
  };
  const json = (key: string): unknown => JSON.parse(cell(key));
  const startCell = cell('startUs');
  const timeCell = cell('time');
  let params: unknown;
  try {
    params = json('params');
  } catch (err) {
    return {
      error: invalidJson({ source: name, line, field: 'params' }, err),
      line,
    };
  }
  const ev: Record<string, unknown> = {
    kind: 'event',
    startUs:
      startCell !== ''
        ? Number(startCell)
        : timeCell !== ''
          ? isoToUs(timeCell)
          : undefined,
    sessionId: cell('sessionId'),
    templateId: cell('templateId'),
    params,
  };
  const duration = cell('durationUs');
  if (duration !== '') ev['durationUs'] = Number(duration);
  const outcome = cell('outcome');
  if (outcome !== '') {
    try {
      ev['outcome'] = JSON.parse(outcome);
    } catch (err) {
      return {
        error: invalidJson({ source: name, line, field: 'outcome' }, err),
        line,
      };
    }
  }
  const txn = cell('txn');
  if (txn !== '') ev['txn'] = Number(txn);
  const sql = cell('sql');
  if (sql !== '') ev['sql'] = sql;
  const conn = cell('conn');
  if (conn !== '') {
    try {
      ev['conn'] = JSON.parse(conn);
    } catch (err) {
      return {
        error: invalidJson({ source: name, line, field: 'conn' }, err),
        line,
      };
    }
  }
  return { value: ev, line };
}

function unknownTemplate(
  event: TraceEvent,
  source: string,
  line: number,
): ParseError {
  return new ParseError(
    'STB_TRACE_UNKNOWN_TEMPLATE',
    `[stb] [core] The event at \`${source}\`:${line} uses template \`${event.templateId}\`, which no template record declared before it. Each template record must precede its first event; regenerate the trace or restore the missing template record.`,
    {
      position: { source, line, field: 'templateId' },
      details: { templateId: event.templateId },
    },
  );
}

/**
 * Reads, validates and checks a trace, putting templates into `catalog`, one array of records
 * per chunk read: the header alone first, then the records of each chunk (never an empty array).
 * With `eventsOnly`, template records go into `catalog` only. Shared by
 * {@link readTraceRecords} and {@link openTrace}. A bad record with `onInvalid: 'throw'` raises
 * its error after the records before it were handed over, as one record at a time would.
 */
async function* readValidated(
  input: string,
  options: ReadTraceOptions,
  into: { catalog: TemplateCatalog; eventsOnly: boolean },
): AsyncGenerator<TraceRecord[]> {
  const { catalog, eventsOnly } = into;
  const { signal, onProgress } = options;
  const onInvalid = options.onInvalid ?? 'throw';
  let bytesRead = 0;
  const opened = await openInput(input, {
    signal,
    onBytes: onProgress
      ? (b) => {
          bytesRead = b;
        }
      : undefined,
    onChunk: options.onRawChunk,
  });
  const name = opened.name;
  let format;
  let stream: Readable;
  try {
    ({ format, stream } = await sniffFormat(opened.stream, name));
  } catch (err) {
    opened.stream.destroy();
    throw toReadError(err, name, { gzip: opened.gzip, signal, line: 0 });
  }
  if (format === 'empty' || format === 'unknown') {
    stream.destroy();
    throw new ParseError(
      'STB_TRACE_MISSING_HEADER',
      format === 'empty'
        ? `[stb] [core] \`${name}\` is empty: a trace starts with a header record. Pass a trace written by \`stb parse\` or \`stb generate\`.`
        : `[stb] [core] \`${name}\` is not a trace (neither JSON Lines, JSON nor CSV with a header record). Pass a trace written by \`stb parse\` or \`stb generate\`; raw logs go to \`stb parse\`.`,
      { position: { source: name, line: 1 } },
    );
  }
  const streamOptions = { gzip: opened.gzip, signal };
  const batches =
    format === 'jsonl'
      ? jsonlItems(stream, name, streamOptions)
      : format === 'json'
        ? jsonDocItems(stream, name, streamOptions)
        : csvItems(stream, name, {
            ...streamOptions,
            sidecar:
              options.sidecar ??
              (input === '-' ? undefined : csvSidecarPath(input)),
          });

  let version = -1;
  let records = 0;
  try {
    for await (const items of batches) {
      let out: TraceRecord[] = [];
      for (const item of items) {
        const source = item.source ?? name;
        if (version < 0) {
          if (item.error) throw item.error;
          const h = parseHeader(item.value, { source, line: item.line });
          version = h.version;
          records++;
          yield [h.header];
          continue;
        }
        let rec: TraceRecord;
        try {
          if (item.error) throw item.error;
          const value =
            version === TRACE_FORMAT_VERSION
              ? item.value
              : migrateTrace(item.value, version);
          rec = isFastEvent(value)
            ? value
            : parseBodyRecord(value, { source, line: item.line });
          if (rec.kind === 'event') {
            if (!catalog.has(rec.templateId))
              throw unknownTemplate(rec, source, item.line);
          } else if (rec.kind === 'template') {
            catalog.add(rec);
          }
        } catch (err) {
          if (onInvalid === 'throw' || !(err instanceof ParseError)) {
            // the records before the bad one first, as a record-by-record reader would
            if (out.length > 0) {
              const before = out;
              out = [];
              yield before;
            }
            throw err;
          }
          options.onInvalidRecord?.(err);
          continue;
        }
        records++;
        if ((records & (PROGRESS_EVERY - 1)) === 0) {
          if (signal?.aborted)
            throw new StbError(
              'STB_ABORTED',
              '[stb] [core] Reading was aborted.',
            );
          onProgress?.({ bytesRead, records });
        }
        if (!eventsOnly || rec.kind === 'event') out.push(rec);
      }
      if (out.length > 0) yield out;
    }
    if (version < 0) {
      throw new ParseError(
        'STB_TRACE_MISSING_HEADER',
        `[stb] [core] \`${name}\` holds no header record. Pass a trace written by \`stb parse\` or \`stb generate\`.`,
        { position: { source: name, line: 1 } },
      );
    }
    onProgress?.({ bytesRead, records });
  } finally {
    await batches.return(undefined);
    stream.destroy();
    opened.stream.destroy();
  }
}

/**
 * Streams the records of a trace file: the header first, then templates and events in file
 * order. The format (JSON Lines, whole-file JSON `{header,templates,events}` or CSV with its
 * `.templates.json` sidecar) is detected from the content, never the extension; gzip is
 * detected by its magic bytes. Every record is validated; every event's template must have been
 * declared before it.
 * @param input A file path, or `-` for stdin.
 * @example
 * for await (const r of readTraceRecords('trace.stb.jsonl.gz')) if (r.kind === 'event') n++;
 * @throws ParseError naming file, line and field: `STB_TRACE_INVALID_JSON`,
 * `STB_TRACE_SCHEMA_MISMATCH`, `STB_TRACE_MISSING_HEADER`, `STB_TRACE_VERSION_UNSUPPORTED`,
 * `STB_TRACE_UNKNOWN_TEMPLATE`; `STB_INPUT_NOT_FOUND`, `STB_GZIP_CORRUPT`, `STB_ABORTED`.
 */
export async function* readTraceRecords(
  input: string,
  options: ReadTraceOptions = {},
): AsyncGenerator<TraceRecord> {
  for await (const batch of readValidated(input, options, {
    catalog: new TemplateCatalog(),
    eventsOnly: false,
  }))
    for (const rec of batch) yield rec;
}

/**
 * Opens a trace: reads and validates the header eagerly, then streams the events, filling
 * `catalog` as template records pass (CSV: all templates come from the sidecar up front).
 * @example
 * const { header, catalog, events } = await openTrace('trace.stb.jsonl');
 * for await (const e of events) console.log(catalog.get(e.templateId)?.queryType);
 * @throws ParseError as {@link readTraceRecords}; header errors are raised by `openTrace` itself.
 */
export async function openTrace(
  input: string,
  options: ReadTraceOptions = {},
): Promise<TraceStream> {
  const catalog = new TemplateCatalog();
  const batches = readValidated(input, options, {
    catalog,
    eventsOnly: true,
  });
  const first = await batches.next();
  const head = first.done === true ? undefined : first.value[0];
  if (head?.kind !== 'header') {
    await batches.return(undefined);
    throw new StbError(
      'STB_INTERNAL',
      '[stb] [core] Trace reader yielded no header. Please report this bug.',
    );
  }
  // one reader behind both views: `events` reads `eventBatches`, so whichever is iterated takes
  // the events (and closing either closes the input)
  const eventBatches = (async function* (): AsyncGenerator<TraceEvent[]> {
    try {
      for (;;) {
        const r = await batches.next();
        if (r.done === true) return;
        yield r.value as TraceEvent[];
      }
    } finally {
      await batches.return(undefined);
    }
  })();
  const events = (async function* (): AsyncGenerator<TraceEvent> {
    for await (const batch of eventBatches) for (const ev of batch) yield ev;
  })();
  return { header: head, catalog, events, eventBatches };
}

import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type { stringify as Stringify } from 'csv-stringify/sync';
import { ParseError, StbError } from '../errors';
import type {
  QueryTemplate,
  TraceEvent,
  TraceHeader,
  TraceRecord,
} from '../schema';
import type { AnyIterable } from '../streams';
import {
  createAtomicFileWriter,
  drained,
  trackTemp,
  untrackTemp,
  writeFailed,
  writeFileAtomic,
} from './atomic-file';
import { decodeTraceEvent, stringifyTraceEvent } from './event-json';
import { lazyRequire } from './lazy-require';
import type { EncodedTraceEvent } from './event-json';
import type { TraceFileFormat } from './trace-format';
import {
  CSV_COLUMNS,
  csvSidecarPath,
  formatFromPath,
  hasGzipSuffix,
  usToIso,
} from './trace-format';
import { parseHeader } from './trace-validate';

/**
 * Refuses a header that the readers would refuse (a JavaScript caller's object literal without
 * `format` or `timeResolutionUs`, say), so no trace is written that cannot be read back.
 */
function checkHeader(header: unknown): void {
  try {
    parseHeader(header, { source: 'header', line: 1 });
  } catch (err) {
    if (!(err instanceof ParseError)) throw err;
    const field = err.field === undefined ? '' : ` (field \`${err.field}\`)`;
    throw new StbError(
      err.code,
      `[stb] [core] The header to write is not a valid trace header${field}: the trace would not read back. Build it with \`createTraceHeader\`.`,
      { cause: err },
    );
  }
}

/** Progress of a trace write. */
export interface TraceWriteProgress {
  /** Records written so far (header and templates included). */
  records: number;
}

/** Options of {@link writeTrace}. */
export interface WriteTraceOptions {
  /** Default: from the extension (`.csv`, `.json`, optionally `.gz`), else JSON Lines. */
  format?: TraceFileFormat;
  /** Default: true when the path ends in `.gz` (false for stdout). */
  gzip?: boolean;
  signal?: AbortSignal;
  /** Called about every 16 k records and at the end. */
  onProgress?: (p: TraceWriteProgress) => void;
  /**
   * CSV only: where to write the header and templates. Default: `<name>.templates.json` next to a
   * CSV file; none for stdout (pass a path to get one).
   */
  sidecar?: string;
}

/** What {@link writeTrace} wrote. */
export interface WriteTraceSummary {
  events: number;
  templates: number;
  /** Bytes written to the output (compressed bytes for gzip). */
  bytes: number;
  /** The final path, or `-` for stdout. */
  path: string;
}

/** Bytes buffered before a write to the stream. */
const FLUSH_BYTES = 1 << 16;
/** Capacity of the buffer: after a push below the flush mark, a push of up to this much more fits. */
const BUFFER_BYTES = 2 * FLUSH_BYTES;
const NEWLINE = 10;
const PROGRESS_EVERY = 16384;
const CSV_BATCH = 512;

/**
 * Buffers text as UTF-8 bytes and writes it in chunks of about 64 KiB, awaiting `'drain'`
 * (backpressure). Text goes straight into the byte buffer: no string is concatenated, flattened
 * or measured before it is encoded once.
 */
class ChunkedWriter {
  #buf = Buffer.allocUnsafe(BUFFER_BYTES);
  #pos = 0;
  /** Bytes handed to the stream. */
  bytes = 0;
  constructor(readonly stream: Writable) {}

  /** Writes a chunk as is (after flushing the buffer). */
  async write(chunk: Buffer): Promise<void> {
    await this.flush();
    this.bytes += chunk.length;
    if (!this.stream.write(chunk)) await drained(this.stream);
  }

  /** Appends `s` (and a newline with `line`); resolves after a flush when the buffer is full. */
  push(s: string, line = false): Promise<void> | undefined {
    // A UTF-16 unit is at most 3 UTF-8 bytes; the flush mark leaves FLUSH_BYTES of room.
    if (s.length * 3 + 1 > BUFFER_BYTES - this.#pos)
      return this.#pushLarge(s, line);
    this.#pos += this.#buf.write(s, this.#pos);
    if (line) this.#buf[this.#pos++] = NEWLINE;
    if (this.#pos >= FLUSH_BYTES) return this.flush();
    return undefined;
  }

  /**
   * A text that may not fit the buffer: the buffered bytes, then the text as a chunk of its own,
   * both handed to the stream at once (so the order holds even if the caller pushes again before
   * the returned promise settles).
   */
  #pushLarge(s: string, line: boolean): Promise<void> | undefined {
    const big = Buffer.from(line ? `${s}\n` : s);
    let ok = true;
    if (this.#pos > 0) ok = this.#writeBuffered();
    this.bytes += big.length;
    ok = this.stream.write(big) && ok;
    return ok ? undefined : drained(this.stream);
  }

  /** Hands the buffered bytes to the stream; false when it asks to wait for `'drain'`. */
  #writeBuffered(): boolean {
    const chunk = this.#buf.subarray(0, this.#pos);
    // The stream may hold the chunk until it is written: the next bytes go to a new buffer.
    this.#buf = Buffer.allocUnsafe(BUFFER_BYTES);
    this.#pos = 0;
    this.bytes += chunk.length;
    return this.stream.write(chunk);
  }

  async flush(): Promise<void> {
    if (this.#pos === 0) return;
    if (!this.#writeBuffered()) await drained(this.stream);
  }
}

/** Where the bytes go: an atomic file or stdout. */
interface Sink {
  stream: Writable;
  bytes(): number;
  commit(): Promise<void>;
  abort(): Promise<void>;
}

async function openSink(output: string, gzip: boolean): Promise<Sink> {
  if (output !== '-') {
    const w = await createAtomicFileWriter(output, { gzip });
    return {
      stream: w.stream,
      bytes: () => w.bytesWritten,
      commit: () => w.commit(),
      abort: () => w.abort(),
    };
  }
  const stdout = process.stdout;
  let bytes = 0;
  if (!gzip) {
    // Bytes are counted by the ChunkedWriter (bytes() returns -1).
    return {
      stream: stdout,
      bytes: () => -1,
      commit: async () => undefined,
      abort: async () => undefined,
    };
  }
  const gz = createGzip();
  gz.on('data', (b: Buffer) => {
    bytes += b.length;
  });
  gz.pipe(stdout, { end: false });
  return {
    stream: gz,
    bytes: () => bytes,
    commit: async () => {
      gz.end();
      await finished(gz);
    },
    abort: async () => {
      gz.unpipe(stdout);
      gz.destroy();
    },
  };
}

/** What {@link writeTrace} takes: trace records, and events already encoded as their line. */
export type WritableTraceRecord = TraceRecord | EncodedTraceEvent;

/** Receives the records of one output format. */
interface FormatWriter {
  header(h: TraceHeader): Promise<void> | undefined;
  template(t: QueryTemplate): Promise<void> | undefined;
  event(e: TraceEvent): Promise<void> | undefined;
  /** An event given as its JSON Lines text. */
  encoded(e: EncodedTraceEvent): Promise<void> | undefined;
  end(): Promise<void>;
  cleanup(): Promise<void>;
}

function jsonlWriter(out: ChunkedWriter): FormatWriter {
  const line = (r: TraceRecord) => out.push(JSON.stringify(r), true);
  return {
    header: line,
    template: line,
    event: (e) => out.push(stringifyTraceEvent(e), true),
    encoded: (e) => out.push(e.json, true),
    end: () => out.flush(),
    cleanup: async () => undefined,
  };
}

/** The sidecar / JSON head: header and templates, one template per line. */
function docHead(header: TraceHeader, templates: QueryTemplate[]): string {
  const ts = templates.map((t) => JSON.stringify(t)).join(',\n');
  return `{"header":${JSON.stringify(header)},\n"templates":[${ts === '' ? '' : `\n${ts}\n`}]`;
}

function csvWriter(
  out: ChunkedWriter,
  sidecar: string | undefined,
  stringify: typeof Stringify,
): FormatWriter {
  let header: TraceHeader | undefined;
  const templates: QueryTemplate[] = [];
  let rows: unknown[][] = [];
  const flushRows = () => {
    if (rows.length === 0) return undefined;
    const text = stringify(rows, { record_delimiter: '\r\n' });
    rows = [];
    return out.push(text);
  };
  const w: FormatWriter = {
    header(h) {
      header = h;
      return out.push(
        stringify([[...CSV_COLUMNS]], { record_delimiter: '\r\n' }),
      );
    },
    template(t) {
      templates.push(t);
      return undefined;
    },
    encoded: (e) => w.event(decodeTraceEvent(e)),
    event(e) {
      rows.push([
        usToIso(e.startUs),
        e.startUs,
        e.sessionId,
        e.templateId,
        JSON.stringify(e.params),
        e.durationUs ?? '',
        e.outcome === undefined ? '' : JSON.stringify(e.outcome),
        e.txn ?? '',
        e.sql ?? '',
        e.conn === undefined ? '' : JSON.stringify(e.conn),
      ]);
      return rows.length >= CSV_BATCH ? flushRows() : undefined;
    },
    async end() {
      await flushRows();
      await out.flush();
      if (sidecar !== undefined && header !== undefined)
        await writeFileAtomic(sidecar, `${docHead(header, templates)}}\n`);
    },
    cleanup: async () => undefined,
  };
  return w;
}

/**
 * The JSON document form. Templates may arrive after events, but the document lists templates
 * first: events are spooled to a temporary file and copied after the templates at the end, so
 * memory holds only the templates.
 */
function jsonWriter(out: ChunkedWriter, spoolDir: string): FormatWriter {
  let header: TraceHeader | undefined;
  const templates: QueryTemplate[] = [];
  const spoolPath = path.join(
    spoolDir,
    `.stb-spool.${process.pid}.${randomBytes(4).toString('hex')}.tmp`,
  );
  let spool: ChunkedWriter | undefined;
  let spoolStream: Writable | undefined;
  let n = 0;
  const spoolLine = (json: string) => {
    if (!spool) {
      trackTemp(spoolPath);
      spoolStream = createWriteStream(spoolPath, { flags: 'wx' });
      spool = new ChunkedWriter(spoolStream);
    }
    return spool.push(`${n++ === 0 ? '\n' : ',\n'}${json}`);
  };
  return {
    header(h) {
      header = h;
      return undefined;
    },
    template(t) {
      templates.push(t);
      return undefined;
    },
    event: (e) => spoolLine(stringifyTraceEvent(e)),
    encoded: (e) => spoolLine(e.json),
    async end() {
      if (header === undefined) return;
      await out.push(`${docHead(header, templates)},\n"events":[`);
      if (spool && spoolStream) {
        await spool.flush();
        spoolStream.end();
        await finished(spoolStream);
        for await (const chunk of createReadStream(spoolPath, {
          highWaterMark: 1 << 16,
        }) as AsyncIterable<Buffer>) {
          await out.write(chunk);
        }
        await out.push('\n');
      }
      await out.push(']}\n');
      await out.flush();
    },
    async cleanup() {
      spoolStream?.destroy();
      await fsp.rm(spoolPath, { force: true });
      untrackTemp(spoolPath);
    },
  };
}

function aborted(): StbError {
  return new StbError('STB_ABORTED', '[stb] [core] Writing was aborted.');
}

function unknownTemplate(templateId: string, index: number): StbError {
  return new StbError(
    'STB_TRACE_UNKNOWN_TEMPLATE',
    `[stb] [core] Record ${index + 1} is an event of template \`${templateId}\`, which no template record declared before it. Emit each template before its first event (see \`withTemplateRecords\`).`,
    { details: { templateId, record: index + 1 } },
  );
}

/**
 * Writes a trace: JSON Lines, whole-file JSON `{header,templates,events}` or CSV (RFC 4180; the
 * header and templates go to the sidecar `<name>.templates.json`), optionally gzip, to a file or
 * `-` (stdout). A file appears under its final name only once complete (temporary file in the
 * same directory, renamed on success, removed on error or abort). Memory stays bounded: JSON
 * spools events to a temporary file so templates can be listed first.
 * @param records The header, then template records each before its first event, then events
 * (see {@link withTemplateRecords}); arrays of records (batches) are written in order, with one
 * `await` per batch. An event may come encoded ({@link encodeTraceEvent}): its text is written
 * as it is (JSONL, JSON), or read back for a CSV row.
 * @example
 * await writeTrace('out.stb.jsonl.gz', withTemplateRecords(header, events, (id) => catalog.get(id)));
 * @throws StbError `STB_TRACE_MISSING_HEADER`, `STB_TRACE_UNKNOWN_TEMPLATE`,
 * `STB_OUTPUT_WRITE_FAILED`, `STB_ABORTED`.
 */
export async function writeTrace(
  output: string,
  records: AnyIterable<WritableTraceRecord | readonly WritableTraceRecord[]>,
  options: WriteTraceOptions = {},
): Promise<WriteTraceSummary> {
  const { signal, onProgress } = options;
  if (signal?.aborted) throw aborted();
  const toStdout = output === '-';
  const format =
    options.format ?? (toStdout ? 'jsonl' : formatFromPath(output));
  const gzip = options.gzip ?? (!toStdout && hasGzipSuffix(output));
  // required here, not imported at the top: only CSV traces use it (see `lazyRequire`); before the
  // output is opened, so that a missing module leaves no file behind
  const csv =
    format === 'csv'
      ? (lazyRequire('csv-stringify/sync') as { stringify: typeof Stringify })
      : undefined;
  const sink = await openSink(output, gzip);
  const out = new ChunkedWriter(sink.stream);
  const fmt =
    csv !== undefined
      ? csvWriter(
          out,
          options.sidecar ?? (toStdout ? undefined : csvSidecarPath(output)),
          csv.stringify,
        )
      : format === 'json'
        ? jsonWriter(out, toStdout ? os.tmpdir() : path.dirname(output))
        : jsonlWriter(out);
  let events = 0;
  let templates = 0;
  let index = 0;
  let sawHeader = false;
  const known = new Set<string>();
  try {
    const one = (r: WritableTraceRecord): Promise<void> | undefined => {
      let pending: Promise<void> | undefined;
      if (!sawHeader) {
        if (r.kind !== 'header')
          throw new StbError(
            'STB_TRACE_MISSING_HEADER',
            `[stb] [core] The first record to write is a \`${r.kind}\`, not the header. Start the records with a header (\`createTraceHeader\`).`,
          );
        checkHeader(r);
        sawHeader = true;
        pending = fmt.header(r);
      } else if (r.kind === 'event') {
        if (!known.has(r.templateId))
          throw unknownTemplate(r.templateId, index);
        events++;
        pending = fmt.event(r);
      } else if (r.kind === 'encoded-event') {
        if (!known.has(r.templateId))
          throw unknownTemplate(r.templateId, index);
        events++;
        pending = fmt.encoded(r);
      } else if (r.kind === 'template') {
        if (!known.has(r.id)) {
          known.add(r.id);
          templates++;
          pending = fmt.template(r);
        }
      } else {
        throw new StbError(
          'STB_TRACE_SCHEMA_MISMATCH',
          `[stb] [core] Record ${index + 1} to write is a second header. A trace has exactly one header record.`,
        );
      }
      index++;
      if ((index & (PROGRESS_EVERY - 1)) === 0) {
        if (signal?.aborted) throw aborted();
        onProgress?.({ records: index });
      }
      return pending;
    };
    for await (const r of records) {
      if (Array.isArray(r)) {
        // A batch: one await per flush instead of one per record.
        for (const x of r as readonly WritableTraceRecord[]) {
          const pending = one(x);
          if (pending) await pending;
        }
      } else {
        const pending = one(r as WritableTraceRecord);
        if (pending) await pending;
      }
    }
    if (!sawHeader)
      throw new StbError(
        'STB_TRACE_MISSING_HEADER',
        '[stb] [core] No records to write: a trace needs at least its header record.',
      );
    if (signal?.aborted) throw aborted();
    await fmt.end();
    await sink.commit();
  } catch (err) {
    await sink.abort();
    // A system error of the output (ENOSPC, EACCES, EIO, a destroyed stream) is a failed write of
    // that file, not a bug.
    const code = (err as NodeJS.ErrnoException | undefined)?.code;
    if (
      !(err instanceof StbError) &&
      typeof code === 'string' &&
      /^(E[A-Z]+|ERR_STREAM_\w+)$/.test(code)
    )
      throw writeFailed(output, err);
    throw err;
  } finally {
    await fmt.cleanup();
  }
  onProgress?.({ records: index });
  const bytes = sink.bytes();
  return {
    events,
    templates,
    bytes: bytes < 0 ? out.bytes : bytes,
    path: output,
  };
}

/**
 * Turns a header and an event stream into trace records: the header, then each template record
 * right before the first event that uses it.
 * @param lookup Returns the template of an id (e.g. `(id) => catalog.get(id)`).
 * @throws StbError `STB_TRACE_UNKNOWN_TEMPLATE` when `lookup` does not know an event's template.
 */
export async function* withTemplateRecords(
  header: TraceHeader,
  events: AnyIterable<TraceEvent>,
  lookup: (templateId: string) => QueryTemplate | undefined,
): AsyncGenerator<TraceRecord> {
  yield header;
  const emitted = new Set<string>();
  const templateOf = (e: TraceEvent): QueryTemplate | undefined => {
    if (emitted.has(e.templateId)) return undefined;
    const t = lookup(e.templateId);
    if (t === undefined)
      throw new StbError(
        'STB_TRACE_UNKNOWN_TEMPLATE',
        `[stb] [core] Event of session \`${e.sessionId}\` uses template \`${e.templateId}\`, which the template lookup does not know. Pass the catalog the events were made with.`,
        { details: { templateId: e.templateId } },
      );
    emitted.add(e.templateId);
    return t;
  };
  if (isSyncIterable(events)) {
    // No async-from-sync wrapper (a promise per event) for in-memory sources such as a generator.
    for (const e of events) {
      const t = templateOf(e);
      if (t) yield t;
      yield e;
    }
    return;
  }
  for await (const e of events) {
    const t = templateOf(e);
    if (t) yield t;
    yield e;
  }
}

function isSyncIterable<T>(x: AnyIterable<T>): x is Iterable<T> {
  return (
    !(Symbol.asyncIterator in x) &&
    typeof (x as Partial<Iterable<T>>)[Symbol.iterator] === 'function'
  );
}

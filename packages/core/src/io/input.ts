import fs, { createReadStream, promises as fsp } from 'node:fs';
import { Socket } from 'node:net';
import { Readable, Transform, addAbortSignal } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { promisify } from 'node:util';
import { createGunzip } from 'node:zlib';
import { ParseError, StbError } from '../errors';

/** Name used for standard input in messages and `source` fields. */
export const STDIN_NAME = '<stdin>';

/** Options of {@link openInput}. */
export interface OpenInputOptions {
  signal?: AbortSignal;
  /** Called with the number of compressed (on-disk) bytes read so far. */
  onBytes?: (bytesRead: number) => void;
  /**
   * Called with each chunk of the input's bytes as read (compressed, as on disk), in order from
   * its first byte: a digest of the file without a second read.
   */
  onChunk?: (chunk: Buffer) => void;
}

/** An opened input: a byte stream (gunzipped when the data is gzip) and what is known of it. */
export interface OpenedInput {
  /** File path or `<stdin>`. */
  name: string;
  /** Decompressed bytes. */
  stream: Readable;
  gzip: boolean;
  /** On-disk size in bytes, when known (files). */
  sizeBytes: number | undefined;
}

/**
 * Bytes per read of an input (and per batch of lines): 64 KiB. A batch's lines, and the events
 * and records made of them, then stay well below V8's young generation (16 MiB), so most of them
 * die before the next scavenge instead of being copied and promoted: with 1 MiB reads a batch
 * allocated more than the young generation holds, and garbage collection took a third of
 * `stb parse`'s CPU time.
 */
const READ_CHUNK_BYTES = 1 << 16;
const openFd = promisify(fs.open);
const GZIP_MAGIC_0 = 0x1f;
const GZIP_MAGIC_1 = 0x8b;

/**
 * The `fs.Stats` of an input path, or the error a user reads: `STB_INPUT_NOT_FOUND` when it does
 * not exist, `STB_INPUT_UNREADABLE` for a directory or any other failure, naming the path.
 * @internal
 */
export async function statInput(input: string): Promise<fs.Stats> {
  let st: fs.Stats;
  try {
    st = await fsp.stat(input);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new StbError(
        'STB_INPUT_NOT_FOUND',
        `[stb] [core] Input file \`${input}\` does not exist. Check the path.`,
        { cause: err, details: { source: input } },
      );
    }
    throw new StbError(
      'STB_INPUT_UNREADABLE',
      `[stb] [core] Cannot read \`${input}\` (${code ?? 'error'}). Check its permissions.`,
      { cause: err, details: { source: input } },
    );
  }
  if (st.isDirectory())
    throw new StbError(
      'STB_INPUT_UNREADABLE',
      `[stb] [core] \`${input}\` is a directory. Pass a file.`,
    );
  return st;
}

/**
 * Whether `st` is a pipe (a FIFO, `<(…)` process substitution's `/dev/fd/N`) or a socket: what
 * can be read only once, as it comes, and must not be read on the libuv thread pool.
 * @internal
 */
export function isPipeStat(st: fs.Stats): boolean {
  return st.isFIFO() || st.isSocket();
}

/**
 * Opens a pipe for reading as a stream on the event loop (`net.Socket` over its descriptor, as
 * Node reads a piped stdin). `fs.createReadStream` would read it on the thread pool, where a
 * read waits for the writer without limit: an abort could not end it, and the process could not
 * exit until the writer wrote (a second Ctrl-C waited 27 s for a `<(sleep 30; cat trace)`).
 * Opening a named FIFO waits for its writer, as `cat` does.
 * @internal
 */
export async function openPipe(
  file: string,
  signal?: AbortSignal,
): Promise<Readable> {
  const fd = await openFd(file, 'r');
  const sock = new Socket({ fd, readable: true, writable: false });
  if (signal) addAbortSignal(signal, sock);
  return sock;
}

/**
 * Opens a file path (or `-` for stdin) for streaming. Gzip is detected by its magic bytes, never
 * by the extension.
 * @throws StbError `STB_INPUT_NOT_FOUND` / `STB_INPUT_UNREADABLE`.
 */
export async function openInput(
  input: string,
  options: OpenInputOptions = {},
): Promise<OpenedInput> {
  const isStdin = input === '-';
  const name = isStdin ? STDIN_NAME : input;
  let raw: Readable;
  let sizeBytes: number | undefined;
  if (isStdin) {
    raw = process.stdin;
  } else {
    const st = await statInput(input);
    const pipe = isPipeStat(st);
    sizeBytes = pipe ? undefined : st.size;
    // a pipe is read on the event loop, so an abort ends a read that waits for its writer
    raw = pipe
      ? await openPipe(input, options.signal)
      : createReadStream(input, {
          highWaterMark: READ_CHUNK_BYTES,
          signal: options.signal,
        });
  }
  return openStream(raw, name, { ...options, sizeBytes });
}

/**
 * The part of {@link openInput} after the stream is open: peeks at the first chunk for the gzip
 * magic, hands it back, counts bytes and gunzips.
 * @internal
 */
export async function openStream(
  opened: Readable,
  name: string,
  options: OpenInputOptions & { sizeBytes?: number | undefined } = {},
): Promise<OpenedInput> {
  const { sizeBytes } = options;
  let raw = opened;
  // Peek at the first bytes to detect gzip, then push them back.
  const first = await readFirstChunk(raw, name);
  // An empty input has already ended: a consumer of the ended stream would wait for an 'end'
  // that never comes again (and Node would exit 0 with the work unfinished). Hand out a fresh,
  // empty stream instead.
  if (first === null) raw = Readable.from([]);
  // The first read took the whole input and the stream has ended ('end' was emitted before this
  // line ran): `unshift` would fail (ERR_STREAM_UNSHIFT_AFTER_END_EVENT) and the data be lost.
  else if (raw.readableEnded)
    raw = Readable.from([first], { objectMode: false });
  else raw.unshift(first);
  if (options.onBytes || options.onChunk) {
    // Count the bytes and hand the chunks on through a pass-through stage: a 'data' listener on
    // `raw` would switch it to flowing mode and race the consumer for chunks.
    let total = 0;
    const { onBytes, onChunk } = options;
    const counter = new Transform({
      highWaterMark: READ_CHUNK_BYTES,
      transform(chunk: Buffer, _encoding, callback) {
        total += chunk.length;
        onBytes?.(total);
        onChunk?.(chunk);
        callback(null, chunk);
      },
    });
    const source = raw;
    source.on('error', (err) => counter.destroy(err));
    counter.on('close', () => source.destroy());
    source.pipe(counter);
    raw = counter;
  }
  const gzip =
    first !== null &&
    first.length >= 2 &&
    first[0] === GZIP_MAGIC_0 &&
    first[1] === GZIP_MAGIC_1;
  if (!gzip) return { name, stream: raw, gzip, sizeBytes };
  const gunzip = createGunzip();
  raw.on('error', (err) => gunzip.destroy(err));
  raw.pipe(gunzip);
  return { name, stream: gunzip, gzip, sizeBytes };
}

/** Resolves with the next chunk of a paused stream, or null at its end. @internal */
export function readFirstChunk(
  stream: Readable,
  name: string,
): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const onReadable = () => {
      cleanup();
      resolve((stream.read() as Buffer | null) ?? null);
    };
    const onEnd = () => {
      cleanup();
      resolve(null);
    };
    const onError = (err: Error) => {
      cleanup();
      reject(
        new StbError(
          'STB_INPUT_UNREADABLE',
          `[stb] [core] Cannot read \`${name}\`: ${err.message}.`,
          {
            cause: err,
            details: { source: name },
          },
        ),
      );
    };
    const cleanup = () => {
      stream.off('readable', onReadable);
      stream.off('end', onEnd);
      stream.off('error', onError);
    };
    stream.once('readable', onReadable);
    stream.once('end', onEnd);
    stream.once('error', onError);
  });
}

/**
 * The longest line any reader accepts: V8's longest string (`2 ** 29 - 24` UTF-16 units). Trace
 * readers use it, so a trace `stb parse` wrote (one event holds all the values of a bulk INSERT)
 * reads back; logs default to 64 Mi (a longer line is more likely a binary file).
 */
export const MAX_LINE_LENGTH = 2 ** 29 - 24;

/** Options of {@link readLines}. */
export interface ReadLinesOptions extends OpenInputOptions {
  /** Longest line accepted, in UTF-16 code units; longer lines raise `STB_PARSE_LINE_TOO_LONG`. Default 64 Mi. */
  maxLineLength?: number;
}

/** One line of an input, without its line terminator (`\n` or `\r\n`). */
export interface InputLine {
  text: string;
  /** 1-based line number. */
  line: number;
  /**
   * Set on the input's last line when it has no line end: the input was cut there (a log still
   * being written, a partial copy), so the line may be incomplete.
   */
  unterminated?: true;
}

/**
 * Streams the lines of a file (or `-` for stdin), gzip or not, in bounded memory.
 * Errors name the input: a truncated or corrupt gzip raises `STB_GZIP_CORRUPT`.
 * @example
 * for await (const { text, line } of readLines('postgresql.log.gz')) { … }
 */
export async function* readLines(
  input: string,
  options: ReadLinesOptions = {},
): AsyncGenerator<InputLine> {
  const opened = await openInput(input, options);
  yield* splitLines(opened.stream, opened.name, {
    ...options,
    gzip: opened.gzip,
  });
}

/** Splits an already opened byte stream into lines (see {@link readLines}). */
export async function* splitLines(
  stream: Readable,
  name: string,
  options: SplitLinesOptions = {},
): AsyncGenerator<InputLine> {
  for await (const batch of splitLineBatches(stream, name, options))
    yield* batch;
}

/** Options of {@link splitLines} and {@link splitLineBatches}. */
export interface SplitLinesOptions {
  maxLineLength?: number | undefined;
  gzip?: boolean;
  signal?: AbortSignal | undefined;
  /** Number of the stream's first line (default 1): a byte range of a file starts further on. */
  firstLine?: number | undefined;
}

/**
 * Splits an opened byte stream into lines, one array per chunk read (64 KiB): one `await`
 * per chunk instead of one per line, for callers that loop over lines synchronously.
 */
export async function* splitLineBatches(
  stream: Readable,
  name: string,
  options: SplitLinesOptions = {},
): AsyncGenerator<InputLine[]> {
  const max = Math.min(
    options.maxLineLength ?? 64 * 1024 * 1024,
    MAX_LINE_LENGTH,
  );
  // The unfinished line's text from earlier chunks, in pieces joined once when it ends: a chunk
  // is searched for newlines on its own, never the whole line again (a 41 MB statement on one
  // line took 11 s to split when every 64 KiB chunk rescanned the line so far).
  let parts: string[] = [];
  let partialLength = 0;
  let lineNo = (options.firstLine ?? 1) - 1;
  for await (const chunk of decodeText(stream, name, {
    ...options,
    line: () => lineNo,
  })) {
    let nl = chunk.indexOf('\n');
    if (nl === -1) {
      if (chunk.length > 0) parts.push(chunk);
      partialLength += chunk.length;
      if (partialLength > max) throw tooLong(name, lineNo + 1, max);
      continue;
    }
    const batch: InputLine[] = [];
    let start = 0;
    if (partialLength > 0) {
      parts.push(chunk.slice(0, nl));
      let text = parts.join('');
      parts = [];
      partialLength = 0;
      if (text.charCodeAt(text.length - 1) === 13) text = text.slice(0, -1);
      lineNo++;
      if (text.length > max) throw tooLong(name, lineNo, max);
      batch.push({ text, line: lineNo });
      start = nl + 1;
      nl = chunk.indexOf('\n', start);
    }
    while (nl !== -1) {
      let end = nl;
      if (end > start && chunk.charCodeAt(end - 1) === 13) end--;
      lineNo++;
      if (end - start > max) throw tooLong(name, lineNo, max);
      batch.push({ text: chunk.slice(start, end), line: lineNo });
      start = nl + 1;
      nl = chunk.indexOf('\n', start);
    }
    if (start < chunk.length) {
      parts.push(chunk.slice(start));
      partialLength = chunk.length - start;
      if (partialLength > max) throw tooLong(name, lineNo + 1, max);
    }
    yield batch;
  }
  if (partialLength > 0) {
    const partial = parts.join('');
    lineNo++;
    yield [
      {
        text: partial.endsWith('\r') ? partial.slice(0, -1) : partial,
        line: lineNo,
        unterminated: true,
      },
    ];
  }
}

/**
 * Decodes an opened byte stream as UTF-8 text chunks, mapping read errors to StbErrors
 * (`STB_GZIP_CORRUPT`, `STB_INPUT_UNREADABLE`, `STB_ABORTED`) that name the input and the line
 * reached (`line()`). Destroys the stream when done or stopped early.
 * @internal
 */
export async function* decodeText(
  stream: Readable,
  name: string,
  options: { gzip?: boolean; signal?: AbortSignal; line?: () => number } = {},
): AsyncGenerator<string> {
  const decoder = new StringDecoder('utf8');
  const lineOf = options.line ?? (() => 0);
  let first = true;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      if (options.signal?.aborted) throw aborted();
      let text = decoder.write(chunk);
      if (first && text.length > 0) {
        first = false;
        if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      }
      if (text.length > 0) yield text;
    }
    const rest = decoder.end();
    if (rest.length > 0) yield rest;
  } catch (err) {
    throw toReadError(err, name, {
      gzip: options.gzip,
      signal: options.signal,
      line: lineOf(),
    });
  } finally {
    stream.destroy();
  }
}

function aborted(): StbError {
  return new StbError('STB_ABORTED', '[stb] [core] Reading was aborted.');
}

/**
 * Maps an error raised while reading `name` to an StbError.
 * @internal
 */
export function toReadError(
  err: unknown,
  name: string,
  where: { gzip?: boolean; signal?: AbortSignal; line: number },
): StbError {
  if (err instanceof StbError) return err;
  if (where.signal?.aborted) return aborted();
  const e = err as NodeJS.ErrnoException;
  const lineNo = where.line;
  if (
    where.gzip &&
    (e.code?.startsWith('Z_') ||
      /unexpected end of file|incorrect header|invalid/i.test(e.message))
  ) {
    return new ParseError(
      'STB_GZIP_CORRUPT',
      `[stb] [core] \`${name}\` is a corrupt or truncated gzip file (${e.message}) after line ${lineNo}. Re-copy or re-compress it.`,
      {
        cause: err,
        position: { source: name, line: lineNo + 1 },
      },
    );
  }
  return new ParseError(
    'STB_INPUT_UNREADABLE',
    `[stb] [core] Cannot read \`${name}\` after line ${lineNo}: ${e.message}.`,
    {
      cause: err,
      position: { source: name, line: lineNo + 1 },
    },
  );
}

function tooLong(name: string, line: number, max: number): ParseError {
  return new ParseError(
    'STB_PARSE_LINE_TOO_LONG',
    max >= MAX_LINE_LENGTH
      ? `[stb] [core] Line ${line} of \`${name}\` is longer than ${max} characters, the longest string Node.js holds: it cannot be read.`
      : `[stb] [core] Line ${line} of \`${name}\` is longer than ${max} characters. Is this a text log? If it is, raise \`--max-line-length\` (library: \`maxLineLength\`; at most ${MAX_LINE_LENGTH}).`,
    { position: { source: name, line } },
  );
}

import fs, { promises as fsp } from 'node:fs';
import { Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { addAbortSignal, pipeline } from 'node:stream';
import type { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { StbError } from '../errors';
import { trackTemp, untrackTemp } from './atomic-file';

const openFd = promisify(fs.open);

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

/** A file to read as often as needed: the input itself, or a copy of what a pipe gave. */
export interface MaterializedInput {
  /** A regular file's path: the input's own, or the temporary copy's. */
  readonly file: string;
  /** Whether `file` is a temporary copy (removed by `cleanup`, and at process exit). */
  readonly copied: boolean;
  /** Removes the temporary copy (no-op for a regular file). Safe to call more than once. */
  cleanup(): Promise<void>;
}

/**
 * Makes an input readable more than once and from any offset: a regular file is returned as it
 * is (so is a device such as `/dev/null`); standard input (`-`), a pipe or a FIFO is copied, byte
 * for byte (gzip stays gzip), to a temporary file first. For the commands that peek at an input before they read it (is it a log,
 * a trace or a model?) or read it twice (a model fit): a pipe read twice would give its bytes to
 * one reader or the other. The copy has the input's name (`stdin` for `-`) in a new directory
 * under `tmpDir` (default `os.tmpdir()`). Disk use is the input's size; memory stays one read
 * buffer.
 * @throws StbError `STB_INPUT_NOT_FOUND` / `STB_INPUT_UNREADABLE` naming the input;
 *   `STB_OUTPUT_WRITE_FAILED` when the copy cannot be written (a full disk), naming it.
 * @example
 * const input = await materializeInput('/dev/fd/63');
 * try { await learnFrom(input.file); } finally { await input.cleanup(); }
 */
export async function materializeInput(
  input: string,
  options: { signal?: AbortSignal; tmpDir?: string } = {},
): Promise<MaterializedInput> {
  let source: Readable;
  if (input === '-') source = process.stdin;
  else {
    let st: fs.Stats;
    try {
      st = await fsp.stat(input);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new StbError(
        code === 'ENOENT' ? 'STB_INPUT_NOT_FOUND' : 'STB_INPUT_UNREADABLE',
        `[stb] [core] Cannot read \`${input}\` (${code ?? 'error'}). Check the path.`,
        { cause: err, details: { source: input } },
      );
    }
    // a regular file, and a device such as /dev/null (messages then name it, not a copy)
    if (!isPipeStat(st))
      return { file: input, copied: false, cleanup: () => Promise.resolve() };
    source = await openPipe(input, options.signal);
  }
  // under the input's own name, in a directory of its own: messages and a trace header's
  // `source.files` then name what the user passed (`63` for `/dev/fd/63`)
  const dir = await fsp.mkdtemp(
    path.join(options.tmpDir ?? os.tmpdir(), 'stb-input-'),
  );
  const temp = path.join(dir, input === '-' ? 'stdin' : path.basename(input));
  trackTemp(dir);
  const cleanup = async (): Promise<void> => {
    await fsp.rm(dir, { force: true, recursive: true });
    untrackTemp(dir);
  };
  const sink = fs.createWriteStream(temp, { flags: 'wx' });
  let writeError: unknown;
  sink.once('error', (err) => (writeError ??= err));
  try {
    await promisify(pipeline)(source, sink);
  } catch (err) {
    await cleanup();
    if (options.signal?.aborted) throw err;
    if (writeError !== undefined) {
      const e = writeError as NodeJS.ErrnoException;
      throw new StbError(
        'STB_OUTPUT_WRITE_FAILED',
        `[stb] [core] Cannot copy \`${input}\` to \`${temp}\` (${e.code ?? e.message}); a pipe is copied to a file before it is read. Free space there or set TMPDIR.`,
        { cause: err, details: { file: temp, source: input } },
      );
    }
    throw new StbError(
      'STB_INPUT_UNREADABLE',
      `[stb] [core] Cannot read \`${input}\` (${(err as NodeJS.ErrnoException).code ?? String(err)}).`,
      { cause: err, details: { source: input } },
    );
  }
  return { file: temp, copied: true, cleanup };
}

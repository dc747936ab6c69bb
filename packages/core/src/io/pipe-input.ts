import fs, { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { StbError } from '../errors';
import { trackTemp, untrackTemp } from './atomic-file';
import { isPipeStat, openPipe, statInput } from './input';

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
 * for byte (gzip stays gzip), to a temporary file first. For the commands that peek at an input
 * before they read it (is it a log, a trace or a model?) or read it twice (a model fit): a pipe
 * read twice would give its bytes to one reader or the other. The copy has the input's name
 * (`stdin` for `-`) in a new directory under `tmpDir` (default `os.tmpdir()`). Disk use is the
 * input's size; memory stays one read buffer.
 * @throws StbError `STB_INPUT_NOT_FOUND` / `STB_INPUT_UNREADABLE` naming the input (as
 *   {@link openInput} does);
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
    // a regular file, and a device such as /dev/null (messages then name it, not a copy)
    if (!isPipeStat(await statInput(input)))
      return { file: input, copied: false, cleanup: () => Promise.resolve() };
    source = await openPipe(input);
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
    await pipeline(source, sink, { signal: options.signal });
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

import { randomBytes } from 'node:crypto';
import fs, { promises as fsp } from 'node:fs';
import { promisify } from 'node:util';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { createGzip } from 'node:zlib';
import { StbError } from '../errors';

/** Bytes a writer may buffer before waiting for `'drain'`. */
const WRITE_BUFFER_BYTES = 1 << 20;

/** Options of {@link createAtomicFileWriter}. */
export interface AtomicFileWriterOptions {
  /** Gzip what is written to `stream` before it reaches the file. */
  gzip?: boolean;
}

/** A file being written under a temporary name; see {@link createAtomicFileWriter}. */
export interface AtomicFileWriter {
  /** Write the content here (respect backpressure: await `'drain'` when `write` returns false). */
  readonly stream: Writable;
  /** Bytes written to the file so far (compressed bytes when gzip). */
  readonly bytesWritten: number;
  /** Ends the stream, flushes it to disk and renames the temporary file to the final path. */
  commit(): Promise<void>;
  /** Destroys the stream and removes the temporary file. Safe to call more than once. */
  abort(): Promise<void>;
}

const openAsync = promisify(fs.open);
const closeAsync = promisify(fs.close);
const fsyncAsync = promisify(fs.fsync);

/**
 * Temporary files being written. A process that ends without unwinding (a second Ctrl-C that
 * exits at once, `process.exit` elsewhere) removes them synchronously on `exit`, so no `.tmp`
 * is left behind whatever the path out.
 */
const liveTempFiles = new Set<string>();
let exitHookInstalled = false;
/** Registers a temporary file (or directory) for removal at process exit. @internal */
export function trackTemp(tmp: string): void {
  liveTempFiles.add(tmp);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const f of liveTempFiles) {
      try {
        // a directory of temporary files goes whole (`materializeInput`'s)
        fs.rmSync(f, { force: true, recursive: true });
      } catch {
        // best effort on the way out
      }
    }
  });
}

/** Unregisters a temporary file (renamed or removed). @internal */
export function untrackTemp(tmp: string): void {
  liveTempFiles.delete(tmp);
}

/** The temporary path used for `finalPath`: a hidden file in the same directory. */
function tempPathFor(finalPath: string): string {
  const dir = path.dirname(finalPath);
  const base = path.basename(finalPath);
  return path.join(
    dir,
    `.${base}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`,
  );
}

/**
 * The error of a failed write: `STB_OUTPUT_WRITE_FAILED` naming the file and the system's
 * reason (ENOSPC, EACCES…). An `StbError` passes through unchanged. @internal
 */
export function writeFailed(finalPath: string, err: unknown): StbError {
  if (err instanceof StbError) return err;
  const e = err as NodeJS.ErrnoException;
  return new StbError(
    'STB_OUTPUT_WRITE_FAILED',
    `[stb] [core] Cannot write \`${finalPath}\` (${e.code ?? e.message}). Check that the directory exists, is writable and has free space.`,
    { cause: err, details: { path: finalPath } },
  );
}

/**
 * Opens a writer that never leaves a half-written file under `finalPath`: data goes to a
 * temporary file in the same directory, which `commit()` fsyncs and renames over the final path
 * and `abort()` deletes.
 * @example
 * const w = await createAtomicFileWriter('model.json.gz', { gzip: true });
 * try { w.stream.write(json); await w.commit(); } catch (e) { await w.abort(); throw e; }
 * @throws StbError `STB_OUTPUT_WRITE_FAILED` when the temporary file cannot be created or written.
 */
export async function createAtomicFileWriter(
  finalPath: string,
  options: AtomicFileWriterOptions = {},
): Promise<AtomicFileWriter> {
  // A device or pipe (`/dev/null`, `/dev/stdout`, a FIFO) is written in place: renaming a
  // temporary file over it would replace the device node (as root) instead of writing to it.
  const existing = await fsp.stat(finalPath).catch(() => undefined);
  const direct =
    existing !== undefined &&
    (existing.isCharacterDevice() || existing.isFIFO());
  const tmp = direct ? finalPath : tempPathFor(finalPath);
  let fd: number;
  try {
    fd = await openAsync(tmp, direct ? 'w' : 'wx', 0o644);
  } catch (err) {
    throw writeFailed(finalPath, err);
  }
  if (!direct) trackTemp(tmp);
  let fdOpen = true;
  const closeFd = async () => {
    if (!fdOpen) return;
    fdOpen = false;
    await closeAsync(fd);
  };
  // 1 MiB of buffered writes: writers keep producing while the file system writes earlier
  // chunks (with 64 KiB, every 64 KiB chunk waited for its write to finish).
  const file = fs.createWriteStream(tmp, {
    fd,
    autoClose: false,
    highWaterMark: WRITE_BUFFER_BYTES,
  });
  let firstError: Error | undefined;
  let stream: Writable = file;
  file.on('error', (err) => {
    firstError ??= err;
    // With gzip in front, a failed file (ENOSPC) must also fail the stream the caller writes
    // to: else the gzip stream stops draining and its writer waits forever.
    if (stream !== file) stream.destroy(err);
  });
  if (options.gzip) {
    const gz = createGzip();
    gz.on('error', (err) => {
      firstError ??= err;
      file.destroy(err);
    });
    gz.pipe(file);
    stream = gz;
  }
  let state: 'open' | 'committed' | 'aborted' = 'open';

  const cleanup = async (): Promise<void> => {
    stream.destroy();
    file.destroy();
    await closeFd().catch(() => undefined);
    if (!direct) {
      await fsp.rm(tmp, { force: true }).catch(() => undefined);
      liveTempFiles.delete(tmp);
    }
  };

  return {
    stream,
    get bytesWritten() {
      return file.bytesWritten;
    },
    async commit() {
      if (state !== 'open')
        throw new StbError(
          'STB_INTERNAL',
          `[stb] [core] Atomic writer for \`${finalPath}\` was already ${state}.`,
        );
      try {
        const check = (): void => {
          if (firstError) throw firstError;
        };
        check();
        const done = new Promise<void>((resolve, reject) => {
          file.once('finish', resolve);
          file.once('error', reject);
        });
        stream.end();
        await done;
        check();
        if (!direct) await fsyncAsync(fd);
        await closeFd();
        if (!direct) {
          await fsp.rename(tmp, finalPath);
          liveTempFiles.delete(tmp);
        }
        state = 'committed';
      } catch (err) {
        state = 'aborted';
        await cleanup();
        throw writeFailed(finalPath, err);
      }
    },
    async abort() {
      if (state !== 'open') return;
      state = 'aborted';
      await cleanup();
    },
  };
}

/**
 * Writes `data` to `finalPath` atomically (temporary file in the same directory, then rename).
 * @throws StbError `STB_OUTPUT_WRITE_FAILED`.
 */
export async function writeFileAtomic(
  finalPath: string,
  data: string | Uint8Array,
): Promise<void> {
  const w = await createAtomicFileWriter(finalPath);
  try {
    if (!w.stream.write(data)) await drained(w.stream);
    await w.commit();
  } catch (err) {
    await w.abort();
    throw err instanceof StbError ? err : writeFailed(finalPath, err);
  }
}

/**
 * Waits for `'drain'` on `stream`, rejecting if the stream errors or closes first. A stream that
 * has already failed or closed rejects at once: it will emit none of those events again, and a
 * writer waiting for them would wait forever (a full disk found while earlier chunks were still
 * being written: the write that returned false came after the `'error'`).
 */
export function drained(stream: Writable): Promise<void> {
  const event = 'drain';
  if (stream.errored) return Promise.reject(stream.errored);
  if (stream.destroyed || stream.closed)
    return Promise.reject(prematureClose());
  if (!stream.writableNeedDrain) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onEvent = () => {
      done();
      resolve();
    };
    const onError = (err: Error) => {
      done();
      reject(err);
    };
    const onClose = () => {
      done();
      reject(stream.errored ?? prematureClose());
    };
    const done = () => {
      stream.off(event, onEvent);
      stream.off('error', onError);
      stream.off('close', onClose);
    };
    stream.on(event, onEvent);
    stream.on('error', onError);
    stream.on('close', onClose);
  });
}

function prematureClose(): Error {
  return Object.assign(new Error('stream closed before drain'), {
    code: 'ERR_STREAM_PREMATURE_CLOSE',
  });
}

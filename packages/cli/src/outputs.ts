import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { StbError } from '@stb/core';

/** A file a command reads, and the option that named it. */
export interface Input {
  path: string;
  option: string;
}

/** `paths`, each named by `option`, as {@link Input}s. */
export const inputsOf = (
  paths: readonly (string | undefined)[],
  option: string,
): Input[] =>
  paths.flatMap((p) => (p === undefined ? [] : [{ path: p, option }]));

/**
 * Checks, before any work starts, that `file` can be written: its directory exists and accepts
 * a new file (probed by creating and removing an empty hidden file), and `file` is not a
 * directory. An hour of benchmarking must not end in "cannot write the result".
 * `-` (stdout) and devices (`/dev/null`) pass. An existing `file` that is one of `inputs` (the
 * same file by any name) is refused: the command would replace what it reads (`stb learn -i
 * trace.jsonl -o trace.jsonl` wrote the model over the trace).
 * @param option The option that named the file, for the message (e.g. `--out`).
 * @throws StbError `STB_OUTPUT_WRITE_FAILED` naming the option and the file; `STB_USAGE` when
 * it is also an input.
 */
export async function assertWritable(
  file: string,
  option: string,
  inputs: readonly Input[] = [],
): Promise<void> {
  if (file === '-') return;
  const fail = (why: string, cause?: unknown): StbError =>
    new StbError(
      'STB_OUTPUT_WRITE_FAILED',
      `[stb] [cli] Cannot write \`${file}\` (${option}): ${why}. Fix the path before the run starts.`,
      { cause, details: { path: file, option } },
    );
  const st = await fsp.stat(file).catch(() => undefined);
  if (st?.isDirectory()) throw fail('it is a directory');
  if (st !== undefined && !st.isFile()) return;
  if (st !== undefined)
    for (const input of inputs) {
      if (input.path === '-') continue;
      const ist = await fsp.stat(input.path).catch(() => undefined);
      // the same file by any name (relative, symlink, hard link)
      if (ist?.isFile() && ist.dev === st.dev && ist.ino === st.ino)
        throw new StbError(
          'STB_USAGE',
          `[stb] [cli] \`${file}\` (${option}) is also what the command reads (${input.option} \`${input.path}\`): writing it would replace it. Choose another ${option}.`,
          { details: { path: file, option, input: input.option } },
        );
    }
  const dir = path.dirname(file);
  const dst = await fsp.stat(dir).catch(() => undefined);
  if (dst === undefined) throw fail(`directory \`${dir}\` does not exist`);
  if (!dst.isDirectory()) throw fail(`\`${dir}\` is not a directory`);
  const probe = path.join(
    dir,
    `.stb-probe.${process.pid}.${randomBytes(4).toString('hex')}.tmp`,
  );
  try {
    const h = await fsp.open(probe, 'wx');
    await h.close();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw fail(`directory \`${dir}\` is not writable (${code})`, err);
  } finally {
    await fsp.rm(probe, { force: true }).catch(() => undefined);
  }
}

/**
 * A warning for a trace output whose name ends in none of the trace extensions (`.jsonl`,
 * `.json`, `.csv`, each optionally `.gz`) and whose format no `--output-format` names: it is
 * written as JSON Lines, which `-o workload.sql` does not suggest. Undefined when the name says
 * the format, for stdout and for devices (`/dev/null`).
 */
export function unknownTraceExtension(
  file: string,
  option: string,
  outputFormat: string | undefined,
): string | undefined {
  if (outputFormat !== undefined || file === '-' || file.startsWith('/dev/'))
    return undefined;
  if (/\.(jsonl|ndjson|json|csv)(\.gz)?$/i.test(file)) return undefined;
  return `[stb] warning: \`${file}\` (${option}) does not end in .jsonl, .json or .csv (+ .gz): it is written as JSON Lines (a trace, not SQL). Name it .jsonl, or pass --output-format.`;
}

/**
 * The check of a merge's `--output` ({@link assertWritable}): none of the pieces it merges, named
 * in messages as `what` (e.g. `a trace to merge`).
 */
export function assertMergeOutput(
  output: string,
  pieces: readonly string[],
  what: string,
): Promise<void> {
  return assertWritable(output, '--output', inputsOf(pieces, what));
}

/**
 * `SOURCE_DATE_EPOCH` (the reproducible-builds convention, seconds) pins the `createdAt` of what
 * `stb learn`, `stb parse`, `stb validate` and `stb compare` write (the artifact, the trace's
 * header, the reports), so the same inputs give identical files.
 */
export function createdAtFromEnv(): { createdAt?: string } {
  const v = process.env['SOURCE_DATE_EPOCH'];
  if (v === undefined || !/^\d+$/.test(v)) return {};
  return { createdAt: new Date(Number(v) * 1000).toISOString() };
}

import { readFileSync, rmSync } from 'node:fs';
import { writeTrace } from '@stb/core';
import { logRecords } from '../src/inputs';
import type { LogInputOptions } from '../src/inputs';

/**
 * `files` parsed as `stb parse` does (`logRecords`) with `extra`, written to `out` (then removed):
 * the trace file's bytes (the header's `createdAt` blanked) and the summaries as JSON, or the
 * error's code and message. Two runs giving the same string gave the same trace and counts.
 */
export async function traceText(
  out: string,
  files: string[],
  extra: Partial<LogInputOptions>,
): Promise<string> {
  try {
    const log = await logRecords(files, {
      signal: new AbortController().signal,
      maxInvalid: 1,
      ...extra,
    });
    const { path: _path, ...written } = await writeTrace(out, log.records);
    const text = readFileSync(out, 'utf8').replace(
      /"createdAt":"[^"]*"/,
      '"createdAt":""',
    );
    rmSync(out);
    return `${text}\n${JSON.stringify({ written, ...log.summary() })}`;
  } catch (err) {
    const e = err as { code?: string; message?: string };
    return `error ${e.code ?? ''} ${e.message ?? String(err)}`;
  }
}

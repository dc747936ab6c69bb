import { join } from 'node:path';

import type { QueryTemplate, TraceEvent } from '@stb/core';
import { extractTrace } from '@stb/extractor';
import { parseLogs } from '@stb/parser';

/** A trace held in memory for tests (small fixtures only). */
export interface MemoryTrace {
  templates: QueryTemplate[];
  events: TraceEvent[];
}

export const SAMPLES = join(__dirname, '../../../../fixtures/samples');

/** The log file of a sample folder: PostgreSQL stderr by default. */
export function sampleLogPath(
  folder: string,
  file = 'postgresql.log.gz',
): string {
  return join(SAMPLES, folder, file);
}

const cache = new Map<string, Promise<MemoryTrace>>();

async function read(path: string): Promise<MemoryTrace> {
  const run = extractTrace(parseLogs([path]));
  const templates: QueryTemplate[] = [];
  const events: TraceEvent[] = [];
  for await (const r of run) {
    if (r.kind === 'event') events.push(r);
    else templates.push(r);
  }
  return { templates, events };
}

/**
 * Reads a log of the shared samples into a trace with the real pipeline, as `stb parse` does:
 * `parseLogs` (@stb/parser) → `extractTrace` (@stb/extractor). Cached per file within a test
 * file; callers must not mutate the result.
 */
export function readSampleTrace(
  folder: string,
  file = 'postgresql.log.gz',
): Promise<MemoryTrace> {
  const path = sampleLogPath(folder, file);
  let p = cache.get(path);
  if (p === undefined) {
    p = read(path);
    cache.set(path, p);
  }
  return p;
}

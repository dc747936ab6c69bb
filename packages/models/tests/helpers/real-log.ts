import { join } from 'node:path';
import type { QueryTemplate, TraceEvent, TraceHeader } from '@stb/core';
import { createTraceHeader } from '@stb/core';
import { extractTrace } from '@stb/extractor';
import { parseLogs } from '@stb/parser';

/**
 * Test helper: a real sample log (fixtures/samples) through the real pipeline, `parseLogs`
 * (@stb/parser) then `extractTrace` (@stb/extractor), held in memory (the samples are small).
 * Tests only: @stb/models does not depend on either package at run time.
 */
export const SAMPLES = join(__dirname, '../../../../fixtures/samples');

export interface LoadedTrace {
  header: TraceHeader;
  templates: QueryTemplate[];
  events: TraceEvent[];
}

export async function loadSampleTrace(
  folder: string,
  file: string,
): Promise<LoadedTrace> {
  const raw = parseLogs([join(SAMPLES, folder, file)]);
  const templates: QueryTemplate[] = [];
  const events: TraceEvent[] = [];
  for await (const r of extractTrace(raw)) {
    if (r.kind === 'template') templates.push(r);
    else events.push(r);
  }
  const dialect = raw.summary().files[0]?.dialect ?? 'postgres';
  return {
    header: createTraceHeader({
      dialect,
      source: { files: [`${folder}/${file}`] },
      createdAt: '2026-01-01T00:00:00.000Z',
    }),
    templates,
    events,
  };
}

/** The id of the one template whose text starts with `prefix`. */
export function templateId(trace: LoadedTrace, prefix: string): string {
  const found = trace.templates.filter((t) => t.text.startsWith(prefix));
  if (found.length !== 1)
    throw new Error(
      `expected one template starting with ${prefix}, found ${found.length}`,
    );
  return (found[0] as QueryTemplate).id;
}

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';

import {
  computeTemplateId,
  type ParamValue,
  type QueryTemplate,
  type QueryType,
  type TraceEvent,
} from '@stb/core';

/** A trace held in memory for tests (small fixtures only). */
export interface MemoryTrace {
  templates: QueryTemplate[];
  events: TraceEvent[];
}

export const SAMPLES = join(__dirname, '../../../../fixtures/samples');

const LINE =
  /^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}) UTC \[(\d+)\] \S+ LOG:  (?:duration: ([\d.]+) ms  )?statement: (.*)$/;

function queryTypeOf(sql: string): QueryType {
  const kw = /^\s*(\w+)/.exec(sql)?.[1]?.toUpperCase() ?? '';
  if (['SELECT', 'INSERT', 'UPDATE', 'DELETE'].includes(kw))
    return kw as QueryType;
  if (['BEGIN', 'END', 'COMMIT', 'ROLLBACK'].includes(kw)) return 'TCL';
  if (['VACUUM', 'TRUNCATE', 'SET', 'SHOW'].includes(kw)) return 'UTILITY';
  return 'OTHER';
}

/** Replaces literals by `$n`; a stand-in for @stb/extractor in these tests. */
function normalise(sql: string): { text: string; params: ParamValue[] } {
  const params: ParamValue[] = [];
  const text = sql
    .replace(/;\s*$/, '')
    .replace(/'(?:[^']|'')*'|(?<![\w$])-?\d+(?:\.\d+)?\b/g, (lit) => {
      if (lit.startsWith("'"))
        params.push({ t: 'string', v: lit.slice(1, -1).replace(/''/g, "'") });
      else if (lit.includes('.')) params.push({ t: 'float', v: Number(lit) });
      else params.push({ t: 'int', v: Number(lit) });
      return `$${params.length}`;
    });
  return { text, params };
}

/**
 * Reads a PostgreSQL stderr log of the shared samples (`LOG:  statement:` or `LOG:  duration: …
 * statement:` lines) into a trace: session = backend pid, template = SQL with literals replaced.
 */
export function readSampleTrace(folder: string): MemoryTrace {
  const text = gunzipSync(
    readFileSync(join(SAMPLES, folder, 'postgresql.log.gz')),
  ).toString('utf8');
  const templates = new Map<string, QueryTemplate>();
  const events: TraceEvent[] = [];
  for (const line of text.split('\n')) {
    const m = LINE.exec(line);
    if (!m) continue;
    const [, ts, pid, dur, sql] = m as unknown as [
      string,
      string,
      string,
      string | undefined,
      string,
    ];
    const { text: tplText, params } = normalise(sql);
    const id = computeTemplateId('postgres', tplText);
    if (!templates.has(id))
      templates.set(id, {
        kind: 'template',
        id,
        text: tplText,
        queryType: queryTypeOf(tplText),
        tables: [],
        slots: params.map((p) => ({ type: p.t, column: null })),
      });
    const endUs = Date.parse(`${ts.replace(' ', 'T')}Z`) * 1000;
    const durationUs =
      dur === undefined ? undefined : Math.round(Number(dur) * 1000);
    const e: TraceEvent = {
      kind: 'event',
      startUs: durationUs === undefined ? endUs : endUs - durationUs,
      sessionId: pid,
      templateId: id,
      params,
    };
    if (durationUs !== undefined) e.durationUs = durationUs;
    events.push(e);
  }
  return { templates: [...templates.values()], events };
}

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type {
  ParamValue,
  QueryTemplate,
  TraceEvent,
  TraceHeader,
} from '@stb/core';
import { computeTemplateId, createTraceHeader } from '@stb/core';

/**
 * Test helper: a PostgreSQL stderr log with `log_statement = 'all'` (prefix `%m [%p] %q%u@%d/%a `)
 * to trace events, templating constants with a regex (numbers and quoted strings). Stands in for
 * @stb/parser + @stb/extractor so these tests depend on nothing but core.
 */
export const SAMPLES = join(__dirname, '../../../../fixtures/samples');

const LINE =
  /^(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}) UTC \[(\d+)\] \S+ LOG: {2}statement: (.*)$/;
const CONST = /'(?:[^']|'')*'|(?<![\w.$])-?\d+(?:\.\d+)?(?![\w.])/g;

export interface LoadedTrace {
  header: TraceHeader;
  templates: QueryTemplate[];
  events: TraceEvent[];
}

export function loadPgStatementLog(folder: string): LoadedTrace {
  const text = gunzipSync(
    readFileSync(join(SAMPLES, folder, 'postgresql.log.gz')),
  ).toString('utf8');
  const templates = new Map<string, QueryTemplate>();
  const events: TraceEvent[] = [];
  for (const line of text.split('\n')) {
    const m = LINE.exec(line);
    if (!m) continue;
    const [, time, pid, sql] = m as unknown as [string, string, string, string];
    const params: ParamValue[] = [];
    let n = 0;
    const normalised = sql.replace(/;\s*$/, '').replace(CONST, (lit) => {
      if (lit.startsWith("'"))
        params.push({ t: 'string', v: lit.slice(1, -1).replace(/''/g, "'") });
      else if (lit.includes('.')) params.push({ t: 'float', v: Number(lit) });
      else params.push({ t: 'int', v: Number(lit) });
      return `$${++n}`;
    });
    const id = computeTemplateId('postgres', normalised);
    if (!templates.has(id)) {
      const word = normalised.split(/\s+/)[0]?.toUpperCase() ?? '';
      const queryType =
        word === 'BEGIN' || word === 'END'
          ? 'TCL'
          : ['SELECT', 'UPDATE', 'INSERT', 'DELETE'].includes(word)
            ? (word as 'SELECT')
            : 'UTILITY';
      templates.set(id, {
        kind: 'template',
        id,
        text: normalised,
        queryType,
        tables: [],
        slots: params.map((p) => ({ type: p.t, column: null })),
      });
    }
    events.push({
      kind: 'event',
      startUs: Date.parse(`${time.replace(' ', 'T')}Z`) * 1000,
      sessionId: pid,
      templateId: id,
      params,
    });
  }
  return {
    header: createTraceHeader({
      dialect: 'postgres',
      source: { files: [`${folder}/postgresql.log.gz`] },
      createdAt: '2026-01-01T00:00:00.000Z',
    }),
    templates: [...templates.values()],
    events,
  };
}

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { QueryTemplate, RawQueryEvent, TraceEvent } from '@stb/core';
import { extractTrace, normalizeSql } from '../src/index';
import { readMariaSample, readPgSample, SAMPLES } from './sample-logs';

interface PgssRow {
  query: string;
  calls: number;
}

async function extractAll(raw: RawQueryEvent[]) {
  const run = extractTrace(raw);
  const templates: QueryTemplate[] = [];
  const events: TraceEvent[] = [];
  for await (const rec of run) {
    if (rec.kind === 'template') templates.push(rec);
    else {
      // every event's template came before it
      expect(templates.some((t) => t.id === rec.templateId)).toBe(true);
      events.push(rec);
    }
  }
  return { templates, events, summary: run.summary() };
}

function countBy(events: TraceEvent[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const e of events) m.set(e.templateId, (m.get(e.templateId) ?? 0) + 1);
  return m;
}

describe.each([
  ['pg-tpcb-simple-logstatement', false],
  ['pg-tpcb-simple-logduration', false],
  ['pg-tpcb-extended-logstatement', false],
  ['pg-tpcb-prepared-logduration', true],
])('%s', (folder, prepared) => {
  it("gives pg_stat_statements' 12 templates with its call counts", async () => {
    const raw = readPgSample(folder);
    const manifest = JSON.parse(
      readFileSync(join(SAMPLES, 'manifest.json'), 'utf8'),
    )[folder];
    expect(raw.length).toBe(manifest.statements_logged);
    const { templates, events, summary } = await extractAll(raw);
    expect(events.length).toBe(raw.length);
    const pgss = JSON.parse(
      readFileSync(join(SAMPLES, folder, 'pg_stat_statements.json'), 'utf8'),
    ) as PgssRow[];
    expect(templates.length).toBe(12);
    expect(summary.templates).toBe(12);
    expect(summary.failedParseEvents).toBe(0);
    expect(summary.templatesByPath['libpg-query']).toBe(12);
    const counts = countBy(events);
    for (const row of pgss) {
      // the server's normalised text normalises to the same template as the logged statements
      const n = await normalizeSql(row.query, 'postgres');
      expect(counts.has(n.templateId)).toBe(true);
      const got = counts.get(n.templateId);
      if (prepared && (row.query === 'BEGIN' || row.query === 'END')) {
        // pg_stat_statements counts BEGIN/END once per connection under -M prepared; the log is right
        expect(got).toBe(manifest.pgbench_transactions);
        expect(row.calls).toBeLessThan(got as number);
      } else expect(got).toBe(row.calls);
    }
    // transactions: every event between BEGIN and END has a txn index, and the indexes count up per session
    const perSession = new Map<string, Set<number>>();
    for (const e of events) {
      if (e.txn === undefined) continue;
      const set = perSession.get(e.sessionId) ?? new Set();
      set.add(e.txn);
      perSession.set(e.sessionId, set);
    }
    let txns = 0;
    for (const set of perSession.values()) {
      expect([...set].sort((a, b) => a - b)).toEqual([
        ...Array(set.size).keys(),
      ]);
      txns += set.size;
    }
    expect(txns).toBe(manifest.pgbench_transactions);
    // events are in start order across sessions (a session's order is kept even where its logged
    // start times step back (ms log times minus µs durations): the sort key is clamped to the session's previous one)
    const last = new Map<string, number>();
    let prev = -Infinity;
    for (const e of events) {
      const key = Math.max(e.startUs, last.get(e.sessionId) ?? -Infinity);
      last.set(e.sessionId, key);
      expect(key).toBeGreaterThanOrEqual(prev);
      prev = key;
    }
  });
});

test('extended protocol: bind parameters keep their logged values, typed', async () => {
  const raw = readPgSample('pg-tpcb-extended-logstatement');
  const { templates, events } = await extractAll(raw);
  const upd = templates.find((t) =>
    t.text.startsWith('UPDATE pgbench_accounts'),
  ) as QueryTemplate;
  expect(upd.text).toBe(
    'UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2',
  );
  expect(upd.slots).toEqual([
    { type: 'int', column: 'pgbench_accounts.abalance', context: '+' },
    { type: 'int', column: 'pgbench_accounts.aid', context: '=' },
  ]);
  const first = raw.find((r) =>
    r.sql.startsWith('UPDATE pgbench_accounts'),
  ) as RawQueryEvent;
  const ev = events.find(
    (e) =>
      e.templateId === upd.id &&
      e.startUs === first.startUs &&
      e.sessionId === first.sessionId,
  );
  expect(ev?.params).toEqual(
    (first.params ?? []).map((p) => ({ t: 'int', v: Number(p.value) })),
  );
  const ins = templates.find((t) => t.queryType === 'INSERT') as QueryTemplate;
  expect(ins.tables).toEqual(['pgbench_history']);
  expect(ins.slots.map((s) => s.column)).toEqual([
    'pgbench_history.tid',
    'pgbench_history.bid',
    'pgbench_history.aid',
    'pgbench_history.delta',
  ]);
});

test('simple protocol: literal values become typed parameters in order of appearance', async () => {
  const raw = readPgSample('pg-tpcb-simple-logstatement');
  const { templates, events } = await extractAll(raw);
  const upd = templates.find((t) =>
    t.text.startsWith('UPDATE pgbench_accounts'),
  ) as QueryTemplate;
  const first = raw.find((r) =>
    r.sql.startsWith('UPDATE pgbench_accounts'),
  ) as RawQueryEvent;
  const [, delta, aid] = /\+ (-?\d+) WHERE aid = (\d+)/.exec(
    first.sql,
  ) as unknown as [string, string, string];
  const ev = events.find(
    (e) =>
      e.templateId === upd.id &&
      e.startUs === first.startUs &&
      e.sessionId === first.sessionId,
  );
  expect(ev?.params).toEqual([
    { t: 'int', v: Number(delta) },
    { t: 'int', v: Number(aid) },
  ]);
  const types = new Map(templates.map((t) => [t.text, t.queryType]));
  expect(types.get('BEGIN')).toBe('TCL');
  expect(types.get('END')).toBe('TCL');
  expect(types.get('VACUUM pgbench_branches')).toBe('UTILITY');
  expect(types.get('TRUNCATE pgbench_history')).toBe('DDL');
  expect(types.get('SELECT count(*) FROM pgbench_branches')).toBe('SELECT');
});

test('mariadb-sysbench-text: same partition and counts as performance_schema digests', async () => {
  const raw = readMariaSample('mariadb-sysbench-text').filter(
    (r) => !/sql_log_off/.test(r.sql),
  );
  const digests = JSON.parse(
    readFileSync(
      join(SAMPLES, 'mariadb-sysbench-text', 'performance_schema_digests.json'),
      'utf8',
    ),
  ) as { digest_text: string; count_star: number }[];
  const { templates, events, summary } = await extractAll(raw);
  expect(summary.failedParseEvents).toBe(0);
  expect(templates.length).toBe(digests.length);
  // the same counts, matched by a shape key (digest text without quoting and spacing)
  const shape = (s: string) =>
    s
      .replace(/`/g, '')
      .replace(/\$\d+( \/\*, \.\.\. \*\/)?|\?|\(\.\.\.\)/g, '?')
      .replace(/\s+/g, '')
      .replace(/\((\?,)*\?\)/g, '?')
      .toUpperCase();
  const counts = countBy(events);
  const ours = new Map(templates.map((t) => [shape(t.text), counts.get(t.id)]));
  for (const d of digests) {
    const key = shape(d.digest_text.replace('DISTINCTROW', 'DISTINCT'));
    expect([key, ours.get(key)]).toEqual([key, d.count_star]);
  }
});

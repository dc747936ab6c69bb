import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { RawQueryEvent } from '@stb/core';
import { GENERATED, comparable, countBy, parseCached } from './helpers';

// Logs written by private PostgreSQL 15 / MariaDB 10.11 instances (tests/fixtures/make-fixtures.sh).

interface ClientCounts {
  statements: number;
  errors: number;
  sessions: number;
  withParams: number;
}

describe.each([
  ['pg-logstatement-duration', 'postgres-stderr', 1000],
  ['pg-mindur-rds', 'postgres-stderr', 1_000_000],
])('%s', (folder, stderrFormat, stderrResolution) => {
  const dir = path.join(GENERATED, folder);
  const client = JSON.parse(
    readFileSync(path.join(dir, 'client.json'), 'utf8'),
  ) as ClientCounts;
  const file = (ext: string) => path.join(dir, `postgresql.${ext}.gz`);

  it.each(['log', 'csv', 'json'])(
    '%s: the client’s statements, errors and sessions',
    async (ext) => {
      const { events, summary } = await parseCached(file(ext));
      const f = summary.files[0];
      if (ext === 'log') {
        expect(f?.format).toBe(stderrFormat);
        expect(f?.timeResolutionUs).toBe(stderrResolution);
      }
      expect(events).toHaveLength(client.statements);
      // Events satisfy the core contract (validated here, at the boundary, not in the hot path).
      for (const e of events)
        expect(RawQueryEvent.safeParse(e).error).toBeUndefined();
      expect(events.filter((e) => e.error)).toHaveLength(client.errors);
      expect(f?.sessions).toBe(client.sessions);
      expect(f?.skipped['invalid']).toBeUndefined();
      expect(f?.skipped['checkpoint']).toBeGreaterThan(0);
      // Failed statements logged after failing at bind/execute have no parameters in the log.
      const withParams = events.filter((e) => e.params).length;
      expect(withParams).toBeGreaterThanOrEqual(client.withParams - 2);
      expect(withParams).toBeLessThanOrEqual(client.withParams);
      expect(countBy(events, (e) => e.application ?? '?')).toEqual({
        'fixture-a': 32,
        'fixture-b': 22,
        'fixture-c': 2,
      });
    },
  );

  it('multi-line statements, quoted multi-line parameters, NULL and errors', async () => {
    const { events } = await parseCached(file('log'));
    expect(events.map((e) => e.sql)).toContain(
      'SELECT id,\n       note\n  FROM t\n WHERE id = 1',
    );
    expect(events.map((e) => e.sql)).toContain(
      "INSERT INTO t VALUES (1, 'it''s a\nmulti-line value')",
    );
    const ins = events.filter((e) => e.sql === 'INSERT INTO t VALUES ($1, $2)');
    expect(ins[0]?.params).toEqual([
      { index: 1, value: '2' },
      { index: 2, value: "quote ' and\nnewline" },
    ]);
    expect(ins[1]?.params).toEqual([
      { index: 1, value: '3' },
      { index: 2, value: null },
    ]);
    const upd = events.find((e) => e.sql.startsWith('UPDATE t SET note'));
    expect(upd?.params?.[0]).toEqual({
      index: 1,
      value: "$1 = 'x', $2 = NULL",
    });
    const failed = events.filter((e) => e.error).map((e) => e.sql);
    expect(failed).toEqual([
      'SELECT * FROM missing_table',
      'SELEC 1',
      'INSERT INTO t VALUES ($1, $2)',
      'SELECT 1 / $1::int',
    ]);
    // A failed statement is one event, not a statement plus an error.
    expect(
      events.filter((e) => e.sql === 'SELECT * FROM missing_table'),
    ).toHaveLength(1);
  });

  it('stderr, csvlog and jsonlog give the same events (times within the stderr resolution)', async () => {
    const stderr = await parseCached(file('log'));
    const csv = await parseCached(file('csv'));
    const json = await parseCached(file('json'));
    const c = (evs: typeof stderr.events) => comparable(evs, stderrResolution);
    // At 1 s resolution the stderr time is the csv time truncated; start = time − duration can
    // then cross a second boundary, so compare without times and check them separately.
    const noTime = (s: ReturnType<typeof c>) =>
      s.map((l) => l.map((e) => ({ ...e, startUs: undefined })));
    expect(noTime(c(csv.events))).toEqual(noTime(c(stderr.events)));
    expect(c(json.events)).toEqual(c(csv.events));
    const bySql = new Map(csv.events.map((e) => [`${e.source.line}`, e]));
    expect(bySql.size).toBe(csv.events.length);
    const csvSessions = comparable(csv.events);
    const errSessions = comparable(stderr.events);
    for (let i = 0; i < csvSessions.length; i++) {
      const a = csvSessions[i] ?? [];
      const b = errSessions[i] ?? [];
      for (let j = 0; j < a.length; j++) {
        expect(
          Math.abs((a[j]?.startUs ?? 0) - (b[j]?.startUs ?? 0)),
        ).toBeLessThan(stderrResolution);
      }
    }
  });
});

describe('mariadb-sysbench-small (general and slow log of one run)', () => {
  const dir = path.join(GENERATED, 'mariadb-sysbench-small');
  const sysbench = (name: string) => {
    const text = readFileSync(path.join(dir, name), 'utf8');
    return Number(/total:\s+(\d+)/.exec(text)?.[1]);
  };

  it('general and slow log agree on statements and thread sessions', async () => {
    const general = await parseCached(path.join(dir, 'general.log.gz'));
    const slow = await parseCached(path.join(dir, 'slow.log.gz'));
    expect(general.summary.files[0]?.format).toBe('mysql-general');
    expect(slow.summary.files[0]?.format).toBe('mysql-slow');
    expect(slow.summary.files[0]?.skipped['invalid']).toBeUndefined();
    for (const e of [...slow.events, ...general.events])
      expect(RawQueryEvent.safeParse(e).error).toBeUndefined();
    expect(general.summary.files[0]?.skipped['invalid']).toBeUndefined();
    const strip = (sql: string) => sql.replace(/;$/, '');
    // The slow log writes a statement when it ends, the general log when it arrives: compare
    // each thread's statements as a set.
    const perSession = (evs: typeof slow.events, f: (sql: string) => string) =>
      Object.values(
        evs.reduce<Record<string, string[]>>((acc, e) => {
          (acc[e.sessionId.split('@')[0] ?? ''] ??= []).push(f(e.sql));
          return acc;
        }, {}),
      ).map((l) => l.sort());
    expect(perSession(slow.events, strip)).toEqual(
      perSession(general.events, (x) => x),
    );
    // sysbench ran 2 × `total` statements on its threads (user sbtest, 2 threads per run).
    const bench = general.events.filter(
      (e) => e.user === 'sbtest' && /\d+@/.test(e.sessionId),
    );
    const benchThreads = countBy(bench, (e) => e.sessionId);
    const perRun = sysbench('sysbench-ps.txt') + sysbench('sysbench-text.txt');
    expect(
      Object.values(benchThreads)
        .filter((n) => n >= 50)
        .reduce((a, b) => a + b, 0),
    ).toBe(perRun);
    // The slow log stamps durations; the general log has none.
    expect(slow.events.every((e) => typeof e.durationUs === 'number')).toBe(
      true,
    );
    expect(general.events.every((e) => e.durationUs === undefined)).toBe(true);
    // An SQL-level EXECUTE is one statement, with the expanded text the slow log also shows.
    expect(general.summary.files[0]?.skipped['execute-expansion']).toBe(1);
    expect(
      general.events.filter((e) => e.sql === 'SELECT note FROM t WHERE id = 1'),
    ).toHaveLength(1);
    expect(
      general.events.filter((e) => e.sql.startsWith('EXECUTE s')),
    ).toHaveLength(0);
    // Init DB (the client's `USE fx`) sets the database of later statements.
    expect(
      general.events.find((e) => e.sql.startsWith('CREATE TABLE t'))?.database,
    ).toBe('fx');
    expect(
      slow.events.find((e) => e.sql.startsWith('CREATE TABLE t'))?.database,
    ).toBe('fx');
  });
});

// A transaction the input cuts: the trace ends, or `maxQueries` stops it, while a session is
// inside BEGIN … with its COMMIT never sent. With fewer connections than sessions that session
// held its connection for ever and the sessions waiting for it never ran: `stb bench
// --max-queries 400` on the shared pgbench sample against SQLite (one connection) hung until a
// signal. Now the cut transaction is rolled back and the connection handed on.
import type { BenchResult } from '@stb/core';
import { createBenchRunner } from '../src/runner';
import type { BenchOptions } from '../src/runner';
import {
  createMysqlDatabase,
  createPgDatabase,
  queryRows,
  usePgDatabase,
} from './helpers/db';
import { TraceBuilder, template } from './helpers/trace';

const db = usePgDatabase();

const T = {
  begin: template('postgres', 'BEGIN', 'TCL'),
  commit: template('postgres', 'COMMIT', 'TCL'),
  one: template('postgres', 'SELECT $1::int', 'SELECT'),
};

/** A opens a transaction and runs one statement; B and C run `n` statements each; A's COMMIT comes last. */
function cutTrace(n: number, commit: boolean): TraceBuilder {
  const b = new TraceBuilder('postgres');
  b.add('A', T.begin).add('A', T.one, [{ t: 'int', v: 0 }]);
  for (let i = 0; i < n; i++) {
    b.add('B', T.one, [{ t: 'int', v: i }]);
    b.add('C', T.one, [{ t: 'int', v: i }]);
  }
  if (commit) b.add('A', T.commit);
  return b;
}

async function within(
  trace: TraceBuilder,
  options: BenchOptions,
  ms: number,
): Promise<BenchResult | 'timeout'> {
  const run = createBenchRunner(trace.trace(), options);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const result = await Promise.race([
    run.result,
    new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), ms))),
  ]);
  clearTimeout(timer);
  if (result === 'timeout') {
    run.stop('duration');
    await run.result;
  }
  return result;
}

/**
 * Runs `trace` and checks the run completed within `ms` with no error (a run still going is
 * stopped, and fails the test); returns its result.
 */
async function completes(
  trace: TraceBuilder,
  options: BenchOptions,
  ms: number,
): Promise<BenchResult> {
  const r = await within(trace, options, ms);
  if (r === 'timeout') throw new Error(`the run did not end within ${ms} ms`);
  expect(r.status).toBe('completed');
  expect(r.overall.errors).toBe(0);
  return r;
}

describe('a transaction the input cuts', () => {
  it.each([
    {
      label: 'the trace ends inside it',
      where: 'inline',
      commit: false,
      maxQueries: undefined,
      workers: 0,
    },
    {
      label: 'maxQueries stops before its COMMIT',
      where: 'inline',
      commit: true,
      maxQueries: 30,
      workers: 0,
    },
    {
      label: 'the trace ends inside it',
      where: 'a worker',
      commit: false,
      maxQueries: undefined,
      workers: 1,
    },
    {
      label: 'maxQueries stops before its COMMIT',
      where: 'a worker',
      commit: true,
      maxQueries: 30,
      workers: 1,
    },
  ] as const)(
    'PostgreSQL ($label: $where), one connection for three sessions: the others still run and the run completes',
    async ({ commit, maxQueries, workers }) => {
      const url = db.url();
      if (url === null) return;
      const trace = cutTrace(20, commit);
      const r = await completes(
        trace,
        {
          target: url,
          mode: 'closed',
          connections: 1,
          workers,
          windowEvents: 8,
          ...(maxQueries === undefined ? {} : { maxQueries }),
        },
        10_000,
      );
      expect(r.overall.count).toBe(maxQueries ?? 42);
      expect(r.skipped.notRun).toBe(0);
    },
    30_000,
  );
});

// The same cut with a connection each, where the cut transaction holds a row lock another
// session's statement then waits for in the database: a capture that ends after one pgbench
// client's `UPDATE pgbench_branches` and before its `END`, another client updating the same row
// after it. The session waiting for the lock kept its statement running, so the run never ended
// (the database's lock wait, 50 s on MariaDB, none on PostgreSQL). Now the cut transaction is
// rolled back once the trace has ended, the other statement gets the row, and the run completes.
type Db = Awaited<ReturnType<typeof createPgDatabase>>;
const lockDbs: { postgres: Db; mysql: Db } = { postgres: null, mysql: null };
beforeAll(async () => {
  [lockDbs.postgres, lockDbs.mysql] = await Promise.all([
    createPgDatabase(),
    createMysqlDatabase(),
  ]);
}, 30_000);
afterAll(async () => {
  await lockDbs.postgres?.drop();
  await lockDbs.mysql?.drop();
}, 30_000);

const LOCK = {
  postgres: {
    begin: template('postgres', 'BEGIN', 'TCL'),
    update: template(
      'postgres',
      'UPDATE lockt SET v = v + $1 WHERE id = 1',
      'UPDATE',
    ),
    nap: template('postgres', 'SELECT pg_sleep($1)', 'SELECT'),
  },
  mysql: {
    begin: template('mysql', 'BEGIN', 'TCL'),
    update: template(
      'mysql',
      'UPDATE lockt SET v = v + ? WHERE id = 1',
      'UPDATE',
    ),
    nap: template('mysql', 'SELECT SLEEP(?)', 'SELECT'),
  },
};

async function lockedValue(
  kind: 'postgres' | 'mysql',
  url: string,
): Promise<number> {
  const rows = await queryRows<{ v: number }>(
    kind,
    url,
    'SELECT v FROM lockt WHERE id = 1',
  );
  return Number(rows[0]?.v);
}

describe('a cut transaction holding a lock another session waits for', () => {
  const cases: {
    kind: 'postgres' | 'mysql';
    label: string;
    scheme: string;
    workers: number;
    maxQueries: number | undefined;
  }[] = [];
  for (const kind of ['postgres', 'mysql'] as const)
    for (const [plugin, scheme] of [
      ['default', kind],
      ['lean', `${kind}+lean`],
    ] as const)
      for (const [where, workers] of [
        ['inline', 0],
        ['worker', 1],
      ] as const)
        for (const maxQueries of [undefined, 4])
          cases.push({
            kind,
            label: `${plugin}, ${where}, ${maxQueries === undefined ? 'the trace ends' : 'maxQueries stops'} inside it`,
            scheme,
            workers,
            maxQueries,
          });
  it.each(cases)(
    '$kind ($label): the cut transaction is rolled back and the waiting statement completes',
    async ({ kind, scheme, workers, maxQueries }) => {
      const base = lockDbs[kind];
      if (base === null) return;
      const url = base.url.replace(/^[a-z]+:/, `${scheme}:`);
      const t = LOCK[kind];
      // A: BEGIN, UPDATE the row, (cut: no COMMIT); B: a nap, so A holds the lock first, then
      // UPDATE the same row; with maxQueries 4 an event after them is never read
      const b = new TraceBuilder(kind);
      b.add('A', t.begin).add('A', t.update, [{ t: 'int', v: 10 }]);
      b.add('B', t.nap, [{ t: 'float', v: 0.2 }]);
      b.add('B', t.update, [{ t: 'int', v: 1 }]);
      if (maxQueries !== undefined)
        b.add('A', t.update, [{ t: 'int', v: 100 }]);
      const r = await completes(
        b,
        {
          target: url,
          mode: 'closed',
          connections: 2,
          workers,
          setup: {
            name: 'lock.sql',
            sql: 'DROP TABLE IF EXISTS lockt; CREATE TABLE lockt (id int PRIMARY KEY, v int NOT NULL); INSERT INTO lockt VALUES (1, 0);',
          },
          ...(maxQueries === undefined ? {} : { maxQueries }),
        },
        10_000,
      );
      expect(r.overall.count).toBe(4);
      // A's update was rolled back, B's committed
      expect(await lockedValue(kind, base.url)).toBe(1);
    },
    30_000,
  );
});

// Issue 14, defect 0: a `--duration` stop hung forever when one session sat idle in a
// transaction holding a row lock and another session's statement waited for that lock. A stop
// now rolls back open transactions, cancels statements still running after the grace period
// (PostgreSQL cancel request, MySQL `KILL QUERY`) and ends within grace + 1 s; a second stop
// request cancels at once; a session parked inside a transaction never starves the others.
import pg from 'pg';
import mysql from 'mysql2/promise';
import type { BenchResult } from '@stb/core';
import { createBenchRunner } from '../src/runner';
import type { BenchOptions, BenchRun } from '../src/runner';
import { createMysqlDatabase, createPgDatabase } from './helpers/db';
import { TraceBuilder, template } from './helpers/trace';
import { sleep, until } from './helpers/wait';

type Db = Awaited<ReturnType<typeof createPgDatabase>>;
let pgDb: Db = null;
let myDb: Db = null;
beforeAll(async () => {
  [pgDb, myDb] = await Promise.all([createPgDatabase(), createMysqlDatabase()]);
}, 30_000);
afterAll(async () => {
  await Promise.all([pgDb?.drop(), myDb?.drop()]);
}, 30_000);

const SETUP = {
  name: 'setup.sql',
  sql: 'CREATE TABLE kv (id int PRIMARY KEY, v int NOT NULL); INSERT INTO kv VALUES (1, 0);',
};

const pgT = {
  begin: template('postgres', 'BEGIN', 'TCL'),
  commit: template('postgres', 'COMMIT', 'TCL'),
  bump: template('postgres', 'UPDATE kv SET v = v + 1 WHERE id = $1', 'UPDATE'),
  nap: template('postgres', 'SELECT pg_sleep($1)', 'SELECT'),
  one: template('postgres', 'SELECT $1::int', 'SELECT'),
};

/** Resolves with the result, or with 'timeout' after `ms` (a hang fails the test instead of hanging it). */
async function within(
  run: BenchRun,
  ms: number,
): Promise<{ result: BenchResult | 'timeout'; elapsedMs: number }> {
  const t0 = performance.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const result = await Promise.race([
    run.result,
    new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), ms))),
  ]);
  clearTimeout(timer);
  return { result, elapsedMs: performance.now() - t0 };
}

async function pgQuery(url: string, sql: string): Promise<pg.QueryResultRow[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(sql)).rows;
  } finally {
    await c.end();
  }
}

const ACTIVITY = `SELECT state, wait_event_type, query FROM pg_stat_activity
  WHERE datname = current_database() AND application_name = 'stb-bench'`;

/**
 * The run's pg_sleep is running. Not just any active backend of the run: the control connection
 * is active during the start-up, and a stop then (before the statement started) has nothing to
 * cancel.
 */
async function napRunning(url: string): Promise<boolean> {
  return (await pgQuery(url, ACTIVITY)).some(
    (r) => r['state'] === 'active' && /pg_sleep/.test(String(r['query'])),
  );
}

/** A: BEGIN; UPDATE row 1 (then idle in transaction); B: BEGIN; UPDATE row 1 (waits for A's lock). */
function contendedTrace(b: TraceBuilder, filler: number): TraceBuilder {
  const row = [{ t: 'int' as const, v: 1 }];
  b.add('A', pgT.begin).add('A', pgT.bump, row);
  b.add('B', pgT.begin).add('B', pgT.bump, row);
  // C keeps its own connection busy, so A's COMMIT lies far beyond the event window
  for (let i = 0; i < filler; i++)
    b.add('C', pgT.nap, [{ t: 'float', v: 0.05 }]);
  b.add('A', pgT.commit).add('B', pgT.commit);
  return b;
}

/** Each test starts with no backend of an earlier run left (the previous test checks its own end). */
async function noBackendsLeft(url: string): Promise<void> {
  await until(
    'no backend of an earlier run',
    async () => (await pgQuery(url, ACTIVITY)).length === 0,
    10_000,
  );
}

describe('stop under locks (issue 14, defect 0)', () => {
  it.each([
    ['inline', 0],
    ['worker', 1],
  ])(
    'PostgreSQL (%s): a stop while one session is idle in a transaction and another waits for its lock ends within grace + 1 s and rolls both back',
    async (_label, workers) => {
      if (!pgDb) return;
      const url = pgDb.url;
      await noBackendsLeft(url);
      const grace = 2000;
      const options: BenchOptions = {
        target: url,
        mode: 'closed',
        connections: 3,
        workers,
        windowEvents: 8,
        stopGraceMs: grace,
        setup: { ...SETUP, sql: `DROP TABLE IF EXISTS kv; ${SETUP.sql}` },
      };
      const run = createBenchRunner(
        contendedTrace(new TraceBuilder('postgres'), 400).trace(),
        options,
      );
      await until(
        'one session idle in transaction, one waiting on a lock',
        async () => {
          const rows = await pgQuery(url, ACTIVITY);
          return (
            rows.some((r) => r['state'] === 'idle in transaction') &&
            rows.some((r) => r['wait_event_type'] === 'Lock')
          );
        },
      );
      run.stop('duration');
      const { result, elapsedMs } = await within(run, grace + 1000);
      expect(result).not.toBe('timeout');
      expect(elapsedMs).toBeLessThan(grace + 1000);
      if (result === 'timeout') return;
      expect(result.status).toBe('stopped');
      // both transactions were rolled back: the row is untouched
      const [row] = await pgQuery(url, 'SELECT v FROM kv WHERE id = 1');
      expect(row?.['v']).toBe(0);
      // no backend of the run is left (none idle in a transaction, none waiting)
      await until(
        'the run’s backends to exit',
        async () => (await pgQuery(url, ACTIVITY)).length === 0,
        3000,
      );
    },
    30_000,
  );

  it.each([
    ['postgres', ''],
    ['pg-native, in batches', '+native'],
  ])(
    'PostgreSQL (%s): a statement still running after the grace period is cancelled with a cancel request',
    async (_label, scheme) => {
      if (!pgDb) return;
      const url = pgDb.url;
      await noBackendsLeft(url);
      const b = new TraceBuilder('postgres');
      b.add('A', pgT.nap, [{ t: 'float', v: 60 }]);
      const grace = 300;
      const run = createBenchRunner(b.trace(), {
        target: url.replace('postgres:', `postgres${scheme}:`),
        mode: 'closed',
        connections: 1,
        workers: 0,
        stopGraceMs: grace,
      });
      await until('pg_sleep to run', async () => napRunning(url));
      run.stop('duration');
      const { result, elapsedMs } = await within(run, grace + 1000);
      expect(result).not.toBe('timeout');
      expect(elapsedMs).toBeLessThan(grace + 1000);
      if (result === 'timeout') return;
      expect(
        result.faults.incidents.some(
          (i) => i.kind === 'aborted' && /cancelled 1 running/.test(i.message),
        ),
      ).toBe(true);
      // Whether the server answered the cancel in time (57014) or a loaded machine took longer
      // than the executor's bound and the run abandoned the statement (the cancel still reaches
      // the server, which ends pg_sleep(60) long before its minute; noBackendsLeft waits at most
      // 10 s), the statement was cut by the tool's own stop: not run, not a database error.
      expect(result.overall.errorsByClass).toEqual({});
      expect(result.overall.count).toBe(0);
      expect(result.skipped.notRun).toBe(1);
      expect(result.sessions.aborted).toBe(1);
      await noBackendsLeft(url);
    },
    30_000,
  );

  it('PostgreSQL: a second stop request cancels at once instead of waiting for the grace period', async () => {
    if (!pgDb) return;
    const url = pgDb.url;
    await noBackendsLeft(url);
    const b = new TraceBuilder('postgres');
    b.add('A', pgT.nap, [{ t: 'float', v: 60 }]);
    const run = createBenchRunner(b.trace(), {
      target: url,
      mode: 'closed',
      connections: 1,
      workers: 0,
      stopGraceMs: 60_000,
    });
    await until('pg_sleep to run', async () => napRunning(url));
    run.stop('duration');
    await sleep(100);
    run.stop('duration');
    const { result, elapsedMs } = await within(run, 1500);
    expect(result).not.toBe('timeout');
    expect(elapsedMs).toBeLessThan(1500);
    await noBackendsLeft(url);
  }, 30_000);

  it('PostgreSQL: a session parked inside a transaction does not starve the sessions waiting for a connection', async () => {
    if (!pgDb) return;
    const url = pgDb.url;
    await noBackendsLeft(url);
    const row = [{ t: 'int' as const, v: 1 }];
    const b = new TraceBuilder('postgres');
    b.add('A', pgT.begin).add('A', pgT.bump, row);
    b.add('B', pgT.begin).add('B', pgT.bump, row).add('B', pgT.commit);
    for (let i = 0; i < 40; i++) b.add('C', pgT.one, [{ t: 'int', v: i }]);
    b.add('A', pgT.commit);
    // two connections for three sessions, and a window too small to reach A's COMMIT
    const run = createBenchRunner(b.trace(), {
      target: url,
      mode: 'closed',
      connections: 2,
      workers: 0,
      windowEvents: 4,
      setup: { ...SETUP, sql: `DROP TABLE IF EXISTS kv; ${SETUP.sql}` },
    });
    const { result } = await within(run, 10_000);
    expect(result).not.toBe('timeout');
    if (result === 'timeout') {
      run.stop();
      return;
    }
    expect(result.status).toBe('completed');
    expect(result.overall.count).toBe(b.events.length);
    expect(result.overall.errors).toBe(0);
    const [r] = await pgQuery(url, 'SELECT v FROM kv WHERE id = 1');
    expect(r?.['v']).toBe(2);
  }, 30_000);

  it('MariaDB: a statement still running after the grace period is cancelled with KILL QUERY', async () => {
    if (!myDb) return;
    const url = myDb.url;
    const nap = template('mysql', 'SELECT SLEEP(?)', 'SELECT');
    const b = new TraceBuilder('mysql');
    b.add('A', nap, [{ t: 'int', v: 60 }]);
    const grace = 300;
    const run = createBenchRunner(b.trace(), {
      target: url,
      mode: 'closed',
      connections: 1,
      workers: 0,
      stopGraceMs: grace,
    });
    const admin = await mysql.createConnection({ uri: url });
    try {
      await until('SLEEP to run', async () => {
        const [rows] = await admin.query(
          "SELECT id FROM information_schema.PROCESSLIST WHERE INFO LIKE 'SELECT SLEEP%'",
        );
        return (rows as unknown[]).length > 0;
      });
      run.stop('duration');
      const { result, elapsedMs } = await within(run, grace + 1000);
      expect(result).not.toBe('timeout');
      expect(elapsedMs).toBeLessThan(grace + 1000);
      if (result !== 'timeout') {
        // killed by the tool's own stop (1317): not run, not a database error
        expect(result.overall.errorsByClass).toEqual({});
        expect(result.skipped.notRun).toBe(1);
      }
      const [left] = await admin.query(
        "SELECT id FROM information_schema.PROCESSLIST WHERE INFO LIKE 'SELECT SLEEP%'",
      );
      expect(left).toEqual([]);
    } finally {
      await admin.end();
    }
  }, 30_000);
});

// A stop that arrives while the run is still opening its connections (a `--duration` shorter
// than the start-up, a signal at the start). Found in CI: the executor finished at once, a
// connection that opened after that was never closed (an idle backend was left and kept the
// process alive), and the run reported nothing about it. A proxy in front of the real server
// holds every connection 300 ms, so the stop lands inside a connect every time.
import pg from 'pg';
import type { BenchResult } from '@stb/core';
import { createBenchRunner } from '../src/runner';
import { createPgDatabase } from './helpers/db';
import { startSlowProxy } from './helpers/slow-proxy';
import type { SlowProxy } from './helpers/slow-proxy';
import { TraceBuilder, template } from './helpers/trace';
import { sleep } from './helpers/wait';

type Db = Awaited<ReturnType<typeof createPgDatabase>>;
let db: Db = null;
let proxy: SlowProxy | null = null;
const CONNECT_DELAY_MS = 300;
beforeAll(async () => {
  db = await createPgDatabase();
  if (db)
    proxy = await startSlowProxy(
      { host: '127.0.0.1', port: 5432 },
      CONNECT_DELAY_MS,
    );
}, 30_000);
afterAll(async () => {
  await proxy?.close();
  await db?.drop();
}, 30_000);

async function backends(url: string): Promise<string[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const { rows } = await c.query<{ state: string | null }>(
      `SELECT state FROM pg_stat_activity
        WHERE datname = current_database() AND application_name = 'stb-bench'`,
    );
    return rows.map((r) => r.state ?? 'null');
  } finally {
    await c.end();
  }
}

const nap = template('postgres', 'SELECT pg_sleep($1)', 'SELECT');

describe('a stop while connections open', () => {
  it.each([
    ['inline', 1, 0],
    ['inline', 2, 0],
    ['inline', 3, 0],
    ['worker', 1, 1],
    ['worker', 2, 1],
    ['worker', 3, 1],
  ])(
    'PostgreSQL (%s), stopped as connection %i opens: the run ends stopped, runs nothing and leaves no connection',
    async (_label, stopAt, workers) => {
      if (!db || !proxy) return;
      const url = db.url.replace(':5432/', `:${String(proxy.port)}/`);
      const b = new TraceBuilder('postgres');
      for (const s of ['A', 'B', 'C']) b.add(s, nap, [{ t: 'float', v: 60 }]);
      const before = proxy.accepted;
      const p = proxy;
      let stopped = false;
      const run = createBenchRunner(b.trace(), {
        target: url,
        mode: 'closed',
        connections: 3,
        workers,
        stopGraceMs: 300,
      });
      p.onAccept = (n) => {
        if (n - before === stopAt) {
          stopped = true;
          run.stop('duration');
        }
      };
      let timer: ReturnType<typeof setTimeout> | undefined;
      const result = await Promise.race([
        run.result,
        new Promise<'timeout'>(
          (r) => (timer = setTimeout(() => r('timeout'), 5000)),
        ),
      ]);
      clearTimeout(timer);
      p.onAccept = null;
      expect(stopped).toBe(true);
      expect(result).not.toBe('timeout');
      const r = result as BenchResult;
      expect(r.status).toBe('stopped');
      // nothing ran: the three statements are not run, none of them an error
      expect(r.overall.count).toBe(0);
      expect(r.overall.errors).toBe(0);
      // every connection the run opened is closed by the time its result is out
      expect(p.open).toBe(0);
      expect(await backends(db.url)).toEqual([]);
      // and nothing starts later
      await sleep(CONNECT_DELAY_MS + 200);
      expect(p.open).toBe(0);
      expect(await backends(db.url)).toEqual([]);
    },
    30_000,
  );
});

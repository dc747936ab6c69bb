// A stop that arrives while the run is still opening its connections (a `--duration` shorter
// than the start-up, a signal at the start). Found in CI: the executor finished at once, a
// connection that opened after that was never closed (an idle backend was left and kept the
// process alive), and the run reported nothing about it. A proxy in front of the real server
// holds every connection 300 ms, so the stop lands inside a connect every time.
import type { BenchResult } from '@stb/core';
import { formatBenchResult } from '../src/format';
import { createBenchRunner } from '../src/runner';
import { createMysqlDatabase, createPgDatabase, queryRows } from './helpers/db';
import { startSlowProxy } from './helpers/slow-proxy';
import type { SlowProxy } from './helpers/slow-proxy';
import { TraceBuilder, template } from './helpers/trace';
import { sleep, until } from './helpers/wait';

type Db = Awaited<ReturnType<typeof createPgDatabase>>;
const CONNECT_DELAY_MS = 300;
const servers: Record<
  'postgres' | 'mysql',
  { db: Db; proxy: SlowProxy | null; port: number }
> = {
  postgres: { db: null, proxy: null, port: 5432 },
  mysql: { db: null, proxy: null, port: 3306 },
};
beforeAll(async () => {
  [servers.postgres.db, servers.mysql.db] = await Promise.all([
    createPgDatabase(),
    createMysqlDatabase(),
  ]);
  for (const s of Object.values(servers))
    if (s.db)
      s.proxy = await startSlowProxy(
        { host: '127.0.0.1', port: s.port },
        CONNECT_DELAY_MS,
      );
}, 30_000);
afterAll(async () => {
  for (const s of Object.values(servers)) {
    await s.proxy?.close();
    await s.db?.drop();
  }
}, 30_000);

/** The run's connections the server still has (its own sessions, not this query's). */
async function backends(
  kind: 'postgres' | 'mysql',
  url: string,
): Promise<number> {
  const rows = await queryRows(
    kind,
    url,
    kind === 'postgres'
      ? `SELECT 1 FROM pg_stat_activity
          WHERE datname = current_database() AND application_name = 'stb-bench'`
      : 'SELECT id FROM information_schema.processlist WHERE db = DATABASE() AND id <> CONNECTION_ID()',
  );
  return rows.length;
}

const NAP = {
  postgres: template('postgres', 'SELECT pg_sleep($1)', 'SELECT'),
  mysql: template('mysql', 'SELECT SLEEP(?)', 'SELECT'),
};

describe('a stop while connections open', () => {
  const cases: {
    kind: 'postgres' | 'mysql';
    label: string;
    stopAt: number;
    scheme: string;
    workers: number;
  }[] = [];
  for (const kind of ['postgres', 'mysql'] as const)
    for (const [plugin, scheme] of [
      ['default', kind],
      ['lean', `${kind}+lean`],
    ])
      for (const [label, workers] of [
        ['inline', 0],
        ['worker', 1],
      ] as const)
        for (const stopAt of [1, 2])
          cases.push({
            kind,
            label: `${plugin}, ${label}`,
            stopAt,
            scheme: scheme as string,
            workers,
          });
  it.each(cases)(
    '$kind ($label), stopped as connection $stopAt opens: the run ends stopped, runs nothing and leaves no connection',
    async ({ kind, stopAt, scheme, workers }) => {
      const { db, proxy, port } = servers[kind];
      if (!db || !proxy) return;
      const url = db.url
        .replace(`:${String(port)}/`, `:${String(proxy.port)}/`)
        .replace(/^[a-z]+:/, `${scheme}:`);
      const b = new TraceBuilder(kind);
      for (const s of ['A', 'B', 'C'])
        b.add(s, NAP[kind], [{ t: 'float', v: 60 }]);
      const before = proxy.accepted;
      let stopped = false;
      const run = createBenchRunner(b.trace(), {
        target: url,
        mode: 'closed',
        connections: 3,
        workers,
        stopGraceMs: 300,
      });
      proxy.onAccept = (n) => {
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
      proxy.onAccept = null;
      const accepted = proxy.accepted - before;
      expect(stopped).toBe(true);
      expect(result).not.toBe('timeout');
      const r = result as BenchResult;
      expect(r.status).toBe('stopped');
      // nothing ran: the three statements are not run, none of them an error
      expect(r.overall.count).toBe(0);
      expect(r.overall.errors).toBe(0);
      if (stopAt === 1) {
        // stopped while the control connection opened: the workload never began
        expect(r.client).toBeUndefined();
        expect(r.faults.incidents.map((i) => i.message)).toContain(
          'Stopped before the workload began: it and the teardown did not run.',
        );
      } else
        // the summary draws no conclusion from the start-up's CPU shares
        expect(formatBenchResult(r)).toMatch(
          /client: [\d.]+ CPU s for 0 queries;/,
        );
      expect(formatBenchResult(r)).not.toMatch(/bottleneck|cpu contention/);
      // every connection the run opened is closed by the time its result is out: none is still
      // connecting; the server ends its side of the last ones a moment later (a MariaDB thread
      // was still in its process list once, in a clean-clone CI run of 2026-12-06), and so does
      // the proxy
      expect(proxy.held).toBe(0);
      await until(
        'the server to end the run’s connections',
        async () => (await backends(kind, db.url)) === 0,
        1000,
      );
      await until(
        'the run’s sockets to close',
        async () => proxy.open === 0,
        1000,
      );
      // and nothing starts later
      await sleep(CONNECT_DELAY_MS + 200);
      expect(proxy.accepted - before).toBe(accepted);
      expect(proxy.open).toBe(0);
      expect(await backends(kind, db.url)).toBe(0);
    },
    30_000,
  );
});

import net from 'node:net';
import pg from 'pg';
import type { ParamValue } from '@stb/core';
import type { BoundQuery } from '../../src/bound-query';
import type { DbPlugin, DbSession, Protocol } from '../../src/db-plugin';
import { runBench } from '../../src/runner';
import { describeDbPlugin } from './conformance';
import { createPostgresTarget } from './targets';
import type { usePgDatabase } from './db';
import { TraceBuilder, template } from './trace';

// What the PostgreSQL plugins that count rows on the wire (pg-lean, pg-native) share in their
// tests: statement and outcome shorthands, a session per test, the table `t` (ids 1..50), and
// the checks both must pass (every parameter type under every protocol, the query timeout, large
// answers, calls made at once).

/** A statement with `$n` placeholders (its text is its template id). */
export const q = (
  text: string,
  params: ParamValue[] = [],
  queryType: BoundQuery['queryType'] = 'SELECT',
): BoundQuery => ({ templateId: text, text, params, queryType });

export const int = (v: number): ParamValue => ({ t: 'int', v });

/** A successful outcome with `rows` rows and its wire times. */
export const okRows = (rows: number): unknown => ({
  ok: true,
  rows,
  sentAt: expect.any(Number),
  doneAt: expect.any(Number),
});

/** Runs `fn` on a new session of `plugin` (closed after), or skips without a database. */
export function sessionRunner(
  plugin: DbPlugin,
  db: ReturnType<typeof usePgDatabase>,
) {
  return async function withSession<T>(
    fn: (s: DbSession, url: string) => Promise<T>,
    o: { protocol?: Protocol; query?: string } = {},
  ): Promise<T | undefined> {
    const url = db.url();
    if (url === null) return undefined;
    const s = await plugin.connect(
      { url: `${url}${o.query ?? ''}` },
      { protocol: o.protocol ?? 'prepared' },
    );
    try {
      return await fn(s, url);
    } finally {
      await s.close();
    }
  };
}

/** Creates (or resets) the table `t`: ids 1..50, `v` their text. */
export async function resetTableT(url: string | null): Promise<void> {
  if (url === null) return;
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  await c.query(
    'CREATE TABLE IF NOT EXISTS t (id int PRIMARY KEY, v text); TRUNCATE t; INSERT INTO t SELECT g, g::text FROM generate_series(1, 50) g',
  );
  await c.end();
}

/** Row counts of SELECT and DML, every parameter type bound, and a transaction, on `s`. */
export async function expectRowsAndTypes(s: DbSession): Promise<void> {
  const sel = q('SELECT id FROM t WHERE id <= $1', [int(7)]);
  expect(await s.execute(sel)).toEqual(okRows(7));
  // the second call binds to the statement parsed by the first
  expect(await s.execute({ ...sel, params: [int(3)] })).toEqual(okRows(3));
  expect(
    await s.execute(q('UPDATE t SET v = v WHERE id > $1', [int(40)], 'UPDATE')),
  ).toEqual(okRows(10));
  const types = q(
    'SELECT $1::bigint, $2::float8, $3::text, $4::bool, $5::int, $6::timestamptz, $7::date, $8::uuid, $9::jsonb, $10::bytea WHERE $1::bigint = 9007199254740993 AND $10::bytea = $11::bytea AND $5::int IS NULL AND $3::text = $12',
    [
      { t: 'bigint', v: '9007199254740993' },
      { t: 'float', v: 1.5 },
      { t: 'string', v: "it's ü" },
      { t: 'bool', v: false },
      { t: 'null', v: null },
      { t: 'timestamp', v: '2026-01-02 03:04:05+00' },
      { t: 'date', v: '2026-01-02' },
      { t: 'uuid', v: '123e4567-e89b-12d3-a456-426614174000' },
      { t: 'json', v: '{"a":[1,2]}' },
      { t: 'bytes', v: 'deadbeef' },
      { t: 'bytes', v: 'deadbeef' },
      { t: 'string', v: "it's ü" },
    ],
  );
  expect(await s.execute(types)).toEqual(okRows(1));
  expect(await s.execute(q('BEGIN', [], 'TCL'))).toEqual(okRows(0));
  expect(await s.execute(q('COMMIT', [], 'TCL'))).toEqual(okRows(0));
}

/**
 * A statement past `query_timeout` that ends by itself before the server gets the cancel request
 * (held 300 ms by a proxy on the way, as a slow network or a busy postmaster would): the next
 * statement waits until the request is through, so it is not the one stopped (sent at once, it
 * failed with 57014, counted as an error). `url`: the server's (null: no server, nothing runs).
 */
export async function expectLateCancelStopsNothing(
  plugin: DbPlugin,
  url: string | null,
): Promise<void> {
  if (url === null) return;
  const target = new URL(url);
  let conns = 0;
  // half-open kept: the client hears the end of the request only when the server has ended it
  const proxy = net.createServer({ allowHalfOpen: true }, (client) => {
    const delay = conns++ === 0 ? 0 : 300; // the first: the session; then cancel requests
    client.pause();
    setTimeout(() => {
      const server = net.connect(
        Number(target.port || 5432),
        target.hostname,
        () => {
          client.pipe(server).pipe(client);
          client.resume();
        },
      );
      server.on('error', () => client.destroy());
      client.on('error', () => server.destroy());
    }, delay);
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  const via = new URL(url);
  via.hostname = '127.0.0.1';
  via.port = String((proxy.address() as net.AddressInfo).port);
  via.searchParams.set('query_timeout', '400');
  const s = await plugin.connect(
    { url: via.toString() },
    { protocol: 'simple' },
  );
  try {
    const ops = [q('SELECT pg_sleep(0.55)'), q('SELECT pg_sleep(0.3)')];
    // in one batch where the plugin takes batches, else one after the other
    const outs =
      s.runBatch !== undefined
        ? await s.runBatch(ops)
        : [
            await s.execute(ops[0] as BoundQuery),
            await s.execute(ops[1] as BoundQuery),
          ];
    expect(conns).toBe(2); // the cancel request went through the proxy
    expect(outs[0]).toEqual(okRows(1)); // answered before its cancel arrived
    expect(outs[1]).toEqual(okRows(1));
    // sent once the cancel request was through
    expect(outs[1]?.sentAt ?? 0).toBeGreaterThanOrEqual(
      (outs[0]?.sentAt ?? 0) + 400 + 300,
    );
  } finally {
    await s.close();
    proxy.close();
  }
}

/** MySQL's sleep, and the error its `KILL QUERY` gives (for {@link expectQueryTimeoutCancels}). */
export const MYSQL_SLEEP = { sql: 'SELECT SLEEP($1)', code: '1317' };

/**
 * A statement past `query_timeout` (the session is opened with `?query_timeout=200`) fails with
 * the server's cancel error (`code`: PostgreSQL's 57014, MySQL's 1317 with `SELECT SLEEP($1)`)
 * as `timeout` within 3 s, and the connection stays usable (`ok`: the next statement's outcome).
 */
export async function expectQueryTimeoutCancels(
  s: DbSession,
  sleep: { sql: string; code: string } = {
    sql: 'SELECT pg_sleep($1)',
    code: '57014',
  },
  ok: unknown = okRows(1),
): Promise<void> {
  const t0 = performance.now();
  const out = await s.execute(q(sleep.sql, [{ t: 'float', v: 5 }]));
  expect(out).toMatchObject({
    ok: false,
    errorCode: sleep.code,
    errorClass: 'timeout',
    connectionLost: false,
  });
  expect(performance.now() - t0).toBeLessThan(3000);
  expect(await s.execute(q('SELECT 1'))).toEqual(ok);
}

/** Rows of large answers are counted: 200,000 rows, and 3 rows of 3 MB each. */
export async function expectLargeAnswersCounted(s: DbSession): Promise<void> {
  expect(
    await s.execute(
      q('SELECT g FROM generate_series(1, $1::int) g', [int(200_000)]),
    ),
  ).toEqual(okRows(200_000));
  expect(
    await s.execute(
      q("SELECT repeat('x', $1::int), g FROM generate_series(1, 3) g", [
        int(3_000_000),
      ]),
    ),
  ).toEqual(okRows(3));
}

/** Calls made at once on one session are answered in the order they were made. */
export async function expectCallsInOrder(s: DbSession): Promise<void> {
  const outs = await Promise.all(
    [3, 1, 50, 0, 9].map((n) =>
      s.execute(q('SELECT id FROM t WHERE id <= $1', [int(n)])),
    ),
  );
  expect(outs.map((o) => o.rows)).toEqual([3, 1, 50, 0, 9]);
}

/**
 * Runs 404 closed-loop statements (4 errors) on `target` inline, then in two worker threads (which
 * load the plugin's CommonJS build), and expects the same counts, errors and sessions.
 */
export async function expectSameInWorkers(target: string): Promise<void> {
  const sel = template('postgres', 'SELECT v FROM t WHERE id = $1', 'SELECT');
  const bad = template('postgres', 'SELECT 1/$1', 'SELECT');
  const trace = (): ReturnType<TraceBuilder['trace']> => {
    const b = new TraceBuilder('postgres');
    for (let i = 0; i < 400; i++) {
      b.add(`s${String(i % 4)}`, sel, [int((i % 20) + 1)]);
      if (i % 100 === 7) b.add(`s${String(i % 4)}`, bad, [int(0)]);
    }
    return b.trace();
  };
  const counts = (workers: number) =>
    runBench(trace(), { target, mode: 'closed', connections: 4, workers }).then(
      (r) => ({
        status: r.status,
        count: r.overall.count,
        errors: r.overall.errorsByClass,
        templates: r.templates
          .map((t) => [t.templateId, t.count, t.errors])
          .sort(),
        sessions: r.sessions,
      }),
    );
  const inline = await counts(0);
  expect(inline).toMatchObject({ status: 'completed', count: 404 });
  expect(await counts(2)).toEqual(inline);
}

/**
 * The conformance suite for `plugin` on the shared PostgreSQL, its targets written with `scheme`
 * (`postgres+lean:`, `postgres+native:`).
 */
export function describeUrlPlugin(
  name: string,
  plugin: DbPlugin,
  scheme: string,
): void {
  const base = createPostgresTarget(0);
  describeDbPlugin(name, {
    ...base,
    runOptions: { plugin },
    createTarget: async () => {
      const t = await base.createTarget();
      return t && { ...t, target: t.target.replace('postgres:', scheme) };
    },
  });
}

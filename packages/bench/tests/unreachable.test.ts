import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { isStbError } from '@stb/core';
import { runBench } from '../src/runner';
import mysql from 'mysql2/promise';
import { MYSQL_ADMIN, PG_ADMIN, createPgDatabase } from './helpers/db';
import { TraceBuilder, template } from './helpers/trace';

// Port 1 on loopback: nothing listens, so connecting is refused at once.
describe('an unreachable database', () => {
  it.each([
    ['postgres', 'postgres://stb:secret@127.0.0.1:1/nowhere'],
    ['mysql', 'mysql://stb:secret@127.0.0.1:1/nowhere'],
  ])(
    'fails with STB_DB_UNREACHABLE before the run starts (%s)',
    async (plugin, target) => {
      const b = new TraceBuilder(plugin === 'mysql' ? 'mysql' : 'postgres');
      b.add('s', template('postgres', 'SELECT 1', 'SELECT'));
      let progress = 0;
      const err: unknown = await runBench(b.trace(), {
        target,
        mode: 'closed',
        workers: 2,
        onProgress: () => progress++,
        progressIntervalMs: 1,
      }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(isStbError(err, 'STB_DB_UNREACHABLE')).toBe(true);
      const message = (err as Error).message;
      expect(message).toMatch(
        new RegExp(
          `^\\[stb\\] \\[db:${plugin}\\] Cannot connect to ${plugin}://stb:\\*\\*\\*@127\\.0\\.0\\.1:1/nowhere: .*ECONNREFUSED.*Check that the server runs and the target URL is right\\.$`,
        ),
      );
      expect(message).not.toContain('secret');
      expect(progress).toBe(0);
    },
    30_000,
  );
});

/** 16 sessions on 8 connections against `target`; the run's error (null if it ran). */
async function refused(
  dialect: 'postgres' | 'mysql',
  target: string,
): Promise<unknown> {
  const b = new TraceBuilder(dialect);
  for (let i = 0; i < 16; i++)
    b.add(`s${i}`, template(dialect, 'SELECT 1', 'SELECT'));
  return runBench(b.trace(), {
    target,
    mode: 'closed',
    connections: 8,
    workers: 0,
  }).then(
    () => null,
    (e: unknown) => e,
  );
}

// A server that takes some of the connections and refuses the rest: a role limited to 3 on a
// scratch database (superusers are not limited, so the run logs in as that role). The connections
// open several at a time; the ones that opened must be closed again, none left on the server.
describe('a server that refuses some of the connections', () => {
  const role = `stb_limit_${randomBytes(4).toString('hex')}`;
  let db: { url: string; drop: () => Promise<void> } | null = null;
  let admin: pg.Client | null = null;
  beforeAll(async () => {
    db = await createPgDatabase();
    if (db === null) return;
    admin = new pg.Client({ connectionString: PG_ADMIN });
    await admin.connect();
    await admin.query(`CREATE ROLE ${role} LOGIN CONNECTION LIMIT 3`);
  }, 30_000);
  afterAll(async () => {
    await db?.drop();
    await admin?.query(`DROP ROLE IF EXISTS ${role}`);
    await admin?.end();
  }, 30_000);

  it.each([['postgres'], ['postgres+lean']])(
    'fails with the server’s refusal and leaves no connection open (%s)',
    async (scheme) => {
      if (db === null || admin === null) return;
      const name = new URL(db.url).pathname.slice(1);
      const timers = (): number =>
        process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
      const before = timers();
      const err = await refused(
        'postgres',
        `${scheme}://${role}@127.0.0.1:5432/${name}`,
      );
      expect(isStbError(err, 'STB_DB_UNREACHABLE')).toBe(true);
      expect((err as Error).message).toMatch(
        /^\[stb\] \[db:(postgres|pg-lean)\] Cannot connect to .*too many connections for role .*lower --connections \(-c\) or raise its limit\.$/,
      );
      const left = await admin.query<{ n: string }>(
        'SELECT count(*) AS n FROM pg_stat_activity WHERE usename = $1',
        [role],
      );
      expect(Number(left.rows[0]?.n)).toBe(0);
      // nothing of the failed run keeps the process alive (its executor's flush timer did, for
      // good): short-lived timers (closing, at most 300 ms) get up to 10 s to run out on a busy
      // machine, a leaked interval never does
      for (let i = 0; i < 100 && timers() > before; i++)
        await new Promise((r) => setTimeout(r, 100));
      expect(timers()).toBeLessThanOrEqual(before);
    },
    30_000,
  );
});

// The same on MariaDB: a user limited to 3 connections (MAX_USER_CONNECTIONS).
describe('a MariaDB server that refuses some of the connections', () => {
  const user = `stb_lim_${randomBytes(4).toString('hex')}`;
  let admin: mysql.Connection | null = null;
  beforeAll(async () => {
    try {
      admin = await mysql.createConnection({
        uri: MYSQL_ADMIN,
        connectTimeout: 3000,
      });
    } catch (err) {
      if (process.env['STB_REQUIRE_DB'] === '1') throw err;
      console.warn(
        `[bench tests] MariaDB unreachable; skipping (${String(err)})`,
      );
      return;
    }
    await admin.query(`CREATE USER '${user}'@'%' WITH MAX_USER_CONNECTIONS 3`);
    await admin.query(`GRANT SELECT ON test.* TO '${user}'@'%'`);
  }, 30_000);
  afterAll(async () => {
    await admin?.query(`DROP USER IF EXISTS '${user}'@'%'`);
    await admin?.end();
  }, 30_000);

  it.each([['mysql'], ['mysql+lean']])(
    'fails with the server’s refusal and leaves no connection open (%s)',
    async (scheme) => {
      if (admin === null) return;
      const err = await refused(
        'mysql',
        `${scheme}://${user}@127.0.0.1:3306/test`,
      );
      expect(isStbError(err, 'STB_DB_UNREACHABLE')).toBe(true);
      expect((err as Error).message).toMatch(
        /^\[stb\] \[db:(mysql|mysql-lean)\] Cannot connect to .*max_user_connections.*lower --connections \(-c\) or raise its limit\.$/,
      );
      const [rows] = await admin.query(
        'SELECT count(*) AS n FROM information_schema.processlist WHERE user = ?',
        [user],
      );
      expect(Number((rows as { n: number }[])[0]?.n)).toBe(0);
    },
    30_000,
  );
});

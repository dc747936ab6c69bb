import pg from 'pg';
import type { BoundQuery } from '../src/bound-query';
import { plugin as knexPlugin } from '../src/db/knex';
import { createPgDatabase, PG_ADMIN } from './helpers/db';
import { createKnexPgTarget, createKnexSqliteTarget } from './helpers/targets';
import { describeDbPlugin } from './helpers/conformance';

// The generic knex plugin through the same conformance suite as the dedicated plugins.
// (knex's `sqlite3` client is not installed here; `better-sqlite3` covers knex's SQLite path.)
describe('knex with its pg client, on the shared PostgreSQL', () => {
  describeDbPlugin('knex', createKnexPgTarget());
});
describe('knex with its better-sqlite3 client', () => {
  describeDbPlugin('knex', createKnexSqliteTarget());
});

// A knex session pins one pg client; once the server ends that client's connection, pg answers
// "Client has encountered a connection error and is not queryable" (no code). That is a lost
// connection, so the session reconnects and a teardown gets a new control connection; until
// 2026-12-06 it was an error of class `client`, and a teardown after a restart failed the run.
it('knex on pg: a statement on a connection the server ended is a lost connection', async () => {
  const db = await createPgDatabase();
  if (!db) return;
  const session = await knexPlugin.connect(
    { client: 'pg', connection: db.url },
    {},
  );
  const admin = new pg.Client({ connectionString: PG_ADMIN });
  try {
    const q = (text: string): BoundQuery => ({
      templateId: 't',
      text,
      params: [],
      queryType: 'SELECT',
    });
    expect((await session.execute(q("SELECT 'stb-knex-lost'"))).ok).toBe(true);
    await admin.connect();
    const killed = await admin.query(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE '%stb-knex-lost%' AND pid <> pg_backend_pid()",
    );
    expect(killed.rowCount).toBe(1);
    // the client sees the server's goodbye (57P01) or the closed socket first
    await new Promise((r) => setTimeout(r, 200));
    const out = await session.execute(q('SELECT 1'));
    expect(out).toMatchObject({ ok: false, connectionLost: true });
  } finally {
    await admin.end().catch(() => undefined);
    await session.close();
    await db.drop();
  }
});

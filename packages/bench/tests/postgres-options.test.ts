import pg from 'pg';
import type { ParamValue } from '@stb/core';
import { runBench } from '../src/runner';
import { createPgDatabase } from './helpers/db';
import { TraceBuilder, template } from './helpers/trace';

let db: Awaited<ReturnType<typeof createPgDatabase>> = null;
let admin: pg.Client | null = null;
beforeAll(async () => {
  db = await createPgDatabase();
  if (!db) return;
  admin = new pg.Client({ connectionString: db.url });
  await admin.connect();
}, 30_000);
afterAll(async () => {
  await admin?.end();
  await db?.drop();
}, 30_000);

const int = (v: number): ParamValue => ({ t: 'int', v });
const ins = template(
  'postgres',
  'INSERT INTO kv (id, v) VALUES ($1, $2)',
  'INSERT',
);
const upd = template(
  'postgres',
  'UPDATE kv SET v = v + 1 WHERE id = $1',
  'UPDATE',
);
const del = template('postgres', 'DELETE FROM kv WHERE id = $1', 'DELETE');
const sel = template('postgres', 'SELECT v FROM kv WHERE id = $1', 'SELECT');
const next = template('postgres', "SELECT nextval('seq')", 'SELECT');
const drop = template('postgres', 'DROP TABLE kv', 'DDL');
const create = template('postgres', 'CREATE TABLE made (x int)', 'DDL');
const vacuum = template('postgres', 'VACUUM kv', 'UTILITY');
const set = template('postgres', 'SET work_mem = $1', 'UTILITY');
const begin = template('postgres', 'BEGIN', 'TCL');
const commit = template('postgres', 'COMMIT', 'TCL');
const broken = template(
  'postgres',
  'SELECT no_such_column FROM kv WHERE id = $1',
  'SELECT',
);

/** Fresh table kv(1..3) and an unused sequence. */
async function reset(): Promise<void> {
  await admin?.query(
    'DROP TABLE IF EXISTS kv, made; DROP SEQUENCE IF EXISTS seq; CREATE TABLE kv (id int PRIMARY KEY, v int NOT NULL); INSERT INTO kv VALUES (1, 10), (2, 20), (3, 30); CREATE SEQUENCE seq; SELECT 1',
  );
}

async function serverState(): Promise<unknown> {
  const kv = await admin?.query('SELECT id, v FROM kv ORDER BY id');
  const seq = await admin?.query('SELECT is_called FROM seq');
  const made = await admin?.query("SELECT to_regclass('made') AS t");
  return { kv: kv?.rows, seqUsed: seq?.rows[0], made: made?.rows[0] };
}

const UNTOUCHED = {
  kv: [
    { id: 1, v: 10 },
    { id: 2, v: 20 },
    { id: 3, v: 30 },
  ],
  seqUsed: { is_called: false },
  made: { t: null },
};

/** Every kind of statement, in two sessions, with one transaction each. */
function mixedTrace(): TraceBuilder {
  const b = new TraceBuilder('postgres');
  for (const s of ['a', 'b']) {
    const k = s === 'a' ? 100 : 200;
    b.add(s, set, [{ t: 'string', v: '8MB' }]);
    b.add(s, begin);
    b.add(s, ins, [int(k), int(1)]);
    b.add(s, upd, [int(1)]);
    b.add(s, sel, [int(1)]);
    b.add(s, commit);
    b.add(s, del, [int(2)]);
    b.add(s, sel, [int(2)]);
    b.add(s, next);
    b.add(s, create);
    b.add(s, vacuum);
    b.add(s, drop);
  }
  return b;
}

describe('postgres: --dry-run and --read-only', () => {
  it('dry run connects and prepares every template, executes nothing, runs no setup (verified on the server)', async () => {
    if (!db) return;
    await reset();
    const b = mixedTrace();
    b.add('a', broken, [int(1)]);
    const result = await runBench(b.trace(), {
      target: db.url,
      mode: 'closed',
      dryRun: true,
      setup: { name: 'setup.sql', sql: 'DROP TABLE kv;' },
      teardown: { name: 'teardown.sql', sql: 'DROP SEQUENCE seq;' },
    });
    expect(await serverState()).toEqual(UNTOUCHED);
    expect(result.status).toBe('completed');
    expect(result.context.target.serverVersion).toMatch(/^PostgreSQL \d+/);
    // PREPARE parsed and planned every preparable template: only the broken one failed
    expect(result.overall.errors).toBe(1);
    expect(result.templates).toEqual([
      expect.objectContaining({
        templateId: broken.id,
        errors: 1,
        errorsByClass: { '42': 1 },
      }),
    ]);
    const incidents = result.faults.incidents.map((i) => i.message);
    expect(incidents).toContain('Skipped setup.sql: a dry run writes nothing.');
    expect(incidents).toContain(
      'Skipped teardown.sql: a dry run writes nothing.',
    );
  }, 30_000);

  it('read-only skips writes and DDL and runs the rest (verified on the server)', async () => {
    if (!db) return;
    await reset();
    const b = mixedTrace();
    const result = await runBench(b.trace(), {
      target: db.url,
      mode: 'closed',
      readOnly: true,
      connections: 2,
    });
    // nextval() is a SELECT: read-only judges statements by type, so it runs
    expect(await serverState()).toEqual({
      ...UNTOUCHED,
      seqUsed: { is_called: true },
    });
    expect(result.overall.errorsByClass).toEqual({});
    const counts = Object.fromEntries(
      result.templates.map((t) => [t.templateId, t.count]),
    );
    expect(counts).toEqual({
      [set.id]: 2,
      [begin.id]: 2,
      [sel.id]: 4,
      [commit.id]: 2,
      [next.id]: 2,
    });
    // INSERT, UPDATE, DELETE, CREATE, VACUUM and DROP in each of the two sessions
    expect(result.skipped.readOnly).toBe(12);
    expect(result.overall.count + result.skipped.readOnly).toBe(
      b.events.length,
    );
    expect(result.sessions).toEqual({
      total: 2,
      completed: 2,
      aborted: 0,
      gaveUp: 0,
    });
  }, 30_000);
});

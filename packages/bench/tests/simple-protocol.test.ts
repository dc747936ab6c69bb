import mysql from 'mysql2/promise';
import pg from 'pg';
import type { ParamValue } from '@stb/core';
import type { BoundQuery } from '../src/bound-query';
import type { DbSession } from '../src/db-plugin';
import { plugin as mysqlPlugin } from '../src/db/mysql';
import { plugin as pgPlugin } from '../src/db/postgres';
import { createMysqlDatabase, createPgDatabase } from './helpers/db';

// The simple protocol inlines parameters as literals (core's renderSqlLiteral): values that
// break naive quoting must arrive intact, and `$n` in literals and comments must stay text.
const VALUES = [
  "'",
  "''",
  '\\',
  "\\'",
  "it's a \\'trap\\' \\",
  '$$',
  '$1',
  '$tag$ x $tag$',
  '-- comment',
  '/* c */',
  "'; DROP TABLE lit; --",
  'line1\nline2',
  "E'x'",
  'Grüße, 日本語, 😀👍🏽',
  '\\x41',
  '',
];
const TEXT =
  "INSERT INTO lit (id, note, v) VALUES ($1, '$2 -- not a slot', $2) -- $1";

const insert = (id: number, v: string): BoundQuery => ({
  templateId: 'ins',
  text: TEXT,
  params: [
    { t: 'int', v: id },
    { t: 'string', v },
  ],
  queryType: 'INSERT',
});

const countIn = (ids: readonly number[]): BoundQuery => ({
  templateId: 'cnt',
  text: 'SELECT id FROM lit WHERE id IN ($1 /*, ... */)',
  params: [{ t: 'list', v: ids.map((v): ParamValue => ({ t: 'int', v })) }],
  queryType: 'SELECT',
});

async function insertAll(
  session: DbSession,
  values: readonly string[],
): Promise<void> {
  for (let i = 0; i < values.length; i++) {
    const outcome = await session.execute(insert(i, values[i] as string));
    expect(outcome).toMatchObject({ ok: true, rows: 1 });
  }
}

describe('simple protocol on real PostgreSQL', () => {
  it('stores adversarial strings exactly and refuses NUL as an outcome', async () => {
    const db = await createPgDatabase();
    if (!db) return;
    const client = new pg.Client({ connectionString: db.url });
    let session: DbSession | undefined;
    try {
      await client.connect();
      await client.query(
        'CREATE TABLE lit (id int PRIMARY KEY, note text, v text)',
      );
      session = await pgPlugin.connect({ url: db.url }, { protocol: 'simple' });
      await insertAll(session, VALUES);
      expect(await session.execute(countIn([0, 1, 99]))).toMatchObject({
        ok: true,
        rows: 2,
      });
      // PostgreSQL text cannot hold NUL: an error outcome, never a throw.
      const nul = await session.execute(insert(999, 'a\0b'));
      expect(nul.ok).toBe(false);
      const r = await client.query<{ note: string; v: string }>(
        'SELECT note, v FROM lit ORDER BY id',
      );
      expect(r.rows.map((x) => x.v)).toEqual(VALUES);
      expect(new Set(r.rows.map((x) => x.note))).toEqual(
        new Set(['$2 -- not a slot']),
      );
    } finally {
      await session?.close();
      await client.end();
      await db.drop();
    }
  });
});

describe('simple protocol on real MariaDB', () => {
  it('stores adversarial strings exactly, NUL included', async () => {
    const db = await createMysqlDatabase();
    if (!db) return;
    const conn = await mysql.createConnection({
      uri: db.url,
      charset: 'utf8mb4',
    });
    let session: DbSession | undefined;
    try {
      await conn.query(
        'CREATE TABLE lit (id int PRIMARY KEY, note text, v text) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin',
      );
      session = await mysqlPlugin.connect(
        { url: db.url },
        { protocol: 'simple' },
      );
      const values = [...VALUES, 'nul\0inside'];
      await insertAll(session, values);
      expect(await session.execute(countIn([0, 1, 99]))).toMatchObject({
        ok: true,
        rows: 2,
      });
      const [rows] = await conn.query('SELECT note, v FROM lit ORDER BY id');
      const got = rows as { note: string; v: string }[];
      expect(got.map((x) => x.v)).toEqual(values);
      expect(new Set(got.map((x) => x.note))).toEqual(
        new Set(['$2 -- not a slot']),
      );
    } finally {
      await session?.close();
      await conn.end();
      await db.drop();
    }
  });
});

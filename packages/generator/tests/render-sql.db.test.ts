import type { ParamValue } from '@stb/core';
import { createRng } from '@stb/core';
import fc from 'fast-check';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { renderSql } from '@stb/generator';
import type { ScratchDb } from './helpers/db';
import { createMysqlDatabase, createPgDatabase } from './helpers/db';

/** Values that break naive quoting. */
const ADVERSARIAL = [
  "'",
  "''",
  '\\',
  '\\\\',
  "\\'",
  "'\\",
  "it's a \\'trap\\' \\",
  '$$',
  '$1',
  '$tag$ x $tag$',
  '--',
  '-- comment',
  '/* c */',
  '*/',
  ';',
  "'; DROP TABLE t; --",
  'line1\nline2',
  'cr\r\nlf',
  'tab\tsep',
  '\u001a ctrl-z',
  '"double" `back`',
  '% _ wildcards',
  "E'x'",
  'Grüße, 日本語, Ελληνικά, עברית, 😀👍🏽, e\u0301',
  '\\N',
  '\\x41',
  '',
  ' ',
];

/** Seeded random strings mixing the dangerous characters with unicode. */
function randomStrings(count: number): string[] {
  const rng = createRng(20240501);
  const out: string[] = [];
  fc.assert(
    fc.property(
      fc.string({
        unit: fc.oneof(
          fc.constantFrom(
            "'",
            '\\',
            '$',
            '-',
            ';',
            '\n',
            '"',
            '`',
            '/',
            '*',
            '#',
            '?',
            '\r',
          ),
          fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }),
        ),
        maxLength: 30,
      }),
      (s) => {
        out.push(s);
        return true;
      },
    ),
    { seed: rng.int(2 ** 31), numRuns: count },
  );
  return out;
}

const VALUES = [...ADVERSARIAL, ...randomStrings(300)];
const TEMPLATE =
  "INSERT INTO lit (id, note, v) VALUES ($1, '$2 -- not a slot', $2) -- $1 in a comment";

describe('renderSql on real PostgreSQL', () => {
  let db: ScratchDb | null = null;
  let client: pg.Client | undefined;
  beforeAll(async () => {
    db = await createPgDatabase();
    if (!db) return;
    client = new pg.Client({ connectionString: db.url });
    await client.connect();
  });
  afterAll(async () => {
    await client?.end();
    await db?.drop();
  });

  it.each([
    ['on', false],
    ['off', false],
    // The plain-literal form for targets known to have the setting on.
    ['on', true],
  ])(
    'stores exactly the adversarial values (standard_conforming_strings %s, option %s)',
    async (scs, standardConformingStrings) => {
      if (!client) return;
      await client.query(`SET standard_conforming_strings = ${scs}`);
      await client.query('SET escape_string_warning = off');
      await client.query('DROP TABLE IF EXISTS lit');
      await client.query(
        'CREATE TABLE lit (id int PRIMARY KEY, note text, v text)',
      );
      for (let i = 0; i < VALUES.length; i++) {
        const sql = renderSql(
          TEMPLATE,
          [
            { t: 'int', v: i },
            { t: 'string', v: VALUES[i] as string },
          ],
          { dialect: 'postgres', standardConformingStrings },
        );
        await client.query(sql);
      }
      const r = await client.query<{ id: number; note: string; v: string }>(
        'SELECT id, note, v FROM lit ORDER BY id',
      );
      expect(r.rows.map((x) => x.v)).toEqual(VALUES);
      expect(new Set(r.rows.map((x) => x.note))).toEqual(
        new Set(['$2 -- not a slot']),
      );
    },
  );

  it('round-trips the other types, lists and multi-row VALUES', async () => {
    if (!client) return;
    await client.query('SET standard_conforming_strings = on');
    await client.query(
      'CREATE TABLE typed (id bigint, f float8, b bool, ts timestamptz, d date, u uuid, j jsonb, by bytea, n int)',
    );
    const params: ParamValue[] = [
      {
        t: 'list',
        v: [
          {
            t: 'list',
            v: [
              { t: 'bigint', v: '-9223372036854775808' },
              { t: 'float', v: -1.5e-7 },
              { t: 'bool', v: true },
              { t: 'timestamp', v: '2024-05-01 12:34:56.789+00' },
              { t: 'date', v: '2024-02-29' },
              { t: 'uuid', v: '7d444840-9dc0-11d1-b245-5ffdce74fad2' },
              { t: 'json', v: '{"q": "it\'s \\\\ \\"x\\""}' },
              { t: 'bytes', v: '00ff5c27' },
              { t: 'null', v: null },
            ],
          },
          {
            t: 'list',
            v: [
              { t: 'int', v: 2 },
              { t: 'int', v: -3 },
              { t: 'bool', v: false },
              { t: 'timestamp', v: '2024-05-01T00:00:00Z' },
              { t: 'date', v: '1999-12-31' },
              { t: 'uuid', v: '00000000-0000-0000-0000-000000000000' },
              { t: 'json', v: '[1,2]' },
              { t: 'bytes', v: '' },
              { t: 'int', v: 7 },
            ],
          },
        ],
      },
    ];
    await client.query(
      renderSql('INSERT INTO typed VALUES ($1 /*, ... */)', params, 'postgres'),
    );
    const sel = renderSql(
      'SELECT id, f, b, ts, d::text AS d, u, j, by, n FROM typed WHERE id IN ($1 /*, ... */) AND f > -$2 - $3 ORDER BY id',
      [
        {
          t: 'list',
          v: [
            { t: 'bigint', v: '-9223372036854775808' },
            { t: 'int', v: 2 },
          ],
        },
        { t: 'int', v: 10 },
        { t: 'int', v: -1 },
      ],
      'postgres',
    );
    const r = await client.query(sel);
    expect(r.rows).toHaveLength(2);
    const [a, b] = r.rows as Record<string, unknown>[];
    expect(a?.['id']).toBe('-9223372036854775808');
    expect(a?.['f']).toBe(-1.5e-7);
    expect((a?.['ts'] as Date).toISOString()).toBe('2024-05-01T12:34:56.789Z');
    expect(a?.['d']).toBe('2024-02-29');
    expect(a?.['j']).toEqual({ q: 'it\'s \\ "x"' });
    expect((a?.['by'] as Buffer).toString('hex')).toBe('00ff5c27');
    expect(a?.['n']).toBeNull();
    expect(b?.['b']).toBe(false);
    expect((b?.['by'] as Buffer).length).toBe(0);
  });
});

describe('renderSql on real MariaDB', () => {
  let db: ScratchDb | null = null;
  let conn: mysql.Connection | undefined;
  beforeAll(async () => {
    db = await createMysqlDatabase();
    if (!db) return;
    conn = await mysql.createConnection({ uri: db.url, charset: 'utf8mb4' });
  });
  afterAll(async () => {
    await conn?.end();
    await db?.drop();
  });

  it.each([[false], [true]])(
    'stores exactly the adversarial values, NUL included (NO_BACKSLASH_ESCAPES %s)',
    async (noBackslashEscapes) => {
      if (!conn) return;
      await conn.query(
        noBackslashEscapes
          ? "SET SESSION sql_mode = CONCAT(@@sql_mode, ',NO_BACKSLASH_ESCAPES')"
          : "SET SESSION sql_mode = REPLACE(@@sql_mode, 'NO_BACKSLASH_ESCAPES', '')",
      );
      await conn.query('DROP TABLE IF EXISTS lit');
      await conn.query(
        'CREATE TABLE lit (id int PRIMARY KEY, note text, v text) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin',
      );
      const values = [...VALUES, 'nul\0inside', '\0'];
      for (let i = 0; i < values.length; i++) {
        const sql = renderSql(
          TEMPLATE,
          [
            { t: 'int', v: i },
            { t: 'string', v: values[i] as string },
          ],
          { dialect: 'mysql', noBackslashEscapes },
        );
        await conn.query(sql);
      }
      const [rows] = await conn.query(
        'SELECT id, note, v FROM lit ORDER BY id',
      );
      const got = rows as { note: string; v: string }[];
      expect(got.map((x) => x.v)).toEqual(values);
      expect(new Set(got.map((x) => x.note))).toEqual(
        new Set(['$2 -- not a slot']),
      );
    },
  );

  it('round-trips bytes, json, datetimes and lists', async () => {
    if (!conn) return;
    await conn.query(
      "SET SESSION sql_mode = REPLACE(@@sql_mode, 'NO_BACKSLASH_ESCAPES', '')",
    );
    await conn.query(
      'CREATE TABLE typed (id bigint, b varbinary(16), j json, ts datetime(6), d date, u char(36), ok bool)',
    );
    await conn.query(
      renderSql(
        'INSERT INTO typed VALUES ($1 /*, ... */)',
        [
          {
            t: 'list',
            v: [
              {
                t: 'list',
                v: [
                  { t: 'bigint', v: '-9223372036854775808' },
                  { t: 'bytes', v: '00ff5c27' },
                  { t: 'json', v: '{"q": "it\'s \\\\ x"}' },
                  { t: 'timestamp', v: '2024-05-01 12:34:56.789000' },
                  { t: 'date', v: '2024-02-29' },
                  { t: 'uuid', v: '7d444840-9dc0-11d1-b245-5ffdce74fad2' },
                  { t: 'bool', v: true },
                ],
              },
            ],
          },
        ],
        'mysql',
      ),
    );
    const [rows] = await conn.query(
      renderSql(
        'SELECT CAST(id AS char) AS id, HEX(b) AS b, j, CAST(ts AS char) AS ts, CAST(d AS char) AS d, u, ok FROM typed WHERE id IN ($1 /*, ... */)',
        [{ t: 'list', v: [{ t: 'bigint', v: '-9223372036854775808' }] }],
        'mysql',
      ),
    );
    const [a] = rows as Record<string, unknown>[];
    expect(String(a?.['id'])).toBe('-9223372036854775808');
    expect(a?.['b']).toBe('00FF5C27');
    const j = a?.['j'];
    expect(typeof j === 'string' ? JSON.parse(j) : j).toEqual({
      q: "it's \\ x",
    });
    expect(a?.['ts']).toBe('2024-05-01 12:34:56.789000');
    expect(a?.['d']).toBe('2024-02-29');
    expect(a?.['ok']).toBe(1);
  });
});

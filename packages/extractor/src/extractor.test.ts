import type { RawQueryEvent } from '@stb/core';
import { createExtractor, normalizeSql } from './extractor';

const raw = (
  sql: string,
  extra: Partial<RawQueryEvent> = {},
): RawQueryEvent => ({
  sessionId: 's1',
  sql,
  startUs: 1_000_000,
  source: { file: 'test.log', line: 7 },
  dialect: 'postgres',
  ...extra,
});

describe('normalisation (PostgreSQL)', () => {
  it.each([
    [
      "SELECT * FROM t WHERE a = 1 AND b = 'x'",
      'SELECT * FROM t WHERE a = $1 AND b = $2',
    ],
    ['select *  from T where A=-1.5e3', 'SELECT * FROM t WHERE a = $1'],
    ['SELECT a - 1, -a, 2 - -3 FROM t', 'SELECT a - $1, - a, $2 - $3 FROM t'],
    [
      "SELECT '2024-01-01'::date, DATE '2024-01-02', interval '3' month",
      'SELECT $1::DATE, DATE $2, INTERVAL $3 month',
    ],
    [
      'SELECT true, false, NULL, x IS NULL, y IS NOT TRUE FROM t',
      'SELECT $1, $2, $3, x IS NULL, y IS NOT TRUE FROM t',
    ],
    [
      "SELECT 'x'::varchar(10) FROM t ORDER BY 1 LIMIT 5 OFFSET 10",
      'SELECT $1::varchar(10) FROM t ORDER BY 1 LIMIT $2 OFFSET $3',
    ],
    ['SELECT $1, 5 FROM t WHERE c = $2', 'SELECT $1, $3 FROM t WHERE c = $2'],
    [
      'SELECT * FROM t WHERE id IN (1, 2, 3)',
      'SELECT * FROM t WHERE id IN ($1 /*, ... */)',
    ],
    [
      'SELECT * FROM t WHERE id = ANY(ARRAY[1, 2])',
      'SELECT * FROM t WHERE id = ANY (ARRAY[$1 /*, ... */])',
    ],
    [
      "INSERT INTO t (a, b) VALUES (1, 'x'), (2, 'y')",
      'INSERT INTO t (a, b) VALUES ($1 /*, ... */)',
    ],
    [
      "SELECT $tag$it's$tag$, E'a\\'b', U&'\\0041', B'101', X'ff'",
      'SELECT $1, $2, $3, $4, $5',
    ],
    [
      'SELECT "MixedCase", Other FROM "T"',
      'SELECT "MixedCase", other FROM "T"',
    ],
    [
      'WITH x AS (SELECT 1) SELECT * FROM x',
      'WITH x AS (SELECT $1) SELECT * FROM x',
    ],
  ])('%s', async (sql, text) => {
    const n = await normalizeSql(sql, 'postgres');
    expect(n.text).toBe(text);
    expect(n.path).toBe('libpg-query');
  });

  it('reads keywords in any case, Unicode case mapping included', async () => {
    // 'ı' and 'ſ' upper-case to ASCII 'I' and 'S', as SQL's upper-casing of the word does.
    const a = await normalizeSql(
      'SELECT falſe, nuLL, x ıs NULL FROM t WHERE a ın (1, 2) AND b = ARRAy[3]',
      'postgres',
    );
    expect(a.text).toBe(
      'SELECT $1, $2, x IS NULL FROM t WHERE a IN ($3 /*, ... */) AND b = ARRAY[$4 /*, ... */]',
    );
    expect(a.params.slice(0, 2)).toEqual([
      { t: 'bool', v: false },
      { t: 'null', v: null },
    ]);
  });

  it('comments and whitespace never make a new template', async () => {
    const a = await normalizeSql('SELECT a FROM t WHERE b = 1', 'postgres');
    for (const v of [
      '/* x */ SELECT a FROM t WHERE b = 2 -- y',
      'select\n\ta\nfrom t\nwhere b=3;',
      'SELECT a /* nested /* c */ */ FROM t WHERE b = 4',
    ])
      expect((await normalizeSql(v, 'postgres')).templateId).toBe(a.templateId);
  });

  it('types constants from their syntax', async () => {
    const n = await normalizeSql(
      "SELECT 1, 9007199254740993, 1.5, 'a''b', '2024-01-01'::date, '2024-01-01 10:00'::timestamptz, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid, '{\"a\":1}'::jsonb, 't'::boolean, NULL, E'\\\\x01'",
      'postgres',
    );
    expect(n.params).toEqual([
      { t: 'int', v: 1 },
      { t: 'bigint', v: '9007199254740993' },
      { t: 'float', v: 1.5 },
      { t: 'string', v: "a'b" },
      { t: 'date', v: '2024-01-01' },
      { t: 'timestamp', v: '2024-01-01 10:00' },
      { t: 'uuid', v: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11' },
      { t: 'json', v: '{"a":1}' },
      { t: 'bool', v: true },
      { t: 'null', v: null },
      { t: 'string', v: '\\x01' },
    ]);
  });

  it('reads query types, tables and slot contexts (aliases resolved)', async () => {
    const n = await normalizeSql(
      'UPDATE pgbench_accounts a SET abalance = 5 FROM pgbench_branches b WHERE a.aid = 7 AND b.bid BETWEEN 1 AND 2 AND a.filler LIKE $1',
      'postgres',
    );
    expect(n.queryType).toBe('UPDATE');
    expect(n.tables).toEqual(['pgbench_accounts', 'pgbench_branches']);
    expect(n.slots.map((s) => [s.column, s.context])).toEqual([
      ['pgbench_accounts.filler', 'LIKE'],
      ['pgbench_accounts.abalance', 'SET'],
      ['pgbench_accounts.aid', '='],
      ['pgbench_branches.bid', 'BETWEEN'],
      ['pgbench_branches.bid', 'BETWEEN'],
    ]);
    const cte = await normalizeSql(
      'WITH hot AS (SELECT aid FROM acc) DELETE FROM hist WHERE aid IN (SELECT aid FROM hot)',
      'postgres',
    );
    expect(cte.queryType).toBe('DELETE');
    expect([...cte.tables].sort()).toEqual(['acc', 'hist']);
  });

  it.each([
    ['BEGIN', 'TCL'],
    ['START TRANSACTION ISOLATION LEVEL SERIALIZABLE', 'TCL'],
    ['SAVEPOINT a', 'TCL'],
    ['CREATE TABLE x (a int)', 'DDL'],
    ['SET search_path = x', 'UTILITY'],
    ['EXPLAIN SELECT 1', 'UTILITY'],
    ['INSERT INTO t VALUES (1) ON CONFLICT (a) DO UPDATE SET a = 2', 'MERGE'],
    ['INSERT INTO t VALUES (1) ON CONFLICT DO NOTHING', 'INSERT'],
    ['MERGE INTO t USING s ON t.a = s.a WHEN MATCHED THEN DELETE', 'MERGE'],
    ['(SELECT 1) UNION (SELECT 2)', 'SELECT'],
  ])('classifies %s', async (sql, type) => {
    expect((await normalizeSql(sql, 'postgres')).queryType).toBe(type);
  });
});

describe('normalisation (MySQL)', () => {
  it.each([
    [
      'SELECT c FROM `sbtest1` WHERE id=5 # c',
      'SELECT c FROM `sbtest1` WHERE id = $1',
    ],
    [
      "SELECT 'a\\'b', \"dq\", X'0F', 0x1f, -- c\n 1",
      'SELECT $1, $2, $3, $4, $5',
    ],
    ['SELECT a FROM t LIMIT 10, 20', 'SELECT a FROM t LIMIT $1, $2'],
    [
      'SELECT a FROM t WHERE b = ? AND c IN (?, ?)',
      'SELECT a FROM t WHERE b = $1 AND c IN ($2 /*, ... */)',
    ],
    [
      'INSERT INTO t (a) VALUES (1) ON DUPLICATE KEY UPDATE a = a + 1',
      'INSERT INTO t (a) VALUES ($1) ON DUPLICATE KEY UPDATE a = a + $2',
    ],
    ['SELECT @@version, @x := 1', 'SELECT @@version, @x := $1'],
  ])('%s', async (sql, text) => {
    const n = await normalizeSql(sql, 'mysql');
    expect(n.text).toBe(text);
  });

  it('unescapes MySQL strings and reads hex literals as bytes', async () => {
    const n = await normalizeSql("SELECT 'a\\nb', X'0F', 0x1F", 'mysql');
    expect(n.params).toEqual([
      { t: 'string', v: 'a\nb' },
      { t: 'bytes', v: '0f' },
      { t: 'bytes', v: '1f' },
    ]);
    expect(n.path).toBe('node-sql-parser');
  });
});

describe('bad input never throws and never drops a statement', () => {
  it.each([
    ['unparseable', 'SELEC * FROM t WHERE a = 1'],
    ['truncated', "SELECT * FROM t WHERE a = 'abc"],
    ['unterminated comment', 'SELECT 1 /* abc'],
    [
      'binary',
      Buffer.from([0, 1, 2, 0xff, 0xfe, 39, 92, 34, 36, 0x80]).toString(
        'latin1',
      ),
    ],
    ['empty', ''],
    ['deep nesting', `SELECT ${'('.repeat(20000)}1${')'.repeat(20000)}`],
  ])('%s → lexer template', async (_name, sql) => {
    const ex = await createExtractor();
    const r = ex.extract(raw(sql));
    expect(r.template.path).toBe('lexer');
    expect(r.event.templateId).toBe(r.template.id);
    expect(r.event.params.length).toBe(r.template.slots.length);
  });

  it('handles a 1 MB statement', async () => {
    const ex = await createExtractor();
    const big = `INSERT INTO t (a, b) VALUES (1, '${'x'.repeat(1 << 20)}')`;
    const r = ex.extract(raw(big));
    expect(r.template.text).toBe('INSERT INTO t (a, b) VALUES ($1, $2)');
    expect(r.event.params[1]).toEqual({ t: 'string', v: 'x'.repeat(1 << 20) });
    // and a long statement with many constants
    const ors = `SELECT * FROM t WHERE ${Array.from({ length: 20000 }, (_, i) => `a = ${i}`).join(' OR ')}`;
    const r2 = ex.extract(raw(ors));
    expect(r2.event.params).toHaveLength(20000);
  });

  it('squashes a 10,000-value IN-list into one slot keeping every value', async () => {
    const ex = await createExtractor();
    const values = Array.from({ length: 10000 }, (_, i) => i * 3);
    const r = ex.extract(
      raw(`SELECT * FROM t WHERE id IN (${values.join(',')})`),
    );
    const small = ex.extract(raw('SELECT * FROM t WHERE id IN (1, 2)'));
    expect(r.template.id).toBe(small.template.id);
    expect(r.event.params).toEqual([
      { t: 'list', v: values.map((v) => ({ t: 'int', v })) },
    ]);
    expect(r.template.slots).toEqual([
      { type: 'list', column: 't.id', context: 'IN' },
    ]);
  });

  it('reports invalid UTF-8 with its line and column', async () => {
    const ex = await createExtractor();
    const sql = Buffer.concat([
      Buffer.from("SELECT 1\nFROM t WHERE a = '"),
      Buffer.from([0xff]),
      Buffer.from("'"),
    ]).toString('utf8');
    const r = ex.extract(raw(sql));
    expect(r.invalidUtf8).toEqual({
      file: 'test.log',
      line: 8,
      column: 19,
      offset: 27,
    });
    expect(r.template.text).toBe('SELECT $1 FROM t WHERE a = $2');
  });
});

describe('shape cache', () => {
  it('parses each statement shape once, whatever the literals and comment text', async () => {
    const ex = await createExtractor();
    const ids = new Set<string>();
    for (let i = 0; i < 50; i++) {
      ids.add(
        ex.extract(raw(`/* request ${i} */ SELECT a FROM t WHERE b = ${i}`))
          .template.id,
      );
      ids.add(
        ex.extract(raw(`SELECT a FROM t WHERE b = ${i} -- ${i}`)).template.id,
      );
      ids.add(ex.extract(raw(`SELECT a FROM t WHERE b = ${i}`)).template.id);
    }
    expect(ids.size).toBe(1);
    expect(ex.shapesParsed).toBe(2); // one key with comments (token key), one without (text key)
  });
});

describe('bind parameters', () => {
  it('keeps and types logged values', async () => {
    const ex = await createExtractor();
    const r = ex.extract(
      raw(
        'SELECT * FROM t WHERE a = $1 AND b = $2 AND c = $3 AND d = $4 AND e = $5 AND f = $6 AND g = $7::date AND h = $8',
        {
          params: [
            { index: 1, value: '42' },
            { index: 2, value: '-1.5' },
            { index: 3, value: 'hello' },
            { index: 4, value: null },
            { index: 5, value: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11' },
            { index: 6, value: '2024-05-06 07:08:09.123+00' },
            { index: 7, value: '2024-05-06' },
            { index: 8, value: '[1,2]' },
          ],
        },
      ),
    );
    expect(r.event.params).toEqual([
      { t: 'int', v: 42 },
      { t: 'float', v: -1.5 },
      { t: 'string', v: 'hello' },
      { t: 'null', v: null },
      { t: 'uuid', v: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11' },
      { t: 'timestamp', v: '2024-05-06 07:08:09.123+00' },
      { t: 'date', v: '2024-05-06' },
      { t: 'json', v: '[1,2]' },
    ]);
  });

  it('squashes lists of bind parameters, renumbering slots by appearance', async () => {
    const ex = await createExtractor();
    const r = ex.extract(
      raw('SELECT * FROM t WHERE b = $3 AND a IN ($1, $2)', {
        params: [
          { index: 1, value: '1' },
          { index: 2, value: '2' },
          { index: 3, value: 'x' },
        ],
      }),
    );
    expect(r.template.text).toBe(
      'SELECT * FROM t WHERE b = $1 AND a IN ($2 /*, ... */)',
    );
    expect(r.event.params).toEqual([
      { t: 'string', v: 'x' },
      {
        t: 'list',
        v: [
          { t: 'int', v: 1 },
          { t: 'int', v: 2 },
        ],
      },
    ]);
  });

  it('failed statements carry their outcome', async () => {
    const ex = await createExtractor();
    const r = ex.extract(
      raw('INSERT INTO t VALUES (1)', { error: { code: '23505' } }),
    );
    expect(r.event.outcome).toEqual({ ok: false, code: '23505' });
  });
});

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createRng } from '@stb/core';
import type { ParamValue } from '@stb/core';
import { createPlaceholderTranslator } from './placeholders';
import { resolveTarget } from './target';
import type { BoundQuery } from './bound-query';

const q = (text: string, params: BoundQuery['params']): BoundQuery => ({
  templateId: 'abcdef0123456789',
  text,
  params,
  queryType: 'SELECT',
});

// Tokenising and literal rules are core's (packages/core/src/sql/*.test.ts); here the
// translator's own work: caching, `?` reordering, list expansion, and inlining per target.
describe('placeholders', () => {
  it('skips $n inside strings, comments, identifiers and dollar quotes', () => {
    const t = createPlaceholderTranslator({
      style: 'question',
      convert: (p) => p.v,
    });
    const r = t.translate(
      q(
        `SELECT '$1', "a$2", $$ $3 $$, x$4 /* $5 */ FROM t WHERE a = $2 -- $6\n AND b = $1`,
        [
          { t: 'int', v: 1 },
          { t: 'int', v: 2 },
        ],
      ),
    );
    expect(r.text).toBe(
      `SELECT '$1', "a$2", $$ $3 $$, x$4 /* $5 */ FROM t WHERE a = ? -- $6\n AND b = ?`,
    );
    expect(r.values).toEqual([2, 1]);
  });

  it('tokenises template text in the dialect it is written in', () => {
    // MySQL: `\'` escapes inside '…' and `#` starts a comment; PostgreSQL: neither.
    const text = "SELECT 'a\\' = $1 ' # $2\n, $2";
    const params: ParamValue[] = [
      { t: 'int', v: 1 },
      { t: 'int', v: 2 },
    ];
    const pgT = createPlaceholderTranslator({
      style: 'dollar',
      convert: (p) => p.v,
    });
    const myT = createPlaceholderTranslator({
      style: 'question',
      convert: (p) => p.v,
      dialect: 'mysql',
    });
    expect(pgT.translate(q(text, params))).toMatchObject({
      text,
      values: [1, 2],
    });
    expect(myT.translate(q(text, params))).toMatchObject({
      text: "SELECT 'a\\' = $1 ' # $2\n, ?",
      values: [2],
    });
  });

  it('reorders values for ? drivers and caches the text per template', () => {
    const t = createPlaceholderTranslator({
      style: 'question',
      convert: (p) => p.v,
    });
    const a = t.translate(
      q('UPDATE t SET v = $2 WHERE id = $1', [
        { t: 'int', v: 1 },
        { t: 'string', v: 'x' },
      ]),
    );
    expect(a).toEqual({
      text: 'UPDATE t SET v = ? WHERE id = ?',
      values: ['x', 1],
      key: 'abcdef0123456789',
    });
    const b = t.translate(
      q('ignored: cached by template id', [
        { t: 'int', v: 2 },
        { t: 'string', v: 'y' },
      ]),
    );
    expect(b.text).toBe(a.text);
    expect(b.values).toEqual(['y', 2]);
  });

  it('expands list parameters and renumbers $n', () => {
    const t = createPlaceholderTranslator({
      style: 'dollar',
      convert: (p) => p.v,
    });
    const list = {
      t: 'list' as const,
      v: [
        { t: 'int' as const, v: 5 },
        { t: 'int' as const, v: 6 },
      ],
    };
    const r = t.translate(
      q('SELECT * FROM t WHERE id IN ($1) AND v > $2', [
        list,
        { t: 'int', v: 0 },
      ]),
    );
    expect(r.text).toBe('SELECT * FROM t WHERE id IN ($1, $2) AND v > $3');
    expect(r.values).toEqual([5, 6, 0]);
    expect(r.key).not.toBe('abcdef0123456789');
    const m = createPlaceholderTranslator({
      style: 'question',
      convert: (p) => p.v,
    });
    expect(
      m.translate(
        q('SELECT * FROM t WHERE v > $2 AND id IN ($1)', [
          list,
          { t: 'int', v: 0 },
        ]),
      ).values,
    ).toEqual([0, 5, 6]);
  });

  it('inlines literals for the simple protocol of each target', () => {
    const t = createPlaceholderTranslator({
      style: 'question',
      convert: (p) => p.v,
    });
    const query = q('SELECT $1, $2 FROM t WHERE id IN ($3 /*, ... */)', [
      { t: 'string', v: "O'Brien\\" },
      { t: 'bytes', v: 'ff00' },
      {
        t: 'list',
        v: [
          { t: 'int', v: 1 },
          { t: 'null', v: null },
        ],
      },
    ]);
    expect(t.inline(query, 'postgres')).toBe(
      "SELECT E'O''Brien\\\\', E'\\\\xff00'::bytea FROM t WHERE id IN (1, NULL)",
    );
    expect(
      t.inline(query, { dialect: 'postgres', standardConformingStrings: true }),
    ).toBe(
      "SELECT 'O''Brien\\', '\\xff00'::bytea FROM t WHERE id IN (1, NULL)",
    );
    expect(t.inline(query, 'mysql')).toBe(
      "SELECT 'O''Brien\\\\', X'ff00' FROM t WHERE id IN (1, NULL)",
    );
    expect(t.inline(query, 'sqlite')).toBe(
      "SELECT 'O''Brien\\', X'ff00' FROM t WHERE id IN (1, NULL)",
    );
    expect(() =>
      t.inline(q('SELECT $2', [{ t: 'int', v: 1 }]), 'postgres'),
    ).toThrow(expect.objectContaining({ code: 'STB_TRACE_SCHEMA_MISMATCH' }));
  });

  it('inlined SQLite literals store adversarial strings exactly', () => {
    const rng = createRng(7);
    const alphabet = [
      "'",
      '\\',
      '"',
      '$',
      '-',
      '/',
      '*',
      '\n',
      '\0',
      'é',
      '😀',
      'a',
    ];
    const values = [
      "'; DROP TABLE lit; --",
      "it's a \\'trap\\'",
      'nul\0inside',
      '$1 -- /* */',
      '',
      ...Array.from({ length: 200 }, () =>
        Array.from(
          { length: rng.int(12) },
          () => alphabet[rng.int(alphabet.length)],
        ).join(''),
      ),
    ];
    const db = new Database(':memory:');
    try {
      db.exec('CREATE TABLE lit (id INTEGER PRIMARY KEY, ok, v TEXT)');
      const t = createPlaceholderTranslator({
        style: 'question',
        convert: (p) => p.v,
      });
      values.forEach((v, i) => {
        db.exec(
          t.inline(
            {
              templateId: 'ins',
              text: "INSERT INTO lit (id, ok, v) VALUES ($1, $3, $2) -- '$2'",
              params: [
                { t: 'int', v: i },
                { t: 'string', v },
                { t: 'bool', v: i % 2 === 0 },
              ],
              queryType: 'INSERT',
            },
            'sqlite',
          ),
        );
      });
      const rows = db.prepare('SELECT ok, v FROM lit ORDER BY id').all() as {
        ok: number;
        v: string;
      }[];
      expect(rows.map((r) => r.v)).toEqual(values);
      expect(rows.map((r) => r.ok)).toEqual(values.map((_, i) => (i + 1) % 2));
    } finally {
      db.close();
    }
  });
});

describe('resolveTarget', () => {
  it('maps URLs to plugin descriptors and redacts credentials', async () => {
    const pgT = await resolveTarget('postgres://u:secret@h:5432/db');
    expect(pgT).toMatchObject({
      module: '@stb/bench/db/postgres',
      exportName: 'plugin',
      name: 'postgres',
    });
    expect(pgT.display).toBe('postgres://u:***@h:5432/db');
    expect((await resolveTarget('mariadb://root@h/db')).options).toEqual({
      url: 'mysql://root@h/db',
    });
    expect((await resolveTarget('sqlite::memory:')).options).toEqual({
      path: ':memory:',
    });
    expect((await resolveTarget('pglite:')).options).toEqual({});
    expect((await resolveTarget('pglite:/tmp/x')).options).toEqual({
      dataDir: '/tmp/x',
    });
    expect(await resolveTarget('knex:mysql2:mysql://root@h/db')).toMatchObject({
      name: 'knex',
      dialect: 'mysql',
      options: { client: 'mysql2', connection: 'mysql://root@h/db' },
    });
  });
  it("keeps a knex config file's statement deadline (queryTimeoutMs) next to its client and connection", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stb-target-'));
    try {
      const file = join(dir, 'knex.json');
      const connection = { host: '127.0.0.1', user: 'root', database: 'test' };
      writeFileSync(
        file,
        JSON.stringify({ client: 'mysql2', connection, queryTimeoutMs: 250 }),
      );
      expect((await resolveTarget(file)).options).toEqual({
        client: 'mysql2',
        connection,
        queryTimeoutMs: 250,
      });
      // without one, none (the plugin's default applies)
      writeFileSync(file, JSON.stringify({ client: 'mysql2', connection }));
      expect((await resolveTarget(file)).options).toEqual({
        client: 'mysql2',
        connection,
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it('rejects unknown schemes with STB_DB_TARGET_INVALID', async () => {
    await expect(resolveTarget('oracle://x')).rejects.toMatchObject({
      code: 'STB_DB_TARGET_INVALID',
    });
  });
});

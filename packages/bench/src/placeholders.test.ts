import {
  createPlaceholderTranslator,
  parseTemplateText,
  renderLiteral,
} from './placeholders';
import { splitSqlStatements } from './sql-split';
import { resolveTarget } from './target';
import type { BoundQuery } from './bound-query';

const q = (text: string, params: BoundQuery['params']): BoundQuery => ({
  templateId: 'abcdef0123456789',
  text,
  params,
  queryType: 'SELECT',
});

describe('placeholders', () => {
  it('skips $n inside strings, comments, identifiers and dollar quotes', () => {
    const p = parseTemplateText(
      `SELECT '$1', "a$2", $$ $3 $$, x$4 /* $5 */ FROM t WHERE a = $2 -- $6\n AND b = $1`,
    );
    expect(p.refs).toEqual([1, 0]);
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

  it('renders literals for the simple protocol', () => {
    expect(renderLiteral({ t: 'string', v: "O'Brien\\" }, 'postgres')).toBe(
      "'O''Brien\\'",
    );
    expect(renderLiteral({ t: 'string', v: "O'Brien\\" }, 'mysql')).toBe(
      "'O''Brien\\\\'",
    );
    expect(renderLiteral({ t: 'bytes', v: 'ff00' }, 'postgres')).toBe(
      "'\\xff00'::bytea",
    );
    expect(
      renderLiteral(
        {
          t: 'list',
          v: [
            { t: 'int', v: 1 },
            { t: 'null', v: null },
          ],
        },
        'mysql',
      ),
    ).toBe('1, NULL');
  });
});

describe('splitSqlStatements', () => {
  it('splits at top-level semicolons with lines', () => {
    const s = splitSqlStatements(
      "CREATE TABLE a (x text DEFAULT ';');\n-- c;\nCREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql;\n\nINSERT INTO a VALUES ('x');",
    );
    expect(s.map((x) => x.line)).toEqual([1, 2, 5]);
    expect(s[1]?.text).toContain('$$ SELECT 1; $$');
  });
  it('honours MySQL DELIMITER', () => {
    const s = splitSqlStatements(
      'DELIMITER //\nCREATE PROCEDURE p() BEGIN SELECT 1; END //\nDELIMITER ;\nSELECT 2;',
    );
    expect(s.map((x) => x.text)).toEqual([
      'CREATE PROCEDURE p() BEGIN SELECT 1; END',
      'SELECT 2',
    ]);
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
  it('rejects unknown schemes with STB_DB_TARGET_INVALID', async () => {
    await expect(resolveTarget('oracle://x')).rejects.toMatchObject({
      code: 'STB_DB_TARGET_INVALID',
    });
  });
});

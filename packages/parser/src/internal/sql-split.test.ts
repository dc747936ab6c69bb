import { SqlSplitter } from './sql-split';
import type { SplitStatement, SqlDialect } from './sql-split';

function split(
  text: string,
  dialect: SqlDialect = 'postgres',
): SplitStatement[] {
  const out: SplitStatement[] = [];
  const s = new SqlSplitter(dialect, (x) => out.push(x));
  text.split('\n').forEach((l, i) => s.line(l, i + 1));
  s.end();
  return out;
}

describe('SqlSplitter', () => {
  it('splits on ; outside strings, comments, dollar quotes and identifiers (PostgreSQL)', () => {
    const text = [
      '-- header; comment',
      "SELECT 'a;b', E'\\';', \"x;y\";",
      '/* outer /* nested; */ still; */ SELECT 2;',
      'CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $body$ LANGUAGE sql;',
      'SELECT $$;$$',
    ].join('\n');
    expect(split(text)).toEqual([
      { sql: "SELECT 'a;b', E'\\';', \"x;y\"", line: 2 },
      { sql: 'SELECT 2', line: 3 },
      {
        sql: 'CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $body$ LANGUAGE sql',
        line: 4,
      },
      { sql: 'SELECT $$;$$', line: 5 },
    ]);
  });

  it('MySQL: backslash escapes, double-quoted strings, backticks, # comments', () => {
    const text = 'SELECT \'a\\\';b\', "c;\\"d", `e;f` # x;\n; SELECT 1';
    expect(split(text, 'mysql').map((s) => s.sql)).toEqual([
      'SELECT \'a\\\';b\', "c;\\"d", `e;f` # x;',
      'SELECT 1',
    ]);
  });

  it('reports an open construct at the end', () => {
    const s = new SqlSplitter('postgres', () => undefined);
    s.line("SELECT 'never closed", 1);
    expect(s.openConstruct).toBe('string');
  });
});

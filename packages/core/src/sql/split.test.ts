import type { Dialect } from '../schema';
import { parseDelimiterCommand, splitSqlScript, SqlSplitter } from './split';
import type { SplitSqlStatement } from './split';

function split(
  text: string,
  dialect: Dialect = 'postgres',
): SplitSqlStatement[] {
  const out: SplitSqlStatement[] = [];
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

describe('parseDelimiterCommand', () => {
  it('reads MySQL client DELIMITER lines only', () => {
    expect(parseDelimiterCommand('DELIMITER //')).toBe('//');
    expect(parseDelimiterCommand('delimiter $$  ')).toBe('$$');
    expect(parseDelimiterCommand('DELIMITER')).toBeUndefined();
    expect(parseDelimiterCommand('SELECT 1; -- DELIMITER //')).toBeUndefined();
  });
});

describe('splitSqlScript', () => {
  it('splits a whole script with the lines of each statement', () => {
    const s = splitSqlScript(
      "CREATE TABLE a (x text DEFAULT ';');\n-- c;\nCREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql;\n\nINSERT INTO a VALUES ('x');",
    );
    expect(s).toEqual([
      { sql: "CREATE TABLE a (x text DEFAULT ';')", line: 1 },
      {
        sql: 'CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql',
        line: 3,
      },
      { sql: "INSERT INTO a VALUES ('x')", line: 5 },
    ]);
  });

  it('honours DELIMITER lines for MySQL (or when asked) and not inside a statement', () => {
    const script =
      'DELIMITER //\nCREATE PROCEDURE p() BEGIN SELECT 1; END //\nDELIMITER ;\nSELECT 2;';
    expect(splitSqlScript(script, { dialect: 'mysql' })).toEqual([
      { sql: 'CREATE PROCEDURE p() BEGIN SELECT 1; END', line: 2 },
      { sql: 'SELECT 2', line: 4 },
    ]);
    expect(
      splitSqlScript(script, { delimiterCommand: true }).map((x) => x.sql),
    ).toEqual(['CREATE PROCEDURE p() BEGIN SELECT 1; END', 'SELECT 2']);
    // PostgreSQL without the option: DELIMITER is just text of the first statement
    expect(splitSqlScript(script)[0]?.sql).toBe(
      'DELIMITER //\nCREATE PROCEDURE p() BEGIN SELECT 1',
    );
    expect(
      splitSqlScript('SELECT\nDELIMITER //\n;', { dialect: 'mysql' }),
    ).toEqual([{ sql: 'SELECT\nDELIMITER //', line: 1 }]);
  });

  it('backslashes escape quotes in MySQL strings but not in standard PostgreSQL ones', () => {
    expect(
      splitSqlScript("SELECT 'a\\'; b';", { dialect: 'mysql' }).map(
        (x) => x.sql,
      ),
    ).toEqual(["SELECT 'a\\'; b'"]);
    expect(
      splitSqlScript("SELECT 'C:\\'; SELECT 2;").map((x) => x.sql),
    ).toEqual(["SELECT 'C:\\'", 'SELECT 2']);
  });

  it('keeps an unterminated tail as a last statement and drops empty ones', () => {
    expect(splitSqlScript(";;\n  ;\nSELECT 'open;\nstill")).toEqual([
      { sql: "SELECT 'open;\nstill", line: 3 },
    ]);
    expect(splitSqlScript('')).toEqual([]);
    expect(splitSqlScript('SELECT 1\r\n;\r\n')).toEqual([
      { sql: 'SELECT 1', line: 1 },
    ]);
  });
});

import { splitSqlStatements } from './sql-split';

describe('splitSqlStatements', () => {
  it('splits at top-level semicolons with the line of each statement', () => {
    const s = splitSqlStatements(
      "CREATE TABLE a (x text DEFAULT ';');\n-- c;\nCREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql;\n\nINSERT INTO a VALUES ('x');",
    );
    // the comment line before the function is not part of it: the statement starts on line 3
    expect(s.map((x) => x.line)).toEqual([1, 3, 5]);
    expect(s[1]?.text).toBe(
      'CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql',
    );
  });

  it('honours MySQL DELIMITER', () => {
    const s = splitSqlStatements(
      'DELIMITER //\nCREATE PROCEDURE p() BEGIN SELECT 1; END //\nDELIMITER ;\nSELECT 2;',
    );
    expect(s).toEqual([
      { text: 'CREATE PROCEDURE p() BEGIN SELECT 1; END', line: 2 },
      { text: 'SELECT 2', line: 4 },
    ]);
  });

  it('follows the dialect for backslashes in strings', () => {
    const script = "INSERT INTO t VALUES ('a\\'; b');\nSELECT 1;";
    expect(
      splitSqlStatements(script, { dialect: 'mysql' }).map((x) => x.text),
    ).toEqual(["INSERT INTO t VALUES ('a\\'; b')", 'SELECT 1']);
    expect(
      splitSqlStatements("INSERT INTO t VALUES ('C:\\');\nSELECT 1;", {
        dialect: 'sqlite',
      }).map((x) => x.text),
    ).toEqual(["INSERT INTO t VALUES ('C:\\')", 'SELECT 1']);
  });
});

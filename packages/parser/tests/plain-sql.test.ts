import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parseAll } from './helpers';

const dir = mkdtempSync(path.join(tmpdir(), 'stb-parser-sql-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('plain-sql', () => {
  it('a pg_dump-like script: psql meta-commands and COPY data are skipped and counted', async () => {
    const f = path.join(dir, 'dump.sql');
    writeFileSync(
      f,
      [
        '-- dump',
        '\\set ON_ERROR_STOP on',
        'CREATE TABLE t (a int, b text);',
        'COPY t (a, b) FROM stdin;',
        '1\tx;y',
        '2\t\\N',
        '\\.',
        "SELECT setval('s', 2);",
        'CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$',
        'BEGIN',
        '  RETURN 1;',
        'END $$;',
      ].join('\n'),
    );
    const { events, summary } = await parseAll(f);
    expect(summary.files[0]?.format).toBe('plain-sql');
    expect(events.map((e) => [e.sql.split('\n')[0], e.source.line])).toEqual([
      ['CREATE TABLE t (a int, b text)', 3],
      ['COPY t (a, b) FROM stdin', 4],
      ["SELECT setval('s', 2)", 8],
      ['CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$', 9],
    ]);
    expect(summary.files[0]?.skipped).toEqual({
      'psql-meta': 1,
      'copy-data': 1,
    });
    expect(events.map((e) => e.sessionId)).toEqual(['1', '2', '3', '4']);
  });

  it('MySQL: DELIMITER and a file ending inside a string', async () => {
    const f = path.join(dir, 'routines.sql');
    writeFileSync(
      f,
      [
        'DELIMITER //',
        'CREATE PROCEDURE p() BEGIN SELECT 1; SELECT 2; END //',
        'DELIMITER ;',
        "SELECT 'a\\'b';",
        "SELECT 'never closed",
      ].join('\n'),
    );
    const { events, summary } = await parseAll(f, {
      format: 'plain-sql',
      formatOptions: { dialect: 'mysql' },
      onInvalid: 'collect',
    });
    expect(events.map((e) => e.sql)).toEqual([
      'CREATE PROCEDURE p() BEGIN SELECT 1; SELECT 2; END',
      "SELECT 'a\\'b'",
    ]);
    expect(events.every((e) => e.dialect === 'mysql')).toBe(true);
    expect(summary.invalid).toEqual([
      { file: f, line: 5, reason: 'input ends inside a string' },
    ]);
  });
});

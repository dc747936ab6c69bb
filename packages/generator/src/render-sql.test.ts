import { isStbError } from '@stb/core';
import type { ParamValue } from '@stb/core';
import { compileTemplate, renderSql } from './render-sql';

const int = (v: number): ParamValue => ({ t: 'int', v });
const str = (v: string): ParamValue => ({ t: 'string', v });

describe('compileTemplate', () => {
  it('finds placeholders outside literals, identifiers and comments (PostgreSQL)', () => {
    const t = compileTemplate(
      `SELECT '$1', "a$2", $x$ $3 $x$, $$ $4 $$, E'\\' $5', col$6 -- $7\n/* $8 /* $9 */ $10 */ FROM t WHERE a = $2 AND b = $1`,
      'postgres',
    );
    expect(t.slots).toEqual([1, 0]);
    expect(t.parts[1]).toBe(' AND b = ');
  });

  it('finds placeholders outside literals, identifiers and comments (MySQL)', () => {
    const t = compileTemplate(
      'SELECT \'\\\' $1\', "$2\\"", `$3`, a-- $4\n# $5\n-- $6\n/* $7 */ $8',
      'mysql',
    );
    // `a-- $4`: a MySQL `--` comment needs whitespace after it; here it has one.
    expect(t.slots).toEqual([7]);
    const u = compileTemplate('SELECT 1--$1', 'mysql');
    expect(u.slots).toEqual([0]);
  });

  it('drops the squashed-list marker after a placeholder', () => {
    const t = compileTemplate(
      'SELECT 1 WHERE a IN ($1 /*, ... */)',
      'postgres',
    );
    expect(t.parts).toEqual(['SELECT 1 WHERE a IN (', ')']);
  });
});

describe('renderSql', () => {
  it('quotes strings for PostgreSQL, E-strings only where a backslash occurs', () => {
    expect(renderSql('SELECT $1', [str("O'Brien")], 'postgres')).toBe(
      "SELECT 'O''Brien'",
    );
    expect(renderSql('SELECT $1', [str("a\\b'c")], 'postgres')).toBe(
      "SELECT E'a\\\\b''c'",
    );
    expect(renderSql('SELECT $1', [str('$$ -- ;\n')], 'postgres')).toBe(
      "SELECT '$$ -- ;\n'",
    );
  });

  it('escapes strings for MySQL in both backslash modes', () => {
    expect(renderSql('SELECT $1', [str("a'\\\0b")], 'mysql')).toBe(
      "SELECT 'a''\\\\\\0b'",
    );
    expect(
      renderSql('SELECT $1', [str("a'\\b")], {
        dialect: 'mysql',
        noBackslashEscapes: true,
      }),
    ).toBe("SELECT 'a''\\b'");
    expect(
      renderSql('SELECT $1', [str('a\0')], {
        dialect: 'mysql',
        noBackslashEscapes: true,
      }),
    ).toBe("SELECT _utf8mb4 X'6100'");
  });

  it('refuses NUL in PostgreSQL text and lone surrogates, with a code', () => {
    for (const [v, d] of [
      ['a\0b', 'postgres'],
      ['\ud800', 'mysql'],
    ] as const) {
      let caught: unknown;
      try {
        renderSql('SELECT $1', [str(v)], d);
      } catch (err) {
        caught = err;
      }
      expect(isStbError(caught, 'STB_RENDER_VALUE_UNSUPPORTED')).toBe(true);
      expect((caught as Error).message).not.toContain(v);
    }
  });

  it('keeps a negative number from forming a comment', () => {
    expect(
      renderSql('SELECT a-$1, b - $2', [int(-5), int(-6)], 'postgres'),
    ).toBe('SELECT a- -5, b - -6');
  });

  it('renders lists for IN, arrays and multi-row VALUES', () => {
    const list: ParamValue = {
      t: 'list',
      v: [int(1), str('x'), { t: 'null', v: null }],
    };
    expect(
      renderSql('SELECT 1 WHERE a IN ($1 /*, ... */)', [list], 'postgres'),
    ).toBe("SELECT 1 WHERE a IN (1, 'x', NULL)");
    const rows: ParamValue = {
      t: 'list',
      v: [
        { t: 'list', v: [int(1), str('a')] },
        { t: 'list', v: [int(2), str('b')] },
      ],
    };
    expect(
      renderSql('INSERT INTO t VALUES ($1 /*, ... */)', [rows], 'mysql'),
    ).toBe("INSERT INTO t VALUES (1, 'a'), (2, 'b')");
    expect(renderSql('SELECT ARRAY[$1 /*, ... */]', [rows], 'postgres')).toBe(
      "SELECT ARRAY[[1, 'a'], [2, 'b']]",
    );
    expect(
      renderSql('SELECT 1 WHERE a IN ($1)', [{ t: 'list', v: [] }], 'postgres'),
    ).toBe('SELECT 1 WHERE a IN (NULL)');
  });

  it('renders the other types', () => {
    const params: ParamValue[] = [
      { t: 'bool', v: true },
      { t: 'bigint', v: '-9223372036854775808' },
      { t: 'float', v: 1.5e-7 },
      { t: 'bytes', v: 'deadBEEF' },
      { t: 'timestamp', v: '2024-05-01 12:00:00+00' },
      { t: 'uuid', v: '7d444840-9dc0-11d1-b245-5ffdce74fad2' },
      { t: 'json', v: '{"a":"it\'s"}' },
      { t: 'date', v: '2024-05-01' },
    ];
    expect(
      renderSql(
        'SELECT $1, $2, $3, $4, $5, $6, $7, DATE $8',
        params,
        'postgres',
      ),
    ).toBe(
      "SELECT TRUE, -9223372036854775808, 1.5e-7, E'\\\\xdeadbeef'::bytea, '2024-05-01 12:00:00+00', '7d444840-9dc0-11d1-b245-5ffdce74fad2', '{\"a\":\"it''s\"}', DATE '2024-05-01'",
    );
    expect(renderSql('SELECT $1', [{ t: 'bytes', v: '00ff' }], 'mysql')).toBe(
      "SELECT X'00ff'",
    );
  });

  it('fails clearly when a placeholder has no parameter', () => {
    expect(() => renderSql('SELECT $2', [int(1)], 'postgres')).toThrow(
      /placeholder `\$2` but the event has 1 parameter/,
    );
  });
});

import { isStbError } from '../errors';
import type { ParamValue } from '../schema';
import { renderSqlLiteral } from './literal';
import type { SqlLiteralOptions } from './literal';
import { renderSqlTemplate } from './render';
import { compileSqlTemplate } from './template';

const int = (v: number): ParamValue => ({ t: 'int', v });
const str = (v: string): ParamValue => ({ t: 'string', v });

/** Renders `text` (lexed as PostgreSQL unless the target is MySQL). */
function render(
  text: string,
  params: readonly ParamValue[],
  options: SqlLiteralOptions | SqlLiteralOptions['dialect'],
): string {
  const dialect = typeof options === 'string' ? options : options.dialect;
  return renderSqlTemplate(
    compileSqlTemplate(text, dialect === 'mysql' ? 'mysql' : 'postgres'),
    params,
    options,
  );
}

function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return undefined;
}

describe('renderSqlLiteral', () => {
  it('quotes strings for PostgreSQL, E-strings only where a backslash occurs', () => {
    expect(render('SELECT $1', [str("O'Brien")], 'postgres')).toBe(
      "SELECT 'O''Brien'",
    );
    expect(render('SELECT $1', [str("a\\b'c")], 'postgres')).toBe(
      "SELECT E'a\\\\b''c'",
    );
    expect(render('SELECT $1', [str('$$ -- ;\n')], 'postgres')).toBe(
      "SELECT '$$ -- ;\n'",
    );
  });

  it('writes plain PostgreSQL literals when standard_conforming_strings is known to be on', () => {
    const on = {
      dialect: 'postgres',
      standardConformingStrings: true,
    } as const;
    expect(renderSqlLiteral(str("O'Brien\\"), on)).toBe("'O''Brien\\'");
    expect(renderSqlLiteral({ t: 'bytes', v: 'ff00' }, on)).toBe(
      "'\\xff00'::bytea",
    );
    expect(
      renderSqlLiteral({ t: 'bytes', v: 'ff00' }, on, { afterWord: true }),
    ).toBe("'\\xff00'");
    // Without the option the same values read the same under either setting.
    expect(renderSqlLiteral(str("O'Brien\\"), { dialect: 'postgres' })).toBe(
      "E'O''Brien\\\\'",
    );
    expect(
      renderSqlLiteral({ t: 'bytes', v: 'ff00' }, { dialect: 'postgres' }),
    ).toBe("E'\\\\xff00'::bytea");
  });

  it('escapes strings for MySQL in both backslash modes', () => {
    expect(render('SELECT $1', [str("a'\\\0b")], 'mysql')).toBe(
      "SELECT 'a''\\\\\\0b'",
    );
    expect(renderSqlLiteral(str("O'Brien\\"), { dialect: 'mysql' })).toBe(
      "'O''Brien\\\\'",
    );
    expect(
      render('SELECT $1', [str("a'\\b")], {
        dialect: 'mysql',
        noBackslashEscapes: true,
      }),
    ).toBe("SELECT 'a''\\b'");
    expect(
      render('SELECT $1', [str('a\0')], {
        dialect: 'mysql',
        noBackslashEscapes: true,
      }),
    ).toBe("SELECT _utf8mb4 X'6100'");
  });

  it('writes SQLite literals without backslash escapes', () => {
    const sqlite = { dialect: 'sqlite' } as const;
    expect(renderSqlLiteral(str("a'\\b"), sqlite)).toBe("'a''\\b'");
    expect(renderSqlLiteral(str('a\0'), sqlite)).toBe("CAST(X'6100' AS TEXT)");
    expect(renderSqlLiteral({ t: 'bool', v: true }, sqlite)).toBe('1');
    expect(renderSqlLiteral({ t: 'bool', v: false }, sqlite)).toBe('0');
    expect(renderSqlLiteral({ t: 'bytes', v: 'FF00' }, sqlite)).toBe("X'ff00'");
    expect(renderSqlLiteral({ t: 'float', v: -Infinity }, sqlite)).toBe(
      '-9e999',
    );
  });

  it('refuses values a dialect cannot express, with a code and without the value', () => {
    const cases: [ParamValue, SqlLiteralOptions['dialect'], string][] = [
      [str('a\0b'), 'postgres', 'a\0b'],
      [str('\ud800'), 'mysql', '\ud800'],
      [str('x\udc00'), 'sqlite', 'x\udc00'],
      [{ t: 'float', v: Number.NaN }, 'mysql', 'NaN'],
      [{ t: 'float', v: Number.NaN }, 'sqlite', 'NaN'],
      [{ t: 'bigint', v: '12; DROP' }, 'postgres', 'DROP'],
      [{ t: 'bytes', v: 'abc' }, 'mysql', 'abc'],
    ];
    for (const [value, dialect, secret] of cases) {
      const err = caught(() => renderSqlLiteral(value, { dialect }));
      expect(isStbError(err, 'STB_RENDER_VALUE_UNSUPPORTED')).toBe(true);
      if (value.t === 'string')
        expect((err as Error).message).not.toContain(secret);
    }
  });

  it('writes PostgreSQL non-finite floats as typed literals', () => {
    const pg = { dialect: 'postgres' } as const;
    expect(renderSqlLiteral({ t: 'float', v: Number.NaN }, pg)).toBe(
      "'NaN'::float8",
    );
    expect(renderSqlLiteral({ t: 'float', v: -Infinity }, pg)).toBe(
      "'-Infinity'::float8",
    );
    expect(renderSqlLiteral({ t: 'float', v: -0 }, pg)).toBe('0');
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
      render('SELECT $1, $2, $3, $4, $5, $6, $7, DATE $8', params, 'postgres'),
    ).toBe(
      "SELECT TRUE, -9223372036854775808, 1.5e-7, E'\\\\xdeadbeef'::bytea, '2024-05-01 12:00:00+00', '7d444840-9dc0-11d1-b245-5ffdce74fad2', '{\"a\":\"it''s\"}', DATE '2024-05-01'",
    );
    expect(render('SELECT $1', [{ t: 'bytes', v: '00ff' }], 'mysql')).toBe(
      "SELECT X'00ff'",
    );
  });
});

describe('renderSqlTemplate', () => {
  it('keeps a negative number from forming a comment', () => {
    expect(render('SELECT a-$1, b - $2', [int(-5), int(-6)], 'postgres')).toBe(
      'SELECT a- -5, b - -6',
    );
  });

  it('renders lists for IN, arrays and multi-row VALUES', () => {
    const list: ParamValue = {
      t: 'list',
      v: [int(1), str('x'), { t: 'null', v: null }],
    };
    expect(
      render('SELECT 1 WHERE a IN ($1 /*, ... */)', [list], 'postgres'),
    ).toBe("SELECT 1 WHERE a IN (1, 'x', NULL)");
    expect(renderSqlLiteral(list, { dialect: 'mysql' })).toBe("1, 'x', NULL");
    const rows: ParamValue = {
      t: 'list',
      v: [
        { t: 'list', v: [int(1), str('a')] },
        { t: 'list', v: [int(2), str('b')] },
      ],
    };
    expect(
      render('INSERT INTO t VALUES ($1 /*, ... */)', [rows], 'mysql'),
    ).toBe("INSERT INTO t VALUES (1, 'a'), (2, 'b')");
    expect(render('SELECT ARRAY[$1 /*, ... */]', [rows], 'postgres')).toBe(
      "SELECT ARRAY[[1, 'a'], [2, 'b']]",
    );
    expect(
      render('SELECT 1 WHERE a IN ($1)', [{ t: 'list', v: [] }], 'postgres'),
    ).toBe('SELECT 1 WHERE a IN (NULL)');
  });

  it('renders a PostgreSQL-lexed template for a SQLite target', () => {
    const t = compileSqlTemplate(
      "UPDATE t SET ok = $2, note = '$1' WHERE id = $1",
      'postgres',
    );
    expect(
      renderSqlTemplate(t, [int(7), { t: 'bool', v: true }], 'sqlite'),
    ).toBe("UPDATE t SET ok = 1, note = '$1' WHERE id = 7");
  });

  it('fails clearly when a placeholder has no parameter', () => {
    const err = caught(() => render('SELECT $2', [int(1)], 'postgres'));
    expect(isStbError(err, 'STB_TRACE_SCHEMA_MISMATCH')).toBe(true);
    expect((err as Error).message).toMatch(
      /placeholder `\$2` but the event has 1 parameter/,
    );
  });
});

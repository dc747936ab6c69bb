import { compileSqlTemplate, isStbError, renderSqlTemplate } from '@stb/core';
import type { ParamValue } from '@stb/core';
import { compileTemplate, renderCompiled, renderSql } from './render-sql';

// The tokenizer and literal rules are unit-tested next to their module in `@stb/core`
// (src/sql/*.test.ts); here: the generator's public names delegate to them, and
// tests/render-sql.db.test.ts runs adversarial values through real PostgreSQL and MariaDB.

const TEXT =
  "SELECT '$1', a FROM t WHERE b = $2 AND c IN ($1 /*, ... */) -- $3";
const PARAMS: ParamValue[] = [
  {
    t: 'list',
    v: [
      { t: 'int', v: -1 },
      { t: 'string', v: "it's\\" },
    ],
  },
  { t: 'bytes', v: '00ff' },
];

describe('render-sql (generator API over @stb/core)', () => {
  it('compiles templates exactly as core does', () => {
    for (const dialect of ['postgres', 'mysql'] as const)
      expect(compileTemplate(TEXT, dialect)).toEqual(
        compileSqlTemplate(TEXT, dialect),
      );
  });

  it('renders with a dialect name or options, as core does', () => {
    expect(renderSql(TEXT, PARAMS, 'postgres')).toBe(
      "SELECT '$1', a FROM t WHERE b = E'\\\\x00ff'::bytea AND c IN (-1, E'it''s\\\\') -- $3",
    );
    const options = { dialect: 'mysql', noBackslashEscapes: true } as const;
    expect(renderSql(TEXT, PARAMS, options)).toBe(
      renderSqlTemplate(compileSqlTemplate(TEXT, 'mysql'), PARAMS, options),
    );
    expect(renderSql(TEXT, PARAMS, options)).toContain("'it''s\\'");
    expect(
      renderCompiled(compileTemplate(TEXT, 'postgres'), PARAMS, {
        dialect: 'postgres',
        standardConformingStrings: true,
      }),
    ).toContain("b = '\\x00ff'::bytea AND c IN (-1, 'it''s\\')");
  });

  it('keeps the error codes of its API', () => {
    let caught: unknown;
    try {
      renderSql('SELECT $1', [{ t: 'string', v: 'a\0b' }], 'postgres');
    } catch (err) {
      caught = err;
    }
    expect(isStbError(caught, 'STB_RENDER_VALUE_UNSUPPORTED')).toBe(true);
    expect(() =>
      renderSql('SELECT $2', [{ t: 'int', v: 1 }], 'postgres'),
    ).toThrow(/placeholder `\$2` but the event has 1 parameter/);
  });
});

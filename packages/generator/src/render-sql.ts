import { compileSqlTemplate, renderSqlTemplate } from '@stb/core';
import type {
  Dialect,
  ParamValue,
  SqlLiteralOptions,
  SqlTemplate,
} from '@stb/core';

// The tokenizer and literal rules live in `@stb/core` (shared with `@stb/bench`); these names
// stay the generator's public API.

/**
 * How {@link renderSql} writes literals: core's {@link SqlLiteralOptions} for a trace dialect
 * (`noBackslashEscapes` for MySQL/MariaDB, `standardConformingStrings` for PostgreSQL).
 */
export interface RenderSqlOptions extends SqlLiteralOptions {
  dialect: Dialect;
}

/**
 * A template split around its `$n` placeholders: `parts[0] $slots[0] parts[1] … parts[n]`
 * (core's {@link SqlTemplate}).
 */
export type CompiledTemplate = SqlTemplate;

/**
 * Splits a template around its `$n` placeholders, tokenising it so that `$n` inside string
 * literals, quoted identifiers, PostgreSQL dollar quotes and comments stays text. The extractor's
 * squashed-list marker ` /*, ... *\/` after a placeholder is dropped. Same as core's
 * `compileSqlTemplate`.
 */
export function compileTemplate(
  text: string,
  dialect: Dialect,
): CompiledTemplate {
  return compileSqlTemplate(text, dialect);
}

/**
 * Renders a compiled template with its parameters (core's `renderSqlTemplate`).
 * @throws StbError `STB_TRACE_SCHEMA_MISMATCH` when a placeholder has no parameter,
 * `STB_RENDER_VALUE_UNSUPPORTED` for values the dialect cannot express (NUL in PostgreSQL text).
 */
export function renderCompiled(
  compiled: CompiledTemplate,
  params: readonly ParamValue[],
  dialect: Dialect | RenderSqlOptions,
): string {
  return renderSqlTemplate(compiled, params, dialect);
}

/**
 * Renders executable SQL: the template's `$n` placeholders replaced by correctly quoted literals.
 * PostgreSQL: `'…'` with `'` doubled, `E'…'` (backslashes doubled) only for values holding `\`, so
 * the result means the same under either `standard_conforming_strings` setting; NUL is refused
 * (PostgreSQL text cannot hold it); bytes as `E'\\x…'::bytea`. MySQL/MariaDB: backslash escapes
 * (`\\`, `\0`) and `''` — see {@link RenderSqlOptions.noBackslashEscapes}; bytes as `X'…'`.
 * Timestamps, dates, uuids and JSON are quoted untyped literals (the server infers their type from
 * the context, as for the source statement). Lists render for `IN (…)`, arrays and multi-row
 * `VALUES`. Placeholders inside literals, quoted identifiers and comments are left alone.
 * @example
 * renderSql('SELECT * FROM t WHERE a = $1 AND b IN ($2 /*, ... *\/)', [
 *   { t: 'string', v: "O'Brien" },
 *   { t: 'list', v: [{ t: 'int', v: 1 }, { t: 'int', v: 2 }] },
 * ], 'postgres'); // SELECT * FROM t WHERE a = 'O''Brien' AND b IN (1, 2)
 */
export function renderSql(
  templateText: string,
  params: readonly ParamValue[],
  dialect: Dialect | RenderSqlOptions,
): string {
  const lexDialect = typeof dialect === 'string' ? dialect : dialect.dialect;
  return renderSqlTemplate(
    compileSqlTemplate(templateText, lexDialect),
    params,
    dialect,
  );
}

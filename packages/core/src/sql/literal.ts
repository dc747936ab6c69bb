import { StbError } from '../errors';
import type { Dialect, ParamValue } from '../schema';

/**
 * The SQL a literal is written in: a trace {@link Dialect}, or `sqlite` (a replay target of
 * `@stb/bench` that no trace is recorded in).
 */
export type SqlLiteralDialect = Dialect | 'sqlite';

/** How {@link renderSqlLiteral} and {@link renderSqlTemplate} write literals. */
export interface SqlLiteralOptions {
  dialect: SqlLiteralDialect;
  /**
   * MySQL/MariaDB only: the target runs with `sql_mode` `NO_BACKSLASH_ESCAPES`, so a backslash in
   * a string literal is an ordinary character. Default false (the servers' default mode, where
   * `\` escapes). Strings without `\` or NUL render the same in both modes.
   */
  noBackslashEscapes?: boolean;
  /**
   * PostgreSQL only: `true` when the target is known to run with `standard_conforming_strings`
   * on (the default since 9.1); values holding `\` are then written as plain `'…'` literals and
   * bytes as `'\x…'`. Otherwise (the default) such values are written as `E'…'` with backslashes
   * doubled, which means the same under either setting. Values without `\` render the same
   * either way.
   */
  standardConformingStrings?: boolean;
}

/** Where a literal is written; what precedes it decides a few spellings. */
export interface SqlLiteralContext {
  /** It directly follows `[`: nested lists render as `[a, b], [c, d]` (a 2-D array). */
  inBracket?: boolean;
  /** A word (a type name such as `BYTEA`) precedes it: PostgreSQL bytes stay untyped. */
  afterWord?: boolean;
}

const LONE_SURROGATE =
  /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

const DIALECT_NAMES: Readonly<Record<SqlLiteralDialect, string>> = {
  postgres: 'PostgreSQL',
  mysql: 'MySQL',
  sqlite: 'SQLite',
};

function unsupported(message: string): StbError {
  return new StbError('STB_RENDER_VALUE_UNSUPPORTED', message);
}

function checkText(s: string, dialect: SqlLiteralDialect): void {
  if (LONE_SURROGATE.test(s))
    throw unsupported(
      `[stb] [core] A ${DIALECT_NAMES[dialect]} string parameter holds an unpaired UTF-16 surrogate, which is not valid UTF-8 and cannot be sent to the server. Fix the value in the model or trace.`,
    );
}

/** PostgreSQL string literal; see {@link SqlLiteralOptions.standardConformingStrings}. */
function pgString(s: string, standardConformingStrings: boolean): string {
  if (s.includes('\0'))
    throw unsupported(
      '[stb] [core] A PostgreSQL string parameter contains a NUL character (U+0000), which PostgreSQL text cannot store. Remove NUL from the value, or pass binary data as a `bytes` parameter.',
    );
  checkText(s, 'postgres');
  const quoted = s.replaceAll("'", "''");
  if (standardConformingStrings || !s.includes('\\')) return `'${quoted}'`;
  // E'' makes the meaning of `\` independent of standard_conforming_strings.
  return `E'${quoted.replaceAll('\\', '\\\\')}'`;
}

const MYSQL_ESCAPES = /[\0'\\]/g;
const MYSQL_ESCAPE_OF: Readonly<Record<string, string>> = {
  '\0': '\\0',
  "'": "''",
  '\\': '\\\\',
};

function hexOf(s: string): string {
  return Buffer.from(s, 'utf8').toString('hex');
}

/** MySQL/MariaDB string literal. */
function mysqlString(s: string, noBackslashEscapes: boolean): string {
  checkText(s, 'mysql');
  if (noBackslashEscapes) {
    // Without backslash escapes a NUL cannot be written inside quotes: use a hex string.
    if (s.includes('\0')) return `_utf8mb4 X'${hexOf(s)}'`;
    return `'${s.replaceAll("'", "''")}'`;
  }
  MYSQL_ESCAPES.lastIndex = 0;
  if (!MYSQL_ESCAPES.test(s)) return `'${s}'`;
  return `'${s.replace(MYSQL_ESCAPES, (m) => MYSQL_ESCAPE_OF[m] as string)}'`;
}

/** SQLite string literal: no backslash escapes; SQL text ends at a NUL, so such text is cast from a blob. */
function sqliteString(s: string): string {
  checkText(s, 'sqlite');
  if (s.includes('\0')) return `CAST(X'${hexOf(s)}' AS TEXT)`;
  return `'${s.replaceAll("'", "''")}'`;
}

function numberLiteral(v: number, dialect: SqlLiteralDialect): string {
  if (Number.isFinite(v)) return Object.is(v, -0) ? '0' : String(v);
  if (dialect === 'postgres')
    return Number.isNaN(v)
      ? "'NaN'::float8"
      : v > 0
        ? "'Infinity'::float8"
        : "'-Infinity'::float8";
  // SQLite reads an overflowing real as ±Inf; it has no NaN (it stores NULL instead).
  if (dialect === 'sqlite' && !Number.isNaN(v))
    return v > 0 ? '9e999' : '-9e999';
  throw unsupported(
    `[stb] [core] ${DIALECT_NAMES[dialect]} has no literal for the float value ${String(v)}. Use a finite value.`,
  );
}

function bytesLiteral(
  hexIn: string,
  options: SqlLiteralOptions,
  afterWord: boolean,
): string {
  if (!/^[0-9a-f]*$/i.test(hexIn) || hexIn.length % 2 !== 0)
    throw unsupported(
      '[stb] [core] A `bytes` parameter is not an even-length hex string. Fix the value in the model or trace.',
    );
  const hex = hexIn.toLowerCase();
  if (options.dialect !== 'postgres') return `X'${hex}'`;
  // E'' keeps `\\x` independent of standard_conforming_strings; after a type name
  // (`BYTEA $1`) the literal must stay untyped.
  const text =
    options.standardConformingStrings === true
      ? `'\\x${hex}'`
      : `E'\\\\x${hex}'`;
  return afterWord ? text : `${text}::bytea`;
}

/**
 * A squashed list: `a, b, c` inside the template's own parentheses (`IN ($1 /*, ... *\/)`), rows
 * of a multi-row VALUES as `a, b), (c, d` (the template holds the outer parentheses), and inside
 * brackets nested lists as `[a, b], [c, d]` (a 2-D array). An empty list renders as `NULL`
 * (`IN (NULL)` matches nothing, like an empty list).
 */
function listLiteral(
  values: readonly ParamValue[],
  options: SqlLiteralOptions,
  context: SqlLiteralContext,
): string {
  if (values.length === 0) return 'NULL';
  const nested = values.every((x) => x.t === 'list');
  if (!nested)
    return values.map((x) => renderSqlLiteral(x, options, context)).join(', ');
  const rows = values.map((row) =>
    (row as { v: ParamValue[] }).v
      .map((x) => renderSqlLiteral(x, options, context))
      .join(', '),
  );
  return context.inBracket === true
    ? `[${rows.join('], [')}]`
    : rows.join('), (');
}

const NO_CONTEXT: SqlLiteralContext = {};

/**
 * Renders one parameter value as an SQL literal of `options.dialect`, for text-protocol SQL.
 *
 * - Strings, timestamps, dates, uuids and JSON are untyped quoted literals (the server infers
 *   their type from the context, as for the source statement). PostgreSQL: `'` doubled, `E'…'`
 *   only for values holding `\` (unless `standardConformingStrings`), NUL refused (PostgreSQL
 *   text cannot hold it). MySQL/MariaDB: `''`, `\\` and `\0`, or under `noBackslashEscapes`
 *   `''` only and NUL as `_utf8mb4 X'…'`. SQLite: `''` only, NUL as `CAST(X'…' AS TEXT)`.
 * - Numbers as written by JavaScript (`-0` as `0`); PostgreSQL non-finite floats as
 *   `'NaN'::float8` etc., SQLite infinities as `±9e999`.
 * - `bool` as `TRUE`/`FALSE` (SQLite: `1`/`0`); `null` as `NULL`; `bigint` verbatim.
 * - `bytes` as `E'\\x…'::bytea` on PostgreSQL (untyped after a type name), `X'…'` elsewhere.
 * - `list` as `a, b` (for `IN (…)`), nested lists as `a, b), (c, d` (multi-row `VALUES`) or,
 *   in brackets, `[a, b], [c, d]`; an empty list as `NULL`.
 * @throws StbError `STB_RENDER_VALUE_UNSUPPORTED` for values the dialect cannot express (NUL in
 * PostgreSQL text, unpaired surrogates, MySQL non-finite floats, malformed `bigint`/`bytes`).
 * Messages never include the value.
 * @example
 * renderSqlLiteral({ t: 'string', v: "O'Brien" }, { dialect: 'postgres' }); // 'O''Brien'
 */
export function renderSqlLiteral(
  value: ParamValue,
  options: SqlLiteralOptions,
  context: SqlLiteralContext = NO_CONTEXT,
): string {
  const { dialect } = options;
  switch (value.t) {
    case 'int':
    case 'float':
      return numberLiteral(value.v, dialect);
    case 'bigint':
      if (!/^-?\d+$/.test(value.v))
        throw unsupported(
          '[stb] [core] A `bigint` parameter is not a decimal integer. Fix the value in the model or trace.',
        );
      return value.v;
    case 'bool':
      if (dialect === 'sqlite') return value.v ? '1' : '0';
      return value.v ? 'TRUE' : 'FALSE';
    case 'null':
      return 'NULL';
    case 'string':
    case 'timestamp':
    case 'date':
    case 'uuid':
    case 'json':
      // Untyped literals: the server infers the type from the context, exactly as it did for the
      // source statement (casts would break `DATE $1` and mismatch text columns).
      return dialect === 'postgres'
        ? pgString(value.v, options.standardConformingStrings === true)
        : dialect === 'mysql'
          ? mysqlString(value.v, options.noBackslashEscapes === true)
          : sqliteString(value.v);
    case 'bytes':
      return bytesLiteral(value.v, options, context.afterWord === true);
    case 'list':
      return listLiteral(value.v, options, context);
  }
}

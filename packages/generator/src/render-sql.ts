import { StbError } from '@stb/core';
import type { Dialect, ParamValue } from '@stb/core';

/** How {@link renderSql} writes literals. */
export interface RenderSqlOptions {
  dialect: Dialect;
  /**
   * MySQL/MariaDB only: the target runs with `sql_mode` `NO_BACKSLASH_ESCAPES`, so a backslash in
   * a string literal is an ordinary character. Default false (the servers' default mode, where
   * `\` escapes). Strings without `\` or NUL render the same in both modes.
   */
  noBackslashEscapes?: boolean;
}

/**
 * A template split around its `$n` placeholders: `parts[0] $slots[0] parts[1] … parts[n]`.
 * Placeholders inside string literals, quoted identifiers, dollar quotes and comments are text.
 */
export interface CompiledTemplate {
  readonly parts: readonly string[];
  /** 0-based parameter index of each placeholder. */
  readonly slots: readonly number[];
  /** Per placeholder: true when the previous character is an operator (a leading `-` needs a space). */
  readonly afterOperator: readonly boolean[];
  /** Per placeholder: true when it directly follows `[` (nested lists render as `[…], […]`). */
  readonly inBracket: readonly boolean[];
  /** Per placeholder: true when a word (a type name such as `BYTEA`) precedes it. */
  readonly afterWord: readonly boolean[];
}

const SQUASH_COMMENT = ' /*, ... */';

function isIdentChar(c: number): boolean {
  return (
    (c >= 48 && c <= 57) ||
    (c >= 65 && c <= 90) ||
    (c >= 97 && c <= 122) ||
    c === 95 ||
    c === 36 ||
    c >= 128
  );
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

const OPERATOR_CHARS = new Set('+-*/<>=~!@#%^&|`?'.split(''));

/** End index (exclusive) of a quoted run starting at `i` (the opening quote). */
function skipQuoted(
  text: string,
  i: number,
  options: { quote: string; backslash: boolean },
): number {
  const { quote, backslash } = options;
  let j = i + 1;
  while (j < text.length) {
    const ch = text[j];
    if (backslash && ch === '\\') {
      j += 2;
      continue;
    }
    if (ch === quote) {
      if (text[j + 1] === quote) {
        j += 2;
        continue;
      }
      return j + 1;
    }
    j++;
  }
  return text.length;
}

function skipLineComment(text: string, i: number): number {
  const nl = text.indexOf('\n', i);
  return nl < 0 ? text.length : nl + 1;
}

function skipBlockComment(text: string, i: number, nested: boolean): number {
  let depth = 1;
  let j = i + 2;
  while (j < text.length) {
    if (nested && text[j] === '/' && text[j + 1] === '*') {
      depth++;
      j += 2;
    } else if (text[j] === '*' && text[j + 1] === '/') {
      depth--;
      j += 2;
      if (depth === 0) return j;
    } else j++;
  }
  return text.length;
}

const DOLLAR_TAG = /\$(?:[A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/y;

/**
 * Splits a template around its `$n` placeholders, tokenising it so that `$n` inside string
 * literals, quoted identifiers, PostgreSQL dollar quotes and comments stays text. The extractor's
 * squashed-list marker ` /*, ... *\/` after a placeholder is dropped.
 */
export function compileTemplate(
  text: string,
  dialect: Dialect,
): CompiledTemplate {
  const pg = dialect === 'postgres';
  const parts: string[] = [];
  const slots: number[] = [];
  const afterOperator: boolean[] = [];
  const inBracket: boolean[] = [];
  const afterWord: boolean[] = [];
  let partStart = 0;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    const ch = text[i] as string;
    if (ch === "'") {
      const prev = i > 0 ? text[i - 1] : '';
      const escape =
        !pg ||
        ((prev === 'E' || prev === 'e') &&
          (i < 2 || !isIdentChar(text.charCodeAt(i - 2))));
      i = skipQuoted(text, i, { quote: "'", backslash: escape });
    } else if (ch === '"') {
      i = skipQuoted(text, i, { quote: '"', backslash: !pg });
    } else if (ch === '`' && !pg) {
      i = skipQuoted(text, i, { quote: '`', backslash: false });
    } else if (ch === '-' && text[i + 1] === '-') {
      const after = text[i + 2];
      if (pg || after === undefined || /\s/.test(after))
        i = skipLineComment(text, i);
      else i += 2;
    } else if (ch === '#' && !pg) {
      i = skipLineComment(text, i);
    } else if (ch === '/' && text[i + 1] === '*') {
      i = skipBlockComment(text, i, pg);
    } else if (ch === '$') {
      if (i > 0 && isIdentChar(text.charCodeAt(i - 1))) {
        i++;
        continue;
      }
      let j = i + 1;
      while (j < n && isDigit(text.charCodeAt(j))) j++;
      if (j > i + 1) {
        const before = text.slice(partStart, i);
        parts.push(before);
        slots.push(Number(text.slice(i + 1, j)) - 1);
        const trimmed = before.trimEnd();
        const last = trimmed[trimmed.length - 1] ?? '';
        afterOperator.push(OPERATOR_CHARS.has(last));
        inBracket.push(last === '[');
        afterWord.push(/[A-Za-z_]/.test(last));
        if (text.startsWith(SQUASH_COMMENT, j)) j += SQUASH_COMMENT.length;
        partStart = j;
        i = j;
        continue;
      }
      if (pg) {
        DOLLAR_TAG.lastIndex = i;
        const m = DOLLAR_TAG.exec(text);
        if (m) {
          const close = text.indexOf(m[0], i + m[0].length);
          i = close < 0 ? n : close + m[0].length;
          continue;
        }
      }
      i++;
    } else {
      i += c >= 0xd800 && c <= 0xdbff ? 2 : 1;
    }
  }
  parts.push(text.slice(partStart));
  return { parts, slots, afterOperator, inBracket, afterWord };
}

const LONE_SURROGATE =
  /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function unsupported(message: string): StbError {
  return new StbError('STB_RENDER_VALUE_UNSUPPORTED', message);
}

function checkText(s: string, dialect: Dialect): void {
  if (LONE_SURROGATE.test(s))
    throw unsupported(
      `[stb] [generator] A ${dialect} string parameter holds an unpaired UTF-16 surrogate, which is not valid UTF-8 and cannot be sent to the server. Fix the value in the model or trace.`,
    );
}

/** PostgreSQL string literal; correct under `standard_conforming_strings` on and off. */
function pgString(s: string): string {
  if (s.includes('\0'))
    throw unsupported(
      '[stb] [generator] A PostgreSQL string parameter contains a NUL character (U+0000), which PostgreSQL text cannot store. Remove NUL from the value, or pass binary data as a `bytes` parameter.',
    );
  checkText(s, 'postgres');
  const quoted = s.replaceAll("'", "''");
  if (!s.includes('\\')) return `'${quoted}'`;
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

function numberLiteral(v: number, dialect: Dialect): string {
  if (Number.isFinite(v)) return Object.is(v, -0) ? '0' : String(v);
  if (dialect === 'postgres')
    return Number.isNaN(v)
      ? "'NaN'::float8"
      : v > 0
        ? "'Infinity'::float8"
        : "'-Infinity'::float8";
  throw unsupported(
    `[stb] [generator] MySQL has no literal for the float value ${String(v)}. Use a finite value.`,
  );
}

/** Where a value is written: what precedes it decides a few spellings. */
interface LiteralContext {
  options: RenderSqlOptions;
  inBracket: boolean;
  afterWord: boolean;
}

/** Renders one parameter value as a literal of the dialect. */
function literal(v: ParamValue, ctx: LiteralContext): string {
  const { dialect } = ctx.options;
  switch (v.t) {
    case 'int':
    case 'float':
      return numberLiteral(v.v, dialect);
    case 'bigint':
      if (!/^-?\d+$/.test(v.v))
        throw unsupported(
          '[stb] [generator] A `bigint` parameter is not a decimal integer. Fix the value in the model or trace.',
        );
      return v.v;
    case 'bool':
      return v.v ? 'TRUE' : 'FALSE';
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
        ? pgString(v.v)
        : mysqlString(v.v, ctx.options.noBackslashEscapes === true);
    case 'bytes': {
      if (!/^[0-9a-f]*$/i.test(v.v) || v.v.length % 2 !== 0)
        throw unsupported(
          '[stb] [generator] A `bytes` parameter is not an even-length hex string. Fix the value in the model or trace.',
        );
      const hex = v.v.toLowerCase();
      if (dialect !== 'postgres') return `X'${hex}'`;
      // E'' keeps `\\x` independent of standard_conforming_strings; after a type name
      // (`BYTEA $1`) the literal must stay untyped.
      const text = `E'\\\\x${hex}'`;
      return ctx.afterWord ? text : `${text}::bytea`;
    }
    case 'list':
      return listLiteral(v.v, ctx);
  }
}

/**
 * A squashed list: `a, b, c` inside the template's own parentheses (`IN ($1 /*, ... *\/)`), rows
 * of a multi-row VALUES as `a, b), (c, d` (the template holds the outer parentheses), and inside
 * brackets nested lists as `[a, b], [c, d]` (a 2-D array). An empty list renders as `NULL` (`IN (NULL)` matches
 * nothing, like an empty list).
 */
function listLiteral(
  values: readonly ParamValue[],
  ctx: LiteralContext,
): string {
  if (values.length === 0) return 'NULL';
  const nested = values.every((x) => x.t === 'list');
  if (!nested) return values.map((x) => literal(x, ctx)).join(', ');
  const rows = values.map((row) =>
    (row as { v: ParamValue[] }).v.map((x) => literal(x, ctx)).join(', '),
  );
  return ctx.inBracket ? `[${rows.join('], [')}]` : rows.join('), (');
}

function toOptions(dialect: Dialect | RenderSqlOptions): RenderSqlOptions {
  return typeof dialect === 'string' ? { dialect } : dialect;
}

/**
 * Renders a compiled template with its parameters.
 * @throws StbError `STB_TRACE_SCHEMA_MISMATCH` when a placeholder has no parameter,
 * `STB_RENDER_VALUE_UNSUPPORTED` for values the dialect cannot express (NUL in PostgreSQL text).
 */
export function renderCompiled(
  compiled: CompiledTemplate,
  params: readonly ParamValue[],
  dialect: Dialect | RenderSqlOptions,
): string {
  const options = toOptions(dialect);
  const { parts, slots } = compiled;
  let out = parts[0] as string;
  for (let k = 0; k < slots.length; k++) {
    const slot = slots[k] as number;
    const value = params[slot];
    if (value === undefined)
      throw new StbError(
        'STB_TRACE_SCHEMA_MISMATCH',
        `[stb] [generator] The template has placeholder \`$${slot + 1}\` but the event has ${params.length} parameter(s). Regenerate the trace from a matching model.`,
        { details: { placeholder: slot + 1, params: params.length } },
      );
    let text = literal(value, {
      options,
      inBracket: compiled.inBracket[k] === true,
      afterWord: compiled.afterWord[k] === true,
    });
    // `x - $1` with -5 must not become the comment `x --5`.
    if (text.startsWith('-') && compiled.afterOperator[k] === true) {
      const before = out[out.length - 1];
      if (before !== ' ' && before !== '(') text = ` ${text}`;
    }
    out += text + (parts[k + 1] as string);
  }
  return out;
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
  const options = toOptions(dialect);
  return renderCompiled(
    compileTemplate(templateText, options.dialect),
    params,
    options,
  );
}

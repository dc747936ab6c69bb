import type { Dialect } from '../schema';

/**
 * A `$n` template split around its placeholders: `parts[0] $slots[0] parts[1] … parts[n]`, so
 * `parts.length === slots.length + 1`. Placeholders inside string literals, quoted identifiers,
 * dollar quotes and comments are part of the text. Made by {@link compileSqlTemplate}.
 */
export interface SqlTemplate {
  readonly parts: readonly string[];
  /** 0-based parameter index of each placeholder, in text order (`$2` is 1). */
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
 * Splits a template's text around its `$n` placeholders. The text is tokenised by the rules of
 * `dialect`, so a `$n` inside a string literal, a quoted identifier, a PostgreSQL dollar quote or
 * a comment stays text:
 *
 * - PostgreSQL: `'…'` (backslash escapes only in `E'…'`), `"…"`, `$tag$…$tag$`, `--` comments,
 *   nested `/* … *\/` comments.
 * - MySQL/MariaDB: `'…'` and `"…"` with backslash escapes, `` `…` ``, `#` comments, `--` comments
 *   only when followed by whitespace, non-nested `/* … *\/` comments.
 *
 * A `$` preceded by an identifier character (`col$1`) is part of the identifier. The extractor's
 * squashed-list marker ` /*, ... *\/` right after a placeholder is dropped. Render the result with
 * {@link renderSqlTemplate}; compile once per template and reuse it.
 * @example
 * compileSqlTemplate("SELECT '$1', a FROM t WHERE b = $2 AND c = $1", 'postgres');
 * // { parts: ["SELECT '$1', a FROM t WHERE b = ", ' AND c = ', ''], slots: [1, 0], … }
 */
export function compileSqlTemplate(
  text: string,
  dialect: Dialect,
): SqlTemplate {
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

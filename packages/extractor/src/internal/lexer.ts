import type { Dialect } from '@stb/core';
import { KEYWORDS, OPERAND_KEYWORDS } from './keywords';

/**
 * A small, fast SQL lexer for PostgreSQL and MySQL text. It never fails: anything it does not
 * recognise becomes a one-character `OTHER` token, and unterminated strings, quoted identifiers
 * and comments run to the end of the text (flagged `truncated`).
 *
 * It finds the constants (numbers, strings, booleans, NULL, negative numbers where PostgreSQL's
 * grammar folds the sign), the bind parameters (`$n`, `?`), squashable lists (`IN (…)`,
 * `ARRAY[…]`, multi-row `VALUES`), and a cheap cache key: the token string with every constant
 * replaced by a class marker, comments and whitespace dropped and lists collapsed.
 */

export const T_WORD = 0;
export const T_QIDENT = 1;
export const T_STRING = 2;
export const T_NUMBER = 3;
export const T_PARAM = 4;
export const T_QPARAM = 5;
export const T_OP = 6;
export const T_LPAREN = 7;
export const T_RPAREN = 8;
export const T_COMMA = 9;
export const T_SEMI = 10;
export const T_DOT = 11;
export const T_CAST = 12;
export const T_LBRACK = 13;
export const T_RBRACK = 14;
export const T_SQUASH = 15;
export const T_OTHER = 16;

/** Constant classes (what the literal looks like, not its SQL type). */
export const CK_NUMBER = 0;
export const CK_HEXNUM = 1;
export const CK_STRING = 2; // '…' (PG standard strings; N'…')
export const CK_ESTRING = 3; // E'…' (PG) and every MySQL string: backslash escapes
export const CK_BITS = 4; // B'…'
export const CK_XSTRING = 5; // X'…'
export const CK_DOLLAR = 6; // $tag$…$tag$
export const CK_USTRING = 7; // U&'…'
export const CK_TRUE = 8;
export const CK_FALSE = 9;
export const CK_NULL = 10;

/** Cache-key markers of the constant classes. */
const CONST_MARKERS = Array.from(
  { length: 11 },
  (_, ck) => '\u0001' + String.fromCharCode(65 + ck),
);

export const I_CONST = 0;
export const I_BIND = 1;
export const I_QPARAM = 2;
export const I_LIST = 3;
export const I_ROWS = 4;

/** A constant or parameter occurrence, or a squashed list of them. */
export interface Item {
  k: number;
  /** Token index (first token of a list). */
  tok: number;
  /** Last token index (inclusive). */
  tokEnd: number;
  /** Constant class (I_CONST) */
  ck: number;
  /** Source range of a constant (I_CONST). */
  start: number;
  end: number;
  /** `$n` number (I_BIND) or 1-based `?` ordinal (I_QPARAM). */
  n: number;
  /** Elements of I_LIST; rows (as I_LIST items) of I_ROWS. */
  elems: Item[] | undefined;
}

/** Tokens of one statement (a snapshot: owns its arrays). */
export interface Tokens {
  sql: string;
  count: number;
  type: Uint8Array;
  sub: Uint8Array;
  start: Int32Array;
  end: Int32Array;
}

/** The result of lexing one statement. */
export interface Lexed {
  key: string;
  items: Item[];
  /** Highest `$n` seen (0 when none). */
  maxBind: number;
  /** True when an unterminated string, identifier or comment ran to the end. */
  truncated: boolean;
  /** Whether any squashed list contains bind parameters. */
  bindInList: boolean;
}

const C = {
  TAB: 9,
  LF: 10,
  CR: 13,
  SPACE: 32,
  BANG: 33,
  DQUOTE: 34,
  HASH: 35,
  DOLLAR: 36,
  AMP: 38,
  QUOTE: 39,
  LPAREN: 40,
  RPAREN: 41,
  STAR: 42,
  PLUS: 43,
  COMMA: 44,
  MINUS: 45,
  DOT: 46,
  SLASH: 47,
  D0: 48,
  D9: 57,
  COLON: 58,
  SEMI: 59,
  QMARK: 63,
  AT: 64,
  LBRACK: 91,
  BSLASH: 92,
  RBRACK: 93,
  UNDERSCORE: 95,
  BACKTICK: 96,
} as const;

function isDigit(c: number): boolean {
  return c >= C.D0 && c <= C.D9;
}
function isIdentStart(c: number): boolean {
  return (
    (c >= 97 && c <= 122) ||
    (c >= 65 && c <= 90) ||
    c === C.UNDERSCORE ||
    c >= 128
  );
}
function isIdentPart(c: number): boolean {
  return isIdentStart(c) || isDigit(c) || c === C.DOLLAR;
}
function isSpace(c: number): boolean {
  return (
    c === C.SPACE ||
    c === C.LF ||
    c === C.TAB ||
    c === C.CR ||
    c === 12 ||
    c === 11
  );
}
/** A membership table of ASCII characters. */
function charSet(chars: string): Uint8Array {
  const t = new Uint8Array(128);
  for (const ch of chars) t[ch.charCodeAt(0)] = 1;
  return t;
}
const PG_OP = charSet('+-*/<>=~!@#%^&|`?');
/** MySQL operator characters (`@`, `#`, `?` and `` ` `` mean other things there). */
const MY_OP = charSet('+-*/<>=~!%^&|');
/** Characters that let a multi-character PostgreSQL operator end in `+` or `-`. */
const PG_OP_SPECIAL = charSet('~!@#%^&|`?');

/** PostgreSQL operator characters. */
function isPgOpChar(c: number): boolean {
  return c < 128 && PG_OP[c] === 1;
}
function isMyOpChar(c: number): boolean {
  return c < 128 && MY_OP[c] === 1;
}
function isPgOpSpecial(c: number): boolean {
  return c < 128 && PG_OP_SPECIAL[c] === 1;
}

/** One-character tokens by character code (-1: not punctuation). */
const PUNCTUATION = new Int8Array(128).fill(-1);
PUNCTUATION[C.LPAREN] = T_LPAREN;
PUNCTUATION[C.RPAREN] = T_RPAREN;
PUNCTUATION[C.COMMA] = T_COMMA;
PUNCTUATION[C.SEMI] = T_SEMI;
PUNCTUATION[C.LBRACK] = T_LBRACK;
PUNCTUATION[C.RBRACK] = T_RBRACK;
PUNCTUATION[C.DOT] = T_DOT;

/**
 * `sql.slice(s, e).toUpperCase() === upper` for an upper-case ASCII `upper`, without making the
 * strings when the word is ASCII (Unicode case mapping can turn other letters into ASCII ones).
 */
// eslint-disable-next-line max-params -- a hot path: a string and a span, no object per call
function upperIs(sql: string, s: number, e: number, upper: string): boolean {
  if (e - s === upper.length) {
    let ascii = true;
    for (let k = 0; k < upper.length; k++) {
      let c = sql.charCodeAt(s + k);
      if (c >= 128) {
        ascii = false;
        break;
      }
      if (c >= 97 && c <= 122) c -= 32;
      if (c !== upper.charCodeAt(k)) return false;
    }
    if (ascii) return true;
  }
  for (let k = s; k < e; k++)
    if (sql.charCodeAt(k) >= 128)
      return sql.slice(s, e).toUpperCase() === upper;
  return false;
}

/** A reusable lexer (its token buffers grow and are reused between statements). */
export class Lexer {
  readonly dialect: Dialect;
  #type = new Uint8Array(256);
  #sub = new Uint8Array(256);
  #start = new Int32Array(256);
  #end = new Int32Array(256);
  #count = 0;
  #sql = '';
  #truncated = false;
  #comments = false;

  constructor(dialect: Dialect) {
    this.dialect = dialect;
  }

  /** Appends a token; `kind` is the token type with the constant class in bits 8+. */
  #push(kind: number, start: number, end: number): void {
    const type = kind & 255;
    const sub = kind >> 8;
    if (this.#count === this.#type.length) {
      const n = this.#count * 2;
      const t = new Uint8Array(n);
      t.set(this.#type);
      this.#type = t;
      const s = new Uint8Array(n);
      s.set(this.#sub);
      this.#sub = s;
      const a = new Int32Array(n);
      a.set(this.#start);
      this.#start = a;
      const b = new Int32Array(n);
      b.set(this.#end);
      this.#end = b;
    }
    const i = this.#count++;
    this.#type[i] = type;
    this.#sub[i] = sub;
    this.#start[i] = start;
    this.#end[i] = end;
  }

  /** True when the previous token ends an operand (so a following `-` is binary). */
  #prevIsOperand(): boolean {
    if (this.#count === 0) return false;
    const i = this.#count - 1;
    const t = this.#type[i];
    if (t === T_WORD) {
      const w = this.#sql.slice(this.#start[i], this.#end[i]).toUpperCase();
      return !KEYWORDS.has(w) || OPERAND_KEYWORDS.has(w);
    }
    return (
      t === T_QIDENT ||
      t === T_STRING ||
      t === T_NUMBER ||
      t === T_PARAM ||
      t === T_QPARAM ||
      t === T_RPAREN ||
      t === T_RBRACK
    );
  }

  /** Reads a quoted run from `i` (just after the opening quote); returns the index after the close. */
  #quoted(i: number, quote: number, backslash: boolean): number {
    const sql = this.#sql;
    const n = sql.length;
    while (i < n) {
      const c = sql.charCodeAt(i);
      if (backslash && c === C.BSLASH) {
        i += 2;
        continue;
      }
      if (c === quote) {
        if (sql.charCodeAt(i + 1) === quote) {
          i += 2;
          continue;
        }
        return i + 1;
      }
      i++;
    }
    this.#truncated = true;
    return n;
  }

  #number(sql: string, i: number): number {
    const n = sql.length;
    if (
      sql.charCodeAt(i) === C.D0 &&
      (sql.charCodeAt(i + 1) | 32) === 120 /* x */ &&
      i + 2 < n
    ) {
      let j = i + 2;
      while (j < n && /[0-9a-fA-F_]/.test(sql[j] as string)) j++;
      return -j; // negative: hex
    }
    while (
      i < n &&
      (isDigit(sql.charCodeAt(i)) || sql.charCodeAt(i) === C.UNDERSCORE)
    )
      i++;
    if (sql.charCodeAt(i) === C.DOT && sql.charCodeAt(i + 1) !== C.DOT) {
      i++;
      while (i < n && isDigit(sql.charCodeAt(i))) i++;
    }
    const e = sql.charCodeAt(i) | 32;
    if (e === 101) {
      let j = i + 1;
      const s = sql.charCodeAt(j);
      if (s === C.PLUS || s === C.MINUS) j++;
      if (isDigit(sql.charCodeAt(j))) {
        while (j < n && isDigit(sql.charCodeAt(j))) j++;
        i = j;
      }
    }
    return i;
  }

  /** Tokenises `sql` into the internal buffers. */
  // Long function: the lexer's single scanning loop over the characters; each token kind is one
  // branch of it, kept in one loop on the extraction hot path (no call per character).
  tokenize(sql: string): void {
    this.#sql = sql;
    this.#count = 0;
    this.#truncated = false;
    this.#comments = false;
    const pg = this.dialect === 'postgres';
    const n = sql.length;
    let i = 0;
    while (i < n) {
      const c = sql.charCodeAt(i);
      if (isSpace(c)) {
        i++;
        continue;
      }
      const start = i;
      // comments
      if (c === C.MINUS && sql.charCodeAt(i + 1) === C.MINUS) {
        const d = sql.charCodeAt(i + 2);
        if (pg || i + 2 >= n || isSpace(d)) {
          this.#comments = true;
          const j = sql.indexOf('\n', i);
          i = j < 0 ? n : j + 1;
          continue;
        }
      }
      if (c === C.HASH && !pg) {
        this.#comments = true;
        const j = sql.indexOf('\n', i);
        i = j < 0 ? n : j + 1;
        continue;
      }
      if (c === C.SLASH && sql.charCodeAt(i + 1) === C.STAR) {
        this.#comments = true;
        let depth = 1;
        let j = i + 2;
        while (j < n && depth > 0) {
          const d = sql.charCodeAt(j);
          if (d === C.STAR && sql.charCodeAt(j + 1) === C.SLASH) {
            depth--;
            j += 2;
          } else if (pg && d === C.SLASH && sql.charCodeAt(j + 1) === C.STAR) {
            depth++;
            j += 2;
          } else j++;
        }
        if (depth > 0) this.#truncated = true;
        if (sql.slice(i + 2, j - 2).trim() === ', ...')
          this.#push(T_SQUASH, i, j);
        i = j;
        continue;
      }
      if (isIdentStart(c)) {
        // string prefixes: E'…', B'…', X'…', N'…', U&'…'
        const next = sql.charCodeAt(i + 1);
        if (next === C.QUOTE) {
          const l = c | 32;
          let ck = -1;
          if (l === 101 && pg) ck = CK_ESTRING;
          else if (l === 98) ck = CK_BITS;
          else if (l === 120) ck = CK_XSTRING;
          else if (l === 110) ck = pg ? CK_STRING : CK_ESTRING;
          if (ck >= 0) {
            i = this.#quoted(i + 2, C.QUOTE, ck === CK_ESTRING);
            this.#push(T_STRING | (ck << 8), start, i);
            continue;
          }
        }
        if (
          pg &&
          (c | 32) === 117 &&
          next === C.AMP &&
          sql.charCodeAt(i + 2) === C.QUOTE
        ) {
          i = this.#quoted(i + 3, C.QUOTE, false);
          this.#push(T_STRING | (CK_USTRING << 8), start, i);
          continue;
        }
        i++;
        while (i < n && isIdentPart(sql.charCodeAt(i))) i++;
        this.#push(T_WORD, start, i);
        continue;
      }
      if (isDigit(c) || (c === C.DOT && isDigit(sql.charCodeAt(i + 1)))) {
        const j = this.#number(sql, i);
        if (j < 0) {
          i = -j;
          this.#push(T_NUMBER | (CK_HEXNUM << 8), start, i);
        } else {
          i = j;
          this.#push(T_NUMBER | (CK_NUMBER << 8), start, i);
        }
        continue;
      }
      const punct = c < 128 ? (PUNCTUATION[c] as number) : -1;
      if (punct >= 0) {
        this.#push(punct, i, ++i);
        continue;
      }
      switch (c) {
        case C.QUOTE:
          i = this.#quoted(i + 1, C.QUOTE, !pg);
          this.#push(T_STRING | ((pg ? CK_STRING : CK_ESTRING) << 8), start, i);
          continue;
        case C.DQUOTE:
          i = this.#quoted(i + 1, C.DQUOTE, !pg);
          if (pg) this.#push(T_QIDENT, start, i);
          else this.#push(T_STRING | (CK_ESTRING << 8), start, i);
          continue;
        case C.BACKTICK:
          if (!pg) {
            i = this.#quoted(i + 1, C.BACKTICK, false);
            this.#push(T_QIDENT, start, i);
            continue;
          }
          break;
        case C.COLON:
          if (sql.charCodeAt(i + 1) === C.COLON) {
            this.#push(T_CAST, i, (i += 2));
            continue;
          }
          if (!pg && sql.charCodeAt(i + 1) === 61) {
            this.#push(T_OP, i, (i += 2));
            continue;
          }
          break;
        case C.DOLLAR:
          if (pg) {
            if (isDigit(sql.charCodeAt(i + 1))) {
              i++;
              while (i < n && isDigit(sql.charCodeAt(i))) i++;
              this.#push(T_PARAM, start, i);
              continue;
            }
            // dollar quoting: $tag$ … $tag$
            let j = i + 1;
            while (
              j < n &&
              isIdentPart(sql.charCodeAt(j)) &&
              sql.charCodeAt(j) !== C.DOLLAR
            )
              j++;
            if (sql.charCodeAt(j) === C.DOLLAR) {
              const tag = sql.slice(i, j + 1);
              const close = sql.indexOf(tag, j + 1);
              if (close < 0) {
                this.#truncated = true;
                i = n;
              } else i = close + tag.length;
              this.#push(T_STRING | (CK_DOLLAR << 8), start, i);
              continue;
            }
          }
          break;
        case C.QMARK:
          if (!pg) {
            this.#push(T_QPARAM, i, ++i);
            continue;
          }
          break;
        case C.AT:
          if (
            !pg &&
            (isIdentStart(sql.charCodeAt(i + 1)) ||
              sql.charCodeAt(i + 1) === C.AT)
          ) {
            i++;
            while (
              i < n &&
              (isIdentPart(sql.charCodeAt(i)) ||
                sql.charCodeAt(i) === C.AT ||
                sql.charCodeAt(i) === C.DOT)
            )
              i++;
            this.#push(T_WORD, start, i);
            continue;
          }
          break;
        default:
          break;
      }
      const opChar = pg ? isPgOpChar : isMyOpChar;
      if (opChar(c)) {
        let j = i + 1;
        while (j < n) {
          const d = sql.charCodeAt(j);
          if (!opChar(d)) break;
          if (d === C.MINUS && sql.charCodeAt(j + 1) === C.MINUS) break;
          if (d === C.SLASH && sql.charCodeAt(j + 1) === C.STAR) break;
          j++;
        }
        if (j - i > 1) {
          let special = false;
          for (let k = i; k < j; k++)
            if (isPgOpSpecial(sql.charCodeAt(k))) special = true;
          if (!special)
            while (j - i > 1) {
              const last = sql.charCodeAt(j - 1);
              if (last === C.PLUS || last === C.MINUS) j--;
              else break;
            }
        }
        // a unary minus directly before a number folds into the constant (as PostgreSQL's grammar
        // does); MariaDB's digests keep the sign as a token, so MySQL text keeps it too
        if (
          pg &&
          j - i === 1 &&
          c === C.MINUS &&
          (isDigit(sql.charCodeAt(j)) ||
            (sql.charCodeAt(j) === C.DOT && isDigit(sql.charCodeAt(j + 1)))) &&
          !this.#prevIsOperand()
        ) {
          const k = this.#number(sql, j);
          if (k > 0) {
            i = k;
            this.#push(T_NUMBER | (CK_NUMBER << 8), start, i);
            continue;
          }
        }
        this.#push(T_OP, i, j);
        i = j;
        continue;
      }
      // anything else (binary junk, stray backslashes …)
      this.#push(T_OTHER, i, ++i);
    }
  }

  /** Copies the current tokens out of the reusable buffers. */
  snapshot(): Tokens {
    const n = this.#count;
    return {
      sql: this.#sql,
      count: n,
      type: this.#type.slice(0, n),
      sub: this.#sub.slice(0, n),
      start: this.#start.slice(0, n),
      end: this.#end.slice(0, n),
    };
  }

  #upperWordIs(i: number, w: string): boolean {
    const s = this.#start[i] as number;
    const e = this.#end[i] as number;
    if (e - s !== w.length) return false;
    return upperIs(this.#sql, s, e, w);
  }

  /** Which constant class a token is, or -1 when it is not a constant. */
  #constClass(i: number): number {
    const t = this.#type[i];
    if (t === T_NUMBER || t === T_STRING) return this.#sub[i] as number;
    if (t !== T_WORD) return -1;
    const len = (this.#end[i] as number) - (this.#start[i] as number);
    if (len !== 4 && len !== 5) return -1;
    const sql = this.#sql;
    const s = this.#start[i] as number;
    const e = this.#end[i] as number;
    const ck = upperIs(sql, s, e, 'NULL')
      ? CK_NULL
      : upperIs(sql, s, e, 'TRUE')
        ? CK_TRUE
        : upperIs(sql, s, e, 'FALSE')
          ? CK_FALSE
          : -1;
    if (ck < 0) return -1;
    // `IS [NOT] NULL`, `IS TRUE`, `NOT NULL` are syntax, not constants
    if (i > 0 && this.#type[i - 1] === T_WORD) {
      if (this.#upperWordIs(i - 1, 'IS') || this.#upperWordIs(i - 1, 'NOT'))
        return -1;
    }
    return ck;
  }

  /** An element of a squashable list at token `i`: returns the item, or undefined. */
  #element(i: number, qOrd: { n: number }): Item | undefined {
    const t = this.#type[i];
    if (t === T_PARAM) {
      const n = Number(
        this.#sql.slice((this.#start[i] as number) + 1, this.#end[i]),
      );
      return {
        k: I_BIND,
        tok: i,
        tokEnd: i,
        ck: 0,
        start: 0,
        end: 0,
        n,
        elems: undefined,
      };
    }
    if (t === T_QPARAM) {
      return {
        k: I_QPARAM,
        tok: i,
        tokEnd: i,
        ck: 0,
        start: 0,
        end: 0,
        n: ++qOrd.n,
        elems: undefined,
      };
    }
    const ck = this.#constClass(i);
    if (ck < 0) return undefined;
    return {
      k: I_CONST,
      tok: i,
      tokEnd: i,
      ck,
      start: this.#start[i] as number,
      end: this.#end[i] as number,
      n: 0,
      elems: undefined,
    };
  }

  /**
   * Parses `( elem [, elem]* )` from `i` (at the `(` or `[`). Returns the list item with `tokEnd`
   * at the closing token, or undefined when the parenthesis holds anything but constants and
   * parameters.
   */
  #list(i: number, close: number, qOrd: { n: number }): Item | undefined {
    const elems: Item[] = [];
    const saved = qOrd.n;
    let j = i + 1;
    for (;;) {
      const e = this.#element(j, qOrd);
      if (!e) {
        qOrd.n = saved;
        return undefined;
      }
      elems.push(e);
      j++;
      if (this.#type[j] === T_SQUASH) j++;
      const t = this.#type[j];
      if (j >= this.#count) {
        qOrd.n = saved;
        return undefined;
      }
      if (t === close) break;
      if (t !== T_COMMA) {
        qOrd.n = saved;
        return undefined;
      }
      j++;
    }
    return {
      k: I_LIST,
      tok: i,
      tokEnd: j,
      ck: 0,
      start: 0,
      end: 0,
      n: 0,
      elems,
    };
  }

  /** Per token: 1 when the lexer sees a constant there (for aligning with libpg-query's normaliser). */
  constMask(): Uint8Array {
    const m = new Uint8Array(this.#count);
    for (let i = 0; i < this.#count; i++)
      m[i] = this.#constClass(i) >= 0 ? 1 : 0;
    return m;
  }

  /** Lexes a statement: tokens, items and the cache key. */
  lex(sql: string, squashLists: boolean): Lexed {
    this.tokenize(sql);
    const count = this.#count;
    const type = this.#type;
    const starts = this.#start;
    const ends = this.#end;
    const items: Item[] = [];
    const qOrd = { n: 0 };
    // The key is the text with constants replaced by class markers. Without comments it is made
    // of the raw gaps between constants (cheap); with comments, of the tokens (so varying comment
    // text never makes new keys).
    const byTokens = this.#comments;
    let key = byTokens ? '\u0004' : '';
    let gap = 0;
    const mark = (first: number, last: number, marker: string): void => {
      if (byTokens) key += marker;
      else {
        key += sql.slice(gap, starts[first]) + marker;
        gap = ends[last] as number;
      }
    };
    let maxBind = 0;
    let bindInList = false;
    for (let i = 0; i < count; i++) {
      const t = type[i];
      if (t === T_WORD) {
        const s = starts[i] as number;
        const e = ends[i] as number;
        const len = e - s;
        if (squashLists && (len === 2 || len === 5 || len === 6)) {
          let item: Item | undefined;
          if (type[i + 1] === T_LPAREN && upperIs(sql, s, e, 'IN')) {
            item = this.#list(i + 1, T_RPAREN, qOrd);
          } else if (type[i + 1] === T_LBRACK && upperIs(sql, s, e, 'ARRAY')) {
            item = this.#list(i + 1, T_RBRACK, qOrd);
          } else if (type[i + 1] === T_LPAREN && upperIs(sql, s, e, 'VALUES')) {
            item = this.#rows(i + 1, qOrd);
          }
          if (item) {
            for (const el of item.elems as Item[]) {
              if (
                el.k === I_BIND ||
                (el.k === I_LIST && el.elems?.some((x) => x.k === I_BIND))
              ) {
                bindInList = true;
              }
            }
            if (byTokens) key += sql.slice(s, e).toUpperCase() + ' ';
            mark(
              item.tok,
              item.tokEnd,
              item.k === I_ROWS ? '\u0003' : '\u0002',
            );
            items.push(item);
            i = item.tokEnd;
            continue;
          }
        }
        const ck = len === 4 || len === 5 ? this.#constClass(i) : -1;
        if (ck >= 0) {
          items.push({
            k: I_CONST,
            tok: i,
            tokEnd: i,
            ck,
            start: s,
            end: e,
            n: 0,
            elems: undefined,
          });
          mark(i, i, CONST_MARKERS[ck] as string);
          continue;
        }
        if (byTokens) key += sql.slice(s, e) + ' ';
        continue;
      }
      if (t === T_NUMBER || t === T_STRING) {
        const ck = this.#sub[i] as number;
        items.push({
          k: I_CONST,
          tok: i,
          tokEnd: i,
          ck,
          start: starts[i] as number,
          end: ends[i] as number,
          n: 0,
          elems: undefined,
        });
        mark(i, i, CONST_MARKERS[ck] as string);
        continue;
      }
      if (t === T_PARAM) {
        const e = this.#element(i, qOrd) as Item;
        if (e.n > maxBind) maxBind = e.n;
        items.push(e);
      } else if (t === T_QPARAM) {
        items.push(this.#element(i, qOrd) as Item);
      } else if (t === T_SEMI && i === count - 1) continue; // a trailing `;` is not part of the shape
      if (byTokens) key += sql.slice(starts[i], ends[i]) + ' ';
    }
    if (!byTokens) key += gap === 0 ? sql : sql.slice(gap);
    return { key, items, maxBind, truncated: this.#truncated, bindInList };
  }

  /** Multi-row VALUES: two or more rows (or one row marked squashed) of constants, all the same width. */
  #rows(i: number, qOrd: { n: number }): Item | undefined {
    const saved = qOrd.n;
    const rows: Item[] = [];
    let j = i;
    let marked = false;
    for (;;) {
      if (this.#type[j] !== T_LPAREN) break;
      const row = this.#list(j, T_RPAREN, qOrd);
      if (!row) break;
      const els = row.elems as Item[];
      if (rows.length > 0 && els.length !== (rows[0]?.elems as Item[]).length)
        break;
      for (let k = row.tok; k <= row.tokEnd; k++)
        if (this.#type[k] === T_SQUASH) marked = true;
      rows.push(row);
      j = row.tokEnd + 1;
      if (this.#type[j] === T_SQUASH) {
        marked = true;
        j++;
      }
      if (this.#type[j] !== T_COMMA || this.#type[j + 1] !== T_LPAREN) break;
      j++;
    }
    if (rows.length >= 2 || (rows.length === 1 && marked)) {
      const last = rows[rows.length - 1] as Item;
      let end = last.tokEnd;
      if (this.#type[end + 1] === T_SQUASH) end++;
      return {
        k: I_ROWS,
        tok: i,
        tokEnd: end,
        ck: 0,
        start: 0,
        end: 0,
        n: 0,
        elems: rows,
      };
    }
    qOrd.n = saved;
    return undefined;
  }
}

/** True when the word (upper case) is a keyword written in upper case in normalised text. */
export function isKeyword(upper: string): boolean {
  return KEYWORDS.has(upper);
}

import type { ParamType, ParamValue } from '@stb/core';
import {
  CK_BITS,
  CK_DOLLAR,
  CK_ESTRING,
  CK_FALSE,
  CK_HEXNUM,
  CK_NULL,
  CK_NUMBER,
  CK_STRING,
  CK_TRUE,
  CK_USTRING,
  CK_XSTRING,
} from './lexer';

/** A type hint from the SQL around a constant (`DATE '…'`, `'…'::uuid`), or '' when none. */
export type Hint = '' | Exclude<ParamType, 'list' | 'null'>;

const INT_RE = /^[+-]?\d+$/;
const FLOAT_RE = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const UUID_RE =
  /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;
const TIMESTAMP_RE =
  /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}(:?\d{2})?|Z| ?UTC)?$/;

/** Maps a SQL type name (as written after `::` or `AS`) to a parameter type hint. */
export function hintOfTypeName(name: string): Hint {
  switch (name.toLowerCase()) {
    case 'date':
      return 'date';
    case 'timestamp':
    case 'timestamptz':
    case 'datetime':
      return 'timestamp';
    case 'uuid':
      return 'uuid';
    case 'json':
    case 'jsonb':
      return 'json';
    case 'bool':
    case 'boolean':
      return 'bool';
    case 'int':
    case 'int2':
    case 'int4':
    case 'int8':
    case 'integer':
    case 'smallint':
    case 'bigint':
    case 'signed':
    case 'unsigned':
      return 'int';
    case 'numeric':
    case 'decimal':
    case 'float':
    case 'float4':
    case 'float8':
    case 'real':
    case 'double':
      return 'float';
    case 'bytea':
      return 'bytes';
    case 'text':
    case 'varchar':
    case 'char':
    case 'character':
    case 'name':
      return 'string';
    default:
      return '';
  }
}

/** An integer literal: `int` when it is a safe integer, else `bigint` (decimal digits as text). */
function integer(text: string): ParamValue {
  const v = Number(text);
  if (Number.isSafeInteger(v)) return { t: 'int', v: v === 0 ? 0 : v };
  let s = text.startsWith('+') ? text.slice(1) : text;
  const neg = s.startsWith('-');
  if (neg) s = s.slice(1);
  s = s.replace(/^0+(?=\d)/, '');
  return { t: 'bigint', v: neg ? `-${s}` : s };
}

/** Applies a type hint to a string value; falls back to `string` when the text does not fit. */
function typedString(v: string, hint: Hint): ParamValue {
  switch (hint) {
    case 'date':
      return { t: 'date', v };
    case 'timestamp':
      return { t: 'timestamp', v };
    case 'uuid':
      return UUID_RE.test(v)
        ? { t: 'uuid', v: v.toLowerCase() }
        : { t: 'string', v };
    case 'json':
      return { t: 'json', v };
    case 'bool': {
      const l = v.trim().toLowerCase();
      if (['t', 'true', 'y', 'yes', 'on', '1'].includes(l))
        return { t: 'bool', v: true };
      if (['f', 'false', 'n', 'no', 'off', '0'].includes(l))
        return { t: 'bool', v: false };
      return { t: 'string', v };
    }
    case 'int':
      return INT_RE.test(v.trim()) ? integer(v.trim()) : { t: 'string', v };
    case 'float':
    case 'bigint':
      if (INT_RE.test(v.trim())) return integer(v.trim());
      return FLOAT_RE.test(v.trim())
        ? { t: 'float', v: Number(v) }
        : { t: 'string', v };
    case 'bytes': {
      const m = /^\\x([0-9a-fA-F]*)$/.exec(v);
      return m
        ? { t: 'bytes', v: (m[1] as string).toLowerCase() }
        : { t: 'string', v };
    }
    default:
      return { t: 'string', v };
  }
}

/** Removes quotes and escapes from a standard SQL string body (`''` → `'`). */
function unquoteStandard(body: string, quote: string): string {
  return body.includes(quote) ? body.split(quote + quote).join(quote) : body;
}

const BACKSLASH_ESCAPES: Record<string, string> = {
  n: '\n',
  t: '\t',
  r: '\r',
  b: '\b',
  f: '\f',
  '0': '\0',
  Z: '\x1a',
};

/** Unescapes a backslash-escaped string body (PostgreSQL E'…', MySQL strings). */
function unquoteBackslash(body: string, quote: string): string {
  if (!body.includes('\\') && !body.includes(quote)) return body;
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i] as string;
    if (c === '\\' && i + 1 < body.length) {
      const d = body[++i] as string;
      out += BACKSLASH_ESCAPES[d] ?? d;
    } else if (c === quote && body[i + 1] === quote) {
      out += quote;
      i++;
    } else out += c;
  }
  return out;
}

/** The body of a quoted literal between its quotes (tolerates a missing closing quote). */
function body(raw: string, prefixLength: number): string {
  const quote = raw[prefixLength] as string;
  const end =
    raw.length > prefixLength + 1 && raw.endsWith(quote)
      ? raw.length - 1
      : raw.length;
  return raw.slice(prefixLength + 1, end);
}

/** Converts a constant as written in SQL to a typed value. */
export function constValue(raw: string, ck: number, hint: Hint): ParamValue {
  switch (ck) {
    case CK_NUMBER: {
      const text = raw.includes('_') ? raw.replace(/_/g, '') : raw;
      if (INT_RE.test(text))
        return hint === 'string' ? { t: 'string', v: text } : integer(text);
      const v = Number(text);
      return Number.isFinite(v) ? { t: 'float', v } : { t: 'string', v: text };
    }
    case CK_HEXNUM:
      return { t: 'bytes', v: raw.slice(2).replace(/_/g, '').toLowerCase() };
    case CK_STRING: {
      const pre = raw[0] === "'" ? 0 : 1;
      return typedString(unquoteStandard(body(raw, pre), "'"), hint);
    }
    case CK_ESTRING: {
      const pre = raw[0] === "'" || raw[0] === '"' ? 0 : 1;
      const q = raw[pre] as string;
      return typedString(unquoteBackslash(body(raw, pre), q), hint);
    }
    case CK_BITS:
      return { t: 'string', v: body(raw, 1) };
    case CK_XSTRING:
      return { t: 'bytes', v: body(raw, 1).toLowerCase() };
    case CK_DOLLAR: {
      const tagEnd = raw.indexOf('$', 1);
      const tag = raw.slice(0, tagEnd + 1);
      const end =
        raw.length >= 2 * tag.length && raw.endsWith(tag)
          ? raw.length - tag.length
          : raw.length;
      return typedString(raw.slice(tag.length, end), hint);
    }
    case CK_USTRING:
      return { t: 'string', v: unquoteStandard(body(raw, 2), "'") };
    case CK_TRUE:
      return { t: 'bool', v: true };
    case CK_FALSE:
      return { t: 'bool', v: false };
    case CK_NULL:
      return { t: 'null', v: null };
    default:
      return { t: 'string', v: raw };
  }
}

/**
 * Infers a typed value from a bound parameter's text as a log shows it (`$1 = '42'`): int, bigint,
 * float, bool (`true`/`false` only), uuid, date, timestamp, json (objects and arrays), else string.
 * A type hint from the SQL (`$1::date`) wins.
 */
export function boundValue(text: string | null, hint: Hint): ParamValue {
  if (text === null) return { t: 'null', v: null };
  if (hint !== '' && hint !== 'string') return typedString(text, hint);
  if (hint === 'string') return { t: 'string', v: text };
  if (INT_RE.test(text)) return integer(text);
  if (FLOAT_RE.test(text) && /\d/.test(text)) {
    const v = Number(text);
    if (Number.isFinite(v)) return { t: 'float', v };
  }
  if (text === 'true') return { t: 'bool', v: true };
  if (text === 'false') return { t: 'bool', v: false };
  if (text.length === 36 && UUID_RE.test(text))
    return { t: 'uuid', v: text.toLowerCase() };
  if (text.length === 10 && DATE_RE.test(text)) return { t: 'date', v: text };
  if (TIMESTAMP_RE.test(text)) return { t: 'timestamp', v: text };
  const c = text[0];
  if ((c === '{' || c === '[') && text.length > 1) {
    try {
      JSON.parse(text);
      return { t: 'json', v: text };
    } catch {
      // not JSON
    }
  }
  return { t: 'string', v: text };
}

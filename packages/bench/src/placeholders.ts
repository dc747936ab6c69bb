import { StbError } from '@stb/core';
import type { ParamValue } from '@stb/core';
import type { BoundQuery } from './bound-query';

/** How a driver writes parameter placeholders: `$1` (pg, PGlite) or `?` (mysql2, better-sqlite3). */
export type PlaceholderStyle = 'dollar' | 'question';

/** A template's text split at its `$n` placeholders: `parts.length === refs.length + 1`. */
export interface ParsedTemplate {
  readonly parts: readonly string[];
  /** 0-based parameter index of each placeholder, in text order. */
  readonly refs: readonly number[];
}

/** A statement translated for one driver. */
export interface TranslatedQuery {
  /** Text in the driver's placeholder style (or with literals inlined, for `inline`). */
  readonly text: string;
  /** Driver values in placeholder order. */
  readonly values: unknown[];
  /** Stable key of the text's shape (template id, plus list lengths when lists were expanded): use it to name prepared statements. */
  readonly key: string;
}

const isIdentChar = (c: number): boolean =>
  (c >= 48 && c <= 57) ||
  (c >= 65 && c <= 90) ||
  (c >= 97 && c <= 122) ||
  c === 95 ||
  c === 36 ||
  c > 127;

/**
 * Splits SQL at its `$n` placeholders, skipping string literals, quoted identifiers, comments and
 * dollar-quoted bodies.
 */
export function parseTemplateText(text: string): ParsedTemplate {
  const parts: string[] = [];
  const refs: number[] = [];
  let last = 0;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 39 || c === 34 || c === 96) {
      // '…', "…", `…` with doubled-quote escapes (and backslash escapes inside '…')
      i++;
      while (i < n) {
        const d = text.charCodeAt(i);
        if (d === 92 && c === 39) {
          i += 2;
          continue;
        }
        i++;
        if (d === c) {
          if (text.charCodeAt(i) === c) i++;
          else break;
        }
      }
    } else if (c === 45 && text.charCodeAt(i + 1) === 45) {
      const e = text.indexOf('\n', i);
      i = e < 0 ? n : e + 1;
    } else if (c === 47 && text.charCodeAt(i + 1) === 42) {
      const e = text.indexOf('*/', i + 2);
      i = e < 0 ? n : e + 2;
    } else if (c === 36) {
      const prev = i > 0 ? text.charCodeAt(i - 1) : 32;
      let j = i + 1;
      while (j < n && text.charCodeAt(j) >= 48 && text.charCodeAt(j) <= 57) j++;
      if (j > i + 1 && !isIdentChar(prev)) {
        parts.push(text.slice(last, i));
        refs.push(Number(text.slice(i + 1, j)) - 1);
        last = j;
        i = j;
        continue;
      }
      // dollar quote $tag$…$tag$
      const m = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(text.slice(i, i + 64));
      if (m && !isIdentChar(prev)) {
        const tag = m[0];
        const e = text.indexOf(tag, i + tag.length);
        i = e < 0 ? n : e + tag.length;
      } else i++;
    } else i++;
  }
  parts.push(text.slice(last));
  return { parts, refs };
}

/** Renders a parameter as an SQL literal, for the simple (text) protocol. */
export function renderLiteral(
  p: ParamValue,
  dialect: 'postgres' | 'mysql' | 'sqlite',
): string {
  switch (p.t) {
    case 'null':
      return 'NULL';
    case 'int':
    case 'float':
      return Number.isFinite(p.v) ? String(p.v) : `'${String(p.v)}'`;
    case 'bigint':
      return p.v;
    case 'bool':
      if (dialect === 'sqlite') return p.v ? '1' : '0';
      return p.v ? 'TRUE' : 'FALSE';
    case 'bytes':
      return dialect === 'postgres' ? `'\\x${p.v}'::bytea` : `X'${p.v}'`;
    case 'list':
      return p.v.map((e) => renderLiteral(e, dialect)).join(', ');
    default: {
      let s = p.v.replace(/'/g, "''");
      if (dialect === 'mysql') s = s.replace(/\\/g, '\\\\');
      return `'${s}'`;
    }
  }
}

/** Options of {@link createPlaceholderTranslator}. */
export interface PlaceholderTranslatorOptions {
  style: PlaceholderStyle;
  /** Converts a (non-list) parameter to the driver's value. */
  convert: (p: ParamValue) => unknown;
}

/** Translates bound queries for one driver, caching the translated text per template. */
export interface PlaceholderTranslator {
  translate(query: BoundQuery): TranslatedQuery;
  /** Text with every parameter inlined as a literal (simple protocol). */
  inline(query: BoundQuery, dialect: 'postgres' | 'mysql' | 'sqlite'): string;
}

interface CacheEntry {
  parsed: ParsedTemplate;
  /** Translated text when no parameter is a list. */
  text: string;
  /** True when the placeholders are exactly $1..$n in order (values need no reordering). */
  identity: boolean;
  /** Translations of list-expanded shapes, by list-length signature. */
  shapes: Map<string, { text: string; key: string }> | undefined;
}

/**
 * Creates a translator from `$n` templates to a driver's placeholder style. The translated text
 * is cached per template (and per list shape), so the hot path only maps values.
 */
export function createPlaceholderTranslator(
  options: PlaceholderTranslatorOptions,
): PlaceholderTranslator {
  const { style, convert } = options;
  const cache = new Map<string, CacheEntry>();

  const entryFor = (q: BoundQuery): CacheEntry => {
    let e = cache.get(q.templateId);
    if (e === undefined) {
      const parsed = parseTemplateText(q.text);
      let text = parsed.parts[0] ?? '';
      let identity = style === 'dollar';
      for (let k = 0; k < parsed.refs.length; k++) {
        const r = parsed.refs[k] ?? 0;
        if (style === 'dollar') text += `$${r + 1}`;
        else {
          text += '?';
          if (r !== k) identity = false;
        }
        text += parsed.parts[k + 1] ?? '';
      }
      if (style === 'question' && parsed.refs.every((r, k) => r === k))
        identity = true;
      e = { parsed, text, identity, shapes: undefined };
      cache.set(q.templateId, e);
    }
    return e;
  };

  const expand = (q: BoundQuery, e: CacheEntry): TranslatedQuery => {
    const sig = q.params
      .map((p) => (p.t === 'list' ? String(p.v.length) : '.'))
      .join(',');
    const key = `${q.templateId}_${sig.replace(/[^0-9]+/g, '_')}`;
    // index of the first expanded placeholder of each parameter, for `$n` renumbering
    const base: number[] = [];
    let next = 1;
    for (const p of q.params) {
      base.push(next);
      next += p.t === 'list' ? Math.max(p.v.length, 1) : 1;
    }
    e.shapes ??= new Map();
    let shape = e.shapes.get(sig);
    const { parts, refs } = e.parsed;
    if (shape === undefined) {
      let text = parts[0] ?? '';
      for (let k = 0; k < refs.length; k++) {
        const r = refs[k] ?? 0;
        const p = q.params[r];
        const width = p?.t === 'list' ? Math.max(p.v.length, 1) : 1;
        const marks: string[] = [];
        for (let w = 0; w < width; w++)
          marks.push(style === 'dollar' ? `$${(base[r] ?? 1) + w}` : '?');
        text += marks.join(', ') + (parts[k + 1] ?? '');
      }
      shape = { text, key };
      e.shapes.set(sig, shape);
    }
    const flat: unknown[] = [];
    const pushParam = (p: ParamValue | undefined): void => {
      if (p === undefined) flat.push(null);
      else if (p.t === 'list') {
        if (p.v.length === 0) flat.push(null);
        for (const x of p.v) flat.push(convert(x));
      } else flat.push(convert(p));
    };
    if (style === 'dollar') for (const p of q.params) pushParam(p);
    else for (const r of refs) pushParam(q.params[r]);
    return { text: shape.text, values: flat, key: shape.key };
  };

  return {
    translate(q) {
      const e = entryFor(q);
      const params = q.params;
      const n = params.length;
      for (let i = 0; i < n; i++)
        if (params[i]?.t === 'list') return expand(q, e);
      let values: unknown[];
      if (e.identity) {
        values = new Array<unknown>(n);
        for (let i = 0; i < n; i++)
          values[i] = convert(params[i] as ParamValue);
      } else {
        const refs = e.parsed.refs;
        values = new Array<unknown>(refs.length);
        for (let k = 0; k < refs.length; k++) {
          const p = params[refs[k] ?? 0];
          if (p === undefined)
            throw new StbError(
              'STB_TRACE_SCHEMA_MISMATCH',
              `[stb] [bench] Template ${q.templateId} uses $${(refs[k] ?? 0) + 1} but the event has ${n} parameters. Check the trace.`,
              { details: { templateId: q.templateId } },
            );
          values[k] = convert(p);
        }
      }
      return { text: e.text, values, key: q.templateId };
    },
    inline(q, dialect) {
      const { parts, refs } = entryFor(q).parsed;
      let text = parts[0] ?? '';
      for (let k = 0; k < refs.length; k++) {
        const p = q.params[refs[k] ?? 0];
        text +=
          (p === undefined ? 'NULL' : renderLiteral(p, dialect)) +
          (parts[k + 1] ?? '');
      }
      return text;
    },
  };
}

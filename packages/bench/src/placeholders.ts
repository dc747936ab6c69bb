import { compileSqlTemplate, renderSqlTemplate, StbError } from '@stb/core';
import type {
  Dialect,
  ParamValue,
  SqlLiteralDialect,
  SqlLiteralOptions,
  SqlTemplate,
} from '@stb/core';
import type { BoundQuery } from './bound-query';

/** How a driver writes parameter placeholders: `$1` (pg, PGlite) or `?` (mysql2, better-sqlite3). */
export type PlaceholderStyle = 'dollar' | 'question';

/** A statement translated for one driver. */
export interface TranslatedQuery {
  /** Text in the driver's placeholder style (or with literals inlined, for `inline`). */
  readonly text: string;
  /** Driver values in placeholder order. */
  readonly values: unknown[];
  /** Stable key of the text's shape (template id, plus list lengths when lists were expanded): use it to name prepared statements. */
  readonly key: string;
}

/** Options of {@link createPlaceholderTranslator}. */
export interface PlaceholderTranslatorOptions {
  style: PlaceholderStyle;
  /** Converts a (non-list) parameter to the driver's value. */
  convert: (p: ParamValue) => unknown;
  /**
   * SQL dialect the template texts are written in, which decides how they are tokenised (quotes,
   * comments, dollar quotes; see core's `compileSqlTemplate`). Default `postgres`; MySQL-family
   * drivers pass `mysql`.
   */
  dialect?: Dialect;
}

/** Translates bound queries for one driver, caching the translated text per template. */
export interface PlaceholderTranslator {
  translate(query: BoundQuery): TranslatedQuery;
  /**
   * Text with every parameter inlined as a literal (simple protocol), written by core's
   * `renderSqlLiteral` for the target's dialect or literal options.
   * @throws StbError `STB_RENDER_VALUE_UNSUPPORTED` for a value the target cannot express,
   * `STB_TRACE_SCHEMA_MISMATCH` when a placeholder has no parameter.
   */
  inline(
    query: BoundQuery,
    target: SqlLiteralDialect | SqlLiteralOptions,
  ): string;
}

interface CacheEntry {
  parsed: SqlTemplate;
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
  const dialect = options.dialect ?? 'postgres';
  const cache = new Map<string, CacheEntry>();

  const entryFor = (q: BoundQuery): CacheEntry => {
    let e = cache.get(q.templateId);
    if (e === undefined) {
      const parsed = compileSqlTemplate(q.text, dialect);
      let text = parsed.parts[0] ?? '';
      let identity = style === 'dollar';
      for (let k = 0; k < parsed.slots.length; k++) {
        const r = parsed.slots[k] ?? 0;
        if (style === 'dollar') text += `$${r + 1}`;
        else {
          text += '?';
          if (r !== k) identity = false;
        }
        text += parsed.parts[k + 1] ?? '';
      }
      if (style === 'question' && parsed.slots.every((r, k) => r === k))
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
    const { parts, slots: refs } = e.parsed;
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
        const refs = e.parsed.slots;
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
    inline(q, target) {
      return renderSqlTemplate(entryFor(q).parsed, q.params, target);
    },
  };
}

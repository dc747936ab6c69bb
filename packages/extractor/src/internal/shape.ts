import {
  computeTemplateId,
  type Dialect,
  type ParamValue,
  type QueryTemplate,
  type QueryType,
  type TemplatePath,
  type TemplateSlot,
} from '@stb/core';
import { TCL_BEGIN, TCL_END, classifyTokens, lexerTables } from './classify';
import {
  I_BIND,
  I_CONST,
  I_LIST,
  I_QPARAM,
  I_ROWS,
  isKeyword,
  type Lexer,
  T_CAST,
  T_COMMA,
  T_DOT,
  T_LBRACK,
  T_LPAREN,
  T_OTHER,
  T_PARAM,
  T_QIDENT,
  T_RBRACK,
  T_RPAREN,
  T_SEMI,
  T_SQUASH,
  T_WORD,
  type Item,
  type Lexed,
  type Tokens,
} from './lexer';
import { analyzeMysql } from './mysql-analyze';
import {
  analyzePg,
  isPostgresParserReady,
  pgNormalize,
  type AstInfo,
  type SlotInfo,
} from './pg-analyze';
import { boundValue, constValue, hintOfTypeName, type Hint } from './values';

/** Everything known about one cache key (one statement shape). */
export interface Shape {
  /** Slot index per item, or -1 for a constant kept literal (ORDER BY positions, type modifiers). */
  slotOf: Int32Array;
  /** Type hint per item. */
  hint: Hint[];
  nSlots: number;
  /** Template text split around kept literals (one part when there are none). */
  parts: string[];
  /** Item indexes of the kept literals, between `parts`. */
  kept: number[];
  queryType: QueryType;
  tcl: number;
  /** The statement writes (the `writes` fact of its template record). */
  writes: boolean;
  tables: string[];
  path: TemplatePath;
  fingerprint: string | undefined;
  /** Slot column/context by slot index. */
  info: AstInfo['slots'];
  /** The template when the shape has no kept literals. */
  template: QueryTemplate | undefined;
  /** Templates by text when it has kept literals. */
  byText: Map<string, QueryTemplate> | undefined;
}

/** Bound parameter values by `$n`. */
export type Bound = (string | null)[] | undefined;

/** A statement's text and its bound values. */
export interface StatementSource {
  sql: string;
  bound: Bound;
}

/**
 * A flat copy of `s` that holds no other string alive. Strings built by `+` are ropes (a 32-byte
 * node per piece: about 55 per shape over its key and texts, in a heap snapshot) and `slice`
 * keeps its whole source (the log's text) alive; V8 keeps both forms as long as the result
 * lives. What a shape and its template keep for the rest of the run (one per cache key, up to
 * 100 000) is copied through this once, on the slow path (issue 19; docs/extraction.md, "Memory
 * bound").
 */
export function ownString(s: string): string {
  return JSON.parse(JSON.stringify(s)) as string;
}

function ownSlots(slots: AstInfo['slots']): AstInfo['slots'] {
  const out: AstInfo['slots'] = new Map();
  for (const [k, v] of slots) {
    const info: SlotInfo = {
      column: v.column === null ? null : ownString(v.column),
    };
    if (v.context !== undefined) info.context = ownString(v.context);
    out.set(k, info);
  }
  return out;
}

function tokenText(tok: Tokens, i: number): string {
  return tok.sql.slice(tok.start[i], tok.end[i]);
}

/** ASCII lower-casing, as PostgreSQL folds unquoted identifiers. */
function asciiLower(s: string): string {
  return /[A-Z]/.test(s) ? s.replace(/[A-Z]+/g, (m) => m.toLowerCase()) : s;
}

/** Type hint for the item at token `i` from the tokens around it. */
function hintAt(tok: Tokens, first: number, last: number): Hint {
  if (first > 0 && tok.type[first - 1] === T_WORD) {
    const w = tokenText(tok, first - 1).toUpperCase();
    if (w === 'DATE') return 'date';
    if (w === 'TIMESTAMP' || w === 'TIMESTAMPTZ') return 'timestamp';
    if (w === 'INTERVAL' || w === 'TIME') return 'string';
  }
  if (tok.type[last + 1] === T_CAST && tok.type[last + 2] === T_WORD)
    return hintOfTypeName(tokenText(tok, last + 2));
  // CAST(x AS type)
  if (
    first > 1 &&
    tok.type[first - 1] === T_LPAREN &&
    tok.type[first - 2] === T_WORD &&
    tokenText(tok, first - 2).toUpperCase() === 'CAST' &&
    tok.type[last + 1] === T_WORD &&
    tokenText(tok, last + 1).toUpperCase() === 'AS' &&
    tok.type[last + 2] === T_WORD
  )
    return hintOfTypeName(tokenText(tok, last + 2));
  return '';
}

const NO_SPACE_BEFORE = new Set([
  T_RPAREN,
  T_RBRACK,
  T_COMMA,
  T_DOT,
  T_CAST,
  T_SEMI,
]);
const NO_SPACE_AFTER = new Set([T_LPAREN, T_LBRACK, T_DOT, T_CAST]);

/**
 * Renders normalised text: keywords upper case, PostgreSQL identifiers folded to lower case,
 * comments dropped, one space between tokens (none inside parentheses, before commas, around
 * `.` and `::`, before a function's `(`), constants as `$n`, squashed lists as `$n /*, ... *\/`.
 * Returns the text split around kept literals.
 */
function render(
  tok: Tokens,
  items: Item[],
  ctx: { slotOf: Int32Array; dialect: Dialect },
): { parts: string[]; kept: number[] } {
  const parts: string[] = [];
  const kept: number[] = [];
  let out = '';
  let prevType = -1;
  let prevKeyword = false;
  let prevPrevWord = '';
  let prevWord = '';
  let itemIdx = 0;
  const emit = (text: string, type: number, keyword: boolean): void => {
    if (prevType !== -1) {
      let space = !(NO_SPACE_AFTER.has(prevType) || NO_SPACE_BEFORE.has(type));
      if (
        type === T_LPAREN &&
        (prevType === T_WORD || prevType === T_QIDENT) &&
        !prevKeyword
      )
        space = prevPrevWord === 'INTO' || prevPrevWord === 'TABLE';
      if (
        type === T_LBRACK &&
        (prevType !== T_WORD || prevKeyword) &&
        prevType !== T_RPAREN
      )
        space = false;
      if (space) out += ' ';
    }
    out += text;
    prevType = type;
    prevKeyword = keyword;
    prevPrevWord = prevWord;
    prevWord = type === T_WORD ? text.toUpperCase() : '';
  };
  for (let i = 0; i < tok.count; i++) {
    const item = items[itemIdx];
    if (item && item.tok === i) {
      const slot = ctx.slotOf[itemIdx] as number;
      if (item.k === I_CONST) {
        if (slot < 0) {
          if (prevType !== -1 && !NO_SPACE_AFTER.has(prevType)) out += ' ';
          parts.push(out);
          out = '';
          kept.push(itemIdx);
          prevType = T_OTHER;
          prevKeyword = false;
        } else emit(`$${slot + 1}`, T_PARAM, false);
      } else if (item.k === I_BIND || item.k === I_QPARAM) {
        emit(`$${slot + 1}`, T_PARAM, false);
      } else if (item.k === I_LIST) {
        const open = tok.type[i] === T_LBRACK;
        emit(open ? '[' : '(', open ? T_LBRACK : T_LPAREN, false);
        emit(`$${slot + 1} /*, ... */`, T_PARAM, false);
        emit(open ? ']' : ')', open ? T_RBRACK : T_RPAREN, false);
      } else if (item.k === I_ROWS) {
        emit('(', T_LPAREN, false);
        emit(`$${slot + 1} /*, ... */`, T_PARAM, false);
        emit(')', T_RPAREN, false);
      }
      i = item.tokEnd;
      itemIdx++;
      continue;
    }
    const t = tok.type[i] as number;
    if (t === T_SQUASH) continue;
    if (t === T_SEMI && i === tok.count - 1) continue;
    const text = tokenText(tok, i);
    if (t === T_WORD) {
      const upper = text.toUpperCase();
      if (isKeyword(upper)) emit(upper, t, true);
      else emit(ctx.dialect === 'postgres' ? asciiLower(text) : text, t, false);
    } else emit(text, t, false);
  }
  parts.push(out);
  return { parts, kept };
}

/** Assigns slot numbers to items (see docs/extraction.md, "Slot numbering"). */
function number(
  lexed: Lexed,
  keep: (it: Item) => boolean,
): { slotOf: Int32Array; nSlots: number } {
  const { items } = lexed;
  const slotOf = new Int32Array(items.length);
  let next = 0;
  if (!lexed.bindInList) {
    next = lexed.maxBind;
    items.forEach((it, k) => {
      if (it.k === I_BIND) slotOf[k] = it.n - 1;
      else if (it.k === I_CONST && keep(it)) slotOf[k] = -1;
      else slotOf[k] = next++;
    });
  } else {
    const bindSlot = new Map<number, number>();
    items.forEach((it, k) => {
      if (it.k === I_BIND) {
        let s = bindSlot.get(it.n);
        if (s === undefined) {
          s = next++;
          bindSlot.set(it.n, s);
        }
        slotOf[k] = s;
      } else if (it.k === I_CONST && keep(it)) slotOf[k] = -1;
      else slotOf[k] = next++;
    });
  }
  return { slotOf, nSlots: next };
}

/**
 * Which constant tokens PostgreSQL's own normaliser keeps as literals (ORDER BY/GROUP BY positions,
 * type modifiers …), found by aligning libpg-query's normalised text with ours token by token.
 * Returns undefined when libpg-query cannot parse the statement.
 */
function keptByAlignment(
  sql: string,
  ctx: { tok: Tokens; mask: Uint8Array; aux: Lexer },
): Uint8Array | undefined {
  const { tok, mask, aux } = ctx;
  const norm = pgNormalize(sql);
  if (norm === undefined) return undefined;
  aux.tokenize(norm);
  const other = aux.snapshot();
  const keep = new Uint8Array(tok.count);
  if (other.count !== tok.count) return keep; // cannot align: every constant is a slot
  for (let i = 0; i < tok.count; i++) {
    if (mask[i]) {
      if (other.type[i] !== T_PARAM) keep[i] = 1;
    } else if (other.type[i] !== tok.type[i]) return new Uint8Array(tok.count);
  }
  return keep;
}

/**
 * Statements longer than this (UTF-16 units) give libpg-query's normaliser their long lists cut
 * to the first element ({@link pgKeptTokens}). A 44 MB bulk INSERT of a million rows, normalised
 * whole, took 27.6 s and 2 428 MiB of peak RSS in `stb parse`; cut, 12.2 s and 1 725 MiB (the
 * parse tree of the whole statement lived in libpg-query's WebAssembly memory, which only grows).
 */
export const CUT_LISTS_ABOVE = 1 << 20;

/** The tokens `[fromTok, toTok]` and source `[from, to)` of a list's elements after its first. */
interface ListCut {
  fromTok: number;
  toTok: number;
  from: number;
  to: number;
}

/**
 * The cuts of the top-level lists and VALUES rows of more than one element: every element after
 * the first goes, with the commas before it (a VALUES list's squash marker too).
 */
function listCuts(items: readonly Item[], tok: Tokens): ListCut[] {
  const cuts: ListCut[] = [];
  for (const it of items) {
    const els = it.elems;
    if ((it.k !== I_ROWS && it.k !== I_LIST) || !els || els.length < 2)
      continue;
    const first = (els[0] as Item).tokEnd;
    // A list keeps its closing bracket; VALUES rows end with the last row.
    const last = it.k === I_LIST ? it.tokEnd - 1 : it.tokEnd;
    if (last <= first) continue;
    cuts.push({
      fromTok: first + 1,
      toTok: last,
      from: tok.end[first] as number,
      to: tok.end[last] as number,
    });
  }
  return cuts;
}

/**
 * {@link keptByAlignment}, on a statement cut short when it is long: each long list of constants
 * keeps its first element only, and the kept tokens are mapped back (a list's elements are one
 * slot whatever the normaliser keeps in them). PostgreSQL's normaliser treats each constant
 * outside those lists the same in the cut statement, so the result is the same as the whole
 * statement's; when the cut text does not lex to the expected tokens, the whole statement is
 * normalised.
 */
function pgKeptTokens(
  sql: string,
  ctx: {
    tok: Tokens;
    mask: Uint8Array;
    aux: Lexer;
    items: readonly Item[];
    cutListsAbove: number;
  },
): Uint8Array | undefined {
  const { tok, aux } = ctx;
  const cuts = sql.length > ctx.cutListsAbove ? listCuts(ctx.items, tok) : [];
  if (cuts.length === 0) return keptByAlignment(sql, ctx);
  let text = '';
  let from = 0;
  let removed = 0;
  for (const c of cuts) {
    text += sql.slice(from, c.from);
    from = c.to;
    removed += c.toTok - c.fromTok + 1;
  }
  text += sql.slice(from);
  aux.tokenize(text);
  const short = aux.snapshot();
  if (short.count !== tok.count - removed) return keptByAlignment(sql, ctx);
  const kept = keptByAlignment(text, {
    tok: short,
    mask: aux.constMask(),
    aux,
  });
  if (kept === undefined) return undefined;
  const keep = new Uint8Array(tok.count);
  let r = 0;
  let c = 0;
  for (let i = 0; i < tok.count; i++) {
    const cut = cuts[c];
    if (cut !== undefined && i >= cut.fromTok) {
      if (i === cut.toTok) c++;
      continue;
    }
    // The cut text must be the statement's tokens less the lists' tails.
    if (short.type[r] !== tok.type[i]) return keptByAlignment(sql, ctx);
    keep[i] = kept[r++] as number;
  }
  return keep;
}

/** Builds the shape of a freshly lexed statement (the slow path: once per cache key). */
export function buildShape(
  lexed: Lexed,
  ctx: {
    sql: string;
    lexer: Lexer;
    aux: Lexer;
    /** See {@link CUT_LISTS_ABOVE} (the default). */
    cutListsAbove?: number | undefined;
  },
): Shape {
  const { sql, lexer, aux } = ctx;
  const dialect = lexer.dialect;
  const tok = lexer.snapshot();
  const mask = lexer.constMask();
  const { queryType, tcl, writes } = classifyTokens(tok);
  let path: TemplatePath = 'lexer';
  let keepTok: Uint8Array | undefined;
  if (dialect === 'postgres' && isPostgresParserReady() && !lexed.truncated) {
    keepTok = pgKeptTokens(sql, {
      tok,
      mask,
      aux,
      items: lexed.items,
      cutListsAbove: ctx.cutListsAbove ?? CUT_LISTS_ABOVE,
    });
  }
  const { slotOf, nSlots } = number(lexed, (it) => keepTok?.[it.tok] === 1);
  const { parts, kept } = render(tok, lexed.items, { slotOf, dialect });
  const hint = lexed.items.map((it) => hintAt(tok, it.tok, it.tokEnd));
  let text = parts[0] as string;
  for (let k = 0; k < kept.length; k++) {
    const it = lexed.items[kept[k] as number] as Item;
    text += sql.slice(it.start, it.end) + (parts[k + 1] as string);
  }
  let ast: AstInfo | undefined;
  if (dialect === 'postgres') {
    if (keepTok) {
      ast = analyzePg(text);
      if (ast) path = 'libpg-query';
    }
  } else if (!lexed.truncated) {
    ast = analyzeMysql(text);
    if (ast) {
      path = 'node-sql-parser';
      // node-sql-parser numbers `?` by appearance; map to our slots
      const occ = [...text.matchAll(/\$(\d+)/g)].map((m) => Number(m[1]) - 1);
      const info = new Map<
        number,
        { column: string | null; context?: string }
      >();
      for (const [ord, v] of ast.slots) {
        const s = occ[ord];
        if (s !== undefined && !info.has(s)) info.set(s, v);
      }
      ast.slots = info;
    }
  }
  return {
    slotOf,
    hint,
    nSlots,
    parts: parts.map(ownString),
    kept,
    queryType,
    tcl,
    writes,
    tables: (ast?.tables ?? lexerTables(tok, dialect)).map(ownString),
    path,
    fingerprint: ast?.fingerprint,
    info: ast ? ownSlots(ast.slots) : new Map(),
    template: undefined,
    byText: kept.length > 0 ? new Map() : undefined,
  };
}

/** The typed value of one item of a statement. */
function itemValue(src: StatementSource, it: Item, hint: Hint): ParamValue {
  const { sql, bound } = src;
  switch (it.k) {
    case I_CONST:
      return constValue(sql.slice(it.start, it.end), it.ck, hint);
    case I_BIND:
      return boundValue(bound?.[it.n] ?? null, hint);
    case I_QPARAM:
      return boundValue(bound?.[it.n] ?? null, hint);
    default:
      return {
        t: 'list',
        v: (it.elems as Item[]).map((e) =>
          itemValue(src, e, it.k === I_ROWS ? '' : hint),
        ),
      };
  }
}

/** The parameter values of a statement of this shape, by slot. */
export function shapeParams(
  shape: Shape,
  lexed: Lexed,
  src: StatementSource,
): ParamValue[] {
  const params: ParamValue[] = new Array<ParamValue>(shape.nSlots);
  const { items } = lexed;
  for (let k = 0; k < items.length; k++) {
    const s = shape.slotOf[k] as number;
    if (s < 0) continue;
    params[s] = itemValue(src, items[k] as Item, shape.hint[k] as Hint);
  }
  for (let s = 0; s < params.length; s++) params[s] ??= { t: 'null', v: null };
  return params;
}

function slotType(v: ParamValue | undefined): TemplateSlot['type'] {
  return v?.t ?? 'null';
}

/** The template of a statement of this shape (created from this statement on first use). */
export function shapeTemplate(
  shape: Shape,
  ctx: { sql: string; lexed: Lexed; params: ParamValue[]; dialect: Dialect },
): QueryTemplate {
  if (shape.template) return shape.template;
  let text = shape.parts[0] as string;
  if (shape.byText) {
    for (let k = 0; k < shape.kept.length; k++) {
      const it = ctx.lexed.items[shape.kept[k] as number] as Item;
      text += ctx.sql.slice(it.start, it.end) + (shape.parts[k + 1] as string);
    }
    const known = shape.byText.get(text);
    if (known) return known;
    text = ownString(text);
  }
  const slots: TemplateSlot[] = ctx.params.map((v, s) => {
    const info = shape.info.get(s);
    const slot: TemplateSlot = {
      type: slotType(v),
      column: info?.column ?? null,
    };
    if (info?.context !== undefined) slot.context = info.context;
    return slot;
  });
  const template: QueryTemplate = {
    kind: 'template',
    id: computeTemplateId(ctx.dialect, text),
    text,
    queryType: shape.queryType,
    tables: shape.tables,
    slots,
    ...(shape.fingerprint ? { fingerprint: shape.fingerprint } : {}),
    path: shape.path,
    ...(shape.tcl === TCL_BEGIN
      ? { boundary: 'begin' as const }
      : shape.tcl === TCL_END
        ? { boundary: 'end' as const }
        : {}),
    writes: shape.writes,
  };
  if (shape.byText) shape.byText.set(text, template);
  else shape.template = template;
  return template;
}

import type {
  ConnAttributes,
  Dialect,
  ParamValue,
  QueryTemplate,
  QueryType,
  RawQueryEvent,
  TemplatePath,
  TemplateSlot,
  TraceEvent,
} from '@stb/core';
import { TCL_BEGIN, TCL_END } from './internal/classify';
import { Lexer } from './internal/lexer';
import { loadPostgresParser } from './internal/pg-analyze';
import {
  buildShape,
  ownString,
  shapeParams,
  shapeTemplate,
  type Bound,
  type Shape,
} from './internal/shape';

/** Options of {@link createExtractor}. */
export interface ExtractorOptions {
  /** Dialect of every statement; default: each raw event's own `dialect`. */
  dialect?: Dialect;
  /** Collapse IN-lists, `ARRAY[…]` and multi-row VALUES of constants into one list slot (default true). */
  squashLists?: boolean;
  /** Most statement shapes kept in the lexer-key cache before it is cleared (default 100 000). */
  maxCachedShapes?: number;
  /**
   * Statements longer than this (UTF-16 units) give libpg-query's normaliser their long lists cut
   * to the first element, with the same template (default 1 Mi; tests set it low to compare).
   */
  cutListsAbove?: number;
}

/** Where invalid UTF-8 (U+FFFD after decoding) sits in a statement. */
export interface InvalidUtf8Position {
  /** Input file and 1-based line of the U+FFFD character. */
  file: string;
  line: number;
  /** 1-based column within that line. */
  column: number;
  /** 0-based offset within the statement text. */
  offset: number;
}

/** What {@link Extractor.extract} returns for one raw event. */
export interface Extracted {
  event: TraceEvent;
  template: QueryTemplate;
  /** True the first time this extractor returns this template. */
  isNew: boolean;
  /** Transaction boundary: `begin` (BEGIN/START TRANSACTION), `end` (COMMIT/END/ROLLBACK) or none. */
  boundary?: 'begin' | 'end';
  /** Set when the statement holds U+FFFD (invalid UTF-8 in the log). */
  invalidUtf8?: InvalidUtf8Position;
  /**
   * The session's connection attributes, when the log names them and this statement's session
   * differs from the previous statement's (so a session's first statement always has them): the
   * assembly keeps them on the session's first event only.
   */
  conn?: ConnAttributes;
}

/** The normalised form of one statement (see {@link normalizeSql}). */
export interface NormalizedSql {
  /** Normalised text with `$1…$n`. */
  text: string;
  /** Parameter values by slot (`$1` first). */
  params: ParamValue[];
  queryType: QueryType;
  tables: string[];
  slots: TemplateSlot[];
  /** libpg-query fingerprint (PostgreSQL statements it parses). */
  fingerprint?: string;
  path: TemplatePath;
  /** The template id ({@link computeTemplateId} of dialect and text). */
  templateId: string;
}

/** A synchronous per-statement extractor (one per thread). */
export interface Extractor {
  /** Turns one raw event into a trace event and its template. Never throws on bad SQL. */
  extract(raw: RawQueryEvent): Extracted;
  /** Normalises one SQL statement. */
  normalize(sql: string, dialect?: Dialect): NormalizedSql;
  /** Number of distinct statement shapes parsed so far (cache misses). */
  readonly shapesParsed: number;
  /**
   * Starts a new run of events, as a new extractor would (templates new again, no previous
   * statement or start time) but keeping the cache of parsed shapes: one thread extracting byte
   * ranges of a log one after another gives each range's events as if it were extracted alone.
   */
  resetRun(): void;
}

/** Line and column of a character offset, counting from a statement's first line. */
function positionOf(
  sql: string,
  offset: number,
  line: number,
): { line: number; column: number } {
  let l = line;
  let lineStart = 0;
  for (
    let i = sql.indexOf('\n');
    i >= 0 && i < offset;
    i = sql.indexOf('\n', i + 1)
  ) {
    l++;
    lineStart = i + 1;
  }
  return { line: l, column: offset - lineStart + 1 };
}

/** The connection attributes a raw event names, or undefined when it names none. */
function connOf(raw: RawQueryEvent): ConnAttributes | undefined {
  const { user, database, application } = raw;
  if (user === undefined && database === undefined && application === undefined)
    return undefined;
  const c: ConnAttributes = {};
  if (user !== undefined) c.user = user;
  if (database !== undefined) c.database = database;
  if (application !== undefined) c.application = application;
  return c;
}

/**
 * Creates an extractor. Loads libpg-query's WebAssembly module first (once per thread), hence
 * async; `extract` itself is synchronous.
 * @example
 * ```ts
 * const ex = await createExtractor();
 * const { event, template } = ex.extract(raw);
 * template.text; // 'SELECT abalance FROM pgbench_accounts WHERE aid = $1'
 * ```
 */
export async function createExtractor(
  options: ExtractorOptions = {},
): Promise<Extractor> {
  await loadPostgresParser();
  const squash = options.squashLists ?? true;
  const maxShapes = options.maxCachedShapes ?? 100_000;
  const lexers = { postgres: new Lexer('postgres'), mysql: new Lexer('mysql') };
  const aux = { postgres: new Lexer('postgres'), mysql: new Lexer('mysql') };
  const caches = {
    postgres: new Map<string, Shape>(),
    mysql: new Map<string, Shape>(),
  };
  const seen = new Set<string>();
  let misses = 0;
  let lastStartUs = 0;
  let lastSession: string | undefined;

  const run = (sql: string, dialect: Dialect, bound: Bound) => {
    const lexer = lexers[dialect];
    const lexed = lexer.lex(sql, squash);
    const cache = caches[dialect];
    let shape = cache.get(lexed.key);
    if (shape === undefined) {
      misses++;
      if (cache.size >= maxShapes) cache.clear();
      shape = buildShape(lexed, {
        sql,
        lexer,
        aux: aux[dialect],
        cutListsAbove: options.cutListsAbove,
      });
      cache.set(ownString(lexed.key), shape);
    }
    const params = shapeParams(shape, lexed, { sql, bound });
    const template = shapeTemplate(shape, { sql, lexed, params, dialect });
    return { shape, params, template };
  };

  return {
    get shapesParsed() {
      return misses;
    },
    resetRun() {
      seen.clear();
      lastStartUs = 0;
      lastSession = undefined;
    },
    extract(raw: RawQueryEvent): Extracted {
      const dialect = options.dialect ?? raw.dialect;
      let bound: Bound;
      if (raw.params && raw.params.length > 0) {
        bound = [];
        for (const p of raw.params) bound[p.index] = p.value;
      }
      const sql = raw.sql;
      const { shape, params, template } = run(sql, dialect, bound);
      if (raw.startUs !== undefined) lastStartUs = raw.startUs;
      const event: TraceEvent = {
        kind: 'event',
        startUs: raw.startUs ?? lastStartUs,
        sessionId: raw.sessionId,
        templateId: template.id,
        params,
      };
      if (raw.durationUs !== undefined) event.durationUs = raw.durationUs;
      if (raw.error)
        event.outcome =
          raw.error.code === undefined
            ? { ok: false }
            : { ok: false, code: raw.error.code };
      const isNew = !seen.has(template.id);
      if (isNew) seen.add(template.id);
      const out: Extracted = { event, template, isNew };
      if (raw.sessionId !== lastSession) {
        lastSession = raw.sessionId;
        const conn = connOf(raw);
        if (conn) out.conn = conn;
      }
      if (shape.tcl === TCL_BEGIN) out.boundary = 'begin';
      else if (shape.tcl === TCL_END) out.boundary = 'end';
      const bad = sql.indexOf('\uFFFD');
      if (bad >= 0) {
        const pos = positionOf(sql, bad, raw.source.line);
        out.invalidUtf8 = { file: raw.source.file, ...pos, offset: bad };
      }
      return out;
    },
    normalize(
      sql: string,
      dialect: Dialect = options.dialect ?? 'postgres',
    ): NormalizedSql {
      const { params, template } = run(sql, dialect, undefined);
      const out: NormalizedSql = {
        text: template.text,
        params,
        queryType: template.queryType,
        tables: template.tables,
        slots: template.slots,
        path: template.path ?? 'lexer',
        templateId: template.id,
      };
      if (template.fingerprint) out.fingerprint = template.fingerprint;
      return out;
    },
  };
}

let shared: Promise<Extractor> | undefined;

/**
 * Normalises one SQL statement: constants → `$n` in order of appearance, comments and spacing
 * canonical, IN-lists and multi-row VALUES squashed; returns the text, typed parameter values,
 * query type, tables, slots, fingerprint and which path made it.
 * @example
 * ```ts
 * const n = await normalizeSql("SELECT * FROM t WHERE id IN (1, 2, 3)", 'postgres');
 * n.text; // 'SELECT * FROM t WHERE id IN ($1 /*, ... *\/)'
 * ```
 */
export async function normalizeSql(
  sql: string,
  dialect: Dialect,
): Promise<NormalizedSql> {
  shared ??= createExtractor();
  return (await shared).normalize(sql, dialect);
}

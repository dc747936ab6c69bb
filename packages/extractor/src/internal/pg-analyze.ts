import type * as LibPgQuery from 'libpg-query';

type PgQuery = typeof LibPgQuery;

/** Column and context of one slot, from the AST. */
export interface SlotInfo {
  column: string | null;
  context?: string;
}

/** What the AST tells about a normalised statement. */
export interface AstInfo {
  tables: string[];
  /** By 0-based slot index. */
  slots: Map<number, SlotInfo>;
  fingerprint?: string;
}

let loaded: Promise<void> | undefined;
/** libpg-query, once its WebAssembly module is ready. */
let pg: PgQuery | undefined;

/**
 * Loads libpg-query and its WebAssembly module once per thread. Imported here, not at the top:
 * libpg-query compiles its module as soon as it is imported, which cost every thread that
 * imports `@stb/extractor` without extracting (`stb parse --workers 2`'s main and parse threads)
 * about 80 ms of CPU before its real work (import and `loadModule` in a bare process), the main
 * thread's before it starts the others.
 */
export function loadPostgresParser(): Promise<void> {
  loaded ??= importLibpgQuery().then(async (m) => {
    await m.loadModule();
    pg = m;
  });
  return loaded;
}

/**
 * libpg-query's module. From a CommonJS build (the `stb` binary, its threads' bundles) it is
 * required: the package is CommonJS, and `import()` of it goes through Node's ESM loader, which
 * scans it for its named exports first: `stb parse` of a 20 kB log used 0.51 s of CPU against
 * 0.57 s when it imported (medians of 8 alternating pairs, `/usr/bin/time`, 2026-12-06). The ESM
 * build imports it (`module` is CommonJS's own, undefined there).
 */
function importLibpgQuery(): Promise<PgQuery> {
  const cjs = typeof module === 'object' ? module : undefined;
  if (cjs !== undefined)
    return Promise.resolve().then(() => cjs.require('libpg-query') as PgQuery);
  return import('libpg-query');
}

/** True once {@link loadPostgresParser} has resolved. */
export function isPostgresParserReady(): boolean {
  return pg !== undefined;
}

/**
 * libpg-query, loaded. Throws before {@link loadPostgresParser} resolves: called outside the
 * functions' `try`, so a caller that did not wait for it fails instead of reading every statement
 * as one libpg-query cannot parse (callers check {@link isPostgresParserReady} first).
 */
function libpg(): PgQuery {
  if (pg === undefined)
    throw new Error('libpg-query is not loaded: await loadPostgresParser().');
  return pg;
}

/** libpg-query's normaliser (pg_stat_statements' rules on the raw parse tree); undefined when it cannot parse. */
export function pgNormalize(sql: string): string | undefined {
  const q = libpg();
  try {
    return q.normalizeSync(sql);
  } catch {
    return undefined;
  }
}

type Node = Record<string, unknown>;

function isObj(x: unknown): x is Node {
  return typeof x === 'object' && x !== null;
}

function str(n: unknown): string | undefined {
  if (!isObj(n)) return undefined;
  const s = n['String'];
  return isObj(s) && typeof s['sval'] === 'string' ? s['sval'] : undefined;
}

/** The ParamRef number under a node (through casts), or 0. */
function paramNumber(n: unknown): number {
  if (!isObj(n)) return 0;
  const p = n['ParamRef'];
  if (isObj(p)) return typeof p['number'] === 'number' ? p['number'] : 0;
  const c = n['TypeCast'];
  if (isObj(c)) return paramNumber(c['arg']);
  return 0;
}

function rangeVarName(rv: Node): string {
  const rel = typeof rv['relname'] === 'string' ? rv['relname'] : '?';
  return typeof rv['schemaname'] === 'string'
    ? `${rv['schemaname']}.${rel}`
    : rel;
}

interface WalkState {
  tables: string[];
  ctes: Set<string>;
  aliases: Map<string, string>;
  slots: Map<number, SlotInfo>;
}

/** Collects tables, CTE names and aliases. */
function collect(node: unknown, st: WalkState): void {
  if (Array.isArray(node)) {
    for (const x of node) collect(x, st);
    return;
  }
  if (!isObj(node)) return;
  for (const [k, v] of Object.entries(node)) {
    if (
      (k === 'RangeVar' || k === 'relation') &&
      isObj(v) &&
      typeof v['relname'] === 'string'
    ) {
      const name = rangeVarName(v);
      const alias = v['alias'];
      if (isObj(alias) && typeof alias['aliasname'] === 'string')
        st.aliases.set(alias['aliasname'], name);
      if (!st.ctes.has(name) && !st.tables.includes(name)) st.tables.push(name);
      continue;
    }
    if (k === 'CommonTableExpr' && isObj(v) && typeof v['ctename'] === 'string')
      st.ctes.add(v['ctename']);
    collect(v, st);
  }
}

function columnOf(ref: unknown, st: WalkState): string | null {
  if (!isObj(ref)) return null;
  if (isObj(ref['TypeCast'])) return columnOf(ref['TypeCast']['arg'], st);
  const c = ref['ColumnRef'];
  if (!isObj(c) || !Array.isArray(c['fields'])) return null;
  const f = c['fields'].map(str);
  if (f.some((x) => x === undefined)) return null;
  const names = f as string[];
  if (names.length === 1) {
    const only = st.tables.length === 1 ? st.tables[0] : undefined;
    return only ? `${only}.${names[0]}` : (names[0] as string);
  }
  const qual = names.slice(0, -1).join('.');
  const table = st.aliases.get(qual) ?? qual;
  return `${table}.${names[names.length - 1]}`;
}

function setSlot(st: WalkState, n: number, info: SlotInfo): void {
  if (n > 0 && !st.slots.has(n - 1)) st.slots.set(n - 1, info);
}

/** Finds slot contexts. `table` is the written table of the enclosing INSERT/UPDATE. */
function walk(node: unknown, st: WalkState, table: string | undefined): void {
  if (Array.isArray(node)) {
    for (const x of node) walk(x, st, table);
    return;
  }
  if (!isObj(node)) return;
  for (const [k, v] of Object.entries(node)) {
    if (!isObj(v)) {
      if (Array.isArray(v)) walk(v, st, table);
      continue;
    }
    switch (k) {
      case 'A_Expr': {
        const kind = v['kind'];
        const op = Array.isArray(v['name']) ? v['name'].map(str).join('') : '';
        const l = v['lexpr'];
        const r = v['rexpr'];
        if (
          kind === 'AEXPR_IN' ||
          kind === 'AEXPR_BETWEEN' ||
          kind === 'AEXPR_NOT_BETWEEN'
        ) {
          const ctx =
            kind === 'AEXPR_IN' ? (op === '<>' ? 'NOT IN' : 'IN') : 'BETWEEN';
          const col = columnOf(l, st);
          const list = Array.isArray(r)
            ? r
            : isObj(r) && isObj(r['List'])
              ? r['List']['items']
              : [];
          for (const x of Array.isArray(list) ? list : [])
            setSlot(st, paramNumber(x), { column: col, context: ctx });
        } else {
          const ctx =
            kind === 'AEXPR_OP_ANY'
              ? `${op} ANY`
              : kind === 'AEXPR_OP_ALL'
                ? `${op} ALL`
                : kind === 'AEXPR_LIKE'
                  ? 'LIKE'
                  : kind === 'AEXPR_ILIKE'
                    ? 'ILIKE'
                    : op;
          const pl = paramNumber(l);
          const pr = paramNumber(r);
          if (pr) setSlot(st, pr, { column: columnOf(l, st), context: ctx });
          if (pl) setSlot(st, pl, { column: columnOf(r, st), context: ctx });
        }
        break;
      }
      case 'SelectStmt': {
        setSlot(st, paramNumber(v['limitCount']), {
          column: null,
          context: 'LIMIT',
        });
        setSlot(st, paramNumber(v['limitOffset']), {
          column: null,
          context: 'OFFSET',
        });
        break;
      }
      case 'InsertStmt': {
        const rel = isObj(v['relation'])
          ? rangeVarName(v['relation'])
          : undefined;
        const cols = Array.isArray(v['cols'])
          ? v['cols'].map((c) =>
              isObj(c) && isObj(c['ResTarget'])
                ? String(c['ResTarget']['name'])
                : '?',
            )
          : [];
        const sel = isObj(v['selectStmt'])
          ? v['selectStmt']['SelectStmt']
          : undefined;
        if (isObj(sel) && Array.isArray(sel['valuesLists'])) {
          for (const row of sel['valuesLists']) {
            const items =
              isObj(row) && isObj(row['List'])
                ? row['List']['items']
                : undefined;
            if (!Array.isArray(items)) continue;
            items.forEach((x, i) => {
              const col =
                items.length === cols.length && cols[i] !== undefined
                  ? `${rel}.${cols[i]}`
                  : null;
              setSlot(st, paramNumber(x), { column: col, context: 'VALUES' });
            });
          }
        }
        walk(v, st, rel);
        continue;
      }
      case 'UpdateStmt': {
        walk(
          v,
          st,
          isObj(v['relation']) ? rangeVarName(v['relation']) : undefined,
        );
        continue;
      }
      case 'ResTarget': {
        if (table && typeof v['name'] === 'string')
          setSlot(st, paramNumber(v['val']), {
            column: `${table}.${v['name']}`,
            context: 'SET',
          });
        break;
      }
      case 'FuncCall': {
        const fn = Array.isArray(v['funcname'])
          ? v['funcname'].map(str).join('.')
          : '';
        if (Array.isArray(v['args']))
          for (const a of v['args'])
            setSlot(st, paramNumber(a), { column: null, context: `${fn}()` });
        break;
      }
      default:
        break;
    }
    walk(v, st, table);
  }
}

/** Parses normalised PostgreSQL text (with `$n`); undefined when libpg-query rejects it. */
export function analyzePg(text: string): AstInfo | undefined {
  const q = libpg();
  let tree: unknown;
  try {
    tree = q.parseSync(text);
  } catch {
    return undefined;
  }
  const st: WalkState = {
    tables: [],
    ctes: new Set(),
    aliases: new Map(),
    slots: new Map(),
  };
  collect(tree, st);
  st.tables = st.tables.filter((t) => !st.ctes.has(t));
  walk(tree, st, undefined);
  let fingerprint: string | undefined;
  try {
    fingerprint = q.fingerprintSync(text);
  } catch {
    fingerprint = undefined;
  }
  return {
    tables: st.tables,
    slots: st.slots,
    ...(fingerprint ? { fingerprint } : {}),
  };
}

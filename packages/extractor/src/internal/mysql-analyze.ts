import { lazyRequire } from './lazy-require';
import type { AstInfo, SlotInfo } from './pg-analyze';

type Node = Record<string, unknown>;
interface MysqlParser {
  astify(sql: string, opt?: object): unknown;
  tableList(sql: string, opt?: object): string[];
}

let parser: MysqlParser | undefined;

/** node-sql-parser's MySQL build, required at the first MySQL statement (see `lazyRequire`). */
function getParser(): MysqlParser {
  if (parser === undefined) {
    const { Parser } = lazyRequire('node-sql-parser/build/mysql.js') as {
      Parser: new () => MysqlParser;
    };
    parser = new Parser();
  }
  return parser;
}

function isObj(x: unknown): x is Node {
  return typeof x === 'object' && x !== null;
}

function isParam(x: unknown): boolean {
  return isObj(x) && x['type'] === 'origin' && x['value'] === '?';
}

function colName(
  x: unknown,
  alias: Map<string, string>,
  only: string | undefined,
): string | null {
  if (!isObj(x) || x['type'] !== 'column_ref') return null;
  let col = x['column'];
  if (isObj(col) && isObj(col['expr'])) col = col['expr']['value'];
  if (typeof col !== 'string') return null;
  const t = typeof x['table'] === 'string' ? x['table'] : undefined;
  const table = t ? (alias.get(t) ?? t) : only;
  return table ? `${table}.${col}` : col;
}

/**
 * Parses normalised MySQL text with node-sql-parser. Slots are `?` in order of appearance, which
 * node-sql-parser's AST keeps in source order for the statement kinds it reads.
 */
export function analyzeMysql(text: string): AstInfo | undefined {
  const sql = text.replace(/\$\d+/g, '?').replace(/\/\*, \.\.\. \*\//g, '');
  let ast: unknown;
  let tables: string[];
  try {
    const p = getParser();
    ast = p.astify(sql, { database: 'MySQL' });
    tables = p.tableList(sql, { database: 'MySQL' }).map((t) => {
      const [, db, name] = t.split('::');
      return db && db !== 'null' ? `${db}.${name}` : (name as string);
    });
  } catch {
    return undefined;
  }
  tables = [...new Set(tables)];
  const alias = new Map<string, string>();
  const findAliases = (n: unknown): void => {
    if (Array.isArray(n)) n.forEach(findAliases);
    else if (isObj(n)) {
      if (typeof n['table'] === 'string' && typeof n['as'] === 'string')
        alias.set(n['as'], n['table']);
      Object.values(n).forEach(findAliases);
    }
  };
  findAliases(ast);
  const only = tables.length === 1 ? tables[0] : undefined;
  const slots = new Map<number, SlotInfo>();
  let ord = 0;
  const next = (info: SlotInfo): void => {
    slots.set(ord++, info);
  };
  const walk = (n: unknown, ctx: SlotInfo | undefined): void => {
    if (Array.isArray(n)) {
      n.forEach((x) => walk(x, ctx));
      return;
    }
    if (!isObj(n)) return;
    if (isParam(n)) {
      next(ctx ?? { column: null });
      return;
    }
    if (n['type'] === 'binary_expr') {
      const op = String(n['operator']);
      const l = n['left'];
      const r = n['right'];
      if (
        op === 'BETWEEN' ||
        op === 'NOT BETWEEN' ||
        op === 'IN' ||
        op === 'NOT IN'
      ) {
        walk(l, undefined);
        walk(r, { column: colName(l, alias, only), context: op });
        return;
      }
      walk(
        l,
        isParam(l)
          ? { column: colName(r, alias, only), context: op }
          : undefined,
      );
      walk(
        r,
        isParam(r) ? { column: colName(l, alias, only), context: op } : ctx,
      );
      return;
    }
    if (n['type'] === 'update' && Array.isArray(n['set'])) {
      for (const [k, v] of Object.entries(n)) {
        if (k === 'set')
          for (const s of v as Node[])
            walk(s['value'], {
              column: `${only ?? '?'}.${String(s['column'])}`,
              context: 'SET',
            });
        else walk(v, undefined);
      }
      return;
    }
    if (n['type'] === 'insert' || n['type'] === 'replace') {
      const cols = Array.isArray(n['columns'])
        ? (n['columns'] as unknown[]).map(String)
        : [];
      for (const [k, v] of Object.entries(n)) {
        if (k === 'values' && isObj(v) && Array.isArray(v['values'])) {
          for (const row of v['values'] as Node[]) {
            const vals = Array.isArray(row['value'])
              ? (row['value'] as unknown[])
              : [];
            vals.forEach((x, i) =>
              walk(x, {
                column:
                  vals.length === cols.length && only
                    ? `${only}.${cols[i]}`
                    : null,
                context: 'VALUES',
              }),
            );
          }
        } else walk(v, undefined);
      }
      return;
    }
    if (isObj(n['limit']) && Array.isArray(n['limit']['value'])) {
      for (const [k, v] of Object.entries(n)) {
        if (k !== 'limit') walk(v, undefined);
      }
      const lim = n['limit']['value'] as unknown[];
      const comma = n['limit']['seperator'] === ',';
      lim.forEach((x, i) =>
        walk(x, {
          column: null,
          context:
            lim.length === 2 && (comma ? i === 0 : i === 1)
              ? 'OFFSET'
              : 'LIMIT',
        }),
      );
      return;
    }
    for (const v of Object.values(n)) walk(v, ctx);
  };
  walk(ast, undefined);
  return { tables, slots };
}

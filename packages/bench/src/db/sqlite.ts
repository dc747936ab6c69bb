import { z } from 'zod';
import type { ParamValue } from '@stb/core';
import type { BoundQuery, ExecOutcome } from '../bound-query';
import {
  defineDbPlugin,
  errorOutcome,
  loadDriver,
  unreachableError,
} from '../db-plugin';
import type { DbPlugin, DbSession } from '../db-plugin';
import { createPlaceholderTranslator } from '../placeholders';

/** Options of the `sqlite` plugin. */
export const SqliteOptions = z.object({
  /** Database file, or `:memory:`. */
  path: z.string().min(1),
  readonly: z.boolean().optional(),
});
export type SqliteOptions = z.infer<typeof SqliteOptions>;

interface SqliteStatement {
  readonly reader: boolean;
  all(values: unknown[]): unknown[];
  run(values: unknown[]): { changes: number };
}
interface SqliteDb {
  prepare(sql: string): SqliteStatement;
  close(): void;
}
/** The `better-sqlite3` constructor. */
export type BetterSqlite3Lib = new (
  path: string,
  options?: { readonly?: boolean; fileMustExist?: boolean },
) => SqliteDb;

function toSqliteValue(p: ParamValue): unknown {
  switch (p.t) {
    case 'bool':
      return p.v ? 1 : 0;
    case 'bigint':
      return BigInt(p.v);
    case 'bytes':
      return Buffer.from(p.v, 'hex');
    default:
      return p.v;
  }
}

function sqliteErrorOutcome(err: unknown): ExecOutcome {
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && code.startsWith('SQLITE_')) {
    const cls = /^SQLITE_[A-Z]+/.exec(code)?.[0] ?? code;
    return errorOutcome(code, cls);
  }
  return errorOutcome(undefined, 'client');
}

/** Creates the `sqlite` plugin, optionally with an injected `better-sqlite3`. */
export function createSqlitePlugin(
  inject: { lib?: BetterSqlite3Lib } = {},
): DbPlugin<SqliteOptions> {
  return defineDbPlugin<SqliteOptions>({
    kind: 'db',
    name: 'sqlite',
    apiVersion: 1,
    description: 'SQLite through `better-sqlite3` (one connection)',
    options: SqliteOptions,
    dialect: 'sqlite',
    capabilities: {
      prepared: true,
      transactions: true,
      maxConnections: 1,
      cancel: false,
      ownDeadline: true,
    },
    dependencies: ['better-sqlite3'],
    async connect(options, ctx = {}): Promise<DbSession> {
      const Database = await loadDriver<BetterSqlite3Lib>(
        { plugin: 'sqlite', pkg: 'better-sqlite3', lib: inject.lib },
        () => import('better-sqlite3'),
      );
      let db: SqliteDb;
      try {
        db = new Database(options.path, {
          readonly: options.readonly ?? false,
        });
      } catch (err) {
        throw unreachableError('sqlite', options.path, err);
      }
      const simple = ctx.protocol === 'simple';
      const translator = createPlaceholderTranslator({
        style: 'question',
        convert: toSqliteValue,
      });
      const statements = new Map<string, SqliteStatement>();
      const statementFor = (q: BoundQuery): [SqliteStatement, unknown[]] => {
        if (simple) return [db.prepare(translator.inline(q, 'sqlite')), []];
        const t = translator.translate(q);
        let s = statements.get(t.key);
        if (s === undefined) {
          s = db.prepare(t.text);
          statements.set(t.key, s);
        }
        return [s, t.values];
      };
      let closed = false;
      const close = async (): Promise<void> => {
        if (closed) return;
        closed = true;
        db.close();
      };
      return {
        async execute(q) {
          try {
            const [s, values] = statementFor(q);
            if (s.reader) return { ok: true, rows: s.all(values).length };
            return { ok: true, rows: s.run(values).changes };
          } catch (err) {
            return sqliteErrorOutcome(err);
          }
        },
        async prepare(q) {
          try {
            statementFor(q);
            return { ok: true, rows: 0 };
          } catch (err) {
            return sqliteErrorOutcome(err);
          }
        },
        async serverVersion() {
          const s = db.prepare('SELECT sqlite_version() AS v');
          const row = s.all([])[0] as { v: string } | undefined;
          return `SQLite ${row?.v ?? ''}`;
        },
        close,
        [Symbol.asyncDispose]: close,
      };
    },
  });
}

/** The `sqlite` plugin (`better-sqlite3` loaded lazily). Target: `sqlite:path` or `sqlite::memory:`. */
export const plugin: DbPlugin<SqliteOptions> = createSqlitePlugin();

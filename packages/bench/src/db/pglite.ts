import { z } from 'zod';
import type { BoundQuery, ExecOutcome } from '../bound-query';
import {
  defineDbPlugin,
  loadDriver,
  mustInlineParams,
  unreachableError,
} from '../db-plugin';
import type { DbPlugin, DbSession } from '../db-plugin';
import { createPlaceholderTranslator } from '../placeholders';
import { pgErrorOutcome, toPgValue } from './postgres';

/** Options of the `pglite` plugin. */
export const PgliteOptions = z.object({
  /** Data directory; omitted for an in-memory database. */
  dataDir: z.string().optional(),
});
export type PgliteOptions = z.infer<typeof PgliteOptions>;

interface PgliteResult {
  rows: unknown[];
  affectedRows?: number;
}
interface PgliteDb {
  readonly waitReady: Promise<void>;
  query(
    text: string,
    params?: unknown[],
    options?: { rowMode?: 'array' | 'object' },
  ): Promise<PgliteResult>;
  exec(text: string): Promise<PgliteResult[]>;
  describeQuery(text: string): Promise<unknown>;
  close(): Promise<void>;
}
/** The part of `@electric-sql/pglite` the plugin uses. */
export interface PgliteLib {
  PGlite: new (dataDir?: string) => PgliteDb;
}

function rowsOf(r: PgliteResult): number {
  return r.rows.length > 0 ? r.rows.length : (r.affectedRows ?? 0);
}

/** Creates the `pglite` plugin, optionally with an injected `@electric-sql/pglite`. */
export function createPglitePlugin(
  inject: { lib?: PgliteLib } = {},
): DbPlugin<PgliteOptions> {
  return defineDbPlugin<PgliteOptions>({
    kind: 'db',
    name: 'pglite',
    apiVersion: 1,
    description:
      'Embedded PostgreSQL in WebAssembly (`@electric-sql/pglite`), one connection',
    options: PgliteOptions,
    dialect: 'postgres',
    capabilities: {
      prepared: true,
      transactions: true,
      maxConnections: 1,
      cancel: false,
      ownDeadline: true,
    },
    dependencies: ['@electric-sql/pglite'],
    async connect(options, ctx = {}): Promise<DbSession> {
      const lib = await loadDriver<PgliteLib>(
        { plugin: 'pglite', pkg: '@electric-sql/pglite', lib: inject.lib },
        async () => {
          const m =
            (await import('@electric-sql/pglite')) as unknown as PgliteLib;
          return { default: m };
        },
      );
      let db: PgliteDb;
      try {
        db = new lib.PGlite(options.dataDir);
        await db.waitReady;
      } catch (err) {
        throw unreachableError('pglite', options.dataDir ?? 'memory', err);
      }
      const simple = ctx.protocol === 'simple';
      const translator = createPlaceholderTranslator({
        style: 'dollar',
        convert: toPgValue,
      });
      const run = async (q: BoundQuery): Promise<ExecOutcome> => {
        if (simple || mustInlineParams(q)) {
          const results = await db.exec(translator.inline(q, 'postgres'));
          const last = results[results.length - 1];
          return { ok: true, rows: last === undefined ? 0 : rowsOf(last) };
        }
        const t = translator.translate(q);
        const r = await db.query(t.text, t.values, { rowMode: 'array' });
        return { ok: true, rows: rowsOf(r) };
      };
      let closed = false;
      const close = async (): Promise<void> => {
        if (closed) return;
        closed = true;
        await db.close().catch(() => undefined);
      };
      return {
        async execute(q) {
          try {
            return await run(q);
          } catch (err) {
            return pgErrorOutcome(err, false);
          }
        },
        async prepare(q) {
          try {
            await db.describeQuery(translator.translate(q).text);
            return { ok: true, rows: 0 };
          } catch (err) {
            return pgErrorOutcome(err, false);
          }
        },
        async serverVersion() {
          const r = await db.query('SELECT version()', [], {
            rowMode: 'array',
          });
          const v = (r.rows[0] as string[] | undefined)?.[0] ?? '';
          return `PGlite (${v.split(' on ')[0] ?? v})`;
        },
        close,
        [Symbol.asyncDispose]: close,
      };
    },
  });
}

/** The `pglite` plugin (loaded lazily). Target: `pglite:` (in memory) or `pglite:<dir>`. */
export const plugin: DbPlugin<PgliteOptions> = createPglitePlugin();

import { z } from 'zod';
import type { ParamValue } from '@stb/core';
import type { ExecOutcome } from '../bound-query';
import {
  defineDbPlugin,
  errorOutcome,
  isNetworkCode,
  loadDriver,
  redactSecrets,
  unreachableError,
} from '../db-plugin';
import type { DbPlugin, DbSession } from '../db-plugin';
import { createPlaceholderTranslator } from '../placeholders';

/** Options of the `knex` plugin: a knex config's `client` and `connection`. */
export const KnexOptions = z.object({
  /** knex client: `pg`, `mysql2`, `better-sqlite3`, `mssql`, `oracledb`… */
  client: z.string().min(1),
  /** knex `connection`: a connection string or object. */
  connection: z.union([z.string(), z.record(z.string(), z.unknown())]),
});
export type KnexOptions = z.infer<typeof KnexOptions>;

interface KnexRaw extends PromiseLike<unknown> {
  connection(conn: unknown): KnexRaw;
}
interface KnexInstance {
  raw(sql: string, bindings: unknown[]): KnexRaw;
  client: {
    acquireConnection(): Promise<unknown>;
    releaseConnection(conn: unknown): Promise<void>;
  };
  destroy(): Promise<void>;
}
/** The `knex` factory. */
export type KnexLib = (config: unknown) => KnexInstance;

/** Dialect a knex client speaks. */
export function knexDialect(client: string): string {
  if (/^(pg|postgres|postgresql|pgnative|cockroachdb)$/i.test(client))
    return 'postgres';
  if (/^mysql2?$/i.test(client)) return 'mysql';
  if (/sqlite/i.test(client)) return 'sqlite';
  return client;
}

function toKnexValue(p: ParamValue): unknown {
  return p.t === 'bytes' ? Buffer.from(p.v, 'hex') : p.v;
}

function rowsOf(r: unknown, mysql: boolean): number {
  if (mysql && Array.isArray(r)) return rowsOf(r[0], false);
  if (Array.isArray(r)) return r.length;
  const o = r as {
    rowCount?: number | null;
    rows?: unknown[];
    changes?: number;
    affectedRows?: number;
  } | null;
  return o?.rowCount ?? o?.rows?.length ?? o?.changes ?? o?.affectedRows ?? 0;
}

/**
 * node-postgres's errors for a client whose connection ended (they carry no code), at the end of
 * the message: knex puts the statement's text before them (`<sql> - <message>`).
 */
const PG_CLIENT_LOST =
  /(Connection terminated( unexpectedly)?|Client has encountered a connection error and is not queryable|Client was closed and is not queryable)$/;

function knexErrorOutcome(err: unknown): ExecOutcome {
  const e = err as {
    code?: unknown;
    errno?: unknown;
    fatal?: unknown;
    message?: unknown;
  };
  const code =
    typeof e.code === 'string'
      ? e.code
      : typeof e.errno === 'number'
        ? String(e.errno)
        : undefined;
  if (
    e.fatal === true ||
    isNetworkCode(code) ||
    (code === undefined &&
      typeof e.message === 'string' &&
      PG_CLIENT_LOST.test(e.message))
  )
    return errorOutcome(code, 'connection', true);
  // SQLSTATE class 08 (connection exception) and 57P (the server shut the session down)
  if (code !== undefined && /^[0-9A-Z]{5}$/.test(code))
    return errorOutcome(
      code,
      code.slice(0, 2),
      code.startsWith('57P') || code.startsWith('08'),
    );
  if (typeof e.errno === 'number')
    return errorOutcome(String(e.errno), String(e.errno));
  return errorOutcome(code, code ?? 'client');
}

/** Creates the `knex` plugin, optionally with an injected `knex`. */
export function createKnexPlugin(
  inject: { lib?: KnexLib } = {},
): DbPlugin<KnexOptions> {
  return defineDbPlugin<KnexOptions>({
    kind: 'db',
    name: 'knex',
    apiVersion: 1,
    description:
      'Any knex client (generic fallback; the dedicated plugins are faster)',
    options: KnexOptions,
    dialect: 'knex',
    capabilities: {
      prepared: false,
      transactions: true,
      maxConnections: null,
      cancel: false,
    },
    dependencies: ['knex'],
    async connect(options, ctx = {}): Promise<DbSession> {
      const knex = await loadDriver<KnexLib>(
        { plugin: 'knex', pkg: 'knex', lib: inject.lib },
        () => import('knex'),
      );
      const k = knex({
        client: options.client,
        connection: options.connection,
        pool: { min: 0, max: 1 },
        useNullAsDefault: true,
      });
      let conn: unknown;
      try {
        conn = await k.client.acquireConnection();
      } catch (err) {
        await k.destroy().catch(() => undefined);
        const target =
          typeof options.connection === 'string'
            ? redactSecrets(options.connection)
            : options.client;
        throw unreachableError('knex', target, err);
      }
      const dialect = knexDialect(options.client);
      const mysql = dialect === 'mysql';
      const translator = createPlaceholderTranslator({
        style: 'question',
        convert: toKnexValue,
        dialect: mysql ? 'mysql' : 'postgres',
      });
      const simple = ctx.protocol === 'simple';
      let closed = false;
      const close = async (): Promise<void> => {
        if (closed) return;
        closed = true;
        await k.client.releaseConnection(conn).catch(() => undefined);
        await k.destroy().catch(() => undefined);
      };
      return {
        async execute(q) {
          try {
            const r = simple
              ? await k
                  .raw(
                    translator.inline(
                      q,
                      dialect === 'mysql' || dialect === 'sqlite'
                        ? dialect
                        : 'postgres',
                    ),
                    [],
                  )
                  .connection(conn)
              : await (() => {
                  const t = translator.translate(q);
                  return k.raw(t.text, t.values).connection(conn);
                })();
            return { ok: true, rows: rowsOf(r, mysql) };
          } catch (err) {
            return knexErrorOutcome(err);
          }
        },
        close,
        [Symbol.asyncDispose]: close,
      };
    },
  });
}

/** The `knex` plugin (loaded lazily). Target: `knex:<client>:<connection>` or a config file. */
export const plugin: DbPlugin<KnexOptions> = createKnexPlugin();

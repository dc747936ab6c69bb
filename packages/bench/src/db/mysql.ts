import { z } from 'zod';
import type { ParamValue } from '@stb/core';
import type { BoundQuery, ExecOutcome } from '../bound-query';
import {
  defineDbPlugin,
  errorOutcome,
  isNetworkCode,
  loadDriver,
  redactSecrets,
  unreachableError,
  withErrorMessage,
} from '../db-plugin';
import type { DbPlugin, DbSession } from '../db-plugin';
import { isTextOnly, mysqlServerLabel } from '../internal/mysql-dialect';
import { mysqlErrnoOutcome } from '../internal/mysql-errno';
import { createPlaceholderTranslator } from '../placeholders';

/** Options of the `mysql` plugin (MySQL and MariaDB). */
export const MysqlOptions = z.object({
  /** `mysql://user:pass@host:port/db` */
  url: z.string().min(1),
  connectTimeoutMs: z.number().int().positive().optional(),
});
export type MysqlOptions = z.infer<typeof MysqlOptions>;

type MysqlResult = [unknown, unknown];
interface MysqlConnection {
  query(sql: string, values?: unknown[]): Promise<MysqlResult>;
  execute(sql: string, values?: unknown[]): Promise<MysqlResult>;
  end(): Promise<void>;
  destroy(): void;
  on(event: 'error', fn: (err: Error) => void): void;
  /** Server connection id (what `KILL QUERY` names). */
  threadId?: number | null;
}
/** The part of `mysql2/promise` the plugin uses. */
export interface Mysql2Lib {
  createConnection(config: unknown): Promise<MysqlConnection>;
}

function toMysqlValue(p: ParamValue): unknown {
  return p.t === 'bytes' ? Buffer.from(p.v, 'hex') : p.v;
}

function rowsOf(result: unknown): number {
  if (Array.isArray(result)) return result.length;
  const r = result as { affectedRows?: number } | null;
  return r?.affectedRows ?? 0;
}

function mysqlErrorOutcome(err: unknown): ExecOutcome {
  return withErrorMessage(mysqlErrorClass(err), err);
}

function mysqlErrorClass(err: unknown): ExecOutcome {
  const e = err as { errno?: unknown; code?: unknown; fatal?: unknown };
  if (e.fatal === true || isNetworkCode(e.code))
    return errorOutcome(
      typeof e.code === 'string' ? e.code : undefined,
      'connection',
      true,
    );
  if (typeof e.errno === 'number') return mysqlErrnoOutcome(e.errno);
  return errorOutcome(
    typeof e.code === 'string' ? e.code : undefined,
    'client',
  );
}

/** Creates the `mysql` plugin, optionally with an injected `mysql2/promise` module. */
export function createMysqlPlugin(
  inject: { lib?: Mysql2Lib } = {},
): DbPlugin<MysqlOptions> {
  return defineDbPlugin<MysqlOptions>({
    kind: 'db',
    name: 'mysql',
    apiVersion: 1,
    description: 'MySQL and MariaDB through `mysql2`',
    options: MysqlOptions,
    dialect: 'mysql',
    capabilities: {
      prepared: true,
      transactions: true,
      maxConnections: null,
      cancel: true,
    },
    dependencies: ['mysql2'],
    async connect(options, ctx = {}): Promise<DbSession> {
      const lib = await loadDriver<Mysql2Lib>(
        { plugin: 'mysql', pkg: 'mysql2', lib: inject.lib },
        () => import('mysql2/promise'),
      );
      let conn: MysqlConnection;
      try {
        conn = await lib.createConnection({
          uri: options.url,
          connectTimeout: options.connectTimeoutMs ?? 10_000,
          multipleStatements: false,
          supportBigNumbers: true,
          bigNumberStrings: true,
          // mysql2's promise API captures the caller's stack on every call for its errors' stacks
          // (a sixth of a point select's client CPU); outcomes keep only code and message.
          // `?trace=true` in the URL turns it back on.
          trace: false,
        });
      } catch (err) {
        throw unreachableError('mysql', redactSecrets(options.url), err);
      }
      conn.on('error', () => undefined);
      const protocol = ctx.protocol ?? 'prepared';
      const translator = createPlaceholderTranslator({
        style: 'question',
        convert: toMysqlValue,
        dialect: 'mysql',
      });
      const run = (q: BoundQuery): Promise<MysqlResult> => {
        if (protocol === 'simple')
          return conn.query(translator.inline(q, 'mysql'));
        const t = translator.translate(q);
        if (protocol === 'extended' || isTextOnly(q.queryType))
          return conn.query(t.text, t.values);
        return conn.execute(t.text, t.values);
      };
      let closed = false;
      let running = 0;
      const close = async (): Promise<void> => {
        if (closed) return;
        closed = true;
        // a statement still running (a forced stop) would hold `end()` until it finishes
        if (running > 0) conn.destroy();
        else await conn.end().catch(() => conn.destroy());
      };
      return {
        async execute(q) {
          running++;
          try {
            const [result] = await run(q);
            return { ok: true, rows: rowsOf(result) };
          } catch (err) {
            return mysqlErrorOutcome(err);
          } finally {
            running--;
          }
        },
        async prepare(q) {
          try {
            const t = translator.translate(q);
            const c = conn as unknown as {
              prepare(sql: string): Promise<{ close(): void }>;
            };
            (await c.prepare(t.text)).close();
            return { ok: true, rows: 0 };
          } catch (err) {
            return mysqlErrorOutcome(err);
          }
        },
        async cancel() {
          const id = conn.threadId;
          if (typeof id !== 'number' || closed) return;
          // KILL QUERY from a second connection: the running statement fails with 1317
          const killer = await lib
            .createConnection({ uri: options.url, connectTimeout: 1000 })
            .catch(() => null);
          if (killer === null) return;
          killer.on('error', () => undefined);
          try {
            await killer.query(`KILL QUERY ${String(id)}`);
          } catch {
            // the statement ended meanwhile, or no privilege: nothing more to do
          } finally {
            await killer.end().catch(() => killer.destroy());
          }
        },
        async serverVersion() {
          const [rows] = await conn.query('SELECT VERSION() AS v');
          const v = (rows as { v: string }[])[0]?.v ?? '';
          return mysqlServerLabel(v);
        },
        close,
        [Symbol.asyncDispose]: close,
      };
    },
  });
}

/** The `mysql` plugin (`mysql2` loaded lazily). Target: `mysql://…` or `mariadb://…`. */
export const plugin: DbPlugin<MysqlOptions> = createMysqlPlugin();

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
import { LEAN_QUERY_TIMEOUT_MS } from '../internal/lean-url';
import { isTextOnly, mysqlServerLabel } from '../internal/mysql-dialect';
import { mysqlErrnoOutcome } from '../internal/mysql-errno';
import {
  closeSoon,
  destroySocket,
  killMysqlQuery,
} from '../internal/mysql-kill';
import {
  StatementDeadline,
  takeQueryTimeout,
} from '../internal/statement-deadline';
import { createPlaceholderTranslator } from '../placeholders';

/** Options of the `mysql` plugin (MySQL and MariaDB). */
export const MysqlOptions = z.object({
  /** `mysql://user:pass@host:port/db` */
  url: z.string().min(1),
  connectTimeoutMs: z.number().int().positive().optional(),
  /**
   * Longest wait for one statement (ms; else `?query_timeout=<ms>` in the URL, else 300000): it
   * is then killed (`KILL QUERY`) and counted as error class `timeout`; a server that does not
   * end it within 1 s loses the connection.
   */
  queryTimeoutMs: z.number().int().positive().optional(),
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
  /** mysql2's connection under the promise wrapper: its socket. */
  connection?: { stream?: { destroy?(): void } };
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
      ownDeadline: true,
    },
    dependencies: ['mysql2'],
    async connect(options, ctx = {}): Promise<DbSession> {
      const lib = await loadDriver<Mysql2Lib>(
        { plugin: 'mysql', pkg: 'mysql2', lib: inject.lib },
        () => import('mysql2/promise'),
      );
      // the deadline is the plugin's (mysql2 would warn of an unknown option)
      const { url, queryTimeoutMs } = takeQueryTimeout(options.url);
      let conn: MysqlConnection;
      try {
        conn = await lib.createConnection({
          uri: url,
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
      const kill = (): Promise<boolean> => {
        const id = conn.threadId;
        return typeof id !== 'number' || closed
          ? Promise.resolve(false)
          : killMysqlQuery(lib, { uri: url }, id);
      };
      const deadline = new StatementDeadline({
        ms: options.queryTimeoutMs ?? queryTimeoutMs ?? LEAN_QUERY_TIMEOUT_MS,
        cancel: kill,
        giveUp: () => destroySocket(conn),
        cancelName: 'KILL QUERY',
      });
      const close = async (): Promise<void> => {
        if (closed) return;
        closed = true;
        deadline.dispose();
        // a statement still running (a forced stop) would hold `end()` until it finishes
        if (deadline.running) destroySocket(conn);
        else closeSoon(conn);
      };
      const timed = (q: BoundQuery): Promise<ExecOutcome> =>
        deadline.run(
          () => run(q),
          ([result]) => ({ ok: true, rows: rowsOf(result) }),
          mysqlErrorOutcome,
        );
      /**
       * A call of the plugin's own (a dry run's prepare, the server's version) under the same
       * deadline as the workload's statements. Until 2026-12-07 these waited on a server that
       * stopped answering without limit.
       */
      const own = (call: () => Promise<unknown>): Promise<ExecOutcome> =>
        deadline.run(call, () => ({ ok: true, rows: 0 }), mysqlErrorOutcome);
      return {
        // timed waits for a deadline's cancel on its way (StatementDeadline.run)
        execute: timed,
        async prepare(q) {
          let text: string;
          try {
            text = translator.translate(q).text;
          } catch (err) {
            return mysqlErrorOutcome(err);
          }
          const c = conn as unknown as {
            prepare(sql: string): Promise<{ close(): void }>;
          };
          return own(() => c.prepare(text).then((st) => st.close()));
        },
        async cancel() {
          await kill();
        },
        async serverVersion() {
          let v = '';
          const out = await own(() =>
            conn.query('SELECT VERSION() AS v').then(([rows]) => {
              v = (rows as { v: string }[])[0]?.v ?? '';
            }),
          );
          if (!out.ok)
            throw new Error(
              `SELECT VERSION() failed: ${out.errorMessage ?? out.errorClass ?? 'unknown'}`,
            );
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

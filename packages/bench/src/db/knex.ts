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
} from '../db-plugin';
import type { DbPlugin, DbSession } from '../db-plugin';
import { LEAN_QUERY_TIMEOUT_MS } from '../internal/lean-url';
import {
  CLOSE_WAIT_MS,
  StatementDeadline,
  takeQueryTimeout,
} from '../internal/statement-deadline';
import { killMysqlQuery } from '../internal/mysql-kill';
import type { KillerLib } from '../internal/mysql-kill';
import { cancelRunning } from '../internal/pg-cancel';
import { settleWithin } from '../internal/settle-within';
import { createPlaceholderTranslator } from '../placeholders';

/** Options of the `knex` plugin: a knex config's `client` and `connection`. */
export const KnexOptions = z.object({
  /** knex client: `pg`, `mysql2`, `better-sqlite3`, `mssql`, `oracledb`… */
  client: z.string().min(1),
  /**
   * knex `connection`: a connection string (`?query_timeout=<ms>` in it is stb's, taken out) or
   * object.
   */
  connection: z.union([z.string(), z.record(z.string(), z.unknown())]),
  /**
   * Longest wait for one statement (ms; else `?query_timeout=<ms>` in a connection string, else
   * 300000): it is then cancelled (PostgreSQL: a cancel request; other clients: knex's
   * `cancelQuery`, MySQL's `KILL QUERY`) and counted as error class `timeout`; a statement still
   * running 1 s later (a server that stopped answering, or a client knex cannot cancel for) ends
   * as a lost connection of class `timeout`, its socket destroyed, and the session reconnects.
   */
  queryTimeoutMs: z.number().int().positive().optional(),
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
    cancelQuery(conn: unknown): Promise<unknown>;
    /** The connection settings knex opens its connections with (the driver's options). */
    connectionSettings?: unknown;
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

/** How long knex's own cancel (`KILL QUERY` on a connection of its own…) may take (ms). */
const KNEX_CANCEL_WAIT_MS = 2000;

/** A socket, or what stands for one. */
interface Destroyable {
  destroy?(): void;
}

/**
 * What a knex client's raw connection may expose: pg's `Client` (the backend's key, its socket
 * as `connection.stream`), mysql2's `Connection` (`threadId`, `stream`), mysqljs's (`_socket`),
 * tedious's (`socket`).
 */
interface RawConnection {
  threadId?: number | null;
  processID?: number | null;
  secretKey?: number | null;
  host?: string;
  port?: number;
  connection?: { stream?: Destroyable };
  stream?: Destroyable;
  _socket?: Destroyable;
  socket?: Destroyable;
}

/**
 * Destroys a raw connection's socket, where the client exposes one (tested with pg and mysql2;
 * nothing for an in-process client such as better-sqlite3).
 */
function destroyRaw(conn: unknown): void {
  const c = conn as RawConnection | null;
  for (const socket of [
    c?.connection?.stream,
    c?.stream,
    c?._socket,
    c?.socket,
  ])
    if (typeof socket?.destroy === 'function') socket.destroy();
}

/**
 * Cancels what a raw connection runs; true once the server has read the request. A pg `Client`
 * (knex's `pg`, and any client whose connection is one): a cancel request with its backend key
 * on a socket of its own. MySQL: `KILL QUERY` on a `mysql2` connection of its own, opened with
 * knex's own connection settings (so the same socket path, TLS and credentials) and a 1 s connect
 * timeout. knex's `cancelQuery` would log in on a new connection first, which on a server that
 * stopped answering waits without limit (pg) or 10 s (mysql2), its socket open; it is left for the
 * other clients, bounded, and false where knex cannot cancel.
 */
async function cancelRaw(
  k: KnexInstance,
  conn: unknown,
  dialect: string,
): Promise<boolean> {
  const c = conn as RawConnection;
  if (c.processID != null) return cancelRunning(c, 1000);
  const settings = k.client.connectionSettings;
  if (
    dialect === 'mysql' &&
    typeof c.threadId === 'number' &&
    typeof settings === 'object' &&
    settings !== null
  ) {
    const lib = (await import('mysql2/promise').catch(
      () => null,
    )) as KillerLib | null;
    // killMysqlQuery copies the settings (with its own connect timeout)
    if (lib !== null)
      return killMysqlQuery(
        lib,
        settings as Record<string, unknown>,
        c.threadId,
      );
  }
  return settleWithin(
    Promise.resolve()
      .then(() => k.client.cancelQuery(conn))
      .then(
        () => true,
        () => false,
      ),
    KNEX_CANCEL_WAIT_MS,
    false,
  );
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
      cancel: true,
      ownDeadline: true,
    },
    dependencies: ['knex'],
    async connect(options, ctx = {}): Promise<DbSession> {
      const knex = await loadDriver<KnexLib>(
        { plugin: 'knex', pkg: 'knex', lib: inject.lib },
        () => import('knex'),
      );
      const taken =
        typeof options.connection === 'string'
          ? takeQueryTimeout(options.connection)
          : { url: options.connection, queryTimeoutMs: undefined };
      const k = knex({
        client: options.client,
        connection: taken.url,
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
      const run = (q: BoundQuery): PromiseLike<unknown> => {
        if (!simple) {
          const t = translator.translate(q);
          return k.raw(t.text, t.values).connection(conn);
        }
        const inline = translator.inline(
          q,
          dialect === 'mysql' || dialect === 'sqlite' ? dialect : 'postgres',
        );
        return k.raw(inline, []).connection(conn);
      };
      let closed = false;
      const cancel = (): Promise<boolean> =>
        closed ? Promise.resolve(false) : cancelRaw(k, conn, dialect);
      const deadline = new StatementDeadline({
        ms:
          options.queryTimeoutMs ??
          taken.queryTimeoutMs ??
          LEAN_QUERY_TIMEOUT_MS,
        cancel,
        giveUp: () => destroyRaw(conn),
        cancelName: 'the cancel request',
      });
      const close = async (): Promise<void> => {
        if (closed) return;
        closed = true;
        deadline.dispose();
        // a statement still running (a forced stop) would hold the goodbye until it finishes
        if (deadline.running) destroyRaw(conn);
        // a server that stopped answering answers no goodbye: the socket is destroyed instead
        await settleWithin(
          (async () => {
            await k.client.releaseConnection(conn).catch(() => undefined);
            await k.destroy().catch(() => undefined);
          })(),
          CLOSE_WAIT_MS,
          undefined,
        );
        destroyRaw(conn);
      };
      const timed = (q: BoundQuery): Promise<ExecOutcome> =>
        deadline.run(
          () => run(q),
          (r) => ({ ok: true, rows: rowsOf(r, mysql) }),
          knexErrorOutcome,
        );
      return {
        // timed waits for a deadline's cancel on its way (StatementDeadline.run)
        execute: timed,
        async cancel() {
          await cancel();
        },
        close,
        [Symbol.asyncDispose]: close,
      };
    },
  });
}

/** The `knex` plugin (loaded lazily). Target: `knex:<client>:<connection>` or a config file. */
export const plugin: DbPlugin<KnexOptions> = createKnexPlugin();

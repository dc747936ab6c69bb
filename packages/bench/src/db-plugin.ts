import { PluginError } from '@stb/core';
import type { PluginBase } from '@stb/core';
import type { BoundQuery, ExecOutcome } from './bound-query';

/** Wire protocol, as pgbench `-M`: text with inlined literals, unnamed extended, or named prepared statements. */
export type Protocol = 'simple' | 'extended' | 'prepared';

/** What a DB plugin can do. */
export interface DbCapabilities {
  /** Supports server-side prepared statements. */
  readonly prepared: boolean;
  readonly transactions: boolean;
  /** Most connections the target can serve at once (1 for PGlite and in-memory SQLite), or null for no limit. */
  readonly maxConnections: number | null;
  /** Can cancel a running statement ({@link DbSession.cancel}). */
  readonly cancel: boolean;
  /**
   * Bounds its statements itself: a statement deadline of its own, as every built-in network
   * plugin has; or in-process (SQLite, PGlite), where a statement runs on the runner's thread and
   * no timer could end it. Without it the runner puts its own deadline around each call that
   * waits on the database (`statementTimeoutMs`, default 5 minutes; docs/plugins/db.md).
   */
  readonly ownDeadline?: boolean;
}

/** Context of {@link DbPlugin.connect}. */
export interface DbConnectContext {
  readonly signal?: AbortSignal;
  /** Default `prepared` where the plugin supports it. */
  readonly protocol?: Protocol;
  /**
   * `false`: no batch of this connection will be timed ({@link DbBatchContext.timing}), as in the
   * closed loop, so a plugin need not check or prepare what only timed batches use (a timed batch
   * sent anyway runs without it). The runner passes `true` in replay and open loop; omitted, as by
   * a library caller, batches may be timed.
   */
  readonly timed?: boolean;
}

/** Context of {@link DbSession.execute}. */
export interface DbExecuteContext {
  readonly signal?: AbortSignal;
}

/** Context of {@link DbSession.runBatch}. */
export interface DbBatchContext {
  /** Aborted: no statement of the batch starts after the one running. */
  readonly signal?: AbortSignal;
  /**
   * A timed batch (replay and open loop; sessions with {@link DbSession.timedBatches}): statement
   * i is sent at max(`due[i]`, statement i − 1's completion + `think[i]`), never earlier. Times in
   * ms on the `performance.timeOrigin + performance.now()` clock; a think time of NaN or 0 is none.
   * `due[0]` may lie ahead: the runner hands a session's next statement over before it is due
   * (while every session has a connection of its own), and the plugin waits for it. Without
   * `timing`, each statement is sent when the previous one completed.
   */
  readonly timing?: {
    readonly due: readonly number[];
    readonly think: readonly number[];
  };
}

/** One connection. A session keeps it for its life, so transactions stay intact. */
export interface DbSession extends AsyncDisposable {
  /** Runs one statement. Errors are returned as outcomes, never thrown. */
  execute(query: BoundQuery, ctx?: DbExecuteContext): Promise<ExecOutcome>;
  /**
   * Runs statements back to back, each sent when the previous one completed (a closed loop), and
   * resolves with one outcome per statement that ran, in order: fewer than given when the signal
   * was aborted, the session cancelled, or the connection lost (the last outcome says so). Errors
   * are outcomes, never thrown. Plugins that run the loop outside JavaScript (`pg-native`) have
   * it; the runner uses it in closed-loop mode.
   */
  runBatch?(
    queries: readonly BoundQuery[],
    ctx?: DbBatchContext,
  ): Promise<ExecOutcome[]>;
  /**
   * `runBatch` honours {@link DbBatchContext.timing}: in replay and open loop the runner then hands
   * it a session's timed statements too, so that they follow each other without a round trip
   * through JavaScript (`pg-native`, issue 16).
   */
  readonly timedBatches?: boolean;
  /** Prepares (or at least parses) a statement without running it, for `--dry-run`. */
  prepare?(query: BoundQuery): Promise<ExecOutcome>;
  /**
   * Asks the server to cancel the statement running on this session, if any (PostgreSQL: a cancel
   * request; MySQL: `KILL QUERY` from a second connection). Resolves once the request was sent;
   * the running `execute` then returns a failed outcome. Plugins with `capabilities.cancel` have it.
   */
  cancel?(): Promise<void>;
  /** Server product and version, e.g. `PostgreSQL 15.18`. */
  serverVersion?(): Promise<string>;
  close(): Promise<void>;
}

/** A database plugin (STYLE.md §8): data plus a `connect` function. */
export interface DbPlugin<TOptions = unknown> extends PluginBase<TOptions> {
  readonly kind: 'db';
  /** SQL dialect the plugin speaks: `postgres`, `mysql`, `sqlite`, or a knex client name. */
  readonly dialect: string;
  readonly capabilities: DbCapabilities;
  /** Optional peer libraries the plugin imports lazily. */
  readonly dependencies: readonly string[];
  /** Opens one connection. Throws `STB_DB_UNREACHABLE` (or `STB_PLUGIN_DEPENDENCY_MISSING`) when it cannot. */
  connect(options: TOptions, ctx?: DbConnectContext): Promise<DbSession>;
}

/**
 * Defines a DB plugin (an identity function that pins the generics).
 * @example
 * export const plugin = defineDbPlugin({ kind: 'db', name: 'mydb', apiVersion: 1, … });
 */
export function defineDbPlugin<TOptions>(
  plugin: DbPlugin<TOptions>,
): DbPlugin<TOptions> {
  return plugin;
}

/**
 * Imports a driver lazily, or returns the injected one. A missing package raises
 * `STB_PLUGIN_DEPENDENCY_MISSING` with the install command.
 */
export async function loadDriver<TLib>(
  spec: { plugin: string; pkg: string; lib: TLib | undefined },
  load: () => Promise<unknown>,
): Promise<TLib> {
  if (spec.lib !== undefined) return spec.lib;
  try {
    const mod = (await load()) as { default?: unknown };
    return (mod.default ?? mod) as TLib;
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND')
      throw new PluginError(
        'STB_PLUGIN_DEPENDENCY_MISSING',
        `[stb] [db:${spec.plugin}] Cannot import \`${spec.pkg}\`. Install it with \`npm install ${spec.pkg}\` or pass it via \`lib\`.`,
        {
          cause: err,
          pluginKind: 'db',
          pluginName: spec.plugin,
          details: { package: spec.pkg, install: `npm install ${spec.pkg}` },
        },
      );
    throw err;
  }
}

/** Builds the `STB_DB_UNREACHABLE` error a plugin throws when it cannot connect. */
export function unreachableError(
  plugin: string,
  target: string,
  cause: unknown,
): PluginError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  const code = (cause as { code?: unknown } | null)?.code;
  // PostgreSQL 53300 (too_many_connections, also per role or database), MySQL 1040 / 1203
  const full =
    code === '53300' ||
    code === 'ER_CON_COUNT_ERROR' ||
    code === 'ER_TOO_MANY_USER_CONNECTIONS' ||
    /too many connections|max_user_connections|max_connections/i.test(reason);
  const hint = full
    ? 'The server refused more connections: lower --connections (-c) or raise its limit.'
    : 'Check that the server runs and the target URL is right.';
  return new PluginError(
    'STB_DB_UNREACHABLE',
    `[stb] [db:${plugin}] Cannot connect to ${target}: ${redactSecrets(reason)}. ${hint}`,
    {
      cause,
      pluginKind: 'db',
      pluginName: plugin,
      details: { target, ...(full ? { refused: 'too many connections' } : {}) },
    },
  );
}

/** Removes `user:password@` credentials and `password=` parameters from any text. */
export function redactSecrets(text: string): string {
  return text
    .replace(/\/\/([^/@\s:]*):([^/@\s]*)@/g, '//$1:***@')
    .replace(/(password|pwd|passwd)=([^&\s;]*)/gi, '$1=***');
}

/** Classifies a thrown driver error as a failed {@link ExecOutcome}. */
export function errorOutcome(
  code: string | undefined,
  errorClass: string,
  connectionLost = false,
): ExecOutcome {
  return code === undefined
    ? { ok: false, rows: 0, errorClass, connectionLost }
    : { ok: false, rows: 0, errorCode: code, errorClass, connectionLost };
}

/** Longest error message kept, characters. */
const MAX_ERROR_MESSAGE = 160;

/**
 * A server error message without its literals: `'…'` strings, `"…"` values after a colon
 * (`invalid input syntax for type integer: "abc"`) and numbers become `?`; identifiers in double
 * quotes elsewhere (`relation "nope" does not exist`) stay, since they name the problem.
 * @example
 * stripErrorLiterals(`Duplicate entry '42' for key 'PRIMARY'`); // "Duplicate entry ? for key ?"
 */
export function stripErrorLiterals(message: string): string {
  const first = message.split('\n', 1)[0] ?? '';
  const out = first
    .replace(/'(?:[^']|'')*'?/g, '?')
    .replace(/:\s*"(?:[^"]|"")*"?/g, ': ?')
    .replace(/\b\d+(?:\.\d+)?(?:e[+-]?\d+)?\b/gi, '?')
    .trim();
  return out.length > MAX_ERROR_MESSAGE
    ? `${out.slice(0, MAX_ERROR_MESSAGE - 1)}…`
    : out;
}

/** Adds the driver error's message, literals removed, to a failed outcome. */
export function withErrorMessage(
  outcome: ExecOutcome,
  err: unknown,
): ExecOutcome {
  const m = (err as { message?: unknown } | null)?.message;
  if (typeof m !== 'string' || m === '') return outcome;
  return { ...outcome, errorMessage: stripErrorLiterals(m) };
}

const PARAMETERIZABLE = new Set([
  'SELECT',
  'INSERT',
  'UPDATE',
  'DELETE',
  'MERGE',
]);

/**
 * True when a statement has parameters the server cannot bind: PostgreSQL accepts `$n` only in
 * SELECT/INSERT/UPDATE/DELETE/MERGE, so `SET work_mem = $1` (as the extractor templates it) must
 * go with its literals inlined.
 */
export function mustInlineParams(q: BoundQuery): boolean {
  return q.params.length > 0 && !PARAMETERIZABLE.has(q.queryType);
}

const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTCONN',
  'PROTOCOL_CONNECTION_LOST',
]);

/** True for client-side network error codes. */
export function isNetworkCode(code: unknown): boolean {
  return typeof code === 'string' && NETWORK_CODES.has(code);
}

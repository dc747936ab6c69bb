import { z } from 'zod';
import type { ParamValue } from '@stb/core';
import type { BoundQuery, ExecOutcome } from '../bound-query';
import {
  defineDbPlugin,
  errorOutcome,
  isNetworkCode,
  loadDriver,
  mustInlineParams,
  redactSecrets,
  unreachableError,
  withErrorMessage,
} from '../db-plugin';
import type { DbPlugin, DbSession, Protocol } from '../db-plugin';
import { LEAN_QUERY_TIMEOUT_MS } from '../internal/lean-url';
import {
  CLOSE_WAIT_MS,
  StatementDeadline,
  takeQueryTimeout,
} from '../internal/statement-deadline';
import { cancelRunning } from '../internal/pg-cancel';
import { settleWithin } from '../internal/settle-within';
import { nowMs } from '../internal/wire';
import { createPlaceholderTranslator } from '../placeholders';

export { sendPgCancelRequest } from '../internal/pg-cancel';

/** Options of the `postgres` plugin. */
export const PostgresOptions = z.object({
  /** `postgres://user:pass@host:port/db?…` */
  url: z.string().min(1),
  applicationName: z.string().optional(),
  connectTimeoutMs: z.number().int().positive().optional(),
  /**
   * Longest wait for one statement (ms; else `?query_timeout=<ms>` in the URL, else 300000): it
   * is then cancelled and counted as error class `timeout`; a server that does not end it within
   * 1 s loses the connection.
   */
  queryTimeoutMs: z.number().int().positive().optional(),
});
export type PostgresOptions = z.infer<typeof PostgresOptions>;

interface PgResult {
  rowCount: number | null;
  rows: unknown[];
}
interface PgClient {
  connect(): Promise<void>;
  /** Set by `pg` once connected: what a cancel request names. */
  processID?: number | null;
  secretKey?: number | null;
  host?: string;
  port?: number;
  query(config: unknown): Promise<PgResult>;
  /** With a callback, pg settles no promise of its own and re-captures no error stack. */
  query(
    config: unknown,
    callback: (err: Error | null, result: PgResult) => void,
  ): void;
  end(): Promise<void>;
  on(event: 'error', fn: (err: Error) => void): void;
  /** `pg`'s protocol connection: its message events and its socket. */
  connection?: {
    on?(event: string, fn: () => void): unknown;
    prependListener?(event: string, fn: () => void): unknown;
    stream?: {
      prependListener?(event: string, fn: () => void): unknown;
      uncork?(): void;
      write?(...args: unknown[]): boolean;
      destroy?(): void;
      readonly writableCorked?: number;
    };
  };
}
/** The part of the `pg` module the plugin uses. */
export interface PgLib {
  Client: new (config: unknown) => PgClient;
}

/** Converts a parameter to a `pg`/PGlite value. */
export function toPgValue(p: ParamValue): unknown {
  return p.t === 'bytes' ? Buffer.from(p.v, 'hex') : p.v;
}

/** Maps a PostgreSQL driver error to an outcome (SQLSTATE class, or `connection`). */
export function pgErrorOutcome(err: unknown, broken: boolean): ExecOutcome {
  return withErrorMessage(pgErrorClass(err, broken), err);
}

function pgErrorClass(err: unknown, broken: boolean): ExecOutcome {
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) {
    const cls = code.slice(0, 2);
    // 57P01 admin shutdown / terminate, 57P02 crash shutdown, 57P03 cannot connect now, 08 connection
    const lost = broken || cls === '08' || code.startsWith('57P');
    return errorOutcome(code, cls, lost);
  }
  if (broken || isNetworkCode(code))
    return errorOutcome(
      typeof code === 'string' ? code : undefined,
      'connection',
      true,
    );
  return errorOutcome(typeof code === 'string' ? code : undefined, 'client');
}

/** Creates the `postgres` plugin, optionally with an injected `pg` module. */
export function createPostgresPlugin(
  inject: { lib?: PgLib } = {},
): DbPlugin<PostgresOptions> {
  return defineDbPlugin<PostgresOptions>({
    kind: 'db',
    name: 'postgres',
    apiVersion: 1,
    description:
      'PostgreSQL through `pg` (simple, extended or prepared protocol)',
    options: PostgresOptions,
    dialect: 'postgres',
    capabilities: {
      prepared: true,
      transactions: true,
      maxConnections: null,
      cancel: true,
      ownDeadline: true,
    },
    dependencies: ['pg'],
    async connect(options, ctx = {}): Promise<DbSession> {
      const pg = await loadDriver<PgLib>(
        { plugin: 'postgres', pkg: 'pg', lib: inject.lib },
        () => import('pg'),
      );
      // the deadline is the plugin's: pg's own query_timeout gives up on a statement the server
      // still runs, and answers the next statement with the late answer
      const { url, queryTimeoutMs } = takeQueryTimeout(options.url);
      const client = new pg.Client({
        connectionString: url,
        application_name: options.applicationName ?? 'stb-bench',
        connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
      });
      let broken = false;
      client.on('error', () => {
        broken = true;
      });
      try {
        await client.connect();
      } catch (err) {
        await client.end().catch(() => undefined);
        throw unreachableError('postgres', redactSecrets(options.url), err);
      }
      return createPgSession(client, {
        protocol: ctx.protocol ?? 'prepared',
        isBroken: () => broken,
        setBroken: () => {
          broken = true;
        },
        connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
        queryTimeoutMs:
          options.queryTimeoutMs ?? queryTimeoutMs ?? LEAN_QUERY_TIMEOUT_MS,
      });
    },
  });
}

/** The fixed part of a prepared or extended query's config (pg reads it through the prototype). */
interface PgConfigBase {
  readonly name?: string;
  readonly text: string;
  readonly rowMode: 'array';
  readonly queryMode?: 'extended';
}

/**
 * The query config of a statement for `pg`. pg copies every query config it is given, one
 * property descriptor per own property (cloneQueryConfig: ~1 µs each); the copy keeps the
 * prototype. So the fixed part of a statement's config (text, name, rowMode, queryMode) lives in
 * a prototype made once per statement shape, and each query's config owns only its values
 * (issue 16).
 */
function queryConfigs(
  protocol: Protocol,
  translator: ReturnType<typeof createPlaceholderTranslator>,
): (q: BoundQuery) => unknown {
  /** The fixed part of each statement's config by its translation key. */
  const protos = new Map<string, PgConfigBase>();
  return (q) => {
    if (protocol === 'simple' || mustInlineParams(q))
      return translator.inline(q, 'postgres');
    const t = translator.translate(q);
    let proto = protos.get(t.key);
    if (proto === undefined || proto.text !== t.text) {
      proto =
        protocol === 'extended'
          ? { text: t.text, rowMode: 'array', queryMode: 'extended' }
          : {
              name: `stb_${t.key}`.slice(0, 63),
              text: t.text,
              rowMode: 'array',
            };
      protos.set(t.key, proto);
    }
    const c = Object.create(proto) as { values: unknown[] };
    c.values = t.values;
    return c;
  };
}

/**
 * `client.end()`, waited for at most `ms`: it waits for the server to close the connection, and a
 * server that stopped answering would keep the socket, and the process, alive.
 */
async function endWithin(client: PgClient, ms: number): Promise<void> {
  await settleWithin(
    client.end().catch(() => undefined),
    ms,
    undefined,
  );
}

/** An own statement's outcome, and its first row's values. */
interface OwnResult {
  out: ExecOutcome;
  row: unknown[] | undefined;
}

/**
 * A statement of the plugin's own (a dry run's PREPARE, the server's version), under the same
 * deadline as the workload's, with its first row's values. Until 2026-12-07 these waited on a
 * server that stopped answering without limit.
 */
async function ownStatement(
  client: PgClient,
  o: { deadline: StatementDeadline; isBroken: () => boolean },
  text: string,
): Promise<OwnResult> {
  let row: unknown[] | undefined;
  const out = await o.deadline.run(
    () => client.query({ text, rowMode: 'array' }),
    (r) => {
      row = (r.rows as unknown[][])[0];
      return { ok: true, rows: r.rowCount ?? 0 };
    },
    (err) => pgErrorOutcome(err, o.isBroken()),
  );
  return { out, row };
}

function createPgSession(
  client: PgClient,
  opts: {
    protocol: Protocol;
    isBroken: () => boolean;
    setBroken: () => void;
    connectTimeoutMs: number;
    queryTimeoutMs: number;
  },
): DbSession {
  const translator = createPlaceholderTranslator({
    style: 'dollar',
    convert: toPgValue,
  });
  const { protocol } = opts;
  let closed = false;
  // Wire times. pg writes a prepared or extended query's messages between cork() and uncork()
  // of its socket, so that write is timed at uncork(); a simple Query is one write on the
  // uncorked socket, timed there (the first such write of the call). The answer is timed at the
  // read that carried its ReadyForQuery (the socket's data event comes before pg parses the
  // chunk). The service time then leaves out pg's work before the write (its query object and
  // queue, the serialisation) and after the read (building the result, settling the promise).
  let readAt = NaN;
  let doneAt = NaN;
  let writeAt = NaN;
  const con = client.connection;
  const stream = con?.stream;
  if (con?.on && stream?.prependListener && stream.uncork) {
    stream.prependListener('data', () => {
      readAt = nowMs();
    });
    // before pg's own listener: pg settles the query (calls its callback) in that one
    const setDone = (): void => {
      doneAt = readAt;
    };
    if (con.prependListener) con.prependListener('readyForQuery', setDone);
    else con.on('readyForQuery', setDone);
    const uncork = stream.uncork.bind(stream);
    stream.uncork = () => {
      writeAt = nowMs();
      uncork();
    };
    if (stream.write) {
      const write = stream.write.bind(stream);
      stream.write = (...args: unknown[]): boolean => {
        if (Number.isNaN(writeAt) && stream.writableCorked === 0)
          writeAt = nowMs();
        return write(...args);
      };
    }
  }
  const toOutcome = (r: PgResult, sentAt: number): ExecOutcome => ({
    ok: true,
    rows: r.rowCount ?? r.rows.length,
    sentAt: Number.isNaN(writeAt) ? sentAt : writeAt,
    doneAt,
  });
  const config = queryConfigs(protocol, translator);
  /** pg's socket: given up when the server stops answering (see `deadline`, `close`). */
  const destroy = (): void => {
    opts.setBroken();
    stream?.destroy?.();
  };
  const deadline = new StatementDeadline({
    ms: opts.queryTimeoutMs,
    cancel: () => cancelRunning(client, 1000),
    giveUp: destroy,
    cancelName: 'the cancel request',
  });
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    deadline.dispose();
    await endWithin(client, CLOSE_WAIT_MS);
    destroy();
  };
  const failed = (err: unknown, sentAt: number): ExecOutcome => ({
    ...pgErrorOutcome(err, opts.isBroken()),
    sentAt: Number.isNaN(writeAt) ? sentAt : writeAt,
    doneAt,
  });
  // pg's callback form, settled here: its promise form costs two more promises and a closure
  // per query (it re-captures the stack of a failed query's error, which no outcome keeps)
  const run = (q: BoundQuery): Promise<ExecOutcome> => {
    const sentAt = nowMs();
    doneAt = NaN;
    writeAt = NaN;
    return new Promise<ExecOutcome>((settle) => {
      const token = deadline.begin(sentAt, settle);
      try {
        client.query(config(q), (err, r) => {
          // pg reports an ErrorResponse as it parses it: the outcome is read once the rest of
          // the chunk (its ReadyForQuery, when it came along) was parsed, as with the promise
          if (err != null)
            queueMicrotask(() => deadline.end(token, failed(err, sentAt)));
          // a throw would escape through pg's nextTick (a result with no rows array)
          else
            try {
              deadline.end(token, toOutcome(r, sentAt));
            } catch (e) {
              deadline.end(token, failed(e, sentAt));
            }
        });
      } catch (err) {
        deadline.end(token, failed(err, sentAt));
      }
    });
  };
  const own = (text: string): Promise<OwnResult> =>
    ownStatement(client, { deadline, isBroken: opts.isBroken }, text);
  return {
    execute(q) {
      const held = deadline.held();
      return held === undefined ? run(q) : held.then(() => run(q));
    },
    async prepare(q) {
      // Parse + describe without executing: PREPARE validates names and types server-side.
      let t: ReturnType<typeof translator.translate>;
      try {
        t = translator.translate(q);
      } catch (err) {
        return pgErrorOutcome(err, opts.isBroken());
      }
      const name = `stb_dry_${t.key}`.slice(0, 63);
      const prepared = await own(`PREPARE ${name} AS ${t.text}`);
      if (!prepared.out.ok) return prepared.out;
      const { out } = await own(`DEALLOCATE ${name}`);
      return out.ok ? { ok: true, rows: 0 } : out;
    },
    async cancel() {
      // not awaited by a stop (the executor abandons the statement after its own bound): a
      // slow machine may take over a second to connect and fork the cancel's backend, and a
      // cancel given up early leaves the statement running on the server
      if (!closed) await cancelRunning(client, opts.connectTimeoutMs);
    },
    async serverVersion() {
      const { out, row } = await own('SELECT version()');
      if (!out.ok)
        throw new Error(
          `SELECT version() failed: ${out.errorMessage ?? out.errorClass ?? 'unknown'}`,
        );
      const v = typeof row?.[0] === 'string' ? row[0] : '';
      return v.split(' on ')[0] ?? v;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** The `postgres` plugin (`pg` loaded lazily). Target: `postgres://…` or `postgresql://…`. */
export const plugin: DbPlugin<PostgresOptions> = createPostgresPlugin();

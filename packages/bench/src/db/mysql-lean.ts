import { PluginError } from '@stb/core';
import type { ParamValue } from '@stb/core';
import { z } from 'zod';
import type { ExecOutcome } from '../bound-query';
import {
  defineDbPlugin,
  errorOutcome,
  loadDriver,
  redactSecrets,
  unreachableError,
  withErrorMessage,
} from '../db-plugin';
import type { DbPlugin, DbSession, Protocol } from '../db-plugin';
import { LEAN_QUERY_TIMEOUT_MS, parseLeanUrl } from '../internal/lean-url';
import type { LeanUrlDialect } from '../internal/lean-url';
import {
  MAX_SINGLE_PAYLOAD,
  commandHeader,
  commandPacket,
} from '../internal/mysql-wire';
import type {
  MyWire,
  MyWireConfig,
  MyWireResult,
} from '../internal/mysql-wire';
import { nowMs } from '../internal/wire';
import { isTextOnly, mysqlServerLabel } from '../internal/mysql-dialect';
import { mysqlErrnoOutcome } from '../internal/mysql-errno';
import { wireFailureOutcome } from '../internal/wire-outcome';
import { createPlaceholderTranslator } from '../placeholders';

/**
 * The `mysql-lean` plugin (issue 16, item 3): MySQL and MariaDB on a lean wire path of its own
 * (`internal/mysql-wire.ts`, no driver). Each statement text is prepared once per connection
 * (COM_STMT_PREPARE); every later call writes one COM_STMT_EXECUTE packet holding the parameter
 * bytes (their types only when they changed), and the answer's rows are counted without decoding
 * a value. Selected with a `mysql+lean://` or `mariadb+lean://` target (or a config file naming
 * `@stb/bench/db/mysql-lean`). Not the default: it has no TLS, logs in only with
 * `mysql_native_password` (or an empty password), reads only host, port, user, password,
 * database, `connectTimeout` and `query_timeout` from the URL, and refuses statements of 16 MiB
 * or more; use `mysql://` (mysql2) for anything else.
 */

/** Options of the `mysql-lean` plugin. */
export const MysqlLeanOptions = z.object({
  /** `mysql://user:pass@host:port/db?…` (the `+lean` of the target is already removed). */
  url: z.string().min(1),
  connectTimeoutMs: z.number().int().positive().optional(),
  /**
   * Longest wait for one statement (ms, default 300000): it is then killed (`KILL QUERY`) and
   * counted as a `timeout` error; a server that does not end it within 1 s loses the connection.
   */
  queryTimeoutMs: z.number().int().positive().optional(),
});
export type MysqlLeanOptions = z.infer<typeof MysqlLeanOptions>;

/** Default statement deadline of the lean path (ms). */
export const MYSQL_LEAN_QUERY_TIMEOUT_MS = LEAN_QUERY_TIMEOUT_MS;

/** How a `mysql://` URL is read: any of `ssl`, `sslmode`, `ssl-mode`, `tls` is refused. */
const MYSQL_LEAN_URL: LeanUrlDialect = {
  scheme: /^(mysql|mariadb)(\+lean)?:/i,
  tlsRefusal: (q) => {
    const k = ['ssl', 'sslmode', 'ssl-mode', 'tls'].find((p) => q.has(p));
    return k !== undefined
      ? `${k}= needs TLS, which the lean path does not speak; use mysql://`
      : undefined;
  },
  connectTimeout: { param: 'connectTimeout', unitMs: 1 },
};

/** The module the plugin loads lazily. */
export interface MysqlLeanLib {
  MyWire: typeof MyWire;
}

/** Reads the connection settings from a `mysql://` URL. */
export function mysqlLeanConfig(o: MysqlLeanOptions): MyWireConfig {
  const url = parseLeanUrl(o, MYSQL_LEAN_URL);
  return {
    host: url.host || 'localhost',
    port: Number(url.port || 3306),
    user: url.user,
    password: url.password,
    database: url.database,
    connectTimeoutMs: url.connectTimeoutMs,
    queryTimeoutMs: url.queryTimeoutMs,
  };
}

// --- COM_STMT_EXECUTE encoding ---
const T_TINY = 0x01;
const T_DOUBLE = 0x05;
const T_NULL = 0x06;
const T_LONGLONG = 0x08;
const T_BLOB = 0xfc;
const T_VAR_STRING = 0xfd;
/** The unsigned flag of a parameter type. */
const UNSIGNED = 0x80;
const TWO32 = 4294967296;
const INT64_MIN = -(2n ** 63n);
const UINT64_MAX = 2n ** 64n - 1n;

/** A prepared statement of one connection. */
export interface MyStatement {
  readonly id: number;
  readonly params: number;
  /** Types of the last bound parameters (type, flag per parameter), or null before the first call. */
  types: Uint8Array | null;
}

const lenencSize = (n: number): number =>
  n < 251 ? 1 : n < 65536 ? 3 : n < 16777216 ? 4 : 9;

function writeLenenc(b: Buffer, o: number, n: number): number {
  if (n < 251) {
    b[o] = n;
    return o + 1;
  }
  if (n < 65536) {
    b[o] = 0xfc;
    b.writeUInt16LE(n, o + 1);
    return o + 3;
  }
  if (n < 16777216) {
    b[o] = 0xfd;
    b.writeUIntLE(n, o + 1, 3);
    return o + 4;
  }
  b[o] = 0xfe;
  b.writeBigUInt64LE(BigInt(n), o + 1);
  return o + 9;
}

/**
 * {@link encodeExecute}'s per-parameter scratch, reused by every call (the encoder is synchronous,
 * so one set serves all connections): each parameter's type code, with the unsigned flag in bits
 * 8..15, and the value to write. Grown for a statement with more parameters.
 */
let scratchTypes = new Uint16Array(64);
const scratchValues: unknown[] = [];

/** Parameter `i`'s value to write goes to {@link scratchValues}; returns its `type`. */
function put(i: number, type: number, value: unknown): number {
  scratchValues[i] = value;
  return type;
}

/** Parameter `i`'s type code (with the unsigned flag in bits 8..15); its value goes to the scratch. */
function classify(v: unknown, i: number): number {
  if (v === null || v === undefined) return put(i, T_NULL, null);
  const p = v as ParamValue;
  switch (p.t) {
    case 'int':
      return put(i, Number.isSafeInteger(p.v) ? T_LONGLONG : T_DOUBLE, p.v);
    case 'float':
      return put(i, T_DOUBLE, p.v);
    case 'bool':
      return put(i, T_TINY, p.v ? 1 : 0);
    case 'null':
      return put(i, T_NULL, null);
    case 'bigint': {
      let b: bigint;
      try {
        b = BigInt(p.v);
      } catch {
        return put(i, T_VAR_STRING, Buffer.from(p.v, 'utf8'));
      }
      if (b >= INT64_MIN && b < -INT64_MIN) return put(i, T_LONGLONG, b);
      if (b > 0n && b <= UINT64_MAX)
        return put(i, T_LONGLONG | (UNSIGNED << 8), b);
      return put(i, T_VAR_STRING, Buffer.from(p.v, 'utf8'));
    }
    case 'bytes':
      return put(i, T_BLOB, Buffer.from(p.v, 'hex'));
    case 'list':
      // lists are expanded by the placeholder translator; a nested one goes as its JSON text
      return put(i, T_VAR_STRING, Buffer.from(JSON.stringify(p.v), 'utf8'));
    default:
      // string, uuid, json, timestamp, date: text, as mysql2 sends strings
      return put(i, T_VAR_STRING, Buffer.from(p.v, 'utf8'));
  }
}

/**
 * One COM_STMT_EXECUTE packet: statement id, no cursor, one iteration, the NULL bitmap, the
 * parameter types when they differ from the last call's (`st.types` is then updated), and the
 * values (LONGLONG, DOUBLE and TINY in binary, text and bytes length-encoded). Safe integers and
 * doubles are written without an intermediate object, and the per-parameter types and values go
 * to a reused scratch: the packet is the call's only allocation, besides text and bytes values.
 * @throws Error when the packet would reach 16 MiB (the lean path sends single packets).
 */
export function encodeExecute(
  st: MyStatement,
  values: readonly unknown[],
): Buffer {
  const n = values.length;
  if (scratchTypes.length < n) scratchTypes = new Uint16Array(2 * n);
  const types = scratchTypes;
  const conv = scratchValues;
  let size = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i] as { t?: string; v?: unknown } | null;
    let type: number;
    if (
      v !== null &&
      v !== undefined &&
      v.t === 'int' &&
      Number.isSafeInteger(v.v)
    ) {
      type = T_LONGLONG;
      conv[i] = v.v;
    } else type = classify(v, i);
    types[i] = type;
    const x = conv[i];
    const t = type & 0xff;
    if (t === T_LONGLONG || t === T_DOUBLE) size += 8;
    else if (t === T_TINY) size += 1;
    else if (t !== T_NULL)
      size += lenencSize((x as Buffer).length) + (x as Buffer).length;
  }
  let rebind = st.types === null || st.types.length !== 2 * n;
  if (!rebind) {
    const old = st.types as Uint8Array;
    for (let i = 0; i < n && !rebind; i++)
      rebind =
        old[2 * i] !== ((types[i] as number) & 0xff) ||
        old[2 * i + 1] !== (types[i] as number) >> 8;
  }
  const bitmap = (n + 7) >> 3;
  const len = 10 + (n > 0 ? bitmap + 1 + (rebind ? 2 * n : 0) : 0) + size;
  if (len > MAX_SINGLE_PAYLOAD) conv.fill(undefined, 0, n); // refused below: keep nothing
  const b = commandHeader(len, 0x17, 'a COM_STMT_EXECUTE');
  b.writeUInt32LE(st.id, 5);
  b[9] = 0;
  b.writeUInt32LE(1, 10);
  let o = 14;
  if (n === 0) return b;
  b.fill(0, o, o + bitmap);
  for (let i = 0; i < n; i++)
    if (((types[i] as number) & 0xff) === T_NULL)
      b[o + (i >> 3)] = (b[o + (i >> 3)] as number) | (1 << (i & 7));
  o += bitmap;
  b[o++] = rebind ? 1 : 0;
  if (rebind) {
    const bound = new Uint8Array(2 * n);
    for (let i = 0; i < n; i++) {
      bound[2 * i] = b[o++] = (types[i] as number) & 0xff;
      bound[2 * i + 1] = b[o++] = (types[i] as number) >> 8;
    }
    st.types = bound;
  }
  for (let i = 0; i < n; i++) {
    const t = (types[i] as number) & 0xff;
    const x = conv[i];
    conv[i] = undefined; // the scratch keeps no value alive
    if (t === T_LONGLONG) {
      if (typeof x === 'bigint') {
        if (x < 0n) b.writeBigInt64LE(x, o);
        else b.writeBigUInt64LE(x, o);
      } else {
        const v = x as number;
        const hi = Math.floor(v / TWO32);
        b.writeUInt32LE(v - hi * TWO32, o);
        b.writeInt32LE(hi, o + 4);
      }
      o += 8;
    } else if (t === T_DOUBLE) o = b.writeDoubleLE(x as number, o);
    else if (t === T_TINY) b[o++] = x as number;
    else if (t !== T_NULL) {
      const buf = x as Buffer;
      o = writeLenenc(b, o, buf.length);
      o += buf.copy(b, o);
    }
  }
  return b;
}

/** A COM_QUERY packet. */
const queryPacket = (text: string): Buffer =>
  commandPacket(0x03, text, 'a statement');

/**
 * Maps a wire result to an outcome, with the conventions of the `mysql` plugin: errno as code and
 * class (1927 connection killed, 2006/2013 gone or lost: connection lost), client failures as
 * `connection` or `timeout`; with the request's wire times.
 */
export function myWireOutcome(r: MyWireResult): ExecOutcome {
  let out: ExecOutcome;
  if (r.failure !== undefined) {
    out = wireFailureOutcome(r.failure, '1317');
  } else if (r.error !== undefined) {
    out = withErrorMessage(mysqlErrnoOutcome(r.error.errno), {
      message: r.error.message,
    });
  } else return { ok: true, rows: r.rows, sentAt: r.sentAt, doneAt: r.doneAt };
  return { ...out, sentAt: r.sentAt, doneAt: r.doneAt };
}

/** The clear refusal of a login the lean path cannot do. */
function authError(url: string, plugin: string, cause: unknown): PluginError {
  return new PluginError(
    'STB_DB_UNREACHABLE',
    `[stb] [bench] Cannot log in to ${redactSecrets(url)} on the lean MySQL path: the server asks for the ${plugin} authentication plugin, and mysql+lean:// speaks only mysql_native_password (no TLS). Use mysql://… (the mysql2 plugin) instead.`,
    {
      cause,
      pluginKind: 'db',
      pluginName: 'mysql-lean',
      details: { target: redactSecrets(url), authPlugin: plugin },
    },
  );
}

/** Opens a lean connection whose kills go through a second, short-lived lean connection. */
async function openWire(
  lib: MysqlLeanLib,
  cfg: MyWireConfig,
  url: string,
): Promise<MyWire> {
  /** `KILL QUERY` from a second connection; false when it could not be sent. */
  const kill = async (threadId: number): Promise<boolean> => {
    const killer = await lib.MyWire.open(
      {
        ...cfg,
        database: '',
        connectTimeoutMs: Math.min(cfg.connectTimeoutMs, 1000),
        queryTimeoutMs: 2000,
      },
      async () => undefined,
    ).catch(() => null);
    if (killer === null) return false;
    try {
      const r = await killer.request(
        queryPacket(`KILL QUERY ${String(threadId)}`),
        (res) => res,
      );
      return r.failure === undefined; // the server answered it (an ERR too: it was read)
    } finally {
      await killer.close();
    }
  };
  try {
    return await lib.MyWire.open(cfg, kill);
  } catch (err) {
    const plugin = (err as { unsupportedAuth?: unknown }).unsupportedAuth;
    if (typeof plugin === 'string') throw authError(url, plugin, err);
    throw unreachableError('mysql-lean', redactSecrets(url), err);
  }
}

/** Creates the `mysql-lean` plugin, optionally with an injected wire module. */
export function createMysqlLeanPlugin(
  inject: { lib?: MysqlLeanLib } = {},
): DbPlugin<MysqlLeanOptions> {
  return defineDbPlugin<MysqlLeanOptions>({
    kind: 'db',
    name: 'mysql-lean',
    apiVersion: 1,
    description:
      'MySQL and MariaDB on a lean wire path (prepare once, COM_STMT_EXECUTE with parameter bytes only, rows counted not decoded)',
    options: MysqlLeanOptions,
    dialect: 'mysql',
    capabilities: {
      prepared: true,
      transactions: true,
      maxConnections: null,
      cancel: true,
      ownDeadline: true,
    },
    dependencies: [],
    async connect(options, ctx = {}): Promise<DbSession> {
      const lib = await loadDriver<MysqlLeanLib>(
        { plugin: 'mysql-lean', pkg: '@stb/bench', lib: inject.lib },
        () => import('../internal/mysql-wire'),
      );
      let cfg: MyWireConfig;
      try {
        cfg = mysqlLeanConfig(options);
      } catch (err) {
        throw unreachableError('mysql-lean', redactSecrets(options.url), err);
      }
      const wire = await openWire(lib, cfg, options.url);
      return createLeanSession(wire, ctx.protocol ?? 'prepared');
    },
  });
}

/** A statement prepared on a connection, and the mapping of its answers. */
interface Prepared {
  readonly st: MyStatement;
  readonly answer: (r: MyWireResult) => ExecOutcome;
}

const clientError = (err: unknown): Promise<ExecOutcome> =>
  Promise.resolve(withErrorMessage(errorOutcome(undefined, 'client'), err));

function createLeanSession(wire: MyWire, protocol: Protocol): DbSession {
  // values stay ParamValues: the encoder picks the wire type from them
  const translator = createPlaceholderTranslator({
    style: 'question',
    convert: (p) => p,
    dialect: 'mysql',
  });
  const statements = new Map<string, Prepared>();
  const preparing = new Map<string, Promise<Prepared | MyWireResult>>();
  let closed = false;

  const text = (sql: string): Promise<ExecOutcome> =>
    wire.request(queryPacket(sql), myWireOutcome);
  const prepareOnce = (
    key: string,
    sql: string,
  ): Promise<Prepared | MyWireResult> => {
    let p = preparing.get(key);
    if (p === undefined) {
      p = wire.prepare(sql).then((r) => {
        preparing.delete(key);
        if (r.statement === undefined) return r;
        const st: MyStatement = {
          id: r.statement.id,
          params: r.statement.params,
          types: null,
        };
        const prepared: Prepared = {
          st,
          // made once per statement, not per call
          answer: (a) => {
            // an execute the server refused may not have bound the types: send them next time
            if (a.error !== undefined) st.types = null;
            return myWireOutcome(a);
          },
        };
        statements.set(key, prepared);
        return prepared;
      });
      preparing.set(key, p);
    }
    return p;
  };
  const executeOn = (
    p: Prepared,
    values: readonly unknown[],
  ): Promise<ExecOutcome> => {
    let bytes: Buffer;
    try {
      bytes = encodeExecute(p.st, values);
    } catch (err) {
      return clientError(err);
    }
    return wire.request(bytes, p.answer);
  };
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await wire.close().catch(() => undefined);
  };
  return {
    execute(q) {
      try {
        if (protocol !== 'prepared' || isTextOnly(q.queryType))
          return text(
            q.params.length === 0 ? q.text : translator.inline(q, 'mysql'),
          );
        const t = translator.translate(q);
        const prepared = statements.get(t.key);
        if (prepared !== undefined) return executeOn(prepared, t.values);
        // the first call's service time covers the prepare round trip too (as mysql2's execute)
        const t0 = nowMs();
        return prepareOnce(t.key, t.text).then(async (s) => {
          if (!('st' in s)) return { ...myWireOutcome(s), sentAt: t0 };
          return { ...(await executeOn(s, t.values)), sentAt: t0 };
        });
      } catch (err) {
        // a value the text protocol cannot carry, a statement of 16 MiB or more
        return clientError(err);
      }
    },
    async prepare(q) {
      try {
        const t = translator.translate(q);
        const r = await wire.prepare(t.text);
        if (r.statement === undefined) return myWireOutcome(r);
        const close = Buffer.alloc(9);
        close.writeUIntLE(5, 0, 3);
        close[4] = 0x19;
        close.writeUInt32LE(r.statement.id, 5);
        wire.sendOnly(close);
        return { ok: true, rows: 0 };
      } catch (err) {
        return clientError(err);
      }
    },
    async cancel() {
      if (!closed) await wire.cancel();
    },
    async serverVersion() {
      return mysqlServerLabel(wire.serverVersion);
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** The `mysql-lean` plugin. Target: `mysql+lean://…` or `mariadb+lean://…`. */
export const plugin: DbPlugin<MysqlLeanOptions> = createMysqlLeanPlugin();

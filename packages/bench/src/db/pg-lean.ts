import { userInfo } from 'node:os';
import { z } from 'zod';
import type { BoundQuery, ExecOutcome } from '../bound-query';
import {
  defineDbPlugin,
  errorOutcome,
  loadDriver,
  mustInlineParams,
  redactSecrets,
  unreachableError,
  withErrorMessage,
} from '../db-plugin';
import type { DbPlugin, DbSession, Protocol } from '../db-plugin';
import { LEAN_QUERY_TIMEOUT_MS, parseLeanUrl } from '../internal/lean-url';
import type { LeanUrlDialect } from '../internal/lean-url';
import type { PgWire, PgWireConfig, WireResult } from '../internal/pg-wire';
import {
  encodeSimpleQuery,
  paramBytes,
  safeIntLength,
  simpleQueryShape,
  writeSafeIntBefore,
} from '../internal/pg-simple-query';
import type { SimpleQueryShape } from '../internal/pg-simple-query';
import { wireFailureOutcome } from '../internal/wire-outcome';
import { createPlaceholderTranslator } from '../placeholders';
import { pgErrorOutcome, sendPgCancelRequest, toPgValue } from './postgres';

/**
 * The `pg-lean` plugin (issue 16, part 3): PostgreSQL on a lean wire path built on `pg-protocol`.
 * Each statement text is parsed once per connection under a name; every later call writes one
 * buffer — a Bind holding only the parameter bytes, then a pre-serialised Execute + Sync — and the
 * answer is scanned for its command tag and row count without building row objects. Selected
 * with a `postgres+lean://` target (or a config file naming `@stb/bench/db/pg-lean`). Not the
 * default: it has no TLS and no GSSAPI/SSPI login, reads only host, port, user, password,
 * database, `application_name`, `connect_timeout`, `query_timeout` and `host=/socket/dir` from
 * the URL, and does not report notices (neither does the `postgres` plugin).
 */

/** Options of the `pg-lean` plugin. */
export const PgLeanOptions = z.object({
  /** `postgres://user:pass@host:port/db?…` (the `+lean` of the target is already removed). */
  url: z.string().min(1),
  applicationName: z.string().optional(),
  connectTimeoutMs: z.number().int().positive().optional(),
  /**
   * Longest wait for one statement (ms, default 300000): it is then cancelled and counted as a
   * `timeout` error; a server that does not answer the cancel within 1 s loses the connection.
   */
  queryTimeoutMs: z.number().int().positive().optional(),
});
export type PgLeanOptions = z.infer<typeof PgLeanOptions>;

/** Default statement deadline of the lean path (ms). */
export const PG_LEAN_QUERY_TIMEOUT_MS = LEAN_QUERY_TIMEOUT_MS;

/** How a `postgres://` URL is read: `sslmode` (or `PGSSLMODE`) other than disable/allow/prefer is refused. */
const PG_LEAN_URL: LeanUrlDialect = {
  scheme: /^postgres(ql)?(\+lean)?:/i,
  tlsRefusal: (q) => {
    const sslmode = q.get('sslmode') ?? process.env['PGSSLMODE'];
    return sslmode !== undefined &&
      !['disable', 'allow', 'prefer'].includes(sslmode)
      ? `sslmode=${sslmode} needs TLS, which the lean path does not speak; use postgres://`
      : undefined;
  },
  connectTimeout: { param: 'connect_timeout', unitMs: 1000 },
};

/** The modules the plugin loads lazily. */
export interface PgLeanLib {
  PgWire: typeof PgWire;
}

/** Reads the connection settings from a `postgres://` URL (and the libpq environment variables). */
export function pgLeanConfig(o: PgLeanOptions): PgWireConfig {
  const env = process.env;
  const url = parseLeanUrl(
    { ...o, url: o.url.replace('@/', '@localhost/') },
    PG_LEAN_URL,
  );
  const q = url.params;
  const user = url.user || env['PGUSER'] || userInfo().username;
  const password = url.password !== '' ? url.password : env['PGPASSWORD'];
  return {
    host: q.get('host') ?? (url.host || env['PGHOST'] || 'localhost'),
    port: Number(url.port || q.get('port') || env['PGPORT'] || 5432),
    user,
    ...(password !== undefined ? { password } : {}),
    database: url.database || env['PGDATABASE'] || user,
    applicationName:
      o.applicationName ?? q.get('application_name') ?? 'stb-bench',
    connectTimeoutMs: url.connectTimeoutMs,
    queryTimeoutMs: url.queryTimeoutMs,
  };
}

// --- pre-serialised messages ---
/** Execute (unnamed portal, all rows) + Sync: the same bytes for every call. */
const EXECUTE_SYNC = Buffer.from([
  69, 0, 0, 0, 9, 0, 0, 0, 0, 0, 83, 0, 0, 0, 4,
]);

/** A Parse message (`P`, name, text, no parameter types: the server infers them). */
function parseMessage(name: string, text: string): Buffer {
  const nameLen = Buffer.byteLength(name);
  const textLen = Buffer.byteLength(text);
  const len = 4 + nameLen + 1 + textLen + 1 + 2;
  const b = Buffer.allocUnsafe(1 + len);
  b[0] = 80;
  b.writeInt32BE(len, 1);
  let o = 5 + b.write(name, 5);
  b[o++] = 0;
  o += b.write(text, o);
  b[o++] = 0;
  b.writeInt16BE(0, o);
  return b;
}

/** The fixed start of a Bind to a statement: unnamed portal, the statement's name, NUL. */
function bindHead(statement: string): Buffer {
  return Buffer.from(`\0${statement}\0`, 'utf8');
}

/**
 * Writes Bind (parameter bytes only; text format except Buffers, which go binary as `pg` sends
 * them; text results: the same bytes as pg-protocol's `serialize.bind`) + Execute + Sync into one
 * buffer, after an optional Parse. Safe integers (most parameters of a trace) are written as
 * digits without a string in between; other values go through {@link paramBytes}.
 */
export function encodeCall(
  head: Buffer,
  values: readonly unknown[],
  parse: Buffer | null,
): Buffer {
  const n = values.length;
  // converted values other than safe integers, made only when there is one
  let parts: (Buffer | string | null)[] | undefined;
  let size = 0;
  let binary = false;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (typeof v === 'number' && Number.isSafeInteger(v)) {
      size += safeIntLength(v);
      continue;
    }
    const p = paramBytes(v);
    parts ??= new Array<Buffer | string | null>(n);
    parts[i] = p;
    if (p === null) continue;
    if (typeof p === 'string') size += Buffer.byteLength(p);
    else {
      size += p.length;
      binary = true;
    }
  }
  // 'B' len | head | nFormats formats* | nParams (len value)* | 1 result format: text
  const bindLen = 4 + head.length + 2 + 2 * n + 2 + 4 * n + size + 4;
  const pre = parse === null ? 0 : parse.length;
  const b = Buffer.allocUnsafe(pre + 1 + bindLen + EXECUTE_SYNC.length);
  let o = 0;
  if (parse !== null) o += parse.copy(b, 0);
  b[o] = 66;
  b.writeInt32BE(bindLen, o + 1);
  o += 5;
  o += head.copy(b, o);
  o = b.writeInt16BE(n, o);
  for (let i = 0; i < n; i++) {
    b[o++] = 0;
    b[o++] = binary && Buffer.isBuffer(parts?.[i]) ? 1 : 0;
  }
  o = b.writeInt16BE(n, o);
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (typeof v === 'number' && Number.isSafeInteger(v)) {
      const len = safeIntLength(v);
      o = b.writeInt32BE(len, o) + len;
      writeSafeIntBefore(b, o, v);
      continue;
    }
    const p = parts?.[i];
    if (p === null || p === undefined) {
      o = b.writeInt32BE(-1, o);
    } else if (typeof p === 'string') {
      const w = b.write(p, o + 4);
      b.writeInt32BE(w, o);
      o += 4 + w;
    } else {
      b.writeInt32BE(p.length, o);
      o += 4 + p.copy(b, o + 4);
    }
  }
  o = b.writeInt16BE(1, o);
  o = b.writeInt16BE(0, o);
  EXECUTE_SYNC.copy(b, o);
  return b;
}

/** A simple-protocol Query message. */
function queryMessage(text: string): Buffer {
  const len = 4 + Buffer.byteLength(text) + 1;
  const b = Buffer.allocUnsafe(1 + len);
  b[0] = 81;
  b.writeInt32BE(len, 1);
  const w = b.write(text, 5);
  b[5 + w] = 0;
  return b;
}

/**
 * Maps a wire result to an outcome: rows, or the SQLSTATE / timeout / connection failure, with
 * the request's wire times.
 */
export function wireOutcome(r: WireResult): ExecOutcome {
  if (r.failure !== undefined) {
    const out = wireFailureOutcome(r.failure, '57014');
    return { ...out, sentAt: r.sentAt, doneAt: r.doneAt };
  }
  if (r.error !== undefined)
    return {
      ...pgErrorOutcome(r.error, false),
      sentAt: r.sentAt,
      doneAt: r.doneAt,
    };
  return { ok: true, rows: r.rows, sentAt: r.sentAt, doneAt: r.doneAt };
}

interface Statement {
  /** Bind's fixed head (portal, statement name). */
  head: Buffer;
  /** Parse to send before the first Bind (null once sent). */
  parse: Buffer | null;
}

/** Creates the `pg-lean` plugin, optionally with injected modules. */
export function createPgLeanPlugin(
  inject: { lib?: PgLeanLib } = {},
): DbPlugin<PgLeanOptions> {
  return defineDbPlugin<PgLeanOptions>({
    kind: 'db',
    name: 'pg-lean',
    apiVersion: 1,
    description:
      'PostgreSQL on a lean wire path (pg-protocol; prepare once, Bind with parameter bytes only, rows counted not built)',
    options: PgLeanOptions,
    dialect: 'postgres',
    capabilities: {
      prepared: true,
      transactions: true,
      maxConnections: null,
      cancel: true,
      ownDeadline: true,
    },
    dependencies: ['pg-protocol'],
    async connect(options, ctx = {}): Promise<DbSession> {
      const lib = await loadDriver<PgLeanLib>(
        { plugin: 'pg-lean', pkg: 'pg-protocol', lib: inject.lib },
        () => import('../internal/pg-wire'),
      );
      let cfg: PgWireConfig;
      try {
        cfg = pgLeanConfig(options);
      } catch (err) {
        throw unreachableError('pg-lean', redactSecrets(options.url), err);
      }
      let wire: PgWire;
      try {
        wire = await lib.PgWire.open(cfg, (processID, secretKey) =>
          sendPgCancelRequest(
            { host: cfg.host, port: cfg.port, processID, secretKey },
            Math.min(cfg.connectTimeoutMs, 1000),
          ),
        );
      } catch (err) {
        throw unreachableError('pg-lean', redactSecrets(options.url), err);
      }
      return createLeanSession(wire, ctx.protocol ?? 'prepared');
    },
  });
}

function createLeanSession(wire: PgWire, protocol: Protocol): DbSession {
  const translator = createPlaceholderTranslator({
    style: 'dollar',
    convert: toPgValue,
  });
  const named = new Map<string, Statement>();
  const unnamed = new Map<string, Buffer>();
  const UNNAMED_HEAD = bindHead('');
  let nextName = 0;
  let closed = false;

  const shapes = new Map<string, SimpleQueryShape>();

  const run = (bytes: Buffer): Promise<ExecOutcome> =>
    wire.request(bytes, wireOutcome);
  const simple = (text: string): Promise<ExecOutcome> =>
    run(queryMessage(text));
  /** A statement with its parameters inlined (simple protocol). */
  const inline = (q: BoundQuery): Promise<ExecOutcome> => {
    let shape = shapes.get(q.templateId);
    if (shape === undefined) {
      shape = simpleQueryShape(q.text);
      shapes.set(q.templateId, shape);
    }
    const bytes = encodeSimpleQuery(shape, q.params);
    return bytes !== null
      ? run(bytes)
      : simple(translator.inline(q, 'postgres'));
  };

  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await wire.close().catch(() => undefined);
  };
  return {
    execute(q) {
      try {
        if (protocol === 'simple' || mustInlineParams(q)) return inline(q);
        const t = translator.translate(q);
        if (protocol === 'extended') {
          let parse = unnamed.get(t.key);
          if (parse === undefined) {
            parse = parseMessage('', t.text);
            unnamed.set(t.key, parse);
          }
          return run(encodeCall(UNNAMED_HEAD, t.values, parse));
        }
        let st = named.get(t.key);
        if (st === undefined) {
          const name = `l${String(nextName++)}`;
          st = { head: bindHead(name), parse: parseMessage(name, t.text) };
          named.set(t.key, st);
        }
        const parse = st.parse;
        if (parse === null) return run(encodeCall(st.head, t.values, null));
        // Parse + Bind + Execute + Sync in one write; a Parse the server refused (no
        // ParseComplete: the name does not exist) is sent again with the next call
        st.parse = null;
        const s = st;
        return wire.request(encodeCall(st.head, t.values, parse), (r) => {
          if (r.parsed !== true) s.parse = parse;
          return wireOutcome(r);
        });
      } catch (err) {
        // a value the text protocol cannot carry (STB_RENDER_VALUE_UNSUPPORTED …)
        return Promise.resolve(
          withErrorMessage(errorOutcome(undefined, 'client'), err),
        );
      }
    },
    async prepare(q) {
      const t = translator.translate(q);
      const name = `stb_dry_${t.key}`.slice(0, 63);
      const out = await simple(`PREPARE ${name} AS ${t.text}`);
      if (!out.ok) return out;
      await simple(`DEALLOCATE ${name}`);
      return { ok: true, rows: 0 };
    },
    async cancel() {
      if (!closed) await wire.cancel();
    },
    async serverVersion() {
      const r = await wire.send(queryMessage('SELECT version()'), true);
      const v = r.first ?? '';
      return v.split(' on ')[0] ?? v;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** The `pg-lean` plugin. Target: `postgres+lean://…` or `postgresql+lean://…`. */
export const plugin: DbPlugin<PgLeanOptions> = createPgLeanPlugin();

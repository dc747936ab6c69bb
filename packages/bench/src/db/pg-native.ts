import { availableParallelism } from 'node:os';
import { z } from 'zod';
import type * as LibpqLoop from '@stb/libpq-loop';
import type { ParamValue } from '@stb/core';
import type { BoundQuery, ExecOutcome } from '../bound-query';
import { PluginError } from '@stb/core';
import {
  defineDbPlugin,
  errorOutcome,
  loadDriver,
  mustInlineParams,
  redactSecrets,
  unreachableError,
  withErrorMessage,
} from '../db-plugin';
import type {
  DbBatchContext,
  DbPlugin,
  DbSession,
  Protocol,
} from '../db-plugin';
import { LEAN_QUERY_TIMEOUT_MS } from '../internal/lean-url';
import { PgLeanOptions } from './pg-lean';
import {
  paramBytes,
  safeIntLength,
  simpleQueryShape,
  simpleQueryTextLength,
  writeSafeIntBefore,
  writeSimpleQueryText,
} from '../internal/pg-simple-query';
import type { SimpleQueryShape } from '../internal/pg-simple-query';
import { nowMs } from '../internal/wire';
import { createPlaceholderTranslator } from '../placeholders';
import { pgErrorOutcome, toPgValue } from './postgres';

/**
 * The `pg-native` plugin (issue 16): PostgreSQL through libpq, driven by native epoll loop threads
 * (`@stb/libpq-loop`). In a closed loop the runner hands it a session's statements in batches
 * ({@link DbSession.runBatch}); a loop thread sends each one when the previous one completed
 * and times both ends on the wire, so the client's turnaround between statements is libpq's, as
 * pgbench's, and JavaScript runs once per batch, not per statement. In replay and open loop the
 * batches are timed ({@link DbBatchContext.timing}): the loop thread sends each statement when it
 * is due, so there too a session's statements follow each other without a trip through
 * JavaScript, and each statement's sent and done times are the kernel's (when its bytes went to
 * the network device, when the answer's entered the host's network stack; `SO_TIMESTAMPING`, TCP
 * on Linux), so that the service time leaves out the loop thread's own send and wake-up. Selected
 * with a
 * `postgres+native://` target. The URL goes to libpq as it is (TLS, every libpq parameter and
 * the `PG*` environment variables work), less `query_timeout`, which is stb's.
 */

/** Options of the `pg-native` plugin: the `pg-lean` plugin's (options win over the URL's parameters). */
export const PgNativeOptions = PgLeanOptions.extend({
  /**
   * Native threads that drive this JavaScript thread's connections (each an epoll loop, as
   * pgbench's `-j` threads; default: the CPUs, at most 64). Connections are dealt to them in turn.
   */
  threads: z.number().int().min(1).max(64).optional(),
  /**
   * Timed batches (replay and open loop) run with their loop thread under SCHED_FIFO, so that it
   * wakes at due times ahead of the ordinary scheduler's threads (the database's too, on one
   * machine). Needs CAP_SYS_NICE or a real-time priority limit (RLIMIT_RTPRIO) of at least 1:
   * without them the connection fails (`STB_PLUGIN_PRIVILEGE_MISSING`), unless it was opened for
   * untimed batches only (`DbConnectContext.timed` false: the closed loop), where the option is
   * dropped (a timed batch sent on it anyway runs under SCHED_OTHER). Also `?realtime=1` in the
   * URL; the option wins. Default false.
   */
  realtime: z.boolean().optional(),
});
export type PgNativeOptions = z.infer<typeof PgNativeOptions>;

/** One connection of the addon (`@stb/libpq-loop`). */
export type NativeConn = LibpqLoop.Conn;

/** The addon's module. */
export type PgNativeLib = typeof LibpqLoop;

/** Whether a statement has a list parameter (translated per list length). */
function hasList(params: readonly ParamValue[]): boolean {
  for (let i = 0; i < params.length; i++)
    if ((params[i] as ParamValue).t === 'list') return true;
  return false;
}

/** Connections opened by this JavaScript thread (deals them to the loop threads in turn). */
let opened = 0;

/** Default connect timeout (s), as the lean plugins'. */
const CONNECT_TIMEOUT_S = 10;
/** Result doubles per statement: sent, done (ms, CLOCK_MONOTONIC), rows, status. */
const OUT = 4;
const ST_OK = 0;
const ST_ERROR = 1;
const ST_TIMEOUT = 2;
const ST_LOST = 3;
/** No answer to the cancel either (the connection was closed). */
const ST_TIMEOUT_LOST = 4;

/**
 * The libpq connection string of a `postgres://` URL: `query_timeout` (stb's) is taken out, and
 * `connect_timeout` (the option, else a positive one in the URL, else 10 s: libpq would wait
 * without limit for 0) and `application_name` (the option, else the URL's, else `stb-bench`) are
 * set; `realtime` (stb's: 1/true/on or the bare key, 0/false/off; the last one counts, the option
 * wins) is taken out too. The URL's other parameters go to libpq as written (libpq decodes `%XX`,
 * not `+`).
 * @throws URIError for a malformed escape in the parameters
 * @throws StbError `STB_PLUGIN_OPTIONS_INVALID` for another `realtime` value
 */
export function pgNativeConninfo(o: PgNativeOptions): {
  conninfo: string;
  queryTimeoutMs: number;
  realtime: boolean;
} {
  const url = o.url.replace(/^(postgres(ql)?)\+native:/i, '$1:');
  if (!/^postgres(ql)?:\/\//i.test(url))
    throw new TypeError('Invalid URL: write postgres://…');
  const at = url.indexOf('?');
  const kept: string[] = [];
  let queryTimeout = NaN;
  let connectTimeout = false;
  let appName = false;
  let realtime: boolean | undefined;
  for (const pair of at < 0 ? [] : url.slice(at + 1).split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const key = decodeURIComponent(eq < 0 ? pair : pair.slice(0, eq));
    const text = eq < 0 ? undefined : decodeURIComponent(pair.slice(eq + 1));
    const value = Number(text ?? '');
    if (key === 'query_timeout') {
      queryTimeout = value;
      continue;
    }
    if (key === 'realtime') {
      realtime = realtimeParam(text);
      continue;
    }
    if (key === 'connect_timeout') {
      if (o.connectTimeoutMs !== undefined || !(value > 0)) continue;
      connectTimeout = true;
    }
    if (key === 'application_name') {
      if (o.applicationName !== undefined) continue;
      appName = true;
    }
    kept.push(pair);
  }
  if (!connectTimeout)
    kept.push(
      `connect_timeout=${String(Math.max(1, Math.ceil((o.connectTimeoutMs ?? CONNECT_TIMEOUT_S * 1000) / 1000)))}`,
    );
  if (!appName)
    kept.push(
      `application_name=${encodeURIComponent(o.applicationName ?? 'stb-bench')}`,
    );
  return {
    conninfo: `${at < 0 ? url : url.slice(0, at)}?${kept.join('&')}`,
    queryTimeoutMs:
      o.queryTimeoutMs ??
      (queryTimeout > 0 ? queryTimeout : LEAN_QUERY_TIMEOUT_MS),
    realtime: o.realtime ?? realtime ?? false,
  };
}

/** The URL's `realtime=` value (`undefined`: the bare key). */
function realtimeParam(text: string | undefined): boolean {
  const v = text?.toLowerCase();
  if (v === undefined || v === '1' || v === 'true' || v === 'on') return true;
  if (v === '0' || v === 'false' || v === 'off') return false;
  throw new PluginError(
    'STB_PLUGIN_OPTIONS_INVALID',
    `[stb] [db:pg-native] The target's realtime=${text} is neither 1/true/on (or the bare key) nor 0/false/off.`,
    {
      pluginKind: 'db',
      pluginName: 'pg-native',
      details: { param: 'realtime' },
    },
  );
}

/**
 * Raises `STB_PLUGIN_PRIVILEGE_MISSING` where realtime loop threads were asked for and this
 * process may not have them: a run asked to be precise must not run without them unsaid.
 */
function checkRealtime(lib: PgNativeLib): void {
  const why = lib.realtimeRefused();
  if (why === '') return;
  throw new PluginError(
    'STB_PLUGIN_PRIVILEGE_MISSING',
    `[stb] [db:pg-native] realtime: this process may not run threads under SCHED_FIFO (${why}). It needs a real-time priority limit of at least 1 (any user: docker run --ulimit rtprio=1, rtprio in /etc/security/limits.conf, LimitRTPRIO= in a systemd unit) or CAP_SYS_NICE (root in Docker: --cap-add SYS_NICE), in a cgroup that allows real-time time (cpu.rt_runtime_us above 0); or leave realtime out.`,
    {
      pluginKind: 'db',
      pluginName: 'pg-native',
      details: { option: 'realtime', refused: why },
    },
  );
}

/** A growable little-endian buffer the batch is encoded into (reused across batches). */
class OpWriter {
  buf = Buffer.allocUnsafe(64 * 1024);
  o = 0;

  reserve(n: number): void {
    if (this.o + n <= this.buf.length) return;
    const b = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.o + n));
    this.buf.copy(b, 0, 0, this.o);
    this.buf = b;
  }

  u8(v: number): void {
    this.reserve(1);
    this.buf[this.o++] = v;
  }

  u32(v: number): void {
    this.reserve(4);
    this.o = this.buf.writeUInt32LE(v, this.o);
  }

  /** A string's UTF-8 bytes and a NUL, after their length (with the NUL) as u32. */
  text(s: string): void {
    const n = Buffer.byteLength(s);
    this.reserve(5 + n);
    this.o = this.buf.writeUInt32LE(n + 1, this.o);
    this.o += this.buf.write(s, this.o);
    this.buf[this.o++] = 0;
  }

  /**
   * A simple-protocol statement's text with its integer parameters inlined (see
   * `writeSimpleQueryText`) and a NUL, after their length (with the NUL) as u32; false, with
   * nothing written, unless every parameter is a safe integer.
   */
  simpleQuery(shape: SimpleQueryShape, params: readonly ParamValue[]): boolean {
    const size = simpleQueryTextLength(shape, params);
    if (size < 0) return false;
    this.reserve(5 + size);
    const lengthAt = this.o;
    this.o += 4;
    writeSimpleQueryText(shape, params, this);
    this.buf.writeUInt32LE(this.o - lengthAt - 4 + 1, lengthAt);
    this.buf[this.o++] = 0;
    return true;
  }

  /** Parameters: u16 count, then per value i32 length (-1 NULL), u8 format, bytes (+ NUL for text). */
  params(values: readonly unknown[]): void {
    const n = values.length;
    this.reserve(2);
    this.o = this.buf.writeUInt16LE(n, this.o);
    for (let i = 0; i < n; i++) this.value(values[i]);
  }

  /** {@link params} of a trace event's parameters (none a list), as `pg` takes them (`toPgValue`). */
  paramList(params: readonly ParamValue[]): void {
    const n = params.length;
    this.reserve(2);
    this.o = this.buf.writeUInt16LE(n, this.o);
    for (let i = 0; i < n; i++) this.value(toPgValue(params[i] as ParamValue));
  }

  /** One parameter value (see {@link params}). */
  value(v: unknown): void {
    if (typeof v === 'number' && Number.isSafeInteger(v)) {
      const len = safeIntLength(v);
      this.reserve(6 + len);
      this.o = this.buf.writeInt32LE(len, this.o);
      this.buf[this.o++] = 0;
      writeSafeIntBefore(this.buf, this.o + len, v);
      this.o += len;
      this.buf[this.o++] = 0;
      return;
    }
    const p = paramBytes(v);
    if (p === null) {
      this.reserve(5);
      this.o = this.buf.writeInt32LE(-1, this.o);
      this.buf[this.o++] = 0;
    } else if (typeof p === 'string') {
      const len = Buffer.byteLength(p);
      this.reserve(6 + len);
      this.o = this.buf.writeInt32LE(len, this.o);
      this.buf[this.o++] = 0;
      this.o += this.buf.write(p, this.o);
      this.buf[this.o++] = 0;
    } else {
      this.reserve(5 + p.length);
      this.o = this.buf.writeInt32LE(p.length, this.o);
      this.buf[this.o++] = 1;
      this.o += p.copy(this.buf, this.o);
    }
  }
}

/**
 * Loads the addon: a missing package, or one whose addon did not build or load, raises
 * `STB_PLUGIN_DEPENDENCY_MISSING` saying what to install.
 */
export async function loadPgNativeLib(
  lib: PgNativeLib | undefined,
  load: () => Promise<unknown> = () => import('@stb/libpq-loop'),
): Promise<PgNativeLib> {
  return loadDriver<PgNativeLib>(
    { plugin: 'pg-native', pkg: '@stb/libpq-loop', lib },
    async () => {
      try {
        return await load();
      } catch (err) {
        if ((err as { code?: unknown }).code !== 'STB_NATIVE_NOT_BUILT')
          throw err;
        throw new PluginError(
          'STB_PLUGIN_DEPENDENCY_MISSING',
          `[stb] [db:pg-native] ${(err as Error).message}`,
          {
            cause: err,
            pluginKind: 'db',
            pluginName: 'pg-native',
            details: {
              package: '@stb/libpq-loop',
              install: 'npm rebuild @stb/libpq-loop',
            },
          },
        );
      }
    },
  );
}

/** Creates the `pg-native` plugin, optionally with an injected addon. */
export function createPgNativePlugin(
  inject: { lib?: PgNativeLib } = {},
): DbPlugin<PgNativeOptions> {
  return defineDbPlugin<PgNativeOptions>({
    kind: 'db',
    name: 'pg-native',
    apiVersion: 1,
    description:
      'PostgreSQL through libpq on native loop threads: statement batches (timed in replay and open loop) run without returning to JavaScript between statements',
    options: PgNativeOptions,
    dialect: 'postgres',
    capabilities: {
      prepared: true,
      transactions: true,
      maxConnections: null,
      cancel: true,
      ownDeadline: true,
    },
    dependencies: ['@stb/libpq-loop'],
    async connect(options, ctx = {}): Promise<DbSession> {
      const lib = await loadPgNativeLib(inject.lib);
      let cfg: ReturnType<typeof pgNativeConninfo>;
      try {
        cfg = pgNativeConninfo(options);
      } catch (err) {
        if (err instanceof PluginError) throw err;
        throw unreachableError('pg-native', redactSecrets(options.url), err);
      }
      // only timed batches switch a loop thread's policy: a connection opened for untimed ones
      // has nothing to check, and none of its batches asks for the switch
      const realtime = cfg.realtime && ctx.timed !== false;
      if (realtime) checkRealtime(lib);
      const threads = options.threads ?? Math.min(64, availableParallelism());
      const session = new NativeSession(
        lib,
        { ...cfg, realtime, thread: opened++ % threads },
        ctx.protocol ?? 'prepared',
      );
      try {
        await session.open();
      } catch (err) {
        throw unreachableError('pg-native', redactSecrets(options.url), err);
      }
      return session.api();
    },
  });
}

interface Pending {
  resolve: (v: { n: number; data: unknown }) => void;
}

class NativeSession {
  readonly #conn: NativeConn;
  readonly #protocol: Protocol;
  readonly #queryTimeoutMs: number;
  /** Timed batches run with the loop thread under SCHED_FIFO (the `realtime` option). */
  readonly #realtime: boolean;
  readonly #translator = createPlaceholderTranslator({
    style: 'dollar',
    convert: toPgValue,
  });
  /** Named statements whose text the batch being encoded carries, with their index in it. */
  readonly #textsInBatch: { index: number; st: { sent: boolean } }[] = [];
  /** Named statements: number per translated text key, and whether its text was sent. */
  readonly #named = new Map<string, { id: number; sent: boolean }>();
  readonly #shapes = new Map<string, SimpleQueryShape>();
  readonly #w = new OpWriter();
  #out = new Float64Array(OUT * 256);
  /** The native clock (ms) to this thread's `nowMs()`. */
  readonly #offset: number;
  #pending: Pending | null = null;
  /** The last call: calls on one session run one after the other. */
  #tail: Promise<unknown> = Promise.resolve();
  #closing: Promise<void> | null = null;
  #closeDone: (() => void) | null = null;
  #version = '';
  #closed = false;
  /** The connection failed (a statement lost it): later calls fail at once. */
  #lost = false;
  /** A batch is running in the addon. */
  #running = false;
  /** The abort signal of the last batch, listened to until a batch comes with another one. */
  #signal: AbortSignal | undefined;
  /** An abort interrupts the running batch, if any, between two statements. */
  readonly #onAbort = (): void => {
    if (this.#running) this.#conn.interrupt();
  };

  constructor(
    lib: PgNativeLib,
    cfg: {
      conninfo: string;
      queryTimeoutMs: number;
      realtime: boolean;
      thread: number;
    },
    protocol: Protocol,
  ) {
    this.#protocol = protocol;
    this.#queryTimeoutMs = cfg.queryTimeoutMs;
    this.#realtime = cfg.realtime;
    this.#offset = nowMs() - Number(process.hrtime.bigint()) / 1e6;
    this.#conn = new lib.Conn(
      cfg.conninfo,
      cfg.queryTimeoutMs,
      (kind, n, data) => this.#done(kind, n, data),
      cfg.thread,
    );
  }

  #done(kind: number, n: number, data: unknown): void {
    if (kind === 3) {
      this.#closeDone?.();
      return;
    }
    const p = this.#pending;
    this.#pending = null;
    p?.resolve({ n, data });
  }

  #job(start: () => void): Promise<{ n: number; data: unknown }> {
    return new Promise((resolve) => {
      this.#pending = { resolve };
      start();
    });
  }

  async open(): Promise<void> {
    const { n, data } = await this.#job(() => this.#conn.connect());
    if (n !== 1) {
      await this.close();
      throw new Error(
        typeof data === 'string' && data !== '' ? data : 'connection failed',
      );
    }
    this.#version = String(data);
  }

  /** Encodes statement `index` of the batch. */
  #encode(q: BoundQuery, index: number): void {
    const w = this.#w;
    if (this.#protocol === 'simple' || mustInlineParams(q)) {
      let shape = this.#shapes.get(q.templateId);
      if (shape === undefined) {
        shape = simpleQueryShape(q.text);
        this.#shapes.set(q.templateId, shape);
      }
      w.u8(0);
      // integer parameters straight into the batch, else the text rendered
      if (!w.simpleQuery(shape, q.params))
        w.text(this.#translator.inline(q, 'postgres'));
      return;
    }
    if (this.#protocol === 'prepared' && !hasList(q.params)) {
      // without a list, the translated text is the template's and its key the template id: the
      // statement and its values need no translation once its text went out
      const st = this.#named.get(q.templateId);
      if (st?.sent === true) {
        w.u8(2);
        w.u32(st.id);
        w.u32(0);
        w.paramList(q.params);
        return;
      }
    }
    const t = this.#translator.translate(q);
    if (this.#protocol === 'extended') {
      w.u8(1);
      w.text(t.text);
      w.params(t.values);
      return;
    }
    let st = this.#named.get(t.key);
    if (st === undefined) {
      st = { id: this.#named.size, sent: false };
      this.#named.set(t.key, st);
    }
    w.u8(2);
    w.u32(st.id);
    if (st.sent) w.u32(0);
    else {
      w.text(t.text);
      st.sent = true;
      this.#textsInBatch.push({ index, st });
    }
    w.params(t.values);
  }

  runBatch(
    queries: readonly BoundQuery[],
    ctx: DbBatchContext = {},
  ): Promise<ExecOutcome[]> {
    const run = this.#tail.then(() => this.#runBatch(queries, ctx));
    this.#tail = run.catch(() => undefined);
    return run;
  }

  async #runBatch(
    queries: readonly BoundQuery[],
    ctx: DbBatchContext,
  ): Promise<ExecOutcome[]> {
    const n = queries.length;
    if (this.#closed || this.#lost)
      return [
        {
          ...errorOutcome('ECONNRESET', 'connection', true),
          errorMessage: 'the connection is closed',
        },
      ];
    this.#w.o = 0;
    for (let i = 0; i < n; i++) {
      try {
        this.#encode(queries[i] as BoundQuery, i);
      } catch (err) {
        // a value the text protocol cannot carry (STB_RENDER_VALUE_UNSUPPORTED …): the
        // statements before it run (encoded again), this one fails on the client
        this.#unsent(0);
        const before =
          i === 0 ? [] : await this.#runBatch(queries.slice(0, i), ctx);
        if (before.length < i) return before;
        return [
          ...before,
          withErrorMessage(errorOutcome(undefined, 'client'), err),
        ];
      }
    }
    if (this.#out.length < OUT * n) this.#out = new Float64Array(OUT * n);
    const out = this.#out;
    const signal = ctx.signal;
    if (signal?.aborted === true) {
      this.#unsent(0);
      return [];
    }
    // one listener per signal (the runner passes the same one to every batch of a run): adding
    // and removing one per batch cost about 3 % of the runner thread's samples (TPC-B, issue 16)
    if (signal !== this.#signal) {
      // a signal given to an earlier call only must not stop this one
      this.#signal?.removeEventListener('abort', this.#onAbort);
      this.#signal = signal;
      signal?.addEventListener('abort', this.#onAbort, { once: true });
    }
    const timed = this.#timing(ctx, n, out);
    this.#running = true;
    let r: { n: number; data: unknown };
    try {
      r = await this.#job(() =>
        this.#conn.run(this.#w.buf, this.#w.o, n, out, timed, this.#realtime),
      );
    } finally {
      this.#running = false;
    }
    this.#unsent(r.n);
    return this.#outcomes(r.n, r.data, out);
  }

  /**
   * A timed batch's due and think times, in the loop's place for them: each statement's first
   * two result doubles, the due time on the loop's clock (CLOCK_MONOTONIC). False for a batch
   * without timing.
   */
  #timing(ctx: DbBatchContext, n: number, out: Float64Array): boolean {
    const t = ctx.timing;
    if (t === undefined) return false;
    const off = this.#offset;
    for (let i = 0; i < n; i++) {
      out[i * OUT] = (t.due[i] ?? -Infinity) - off;
      out[i * OUT + 1] = t.think[i] ?? NaN;
    }
    return true;
  }

  /**
   * The statement texts of the batch just encoded from index `from` on were not sent (the batch
   * ended before them, or did not run): the next call that uses them carries them again.
   */
  #unsent(from: number): void {
    for (const t of this.#textsInBatch) if (t.index >= from) t.st.sent = false;
    this.#textsInBatch.length = 0;
  }

  #outcomes(ran: number, data: unknown, out: Float64Array): ExecOutcome[] {
    const errors = Array.isArray(data) ? (data as (number | string)[]) : [];
    let e = 0;
    const off = this.#offset;
    const res = new Array<ExecOutcome>(ran);
    for (let i = 0; i < ran; i++) {
      const b = i * OUT;
      const sentAt = (out[b] as number) + off;
      const doneAt = (out[b + 1] as number) + off;
      const status = out[b + 3] as number;
      if (status === ST_OK) {
        res[i] = { ok: true, rows: out[b + 2] as number, sentAt, doneAt };
        continue;
      }
      let code = '';
      let message = '';
      if (errors[e] === i) {
        code = String(errors[e + 1]);
        message = String(errors[e + 2]);
        e += 3;
      }
      let o: ExecOutcome;
      if (status === ST_ERROR) o = pgErrorOutcome({ code, message }, false);
      else if (status === ST_TIMEOUT)
        o = withErrorMessage(errorOutcome('57014', 'timeout'), {
          message: `no answer within ${String(this.#queryTimeoutMs)} ms (cancelled)`,
        });
      else if (status === ST_LOST) {
        this.#lost = true;
        o = withErrorMessage(errorOutcome('ECONNRESET', 'connection', true), {
          message,
        });
      } else if (status === ST_TIMEOUT_LOST) {
        this.#lost = true;
        o = withErrorMessage(errorOutcome('57014', 'timeout', true), {
          message: `no answer within ${String(this.#queryTimeoutMs)} ms, nor to the cancel`,
        });
      } else {
        // the loop could not read the statement (a bug here): it fails as the client's
        o = withErrorMessage(errorOutcome(undefined, 'client'), { message });
      }
      res[i] = { ...o, sentAt, doneAt };
    }
    return res;
  }

  close(): Promise<void> {
    if (this.#closing !== null) return this.#closing;
    this.#closed = true;
    this.#closing = new Promise<void>((resolve) => {
      this.#closeDone = resolve;
      this.#conn.close();
    });
    return this.#closing;
  }

  api(): DbSession {
    const close = (): Promise<void> => this.close();
    return {
      execute: async (q) => {
        const [o] = await this.runBatch([q]);
        return (
          o ?? {
            ...errorOutcome(undefined, 'client'),
            errorMessage: 'the statement did not run',
          }
        );
      },
      runBatch: (queries, ctx) => this.runBatch(queries, ctx),
      timedBatches: true,
      cancel: () => {
        this.#conn.cancel();
        return Promise.resolve();
      },
      serverVersion: () => Promise.resolve(this.#version),
      close,
      [Symbol.asyncDispose]: close,
    };
  }
}

/** The `pg-native` plugin. Target: `postgres+native://…` or `postgresql+native://…`. */
export const plugin: DbPlugin<PgNativeOptions> = createPgNativePlugin();

import { createHash } from 'node:crypto';
import { connect as connectSocket } from 'node:net';
import type { Socket } from 'node:net';
import { serialize } from 'pg-protocol';
import { Parser } from 'pg-protocol/dist/parser';
import { nowMs } from './wire';

/**
 * A lean PostgreSQL connection for the bench hot loop (issue 16): one socket, the startup and
 * authentication handshake decoded by `pg-protocol` (node-postgres' own parser and serializer),
 * then a hand-written frame scanner that counts DataRow messages instead of decoding rows, and a
 * FIFO of requests, so several requests may be in flight (pipelined) on one connection. Every
 * request has a deadline: a request older than its timeout gets a cancel request, and the
 * connection is closed if the server still does not answer.
 *
 * The socket reads into one buffer per connection (`onread`), so an answer costs no allocation
 * and no pass through the stream machinery; bytes are copied only when a message spans reads.
 * Each result carries its wire times: when the request was written and when the read that
 * completed it came in, for the runner's service time.
 */

/** Where and how to connect. */
export interface PgWireConfig {
  /** Host name, IP, or a Unix socket directory (starts with `/`). */
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password?: string;
  readonly database: string;
  readonly applicationName: string;
  readonly connectTimeoutMs: number;
  /** Longest wait for one request (ms); it is then cancelled and fails as `timeout`. */
  readonly queryTimeoutMs: number;
}

/** What one request (a run of messages ending in Sync, or a simple Query) produced. */
export interface WireResult {
  /** Rows: the command tag's count when it has one, else the DataRow messages seen. */
  rows: number;
  /** The first server error: SQLSTATE and message. */
  error?: { code: string; message: string };
  /** The client gave up on it (timeout, connection lost). */
  failure?: { code: string; cls: 'timeout' | 'connection'; message: string };
  /** First column of the first row, as text (only when asked). */
  first?: string;
  /** A ParseComplete came back (a named statement now exists on the server). */
  parsed?: boolean;
  /** When the request was written to the socket (`nowMs()` clock). */
  sentAt: number;
  /** When the read that completed it came in (`nowMs()` clock). */
  doneAt: number;
}

/**
 * A request in flight. A connection keeps the ones it finished for its next requests (they are
 * reset, not allocated), and the promise's resolve and the caller's mapping are stored here, so a
 * request allocates no closure.
 */
interface Pending {
  rows: number;
  tagRows: number;
  tagged: boolean;
  error: { code: string; message: string } | undefined;
  capture: boolean;
  parsed: boolean;
  first: string | undefined;
  sentAt: number;
  cancelledAt: number;
  map: ((r: WireResult) => unknown) | undefined;
  resolve: ((value: unknown) => void) | undefined;
}

/** Finished requests a connection keeps for reuse (more in flight at once are allocated). */
const FREE_PENDING = 16;

/**
 * The executor of every request's promise: it hands the resolve function over through
 * {@link captured} instead of closing over the request (one closure less per request).
 */
let captured: ((value: unknown) => void) | undefined;
const captureResolve = (resolve: (value: unknown) => void): void => {
  captured = resolve;
};

/** Size of each connection's read buffer (bytes). */
const READ_BUFFER = 64 * 1024;

/** What the startup handshake uses of `pg`'s SCRAM client (`pg/lib/crypto/sasl.js`). */
interface SaslLib {
  startSession(m: unknown): { mechanism: string; response: string };
  continueSession(s: unknown, pw: string, data: string): Promise<void>;
  finalizeSession(s: unknown, data: string): void;
}

/** Thrown by {@link PgWire.open} when the server cannot be reached or refuses the login. */
export class PgWireConnectError extends Error {
  readonly code: string | undefined;
  constructor(message: string, code?: string) {
    super(message);
    this.code = code;
  }
}

const now = nowMs;
/** The cancel request may take this long before the connection is given up (ms). */
const CANCEL_GRACE_MS = 1000;

/** One tagged count: `SELECT 3`, `INSERT 0 5`, `UPDATE 1` → 3, 5, 1; `BEGIN` → NaN. */
function tagCount(buf: Buffer, start: number, end: number): number {
  let i = end - 1;
  if (buf[i] === 0) i--;
  let n = 0;
  let mul = 1;
  let digits = 0;
  while (i >= start) {
    const c = buf[i] as number;
    if (c < 48 || c > 57) break;
    n += (c - 48) * mul;
    mul *= 10;
    digits++;
    i--;
  }
  return digits > 0 && buf[i] === 32 ? n : NaN;
}

/** Fields of an ErrorResponse: SQLSTATE (`C`) and message (`M`). */
function errorFields(
  buf: Buffer,
  start: number,
  end: number,
): { code: string; message: string } {
  let code = 'XX000';
  let message = '';
  let i = start;
  while (i < end && buf[i] !== 0) {
    const f = buf[i] as number;
    const z = buf.indexOf(0, i + 1);
    if (z < 0 || z > end) break;
    if (f === 67) code = buf.toString('utf8', i + 1, z);
    else if (f === 77) message = buf.toString('utf8', i + 1, z);
    i = z + 1;
  }
  return { code, message };
}

/** A lean PostgreSQL connection. Create it with {@link PgWire.open}. */
export class PgWire {
  /** Backend process id and secret key (for cancel requests). */
  processID = 0;
  secretKey = 0;
  readonly #socket: Socket;
  readonly #cfg: PgWireConfig;
  readonly #queue: Pending[] = [];
  /** Finished requests, reset and reused by the next ones (at most {@link FREE_PENDING}). */
  readonly #free: Pending[] = [];
  #head = 0;
  /** Bytes of an incomplete message, and how many the message needs. */
  #rest: Buffer[] = [];
  #restLen = 0;
  #need = 0;
  #broken: string | null = null;
  #timer: ReturnType<typeof setInterval> | null = null;
  #cancel: (() => Promise<void>) | null = null;
  /** When the current read came in. */
  #readAt = 0;
  /** Where reads go during the startup handshake (a copy, for pg-protocol's parser). */
  #startupSink: ((chunk: Buffer) => void) | null = null;

  private constructor(cfg: PgWireConfig) {
    this.#cfg = cfg;
    const onread = {
      buffer: Buffer.allocUnsafe(READ_BUFFER),
      callback: (n: number, buf: Uint8Array): boolean => {
        this.#onRead(n, buf as Buffer);
        return true;
      },
    };
    this.#socket = cfg.host.startsWith('/')
      ? connectSocket({
          path: `${cfg.host}/.s.PGSQL.${String(cfg.port)}`,
          onread,
        })
      : connectSocket({ port: cfg.port, host: cfg.host, onread });
  }

  /** True once the connection failed or was closed. */
  get broken(): boolean {
    return this.#broken !== null;
  }

  /** Connects, authenticates (trust, password, md5, SCRAM-SHA-256) and waits for ReadyForQuery. */
  static async open(
    cfg: PgWireConfig,
    sendCancel: (pid: number, key: number) => Promise<void>,
  ): Promise<PgWire> {
    const wire = new PgWire(cfg);
    wire.#socket.setNoDelay(true);
    await wire.#startup();
    wire.#cancel = () => sendCancel(wire.processID, wire.secretKey);
    wire.#attach();
    return wire;
  }

  // Long function: the startup handshake is one state machine over the server's messages
  // (authentication requests of four kinds, SCRAM's three steps, parameter status, key data,
  // ready-for-query, errors, timeout and close), sharing the promise's resolve/reject; split, its
  // states would have to pass them around.
  #startup(): Promise<void> {
    const socket = this.#socket;
    const cfg = this.#cfg;
    return new Promise<void>(
      // Long function: the handshake's state machine (see above), as the promise's executor.
      (resolve, reject) => {
        const parser = new Parser();
        let sasl: { session: unknown; lib: SaslLib } | null = null;
        let settled = false;
        const fail = (err: PgWireConnectError): void => {
          if (settled) return;
          settled = true;
          cleanup();
          socket.destroy();
          reject(err);
        };
        const timer = setTimeout(
          () =>
            fail(
              new PgWireConnectError(
                `timed out after ${String(cfg.connectTimeoutMs)} ms`,
                'ETIMEDOUT',
              ),
            ),
          cfg.connectTimeoutMs,
        );
        const onError = (err: NodeJS.ErrnoException): void =>
          fail(new PgWireConnectError(err.message, err.code));
        const onClose = (): void =>
          fail(
            new PgWireConnectError(
              'the server closed the connection during start-up',
              'ECONNRESET',
            ),
          );
        const needPassword = (): string | null => {
          if (cfg.password !== undefined) return cfg.password;
          fail(
            new PgWireConnectError(
              'the server asks for a password and the URL has none',
              '28P01',
            ),
          );
          return null;
        };
        const onMessage = (msg: {
          name: string;
          [k: string]: unknown;
        }): void => {
          switch (msg.name) {
            case 'authenticationCleartextPassword': {
              const pw = needPassword();
              if (pw !== null) socket.write(serialize.password(pw));
              break;
            }
            case 'authenticationMD5Password': {
              const pw = needPassword();
              if (pw === null) break;
              const inner = createHash('md5')
                .update(pw + cfg.user)
                .digest('hex');
              const outer = createHash('md5')
                .update(inner)
                .update(msg['salt'] as Buffer)
                .digest('hex');
              socket.write(serialize.password(`md5${outer}`));
              break;
            }
            case 'authenticationSASL': {
              const pw = needPassword();
              if (pw === null) break;
              // node-postgres' SCRAM client (pg is this plugin's companion peer dependency)
              const saslModule = 'pg/lib/crypto/sasl.js';
              (import(saslModule) as Promise<Record<string, unknown>>)
                .then((mod) => {
                  const lib = (mod['default'] ?? mod) as SaslLib;
                  const session = lib.startSession(msg['mechanisms']);
                  sasl = { session, lib };
                  socket.write(
                    serialize.sendSASLInitialResponseMessage(
                      session.mechanism,
                      session.response,
                    ),
                  );
                })
                .catch((err: unknown) =>
                  fail(
                    new PgWireConnectError(
                      `SCRAM authentication needs the \`pg\` package: ${String(err)}`,
                    ),
                  ),
                );
              break;
            }
            case 'authenticationSASLContinue': {
              const s = sasl;
              if (s === null) break;
              s.lib
                .continueSession(
                  s.session,
                  cfg.password ?? '',
                  msg['data'] as string,
                )
                .then(() =>
                  socket.write(
                    serialize.sendSCRAMClientFinalMessage(
                      (s.session as { response: string }).response,
                    ),
                  ),
                )
                .catch((err: unknown) =>
                  fail(new PgWireConnectError(String(err), '28P01')),
                );
              break;
            }
            case 'authenticationSASLFinal':
              try {
                sasl?.lib.finalizeSession(sasl.session, msg['data'] as string);
              } catch (err) {
                fail(new PgWireConnectError(String(err), '28P01'));
              }
              break;
            case 'backendKeyData':
              this.processID = msg['processID'] as number;
              this.secretKey = msg['secretKey'] as number;
              break;
            case 'error':
              fail(
                new PgWireConnectError(
                  String(msg['message']),
                  msg['code'] as string | undefined,
                ),
              );
              break;
            case 'readyForQuery':
              if (settled) return;
              settled = true;
              cleanup();
              resolve();
              break;
            default:
              if (
                msg.name.startsWith('authentication') &&
                msg.name !== 'authenticationOk'
              )
                fail(
                  new PgWireConnectError(
                    `unsupported authentication (${msg.name}); use the postgres:// plugin`,
                  ),
                );
          }
        };
        const cleanup = (): void => {
          clearTimeout(timer);
          this.#startupSink = null;
          socket.off('error', onError);
          socket.off('close', onClose);
        };
        // the read buffer is reused: the parser keeps a partial message, so it gets a copy
        this.#startupSink = (chunk) =>
          parser.parse(Buffer.from(chunk), onMessage as never);
        socket.on('error', onError);
        socket.on('close', onClose);
        socket.once('connect', () =>
          socket.write(
            serialize.startup({
              user: cfg.user,
              database: cfg.database,
              application_name: cfg.applicationName,
              client_encoding: 'UTF8',
            }),
          ),
        );
      },
    );
  }

  #attach(): void {
    const socket = this.#socket;
    socket.on('error', (err: NodeJS.ErrnoException) =>
      this.#lost(err.code ?? 'ECONNRESET', err.message),
    );
    socket.on('close', () =>
      this.#lost('ECONNRESET', 'the server closed the connection'),
    );
    const every = Math.max(10, Math.min(1000, this.#cfg.queryTimeoutMs / 4));
    this.#timer = setInterval(() => this.#checkDeadline(), every);
    this.#timer.unref();
  }

  /**
   * Sends the bytes of one request, ending with Sync (or one simple Query); resolves at its
   * ReadyForQuery. Several requests may be in flight: answers come back in order.
   */
  send(bytes: Buffer, capture = false): Promise<WireResult> {
    return this.request(bytes, (r) => r, capture);
  }

  /**
   * {@link PgWire.send}, resolving with `map(result)`: the caller's mapping runs when the answer is
   * read, so a request costs one promise.
   */
  request<T>(
    bytes: Buffer,
    map: (r: WireResult) => T,
    capture = false,
  ): Promise<T> {
    if (this.#broken !== null) {
      const t = now();
      return Promise.resolve(
        map({
          rows: 0,
          failure: {
            code: 'ECONNRESET',
            cls: 'connection',
            message: this.#broken,
          },
          sentAt: t,
          doneAt: t,
        }),
      );
    }
    const promise = new Promise<unknown>(captureResolve);
    let p = this.#free.pop();
    if (p === undefined)
      p = {
        rows: 0,
        tagRows: 0,
        tagged: false,
        error: undefined,
        capture,
        parsed: false,
        first: undefined,
        sentAt: 0,
        cancelledAt: 0,
        map: undefined,
        resolve: undefined,
      };
    else {
      p.rows = 0;
      p.tagRows = 0;
      p.tagged = false;
      p.capture = capture;
      p.parsed = false;
      p.cancelledAt = 0;
    }
    p.map = map;
    p.resolve = captured;
    captured = undefined;
    p.sentAt = now();
    this.#queue.push(p);
    this.#socket.write(bytes);
    return promise as Promise<T>;
  }

  /** Resolves a finished request with its mapped result and keeps it for reuse. */
  #settle(p: Pending, r: WireResult): void {
    const { map, resolve } = p;
    p.map = undefined;
    p.resolve = undefined;
    p.error = undefined;
    p.first = undefined;
    if (this.#free.length < FREE_PENDING) this.#free.push(p);
    (resolve as (value: unknown) => void)(
      (map as (r: WireResult) => unknown)(r),
    );
  }

  /** Requests waiting for their ReadyForQuery. */
  get inFlight(): number {
    return this.#queue.length - this.#head;
  }

  /** `n` new bytes at the start of the read buffer `read` (overwritten by the next read). */
  #onRead(n: number, read: Buffer): void {
    this.#readAt = now();
    if (this.#startupSink !== null) {
      this.#startupSink(read.subarray(0, n));
      return;
    }
    let buf = read;
    let end = n;
    if (this.#restLen > 0) {
      // a message split across reads: keep copies of the pieces, join them once it is complete
      this.#rest.push(Buffer.from(read.subarray(0, n)));
      this.#restLen += n;
      if (this.#restLen < this.#need) return;
      buf = Buffer.concat(this.#rest, this.#restLen);
      end = buf.length;
      this.#rest = [];
      this.#restLen = 0;
    }
    let off = 0;
    while (end - off >= 5) {
      const len = buf.readInt32BE(off + 1);
      const next = off + 1 + len;
      if (next > end) break;
      this.#message(buf, off, next);
      off = next;
    }
    if (off < end) {
      const rest = Buffer.from(buf.subarray(off, end));
      this.#rest = [rest];
      this.#restLen = rest.length;
      this.#need = rest.length >= 5 ? 1 + rest.readInt32BE(1) : 5;
    }
  }

  /** Handles the message at `buf[at]` (type byte, length, body up to `end`). */
  #message(buf: Buffer, at: number, end: number): void {
    const p = this.#queue[this.#head];
    const start = at + 5;
    switch (buf[at]) {
      case 49: // 1 ParseComplete
        if (p !== undefined) p.parsed = true;
        return;
      case 68: // D DataRow
        if (p === undefined) return;
        p.rows++;
        if (p.capture && p.first === undefined) {
          const n = buf.readInt32BE(start + 2);
          p.first = n < 0 ? '' : buf.toString('utf8', start + 6, start + 6 + n);
        }
        return;
      case 67: {
        // C CommandComplete
        if (p === undefined) return;
        const n = tagCount(buf, start, end);
        if (!Number.isNaN(n)) {
          p.tagRows += n;
          p.tagged = true;
        }
        return;
      }
      case 69: // E ErrorResponse
        if (p !== undefined && p.error === undefined)
          p.error = errorFields(buf, start, end);
        return;
      case 90: {
        // Z ReadyForQuery
        if (p === undefined) return;
        this.#queue[this.#head++] = undefined as never;
        if (this.#head === this.#queue.length) {
          this.#queue.length = 0;
          this.#head = 0;
        }
        const r: WireResult = {
          rows: p.tagged ? p.tagRows : p.rows,
          sentAt: p.sentAt,
          doneAt: this.#readAt,
        };
        if (p.error !== undefined) r.error = p.error;
        if (p.first !== undefined) r.first = p.first;
        if (p.parsed) r.parsed = true;
        if (p.cancelledAt > 0 && p.error?.code === '57014')
          r.failure = {
            code: '57014',
            cls: 'timeout',
            message: `no answer within ${String(this.#cfg.queryTimeoutMs)} ms (cancelled)`,
          };
        this.#settle(p, r);
        return;
      }
      default:
      // 2 BindComplete, 3 CloseComplete, n NoData, s PortalSuspended,
      // t ParameterDescription, T RowDescription, I EmptyQuery, N Notice, A Notification,
      // S ParameterStatus: nothing to count
    }
  }

  /** Cancels the oldest request past its deadline; closes the connection if that does not help. */
  #checkDeadline(): void {
    const p = this.#queue[this.#head];
    if (p === undefined || this.#broken !== null) return;
    const t = now();
    if (p.cancelledAt === 0) {
      if (t - p.sentAt < this.#cfg.queryTimeoutMs) return;
      p.cancelledAt = t;
      void this.#cancel?.().catch(() => undefined);
    } else if (t - p.cancelledAt > CANCEL_GRACE_MS) {
      this.#lost(
        'ETIMEDOUT',
        `no answer within ${String(this.#cfg.queryTimeoutMs)} ms, nor to the cancel request`,
        'timeout',
      );
    }
  }

  /** Fails every request in flight and closes the socket. */
  #lost(
    code: string,
    message: string,
    cls: 'timeout' | 'connection' = 'connection',
  ): void {
    if (this.#broken === null) this.#broken = message;
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    const waiting = this.#queue.slice(this.#head);
    this.#queue.length = 0;
    this.#head = 0;
    const t = now();
    for (const p of waiting)
      this.#settle(p, {
        rows: 0,
        failure: { code, cls, message },
        sentAt: p.sentAt,
        doneAt: t,
      });
    this.#socket.destroy();
  }

  /** Asks the server to cancel the running request (a CancelRequest on a new socket). */
  async cancel(): Promise<void> {
    if (this.#broken !== null) return;
    await this.#cancel?.();
  }

  /** Sends Terminate and closes; requests still in flight fail as `connection`. */
  async close(): Promise<void> {
    if (this.#broken !== null) return;
    this.#broken = 'the connection was closed';
    const socket = this.#socket;
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, 300);
      socket.once('close', () => {
        clearTimeout(t);
        resolve();
      });
      socket.end(serialize.end());
    });
    this.#lost('ECONNRESET', this.#broken);
  }
}

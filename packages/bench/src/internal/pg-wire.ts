import { createHash } from 'node:crypto';
import { serialize } from 'pg-protocol';
import { Parser } from 'pg-protocol/dist/parser';
import { WireConnectError, WireConnection } from './wire-connection';
import type { Handshake, WireAnswer, WirePending } from './wire-connection';

/**
 * A lean PostgreSQL connection for the bench hot loop (issue 16): one socket, the startup and
 * authentication handshake decoded by `pg-protocol` (node-postgres' own parser and serializer),
 * then a hand-written frame scanner that counts DataRow messages instead of decoding rows, and a
 * FIFO of requests, so several requests may be in flight (pipelined) on one connection. Every
 * request has a deadline: a request older than its timeout gets a cancel request, and the
 * connection is closed if the server still does not answer. The socket, the queue, the deadlines
 * and the loss of the connection are {@link WireConnection}'s (shared with `mysql-wire.ts`).
 *
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
export interface WireResult extends WireAnswer {
  /** Rows: the command tag's count when it has one, else the DataRow messages seen. */
  rows: number;
  /** The first server error: SQLSTATE and message. */
  error?: { code: string; message: string };
  /** First column of the first row, as text (only when asked). */
  first?: string;
  /** A ParseComplete came back (a named statement now exists on the server). */
  parsed?: boolean;
}

/** A request in flight (reset and reused once finished). */
interface Pending extends WirePending<WireResult> {
  rows: number;
  tagRows: number;
  tagged: boolean;
  error: { code: string; message: string } | undefined;
  capture: boolean;
  parsed: boolean;
  first: string | undefined;
}

/** What the startup handshake uses of `pg`'s SCRAM client (`pg/lib/crypto/sasl.js`). */
interface SaslLib {
  startSession(m: unknown): { mechanism: string; response: string };
  continueSession(s: unknown, pw: string, data: string): Promise<void>;
  finalizeSession(s: unknown, data: string): void;
}

/** Thrown by {@link PgWire.open} when the server cannot be reached or refuses the login. */
export class PgWireConnectError extends WireConnectError {}

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
export class PgWire extends WireConnection<WireResult, Pending, boolean> {
  /** Backend process id and secret key (for cancel requests). */
  processID = 0;
  secretKey = 0;
  readonly #cfg: PgWireConfig;

  private constructor(cfg: PgWireConfig) {
    super({
      address: cfg.host.startsWith('/')
        ? { path: `${cfg.host}/.s.PGSQL.${String(cfg.port)}` }
        : { port: cfg.port, host: cfg.host },
      queryTimeoutMs: cfg.queryTimeoutMs,
      cancelName: 'the cancel request',
      goodbye: serialize.end(),
    });
    this.#cfg = cfg;
  }

  /** Connects, authenticates (trust, password, md5, SCRAM-SHA-256) and waits for ReadyForQuery. */
  static async open(
    cfg: PgWireConfig,
    sendCancel: (pid: number, key: number) => Promise<boolean | void>,
  ): Promise<PgWire> {
    const wire = new PgWire(cfg);
    await wire.handshake(
      {
        connectTimeoutMs: cfg.connectTimeoutMs,
        create: (message, code) => new PgWireConnectError(message, code),
        closed: 'the server closed the connection during start-up',
      },
      (h) => wire.#startup(h),
    );
    wire.attach(() => sendCancel(wire.processID, wire.secretKey));
    return wire;
  }

  /**
   * The startup handshake: sends the startup message once connected and returns where the
   * server's bytes go until it is ready (one state machine over its messages: authentication
   * requests of four kinds, SCRAM's three steps, parameter status, key data, ready-for-query,
   * errors).
   */
  #startup({ fail, done }: Handshake): (chunk: Buffer) => void {
    const socket = this.socket;
    const cfg = this.#cfg;
    const parser = new Parser();
    let sasl: { session: unknown; lib: SaslLib } | null = null;
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
    const onMessage = (msg: { name: string; [k: string]: unknown }): void => {
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
          done();
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
    // the read buffer is reused: the parser keeps a partial message, so it gets a copy
    return (chunk) => parser.parse(Buffer.from(chunk), onMessage as never);
  }

  /**
   * Sends the bytes of one request, ending with Sync (or one simple Query); resolves at its
   * ReadyForQuery. Several requests may be in flight: answers come back in order.
   */
  send(bytes: Buffer, capture = false): Promise<WireResult> {
    return this.request(bytes, (r) => r, capture);
  }

  protected pending(p: Pending | undefined, capture = false): Pending {
    if (p === undefined)
      return {
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
    p.rows = 0;
    p.tagRows = 0;
    p.tagged = false;
    p.error = undefined;
    p.capture = capture;
    p.parsed = false;
    p.first = undefined;
    return p;
  }

  protected frameSize(head: Buffer): number {
    return head.length >= 5 ? 1 + head.readInt32BE(1) : 5;
  }

  protected frames(buf: Buffer, end: number): number {
    if (this.startupSink !== null) {
      this.startupSink(buf.subarray(0, end));
      return end;
    }
    let off = 0;
    while (end - off >= 5) {
      const len = buf.readInt32BE(off + 1);
      const next = off + 1 + len;
      if (next > end) break;
      this.#message(buf, off, next);
      off = next;
    }
    return off;
  }

  /** Handles the message at `buf[at]` (type byte, length, body up to `end`). */
  #message(buf: Buffer, at: number, end: number): void {
    const p = this.oldest();
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
        const r: WireResult = {
          rows: p.tagged ? p.tagRows : p.rows,
          sentAt: p.sentAt,
          doneAt: this.readAt,
        };
        if (p.error !== undefined) r.error = p.error;
        if (p.first !== undefined) r.first = p.first;
        if (p.parsed) r.parsed = true;
        if (p.cancelledAt > 0 && p.error?.code === '57014')
          r.failure = this.timeoutFailure('57014', 'cancelled');
        this.complete(p, r);
        return;
      }
      default:
      // 2 BindComplete, 3 CloseComplete, n NoData, s PortalSuspended,
      // t ParameterDescription, T RowDescription, I EmptyQuery, N Notice, A Notification,
      // S ParameterStatus: nothing to count
    }
  }
}

import { createHash } from 'node:crypto';
import { WireConnectError, WireConnection } from './wire-connection';
import type { Handshake, WireAnswer, WirePending } from './wire-connection';

/**
 * A lean MySQL/MariaDB connection for the bench hot loop (issue 16, item 3): one socket, the
 * handshake v10 with `mysql_native_password` (a SHA1 scramble, or an empty answer for an empty
 * password; no TLS, no other authentication plugin), then a frame scanner that counts result rows
 * without decoding a value and reads affected rows from OK packets, and a FIFO of requests
 * (commands may be pipelined; answers come back in order). Packets split across reads are joined;
 * payloads of 16 MiB and more (several packets) are counted as one. Every request has a deadline:
 * past it the running statement is killed (`KILL QUERY` from a second connection), and the
 * connection is closed if the server still does not answer. The socket, the queue, the deadlines
 * and the loss of the connection are {@link WireConnection}'s (shared with `pg-wire.ts`).
 */

/** Where and how to connect. */
export interface MyWireConfig {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  /** Database to use, or '' for none. */
  readonly database: string;
  readonly connectTimeoutMs: number;
  /** Longest wait for one request (ms); it is then killed and fails as `timeout`. */
  readonly queryTimeoutMs: number;
}

/** What one command produced. */
export interface MyWireResult extends WireAnswer {
  /** Result rows counted, plus affected rows of OK packets. */
  rows: number;
  /** The server's ERR packet: error number and message. */
  error?: { errno: number; message: string };
  /** COM_STMT_PREPARE's answer: statement id and parameter count. */
  statement?: { id: number; params: number };
}

/** Thrown by {@link MyWire.open} when the server cannot be reached or refuses the login. */
export class MyWireConnectError extends WireConnectError {
  /** The authentication plugin the server asks for, when the lean path does not speak it. */
  readonly unsupportedAuth: string | undefined;
  constructor(message: string, code?: string, unsupportedAuth?: string) {
    super(message, code);
    this.unsupportedAuth = unsupportedAuth;
  }
}

// capability flags
const CLIENT_LONG_PASSWORD = 0x1;
const CLIENT_LONG_FLAG = 0x4;
const CLIENT_CONNECT_WITH_DB = 0x8;
const CLIENT_PROTOCOL_41 = 0x200;
const CLIENT_TRANSACTIONS = 0x2000;
const CLIENT_SECURE_CONNECTION = 0x8000;
const CLIENT_MULTI_RESULTS = 0x20000;
const CLIENT_PS_MULTI_RESULTS = 0x40000;
const CLIENT_PLUGIN_AUTH = 0x80000;
const BASE_CAPS =
  CLIENT_LONG_PASSWORD |
  CLIENT_LONG_FLAG |
  CLIENT_PROTOCOL_41 |
  CLIENT_TRANSACTIONS |
  CLIENT_SECURE_CONNECTION |
  CLIENT_MULTI_RESULTS |
  CLIENT_PS_MULTI_RESULTS |
  CLIENT_PLUGIN_AUTH;
/** utf8mb4_unicode_ci, mysql2's default. */
const CHARSET = 224;
const SERVER_MORE_RESULTS_EXISTS = 0x8;
/** A payload this long continues in the next packet. */
export const MAX_PACKET_PAYLOAD = 0xffffff;
const NATIVE = 'mysql_native_password';

/** The `mysql_native_password` answer: SHA1(pw) XOR SHA1(scramble + SHA1(SHA1(pw))); empty for ''. */
export function nativePasswordToken(
  password: string,
  scramble: Buffer,
): Buffer {
  if (password === '') return Buffer.alloc(0);
  const sha1 = (...parts: Buffer[]): Buffer => {
    const h = createHash('sha1');
    for (const p of parts) h.update(p);
    return h.digest();
  };
  const stage1 = sha1(Buffer.from(password, 'utf8'));
  const mix = sha1(scramble, sha1(stage1));
  for (let i = 0; i < stage1.length; i++)
    stage1[i] = (stage1[i] as number) ^ (mix[i] as number);
  return stage1;
}

/** Wraps a payload in a packet header (length, sequence id). */
export function packet(seq: number, payload: Buffer): Buffer {
  const b = Buffer.allocUnsafe(4 + payload.length);
  b.writeUIntLE(payload.length, 0, 3);
  b[3] = seq;
  payload.copy(b, 4);
  return b;
}

/** Largest payload of one packet the lean path sends (a payload of 0xffffff continues). */
export const MAX_SINGLE_PAYLOAD = MAX_PACKET_PAYLOAD - 1;

/**
 * A command packet of `len` payload bytes (sequence 0, the command byte written), the rest to be
 * filled by the caller.
 * @throws Error when it would reach 16 MiB (the lean path sends single packets).
 */
export function commandHeader(
  len: number,
  command: number,
  what: string,
): Buffer {
  if (len > MAX_SINGLE_PAYLOAD)
    throw new Error(
      `${what} of ${String(len)} bytes needs several packets, which the lean path does not send; use mysql://`,
    );
  const b = Buffer.allocUnsafe(4 + len);
  b.writeUIntLE(len, 0, 3);
  b[3] = 0;
  b[4] = command;
  return b;
}

/**
 * A command packet (sequence 0): the command byte, then `body` as UTF-8 text or bytes.
 * @throws Error when it would reach 16 MiB.
 */
export function commandPacket(
  command: number,
  body: string | Buffer,
  what = 'a command',
): Buffer {
  const len =
    1 + (typeof body === 'string' ? Buffer.byteLength(body) : body.length);
  const b = commandHeader(len, command, what);
  if (typeof body === 'string') b.write(body, 5);
  else body.copy(b, 5);
  return b;
}

/** The value of the length-encoded integer at `buf[at]`. */
function lenencValue(buf: Buffer, at: number): number {
  const f = buf[at] as number;
  if (f < 0xfb) return f;
  if (f === 0xfc) return buf.readUInt16LE(at + 1);
  if (f === 0xfd) return buf.readUIntLE(at + 1, 3);
  if (f === 0xfe) return Number(buf.readBigUInt64LE(at + 1));
  return 0;
}

/** Bytes of the length-encoded integer whose first byte is `f`. */
function lenencSize(f: number): number {
  return f < 0xfb ? 1 : f === 0xfc ? 3 : f === 0xfd ? 4 : f === 0xfe ? 9 : 1;
}

/**
 * An ERR packet's error number and message (payload from `at` to `end`; the SQL state after a `#`,
 * when there is one, is skipped: no caller reads it).
 */
function errFields(
  buf: Buffer,
  at: number,
  end: number,
): { errno: number; message: string } {
  const hasState = buf[at + 3] === 0x23;
  return {
    errno: buf.readUInt16LE(at + 1),
    message: buf.toString('utf8', hasState ? at + 9 : at + 3, end),
  };
}

/** What the handshake v10 told: thread id, scramble, version, plugin. */
interface Hello {
  threadId: number;
  scramble: Buffer;
  version: string;
  plugin: string;
}

function parseHello(p: Buffer): Hello {
  if (p[0] !== 10)
    throw new MyWireConnectError(
      `unsupported protocol version ${String(p[0])}`,
    );
  let o = 1;
  const z = p.indexOf(0, o);
  const version = p.toString('latin1', o, z);
  o = z + 1;
  const threadId = p.readUInt32LE(o);
  o += 4;
  const part1 = p.subarray(o, o + 8);
  o += 9;
  let caps = p.readUInt16LE(o);
  o += 2;
  let part2: Buffer = Buffer.alloc(0);
  let plugin = NATIVE;
  if (p.length > o) {
    o += 3; // charset, status flags
    caps |= p.readUInt16LE(o) << 16;
    o += 2;
    const dataLen = p[o] as number;
    o += 11; // length, 10 reserved bytes
    if (caps & CLIENT_SECURE_CONNECTION) {
      const n = Math.max(13, dataLen - 8);
      part2 = p.subarray(o, o + n - 1); // the last byte is a NUL
      o += n;
    }
    if (caps & CLIENT_PLUGIN_AUTH && o < p.length) {
      const e = p.indexOf(0, o);
      plugin = p.toString('latin1', o, e < 0 ? p.length : e);
    }
  }
  return {
    threadId,
    scramble: Buffer.concat([part1, part2]),
    version,
    plugin,
  };
}

/** The handshake response (protocol 41) for a native-password login. */
function helloResponse(cfg: MyWireConfig, scramble: Buffer): Buffer {
  const caps = BASE_CAPS | (cfg.database !== '' ? CLIENT_CONNECT_WITH_DB : 0);
  const fixed = Buffer.alloc(32);
  fixed.writeUInt32LE(caps >>> 0, 0);
  fixed.writeUInt32LE(MAX_PACKET_PAYLOAD, 4);
  fixed[8] = CHARSET;
  const token = nativePasswordToken(cfg.password, scramble);
  return packet(
    1,
    Buffer.concat([
      fixed,
      Buffer.from(`${cfg.user}\0`, 'utf8'),
      Buffer.from([token.length]),
      token,
      cfg.database !== ''
        ? Buffer.from(`${cfg.database}\0`, 'utf8')
        : Buffer.alloc(0),
      Buffer.from(`${NATIVE}\0`),
    ]),
  );
}

/** How the answer to a command is read: a result (OK, ERR, or column count, definitions, EOF,
 * rows, EOF, possibly several), or COM_STMT_PREPARE's (OK with the statement id, definitions). */
const RESULT = 0;
const PREPARE = 1;

/** A command in flight (reset and reused once finished). */
interface Pending extends WirePending<MyWireResult> {
  kind: number;
  /** Result: 0 header, 1 column definitions, 2 rows. Prepare: definition packets left to skip. */
  state: number;
  rows: number;
  error: MyWireResult['error'];
  statement: MyWireResult['statement'];
}

/** A lean MySQL/MariaDB connection. Create it with {@link MyWire.open}. */
export class MyWire extends WireConnection<MyWireResult, Pending, number> {
  /** Server connection id (what `KILL QUERY` names). */
  threadId = 0;
  /** Server version as the handshake gives it (MariaDB's `5.5.5-` prefix removed). */
  serverVersion = '';
  readonly #cfg: MyWireConfig;
  /** Inside a payload of several packets: the packets after the first are skipped. */
  #continued = false;
  /** Sequence id of the last packet read (the handshake answers with the next one). */
  #lastSeq = 0;

  private constructor(cfg: MyWireConfig) {
    super({
      address: { port: cfg.port, host: cfg.host },
      queryTimeoutMs: cfg.queryTimeoutMs,
      cancelName: 'KILL QUERY',
      goodbye: commandPacket(0x01, ''),
    });
    this.#cfg = cfg;
  }

  /**
   * Connects and logs in. `kill(threadId)` ends a running statement from elsewhere (the deadline
   * and {@link MyWire.cancel} use it).
   */
  static async open(
    cfg: MyWireConfig,
    kill: (threadId: number) => Promise<boolean | void>,
  ): Promise<MyWire> {
    const wire = new MyWire(cfg);
    await wire.handshake(
      {
        connectTimeoutMs: cfg.connectTimeoutMs,
        create: (message, code) => new MyWireConnectError(message, code),
        closed: 'the server closed the connection during the handshake',
      },
      (h) => wire.#startup(h),
    );
    wire.attach(() => kill(wire.threadId));
    return wire;
  }

  /**
   * The handshake: greeting, response, an optional switch to native password, OK or ERR; returns
   * where its packets go.
   */
  #startup({ fail, done }: Handshake): (p: Buffer) => void {
    const socket = this.socket;
    const cfg = this.#cfg;
    const unsupported = (plugin: string): void =>
      fail(
        new MyWireConnectError(
          `the server asks for the ${plugin} authentication plugin`,
          'AUTH',
          plugin,
        ),
      );
    let greeted = false;
    return (p) => {
      if (!greeted) {
        greeted = true;
        if (p[0] === 0xff)
          return fail(
            new MyWireConnectError(errFields(p, 0, p.length).message),
          );
        let hello: Hello;
        try {
          hello = parseHello(p);
        } catch (err) {
          return fail(err as MyWireConnectError);
        }
        this.threadId = hello.threadId;
        this.serverVersion = hello.version.replace(/^5\.5\.5-/, '');
        // a server whose default plugin is another one answers with an auth switch (below)
        socket.write(helloResponse(cfg, hello.scramble));
        return undefined;
      }
      const seq = this.#lastSeq;
      switch (p[0]) {
        case 0x00:
          return done();
        case 0xff: {
          const e = errFields(p, 0, p.length);
          return fail(new MyWireConnectError(e.message, String(e.errno)));
        }
        case 0xfe: {
          // auth switch request: plugin name, NUL, plugin data (the new scramble, NUL-ended)
          const z = p.indexOf(0, 1);
          const plugin = p.toString('latin1', 1, z < 0 ? p.length : z);
          if (plugin !== NATIVE) return unsupported(plugin);
          let data = p.subarray(z + 1);
          if (data[data.length - 1] === 0)
            data = data.subarray(0, data.length - 1);
          socket.write(
            packet(seq + 1, nativePasswordToken(cfg.password, data)),
          );
          return undefined;
        }
        case 0x01:
          // more data (caching_sha2_password's fast-auth steps)
          return unsupported('caching_sha2_password');
        default:
          return fail(
            new MyWireConnectError(
              `unexpected packet 0x${(p[0] ?? 0).toString(16)} during the handshake`,
            ),
          );
      }
    };
  }

  /** COM_STMT_PREPARE: resolves with the statement id and parameter count, or the error. */
  prepare(text: string): Promise<MyWireResult> {
    return this.request(
      commandPacket(0x16, text, 'a statement'),
      (r) => r,
      PREPARE,
    );
  }

  /** Sends bytes that get no answer (COM_STMT_CLOSE). */
  sendOnly(bytes: Buffer): void {
    if (!this.broken) this.socket.write(bytes);
  }

  protected pending(p: Pending | undefined, kind = RESULT): Pending {
    if (p === undefined)
      return {
        kind,
        state: 0,
        rows: 0,
        error: undefined,
        statement: undefined,
        sentAt: 0,
        cancelledAt: 0,
        map: undefined,
        resolve: undefined,
      };
    p.kind = kind;
    p.state = 0;
    p.rows = 0;
    p.error = undefined;
    p.statement = undefined;
    return p;
  }

  protected frameSize(head: Buffer): number {
    return head.length >= 4 ? 4 + head.readUIntLE(0, 3) : 4;
  }

  protected frames(buf: Buffer, end: number): number {
    let off = 0;
    while (end - off >= 4) {
      const len =
        (buf[off] as number) |
        ((buf[off + 1] as number) << 8) |
        ((buf[off + 2] as number) << 16);
      const next = off + 4 + len;
      if (next > end) break;
      this.#lastSeq = buf[off + 3] as number;
      const first = !this.#continued;
      this.#continued = len === MAX_PACKET_PAYLOAD;
      if (first) {
        if (this.startupSink !== null)
          this.startupSink(buf.subarray(off + 4, next));
        else this.#packet(buf, off + 4, next);
      }
      off = next;
    }
    return off;
  }

  /** Handles one payload (`buf[at..end)`) of the answer to the oldest command. */
  #packet(buf: Buffer, at: number, end: number): void {
    const p = this.oldest();
    if (p === undefined) return;
    const first = buf[at] as number;
    const eof = first === 0xfe && end - at < 9;
    if (p.kind === PREPARE) {
      if (p.state > 0) {
        if (--p.state === 0) this.#finish(p);
        return;
      }
      if (first === 0xff) {
        p.error = errFields(buf, at, end);
        this.#finish(p);
        return;
      }
      const columns = buf.readUInt16LE(at + 5);
      const params = buf.readUInt16LE(at + 7);
      p.statement = { id: buf.readUInt32LE(at + 1), params };
      p.state = (params > 0 ? params + 1 : 0) + (columns > 0 ? columns + 1 : 0);
      if (p.state === 0) this.#finish(p);
      return;
    }
    switch (p.state) {
      case 0: // header: OK, ERR or a column count
        if (first === 0x00) {
          // affected rows, then the last insert id (skipped), then the status
          const a = lenencSize(buf[at + 1] as number);
          const b = lenencSize(buf[at + 1 + a] as number);
          p.rows += lenencValue(buf, at + 1);
          const status = buf.readUInt16LE(at + 1 + a + b);
          if ((status & SERVER_MORE_RESULTS_EXISTS) === 0) this.#finish(p);
        } else if (first === 0xff) {
          p.error = errFields(buf, at, end);
          this.#finish(p);
        } else p.state = 1;
        return;
      case 1: // column definitions until EOF
        if (eof) p.state = 2;
        return;
      default: // rows until EOF (or ERR)
        if (eof) {
          const status = buf.readUInt16LE(at + 3);
          if ((status & SERVER_MORE_RESULTS_EXISTS) === 0) this.#finish(p);
          else p.state = 0;
        } else if (first === 0xff) {
          p.error = errFields(buf, at, end);
          this.#finish(p);
        } else p.rows++;
    }
  }

  /** The oldest command's answer is complete. */
  #finish(p: Pending): void {
    const r: MyWireResult = {
      rows: p.rows,
      sentAt: p.sentAt,
      doneAt: this.readAt,
    };
    if (p.error !== undefined) {
      r.error = p.error;
      if (p.cancelledAt > 0 && p.error.errno === 1317)
        r.failure = this.timeoutFailure('1317', 'killed');
    }
    if (p.statement !== undefined) r.statement = p.statement;
    this.complete(p, r);
  }
}

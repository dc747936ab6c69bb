import { connect as connectSocket } from 'node:net';
import type { Socket } from 'node:net';
import { nowMs } from './wire';

/**
 * What the lean wire paths (`pg-wire.ts`, `mysql-wire.ts`; issue 16) share, whatever the
 * protocol: one socket that reads into one buffer per connection (`onread`, so an answer costs no
 * allocation and no pass through the stream machinery; bytes are copied only when a message spans
 * reads), a FIFO of requests in flight (pipelined: answers come back in order) whose records are
 * reset and reused, a deadline per request (past it the statement is cancelled; with no answer
 * {@link CANCEL_GRACE_MS} later the connection is given up), the handshake's timeout and
 * failures, the loss of the connection (every request in flight fails), and `close()`.
 *
 * A subclass speaks its protocol: the handshake ({@link WireConnection.handshake}), the framing
 * ({@link WireConnection.frames}, {@link WireConnection.frameSize}) and what each message means
 * for the oldest request ({@link WireConnection.oldest}, {@link WireConnection.complete}).
 */

/** Why the client gave up on a request. */
export interface WireFailure {
  code: string;
  cls: 'timeout' | 'connection';
  message: string;
}

/** What every answer carries, whatever the protocol. */
export interface WireAnswer {
  /** Rows the answer counted (a protocol says which). */
  rows: number;
  /** The client gave up on it (timeout, connection lost). */
  failure?: WireFailure;
  /** When the request was written to the socket (`nowMs()` clock). */
  sentAt: number;
  /** When the read that completed it came in (`nowMs()` clock). */
  doneAt: number;
}

/**
 * A request in flight. The promise's resolve and the caller's mapping are stored here, so a
 * request allocates no closure.
 */
export interface WirePending<TResult> {
  sentAt: number;
  /** When the cancel was sent (0: not yet). */
  cancelledAt: number;
  map: ((r: TResult) => unknown) | undefined;
  resolve: ((value: unknown) => void) | undefined;
}

/** Where to connect and how the protocol cancels and says goodbye. */
export interface WireConnectionOptions {
  /** A TCP address, or a Unix socket path. */
  readonly address: { port: number; host: string } | { path: string };
  /** Longest wait for one request (ms); it is then cancelled. */
  readonly queryTimeoutMs: number;
  /** How the deadline's message names the cancel: `the cancel request`, `KILL QUERY`. */
  readonly cancelName: string;
  /** What `close()` sends before ending the socket (Terminate, COM_QUIT). */
  readonly goodbye: Buffer;
}

/** What a handshake is told by {@link WireConnection.handshake}. */
export interface Handshake {
  /** Fails the connect (once): stops listening, destroys the socket, rejects with `err`. */
  readonly fail: (err: Error) => void;
  /** The login succeeded: stops listening; the connection is ready. */
  readonly done: () => void;
}

/** How a protocol's handshake fails. */
export interface HandshakeErrors {
  readonly connectTimeoutMs: number;
  /** The protocol's connect error. */
  create(message: string, code?: string): Error;
  /** The message when the server closes the socket during the handshake. */
  readonly closed: string;
}

/** Thrown when the server cannot be reached or refuses the login. */
export class WireConnectError extends Error {
  readonly code: string | undefined;
  constructor(message: string, code?: string) {
    super(message);
    this.code = code;
  }
}

/** Finished requests a connection keeps for reuse (more in flight at once are allocated). */
const FREE_PENDING = 16;
/** Size of each connection's read buffer (bytes). */
const READ_BUFFER = 64 * 1024;
/** The cancel may take this long before the connection is given up (ms). */
const CANCEL_GRACE_MS = 1000;
const now = nowMs;

/**
 * The executor of every request's promise: it hands the resolve function over through
 * {@link captured} instead of closing over the request (one closure less per request).
 */
let captured: ((value: unknown) => void) | undefined;
const captureResolve = (resolve: (value: unknown) => void): void => {
  captured = resolve;
};

/** A lean connection: the machinery; the protocol is the subclass's. */
export abstract class WireConnection<
  TResult extends WireAnswer,
  TPending extends WirePending<TResult>,
  TKind,
> {
  protected readonly socket: Socket;
  /** When the current read came in (the `doneAt` of what it completes). */
  protected readAt = 0;
  /** Where the handshake's bytes go while it runs (the subclass's {@link frames} decides). */
  protected startupSink: ((data: Buffer) => void) | null = null;
  readonly #opts: WireConnectionOptions;
  readonly #queue: TPending[] = [];
  /** Finished requests, reset and reused by the next ones (at most {@link FREE_PENDING}). */
  readonly #free: TPending[] = [];
  #head = 0;
  /** Bytes of an incomplete message, and how many the message needs. */
  #rest: Buffer[] = [];
  #restLen = 0;
  #need = 0;
  /** Why the connection is unusable (null while it is usable). */
  #broken: string | null = null;
  #timer: ReturnType<typeof setInterval> | null = null;
  #cancel: (() => Promise<boolean | void>) | null = null;
  /**
   * A deadline's cancel request is on its way (for at most {@link CANCEL_GRACE_MS}): requests made
   * meanwhile are held, not written, since the server, getting the request after its statement
   * ended, would stop the next one.
   */
  #cancelling = false;
  /** Requests held while {@link #cancelling}, with their bytes, written in order once it settles. */
  #held: { p: TPending; bytes: Buffer }[] = [];

  protected constructor(opts: WireConnectionOptions) {
    this.#opts = opts;
    const onread = {
      buffer: Buffer.allocUnsafe(READ_BUFFER),
      callback: (n: number, buf: Uint8Array): boolean => {
        this.#onRead(n, buf as Buffer);
        return true;
      },
    };
    this.socket = connectSocket({ ...opts.address, onread });
    this.socket.setNoDelay(true);
  }

  /**
   * Handles the complete messages in `buf[0..end)` (the handshake's to {@link startupSink});
   * returns where the first incomplete one starts (`end` when none is).
   */
  protected abstract frames(buf: Buffer, end: number): number;

  /** Bytes the message starting with `head` needs in all (a header's size until it is whole). */
  protected abstract frameSize(head: Buffer): number;

  /** A request record for `kind`: `reuse` (a finished one) reset, or a new one. */
  protected abstract pending(
    reuse: TPending | undefined,
    kind: TKind | undefined,
  ): TPending;

  /**
   * Runs a handshake: `start` gets {@link Handshake} and returns where the handshake's bytes go.
   * The connect times out after `errors.connectTimeoutMs`; a socket error or close fails it.
   */
  protected handshake(
    errors: HandshakeErrors,
    start: (h: Handshake) => (data: Buffer) => void,
  ): Promise<void> {
    const socket = this.socket;
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const cleanup = (): void => {
        clearTimeout(timer);
        this.startupSink = null;
        socket.off('error', onError);
        socket.off('close', onClose);
      };
      const fail = (err: Error): void => {
        if (settled) return;
        settled = true;
        cleanup();
        socket.destroy();
        reject(err);
      };
      const done = (): void => {
        if (settled) return;
        settled = true;
        cleanup();
        resolve();
      };
      const ms = errors.connectTimeoutMs;
      const timer = setTimeout(
        () =>
          fail(errors.create(`timed out after ${String(ms)} ms`, 'ETIMEDOUT')),
        ms,
      );
      const onError = (err: NodeJS.ErrnoException): void =>
        fail(errors.create(err.message, err.code));
      const onClose = (): void =>
        fail(errors.create(errors.closed, 'ECONNRESET'));
      socket.on('error', onError);
      socket.on('close', onClose);
      this.startupSink = start({ fail, done });
    });
  }

  /**
   * After the handshake: a lost socket fails what is in flight, and the deadlines start;
   * `cancel` ends the running statement from elsewhere.
   */
  protected attach(cancel: () => Promise<boolean | void>): void {
    this.#cancel = cancel;
    const socket = this.socket;
    socket.on('error', (err: NodeJS.ErrnoException) =>
      this.#lost(err.code ?? 'ECONNRESET', err.message),
    );
    socket.on('close', () =>
      this.#lost('ECONNRESET', 'the server closed the connection'),
    );
    const ms = this.#opts.queryTimeoutMs;
    this.#timer = setInterval(
      () => this.#checkDeadline(),
      Math.max(10, Math.min(1000, ms / 4)),
    );
    this.#timer.unref();
  }

  /** True once the connection failed or was closed. */
  get broken(): boolean {
    return this.#broken !== null;
  }

  /** Requests waiting for their answer. */
  get inFlight(): number {
    return this.#queue.length - this.#head;
  }

  /**
   * Writes one request; resolves with `map(result)` once its answer is read (the mapping runs
   * then, so a request costs one promise). Several may be in flight: answers come back in order.
   */
  request<T>(bytes: Buffer, map: (r: TResult) => T, kind?: TKind): Promise<T> {
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
        } as TResult),
      );
    }
    const promise = new Promise<unknown>(captureResolve);
    const p = this.pending(this.#free.pop(), kind);
    p.cancelledAt = 0;
    p.map = map;
    p.resolve = captured;
    captured = undefined;
    this.#queue.push(p);
    if (this.#cancelling) {
      // sent when the cancel request is through (its deadline counts from then)
      p.sentAt = Number.POSITIVE_INFINITY;
      this.#held.push({ p, bytes });
    } else {
      p.sentAt = now();
      this.socket.write(bytes);
    }
    return promise as Promise<T>;
  }

  /**
   * Sends a deadline's cancel request; requests wait until it is through (see `#cancelling`).
   * One that is not through within {@link CANCEL_GRACE_MS} (or could not be sent) may still
   * reach the server: the connection is then given up, as when it is not answered.
   */
  #cancelForDeadline(): void {
    const cancel = this.#cancel;
    if (cancel === null || this.#cancelling) return;
    this.#cancelling = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    void Promise.race([
      cancel().then(
        (ok) => ok !== false,
        () => false,
      ),
      new Promise<boolean>(
        (r) => (timer = setTimeout(() => r(false), CANCEL_GRACE_MS)),
      ),
    ]).then((ok) => {
      clearTimeout(timer);
      this.#cancelling = false;
      const held = this.#held;
      this.#held = [];
      if (this.#broken !== null) return;
      if (!ok) {
        this.#lost(
          'ETIMEDOUT',
          `${this.#opts.cancelName} did not go through within ${String(CANCEL_GRACE_MS)} ms`,
        );
        return;
      }
      const t = now();
      for (const h of held) {
        h.p.sentAt = t;
        this.socket.write(h.bytes);
      }
    });
  }

  /**
   * The oldest request in flight: the one the messages read now answer. A request held behind a
   * cancel request is not sent yet: nothing read now answers it (a message the server sends
   * unasked meanwhile, such as an error before it closes the connection, is not its answer).
   */
  protected oldest(): TPending | undefined {
    const p = this.#queue[this.#head];
    return p === undefined || p.sentAt === Number.POSITIVE_INFINITY
      ? undefined
      : p;
  }

  /** The oldest request (`p`) is answered: it leaves the queue and resolves with `r`. */
  protected complete(p: TPending, r: TResult): void {
    this.#queue[this.#head++] = undefined as never;
    if (this.#head === this.#queue.length) {
      this.#queue.length = 0;
      this.#head = 0;
    }
    this.#settle(p, r);
  }

  /** The failure of a request the server ended after its deadline (`how`: cancelled, killed). */
  protected timeoutFailure(code: string, how: string): WireFailure {
    return {
      code,
      cls: 'timeout',
      message: `no answer within ${String(this.#opts.queryTimeoutMs)} ms (${how})`,
    };
  }

  /** Resolves a finished request with its mapped result and keeps it for reuse. */
  #settle(p: TPending, r: TResult): void {
    const { map, resolve } = p;
    p.map = undefined;
    p.resolve = undefined;
    if (this.#free.length < FREE_PENDING) this.#free.push(p);
    (resolve as (value: unknown) => void)((map as (r: TResult) => unknown)(r));
  }

  /** `n` new bytes at the start of the read buffer `read` (overwritten by the next read). */
  #onRead(n: number, read: Buffer): void {
    this.readAt = now();
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
    const off = this.frames(buf, end);
    if (off < end) {
      const rest = Buffer.from(buf.subarray(off, end));
      this.#rest = [rest];
      this.#restLen = rest.length;
      this.#need = this.frameSize(rest);
    }
  }

  /** Cancels the oldest request past its deadline; closes the connection if that does not help. */
  #checkDeadline(): void {
    const p = this.#queue[this.#head];
    if (p === undefined || this.#broken !== null) return;
    const t = now();
    const ms = this.#opts.queryTimeoutMs;
    if (p.cancelledAt === 0) {
      if (t - p.sentAt < ms) return;
      p.cancelledAt = t;
      this.#cancelForDeadline();
    } else if (t - p.cancelledAt > CANCEL_GRACE_MS) {
      this.#lost(
        'ETIMEDOUT',
        `no answer within ${String(ms)} ms, nor to ${this.#opts.cancelName}`,
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
        // a request held behind a cancel request was never sent: it fails now
        sentAt: Math.min(p.sentAt, t),
        doneAt: t,
      } as TResult);
    this.socket.destroy();
  }

  /** Ends the running statement from elsewhere (a cancel request, `KILL QUERY`). */
  async cancel(): Promise<void> {
    if (this.#broken !== null) return;
    await this.#cancel?.();
  }

  /** Says goodbye and closes; requests still in flight fail as `connection`. */
  async close(): Promise<void> {
    if (this.#broken !== null) return;
    this.#broken = 'the connection was closed';
    const socket = this.socket;
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, 300);
      socket.once('close', () => {
        clearTimeout(t);
        resolve();
      });
      socket.end(this.#opts.goodbye);
    });
    this.#lost('ECONNRESET', this.#broken);
  }
}

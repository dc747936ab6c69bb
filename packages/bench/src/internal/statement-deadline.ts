import type { ExecOutcome } from '../bound-query';
import { errorOutcome, withErrorMessage } from '../db-plugin';
import { nowMs } from './wire';

/** How long a deadline's cancel may take before the connection is given up (ms). */
export const DEADLINE_CANCEL_GRACE_MS = 1000;

/** How long a session's close leaves the server to close the connection before destroying it (ms). */
export const CLOSE_WAIT_MS = 1000;

/** What {@link StatementDeadline} does for the session it watches. */
export interface StatementDeadlineOptions {
  /** The deadline, ms from the statement's start. */
  readonly ms: number;
  /**
   * Ends the running statement from elsewhere (a cancel request, `KILL QUERY`); resolves true once
   * the server has read it, false when it could not be sent or was not read in time.
   */
  readonly cancel: () => Promise<boolean>;
  /** Gives the connection up: destroys its socket (the session then reconnects). */
  readonly giveUp: () => void;
  /** The cancel's name in messages (`the cancel request`, `KILL QUERY`). */
  readonly cancelName: string;
}

/**
 * The statement deadline of a session whose driver has none of its own (`pg`, `mysql2`; the
 * lean and native paths keep theirs): a statement running past `ms` is cancelled as a stop
 * would cancel it, and its error then counts as class `timeout`; a statement still running
 * {@link DEADLINE_CANCEL_GRACE_MS} after that (a server or network that stopped answering)
 * ends as a lost connection of class `timeout`, and the connection is given up. When the cancel
 * cannot be sent, the connection is given up at once, and the statement ends as that lost
 * connection whatever the driver then reports for it. The runner gives a session one statement
 * at a time; a timer per session, not per statement, checks the newest.
 */
export class StatementDeadline {
  readonly #o: StatementDeadlineOptions;
  #timer: ReturnType<typeof setInterval> | null;
  /** The running statement's start, its cancel's time (0: none) and its settle (none: idle). */
  #since = 0;
  #cancelledAt = 0;
  #settle: ((o: ExecOutcome) => void) | undefined;
  /** The running statement's number. */
  #token = 0;
  /**
   * Statements begun before the running one and not ended yet, by number: the driver queues
   * statements given to it while one runs (pg does), so they end in order. Settled by their own
   * {@link end}, or all at once when the deadline gives the connection up. Until 2026-12-06 a
   * statement begun while another ran dropped the other's outcome, and its session waited for
   * ever: `postgres-runtime.test.ts`'s metrics run (4 sessions on 2 connections, a worker) hung
   * in 3 of 8 runs. The second statement came from the executor giving a connection away while a
   * session it had just restarted ran on it (fixed the same day, `connection-exclusive.test.ts`);
   * kept so that a driver queueing statements never loses an outcome.
   */
  readonly #earlier = new Map<number, (o: ExecOutcome) => void>();
  /** A deadline's cancel on its way (see {@link held}). */
  #cancelling: Promise<unknown> | undefined;
  /** The statement (its number) that was running when the deadline gave its connection up. */
  #doomed = 0;

  constructor(o: StatementDeadlineOptions) {
    this.#o = o;
    this.#timer = setInterval(
      () => this.#check(),
      Math.max(10, Math.min(1000, o.ms / 4)),
    );
    this.#timer.unref();
  }

  /** Whether a statement is running (begun, not yet ended). */
  get running(): boolean {
    return this.#settle !== undefined || this.#earlier.size > 0;
  }

  /**
   * While a deadline's cancel is on its way, what the next statement waits for: a statement that
   * ended by itself before the server read the cancel would otherwise have the next one stopped
   * in its place (as on the lean paths).
   */
  held(): Promise<unknown> | undefined {
    return this.#cancelling;
  }

  /**
   * A statement starts at `sentAt`; `settle` gets its outcome, through {@link end} with the token
   * returned here, or from the deadline when it gives the connection up (nothing settles twice).
   */
  begin(sentAt: number, settle: (o: ExecOutcome) => void): number {
    if (this.#settle !== undefined)
      this.#earlier.set(this.#token, this.#settle);
    this.#since = sentAt;
    this.#cancelledAt = 0;
    this.#settle = settle;
    return ++this.#token;
  }

  /**
   * The statement `token` ended with `o`: an error after the deadline's cancel counts as class
   * `timeout`. Dropped when the deadline already ended it.
   */
  end(token: number, o: ExecOutcome): void {
    if (token !== this.#token) {
      const earlier = this.#earlier.get(token);
      if (earlier === undefined) return;
      this.#earlier.delete(token);
      earlier(o);
      return;
    }
    const settle = this.#settle;
    if (settle === undefined) return;
    const cancelled = this.#cancelledAt > 0;
    this.#settle = undefined;
    this.#cancelledAt = 0;
    // its connection was given up while it ran: whatever the driver made of that (an error of
    // its own once the socket closed, a throw), it ended for want of an answer
    if (this.#doomed === token && o.connectionLost !== true) {
      this.#doomed = 0;
      settle(this.#lost(this.#since, nowMs()));
      return;
    }
    settle(cancelled && !o.ok ? { ...o, errorClass: 'timeout' } : o);
  }

  /**
   * Runs `call` as one statement under the deadline, once no deadline's cancel is on its way
   * ({@link held}): the outcome `ok` makes of its value, or `failed` of its error (a synchronous
   * throw too), unless the deadline ended it first.
   */
  run<T>(
    call: () => PromiseLike<T>,
    ok: (value: T) => ExecOutcome,
    failed: (err: unknown) => ExecOutcome,
  ): Promise<ExecOutcome> {
    const held = this.#cancelling;
    if (held !== undefined) return held.then(() => this.run(call, ok, failed));
    return new Promise<ExecOutcome>((settle) => {
      const token = this.begin(nowMs(), settle);
      try {
        call().then(
          (v) => {
            let o: ExecOutcome;
            try {
              o = ok(v);
            } catch (err) {
              o = failed(err);
            }
            this.end(token, o);
          },
          (err: unknown) => this.end(token, failed(err)),
        );
      } catch (err) {
        this.end(token, failed(err));
      }
    });
  }

  /** The outcome of a statement the deadline gave up on (sent at `sentAt`, given up at `t`). */
  #lost(sentAt: number, t: number): ExecOutcome {
    return {
      ...withErrorMessage(errorOutcome('ETIMEDOUT', 'timeout', true), {
        message: `no answer within ${String(this.#o.ms)} ms, nor to ${this.#o.cancelName}`,
      }),
      sentAt,
      doneAt: t,
    };
  }

  /** Stops watching (the session closes). */
  dispose(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }

  #check(): void {
    const settle = this.#settle;
    if (settle === undefined) return;
    const t = nowMs();
    const { ms } = this.#o;
    if (this.#cancelledAt === 0) {
      if (t - this.#since < ms) return;
      this.#cancelledAt = t;
      // a cancel not read in time may still arrive and stop the next statement: the connection
      // is given up instead (as on the lean paths); a statement still running fails as lost
      const token = this.#token;
      const c: Promise<unknown> = this.#o
        .cancel()
        .catch(() => false)
        .then((through) => {
          if (through) return;
          if (this.#settle !== undefined && this.#token === token)
            this.#doomed = token;
          this.#o.giveUp();
        })
        .finally(() => {
          if (this.#cancelling === c) this.#cancelling = undefined;
        });
      this.#cancelling = c;
    } else if (t - this.#cancelledAt > DEADLINE_CANCEL_GRACE_MS) {
      const sentAt = this.#since;
      this.#settle = undefined;
      this.#cancelledAt = 0;
      this.#o.giveUp();
      const lost = this.#lost(sentAt, t);
      // the statements queued before it on the connection given up end with it
      const earlier = [...this.#earlier.values()];
      this.#earlier.clear();
      for (const e of earlier) e(lost);
      settle(lost);
    }
  }
}

/**
 * `url` without its `query_timeout` parameter, and that parameter (ms) when it is a positive
 * number: the statement deadline, read by the plugin, not by its driver.
 */
export function takeQueryTimeout(url: string): {
  url: string;
  queryTimeoutMs: number | undefined;
} {
  const q = url.indexOf('?');
  if (q < 0) return { url, queryTimeoutMs: undefined };
  let queryTimeoutMs: number | undefined;
  let found = false;
  // the other parameters stay as they were written (the driver decodes them)
  const kept = url
    .slice(q + 1)
    .split('&')
    .filter((pair) => {
      const eq = pair.indexOf('=');
      if ((eq < 0 ? pair : pair.slice(0, eq)) !== 'query_timeout') return true;
      found = true;
      const n = Number(eq < 0 ? '' : pair.slice(eq + 1));
      queryTimeoutMs = Number.isFinite(n) && n > 0 ? n : undefined;
      return false;
    });
  if (!found) return { url, queryTimeoutMs: undefined };
  return {
    url:
      kept.length === 0
        ? url.slice(0, q)
        : `${url.slice(0, q)}?${kept.join('&')}`,
    queryTimeoutMs,
  };
}

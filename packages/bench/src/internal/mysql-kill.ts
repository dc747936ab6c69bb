import { settleWithin } from './settle-within';
import { CLOSE_WAIT_MS } from './statement-deadline';

/** What of a `mysql2/promise` connection a kill and a close use. */
export interface KillableConnection {
  query(sql: string): Promise<unknown>;
  end(): Promise<void>;
  destroy(): void;
  on(event: 'error', fn: (err: Error) => void): void;
  /** mysql2's connection under the promise wrapper: its socket. */
  connection?: { stream?: { destroy?(): void } };
}

/** `mysql2/promise`'s `createConnection`. */
export interface KillerLib {
  createConnection(config: unknown): Promise<KillableConnection>;
}

/**
 * Destroys a mysql2 connection's socket: its `destroy()` only ends the stream (a half close), so
 * against a server that stopped answering the socket stayed open and kept the process alive.
 */
export function destroySocket(c: KillableConnection): void {
  c.destroy();
  c.connection?.stream?.destroy?.();
}

/**
 * Says goodbye (`end()` resolves once COM_QUIT is queued) and destroys the socket
 * {@link CLOSE_WAIT_MS} later unless the server closed it first; the timer holds no process.
 */
export function closeSoon(c: KillableConnection): void {
  void c.end().catch(() => undefined);
  setTimeout(() => destroySocket(c), CLOSE_WAIT_MS).unref();
}

/** How long the answer to a `KILL QUERY` may take, once its connection is open (ms). */
const KILL_WAIT_MS = 2000;

/**
 * `KILL QUERY <threadId>` from a connection of its own (`connect`, with a 1 s connect timeout):
 * the running statement fails with 1317. True once the server answered the KILL (an error too: it
 * was read), false when it could not be sent or got no answer within {@link KILL_WAIT_MS}.
 */
export async function killMysqlQuery(
  lib: KillerLib,
  connect: Record<string, unknown>,
  threadId: number,
): Promise<boolean> {
  const killer = await lib
    .createConnection({ ...connect, connectTimeout: 1000 })
    .catch(() => null);
  if (killer === null) return false;
  killer.on('error', () => undefined);
  // a server that stopped answering answers neither the KILL nor the goodbye, and a query on a
  // connection mysql2 closed never settles: the wait is bounded here
  const answered = await settleWithin(
    killer.query(`KILL QUERY ${String(threadId)}`).then(
      () => true,
      () => true,
    ),
    KILL_WAIT_MS,
    false,
  );
  closeSoon(killer);
  return answered;
}

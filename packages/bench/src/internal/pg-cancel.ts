import { connect as connectSocket } from 'node:net';

/** What a `pg` client knows of its backend once connected: what a cancel request names. */
export interface PgCancelTarget {
  processID?: number | null;
  secretKey?: number | null;
  host?: string;
  port?: number;
}

/**
 * Sends a PostgreSQL cancel request (a CancelRequest packet on a new socket: length 16, code
 * 80877102, backend pid, secret key) for the statement a connection is running. Resolves true when
 * the server closed the socket after the request was written (it reads the request first), false
 * on an error or after `timeoutMs`.
 */
export function sendPgCancelRequest(
  target: { host: string; port: number; processID: number; secretKey: number },
  timeoutMs = 1000,
): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = target.host.startsWith('/')
      ? connectSocket(`${target.host}/.s.PGSQL.${String(target.port)}`)
      : connectSocket(target.port, target.host);
    let sent = false;
    const done = (through: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(through);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.on('error', () => done(false));
    // the server ends the request's connection once it has read it
    socket.on('close', () => done(sent));
    socket.on('connect', () => {
      sent = true;
      const packet = Buffer.alloc(16);
      packet.writeInt32BE(16, 0);
      packet.writeInt32BE(80877102, 4);
      packet.writeInt32BE(target.processID, 8);
      packet.writeInt32BE(target.secretKey, 12);
      socket.end(packet);
    });
  });
}

/**
 * Sends a cancel request for what a `pg` client runs (nothing before pg knows the backend's key);
 * true once the server has read it. Also for the `pg` clients knex opens (`knex` plugin).
 */
export function cancelRunning(
  client: PgCancelTarget,
  timeoutMs: number,
): Promise<boolean> {
  const { processID, secretKey, host, port } = client;
  if (processID == null || secretKey == null) return Promise.resolve(false);
  return sendPgCancelRequest(
    { host: host ?? 'localhost', port: port ?? 5432, processID, secretKey },
    timeoutMs,
  );
}

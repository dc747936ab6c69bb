import { createServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import { MyWire, commandPacket, packet } from '../src/internal/mysql-wire';
import { PgWire } from '../src/internal/pg-wire';

// The deadline machinery both lean wire paths share (issue 16): a server that logs in and then
// never answers gets the cancel at the deadline; with no answer to the cancel either, the
// request fails as `timeout` 1 s later, the connection is lost, and later requests fail at once.
// Fake servers: the real ones always answer a cancel.

/** A server that runs `login` on each connection and answers nothing after it. */
async function silentServer(
  login: (sock: Socket) => void,
): Promise<{ server: Server; port: number }> {
  const server = createServer((sock) => {
    sock.on('error', () => undefined);
    login(sock);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as AddressInfo).port };
}

/** PostgreSQL: after the startup message, AuthenticationOk, BackendKeyData, ReadyForQuery. */
function pgLogin(sock: Socket): void {
  sock.once('data', () => {
    const ok = Buffer.from([0x52, 0, 0, 0, 8, 0, 0, 0, 0]);
    const key = Buffer.from([0x4b, 0, 0, 0, 12, 0, 0, 0, 7, 0, 0, 0, 9]);
    const ready = Buffer.from([0x5a, 0, 0, 0, 5, 0x49]);
    sock.write(Buffer.concat([ok, key, ready]));
  });
}

/** MySQL: a native-password greeting, then OK to the login. */
function myLogin(sock: Socket): void {
  const salt = Buffer.alloc(20, 7);
  const hello = Buffer.concat([
    Buffer.from([10]),
    Buffer.from('10.11.0-MariaDB\0'),
    Buffer.from([42, 0, 0, 0]),
    salt.subarray(0, 8),
    Buffer.from([0, 0xff, 0xff, 45, 2, 0, 0xff, 0xff, 21]),
    Buffer.alloc(10),
    salt.subarray(8),
    Buffer.from([0]),
    Buffer.from('mysql_native_password\0'),
  ]);
  sock.write(packet(0, hello));
  sock.once('data', () =>
    sock.write(packet(2, Buffer.from([0, 0, 0, 2, 0, 0, 0]))),
  );
}

const timing = { connectTimeoutMs: 2000, queryTimeoutMs: 100 };

describe('the lean wire paths past a deadline, on a server that answers nothing', () => {
  it('pg: cancels once, then fails the request as timeout and loses the connection', async () => {
    const { server, port } = await silentServer(pgLogin);
    const cancels: number[][] = [];
    try {
      const wire = await PgWire.open(
        {
          host: '127.0.0.1',
          port,
          user: 'u',
          database: 'd',
          applicationName: 'stb',
          ...timing,
        },
        async (pid, key) => {
          cancels.push([pid, key]);
        },
      );
      const t0 = performance.now();
      const r = await wire.send(Buffer.from([0x53, 0, 0, 0, 4]));
      expect(performance.now() - t0).toBeGreaterThanOrEqual(1100);
      expect(cancels).toEqual([[7, 9]]);
      expect(r).toMatchObject({
        rows: 0,
        failure: {
          code: 'ETIMEDOUT',
          cls: 'timeout',
          message: 'no answer within 100 ms, nor to the cancel request',
        },
      });
      expect(r.doneAt).toBeGreaterThanOrEqual(r.sentAt);
      expect(wire.broken).toBe(true);
      expect(wire.inFlight).toBe(0);
      expect(await wire.send(Buffer.from([0x53, 0, 0, 0, 4]))).toMatchObject({
        failure: {
          code: 'ECONNRESET',
          cls: 'connection',
          message: 'no answer within 100 ms, nor to the cancel request',
        },
      });
      await wire.close();
    } finally {
      server.close();
    }
  });

  it('mysql: kills once, then fails the request as timeout and loses the connection', async () => {
    const { server, port } = await silentServer(myLogin);
    const kills: number[] = [];
    try {
      const wire = await MyWire.open(
        {
          host: '127.0.0.1',
          port,
          user: 'u',
          password: '',
          database: 'd',
          ...timing,
        },
        async (threadId) => {
          kills.push(threadId);
        },
      );
      expect(wire.serverVersion).toBe('10.11.0-MariaDB');
      const ping = commandPacket(0x0e, '');
      const t0 = performance.now();
      const [a, b] = await Promise.all([
        wire.request(ping, (r) => r),
        wire.request(ping, (r) => r),
      ]);
      expect(performance.now() - t0).toBeGreaterThanOrEqual(1100);
      expect(kills).toEqual([42]);
      const failure = {
        code: 'ETIMEDOUT',
        cls: 'timeout',
        message: 'no answer within 100 ms, nor to KILL QUERY',
      };
      expect(a).toMatchObject({ rows: 0, failure });
      expect(b).toMatchObject({ rows: 0, failure });
      expect(wire.broken).toBe(true);
      expect(await wire.request(ping, (r) => r.failure)).toEqual({
        ...failure,
        code: 'ECONNRESET',
        cls: 'connection',
      });
      await wire.close();
    } finally {
      server.close();
    }
  });

  it('close() fails what is in flight as connection lost', async () => {
    const { server, port } = await silentServer(myLogin);
    try {
      const wire = await MyWire.open(
        {
          host: '127.0.0.1',
          port,
          user: 'u',
          password: '',
          database: 'd',
          ...timing,
          queryTimeoutMs: 60_000,
        },
        async () => undefined,
      );
      const pending = wire.request(commandPacket(0x0e, ''), (r) => r.failure);
      expect(wire.inFlight).toBe(1);
      await wire.close();
      expect(await pending).toMatchObject({
        code: 'ECONNRESET',
        cls: 'connection',
      });
      expect(wire.inFlight).toBe(0);
    } finally {
      server.close();
    }
  });
});

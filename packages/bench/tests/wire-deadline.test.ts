import { createServer } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { MyWire, commandPacket, packet } from '../src/internal/mysql-wire';
import { PgWire } from '../src/internal/pg-wire';
import { greetingPacket } from './helpers/fake-mysql';

// The deadline machinery both lean wire paths share (issue 16): a server that logs in and then
// never answers gets the cancel at the deadline; with no answer to the cancel either, the
// request fails as `timeout` 1 s later, the connection is lost, and later requests fail at once.
// Fake servers: the real ones always answer a cancel.

/** Runs `use` against a server that runs `login` on each connection and answers nothing after. */
async function withSilentServer(
  login: (sock: Socket) => void,
  use: (port: number) => Promise<void>,
): Promise<void> {
  const server = createServer((sock) => {
    sock.on('error', () => undefined);
    login(sock);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    await use((server.address() as AddressInfo).port);
  } finally {
    server.close();
  }
}

/** PostgreSQL: after the startup message, AuthenticationOk, BackendKeyData 7/9, ReadyForQuery. */
function pgLogin(sock: Socket): void {
  sock.once('data', () => {
    const ok = Buffer.from([0x52, 0, 0, 0, 8, 0, 0, 0, 0]);
    const key = Buffer.from([0x4b, 0, 0, 0, 12, 0, 0, 0, 7, 0, 0, 0, 9]);
    const ready = Buffer.from([0x5a, 0, 0, 0, 5, 0x49]);
    sock.write(Buffer.concat([ok, key, ready]));
  });
}

/** MySQL: a native-password greeting (connection id 42), then OK to the login. */
function myLogin(sock: Socket): void {
  sock.write(
    greetingPacket({
      version: '10.11.0-MariaDB',
      threadId: 42,
      plugin: 'mysql_native_password',
    }),
  );
  sock.once('data', () =>
    sock.write(packet(2, Buffer.from([0, 0, 0, 2, 0, 0, 0]))),
  );
}

const address = { host: '127.0.0.1', user: 'u', database: 'd' };
const connectTimeoutMs = 2000;

/** A MyWire to the fake server whose kills are only recorded. */
function openMy(
  port: number,
  o: { queryTimeoutMs: number; kills: number[] },
): Promise<MyWire> {
  const cfg = { ...address, port, password: '', connectTimeoutMs };
  return MyWire.open({ ...cfg, queryTimeoutMs: o.queryTimeoutMs }, (id) => {
    o.kills.push(id);
    return Promise.resolve();
  });
}

describe('the lean wire paths past a deadline, on a server that answers nothing', () => {
  it('pg: cancels once, then fails the request as timeout and loses the connection', async () => {
    await withSilentServer(pgLogin, async (port) => {
      const cancels: number[][] = [];
      const wire = await PgWire.open(
        {
          ...address,
          port,
          applicationName: 'stb',
          connectTimeoutMs,
          queryTimeoutMs: 100,
        },
        (pid, key) => {
          cancels.push([pid, key]);
          return Promise.resolve();
        },
      );
      const sync = Buffer.from([0x53, 0, 0, 0, 4]);
      const t0 = performance.now();
      const r = await wire.send(sync);
      expect(performance.now() - t0).toBeGreaterThanOrEqual(1100);
      expect(cancels).toEqual([[7, 9]]);
      const message = 'no answer within 100 ms, nor to the cancel request';
      expect(r).toMatchObject({
        rows: 0,
        failure: { code: 'ETIMEDOUT', cls: 'timeout', message },
      });
      expect(r.doneAt).toBeGreaterThanOrEqual(r.sentAt);
      expect(wire.broken).toBe(true);
      expect(wire.inFlight).toBe(0);
      expect((await wire.send(sync)).failure).toEqual({
        code: 'ECONNRESET',
        cls: 'connection',
        message,
      });
      await wire.close();
    });
  });

  it('mysql: kills once, then fails every request in flight as timeout and loses the connection', async () => {
    await withSilentServer(myLogin, async (port) => {
      const kills: number[] = [];
      const wire = await openMy(port, { queryTimeoutMs: 100, kills });
      expect(wire.serverVersion).toBe('10.11.0-MariaDB');
      const ping = commandPacket(0x0e, '');
      const t0 = performance.now();
      const [a, b] = await Promise.all([
        wire.request(ping, (r) => r),
        wire.request(ping, (r) => r),
      ]);
      expect(performance.now() - t0).toBeGreaterThanOrEqual(1100);
      expect(kills).toEqual([42]);
      const message = 'no answer within 100 ms, nor to KILL QUERY';
      const failure = { code: 'ETIMEDOUT', cls: 'timeout', message };
      expect(a).toMatchObject({ rows: 0, failure });
      expect(b).toMatchObject({ rows: 0, failure });
      expect(wire.broken).toBe(true);
      expect(await wire.request(ping, (r) => r.failure)).toEqual({
        code: 'ECONNRESET',
        cls: 'connection',
        message,
      });
      await wire.close();
    });
  });

  it('close() fails what is in flight as connection lost', async () => {
    await withSilentServer(myLogin, async (port) => {
      const kills: number[] = [];
      const wire = await openMy(port, { queryTimeoutMs: 60_000, kills });
      const pending = wire.request(commandPacket(0x0e, ''), (r) => r.failure);
      expect(wire.inFlight).toBe(1);
      await wire.close();
      expect(await pending).toMatchObject({
        code: 'ECONNRESET',
        cls: 'connection',
      });
      expect(wire.inFlight).toBe(0);
      expect(kills).toEqual([]);
    });
  });
});

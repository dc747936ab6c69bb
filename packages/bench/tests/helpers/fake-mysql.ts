import { createServer } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { packet } from '../../src/internal/mysql-wire';

/**
 * A handshake v10 greeting packet (sequence 0) for fake MySQL servers: protocol 41, plugin auth,
 * a fixed 20-byte scramble, the server's default authentication `plugin`.
 */
export function greetingPacket(o: {
  version: string;
  threadId: number;
  plugin: string;
}): Buffer {
  const salt = Buffer.alloc(20, 7);
  const threadId = Buffer.alloc(4);
  threadId.writeUInt32LE(o.threadId);
  return packet(
    0,
    Buffer.concat([
      Buffer.from([10]),
      Buffer.from(`${o.version}\0`),
      threadId,
      salt.subarray(0, 8),
      Buffer.from([0, 0xff, 0xff, 45, 2, 0, 0xff, 0xff, 21]),
      Buffer.alloc(10),
      salt.subarray(8),
      Buffer.from([0]),
      Buffer.from(`${o.plugin}\0`),
    ]),
  );
}

/** An OK packet: `affectedRows` (below 251), no insert id, autocommit status, no warnings. */
export function okPacket(seq: number, affectedRows = 0): Buffer {
  return packet(seq, Buffer.from([0, affectedRows, 0, 2, 0, 0, 0]));
}

/** COM_STMT_PREPARE's OK (sequence 1): statement `id`, no columns, no parameters. */
export function prepareOkPacket(id: number): Buffer {
  const payload = Buffer.alloc(12);
  payload.writeUInt32LE(id, 1);
  return packet(1, payload);
}

/**
 * A fake MySQL/MariaDB server on 127.0.0.1 (port 0): it greets with `mysql_native_password`,
 * answers any login with OK, then hands each command's payload to `onCommand` (packets split or
 * joined across reads are reassembled). `close()` drops its connections.
 */
export async function startFakeMysql(
  onCommand: (payload: Buffer, sock: Socket) => void,
): Promise<{ port: number; close: () => void }> {
  const sockets = new Set<Socket>();
  const server = createServer((sock) => {
    sockets.add(sock);
    sock.on('error', () => undefined);
    sock.write(
      greetingPacket({
        version: '10.11.0-MariaDB',
        threadId: 1,
        plugin: 'mysql_native_password',
      }),
    );
    let loggedIn = false;
    let buf = Buffer.alloc(0);
    sock.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 4 && buf.length >= 4 + buf.readUIntLE(0, 3)) {
        const end = 4 + buf.readUIntLE(0, 3);
        const payload = buf.subarray(4, end);
        buf = buf.subarray(end);
        if (loggedIn) onCommand(payload, sock);
        else {
          loggedIn = true;
          sock.write(okPacket(2));
        }
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

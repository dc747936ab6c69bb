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

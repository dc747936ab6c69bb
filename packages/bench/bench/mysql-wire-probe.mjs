// A hand-rolled MySQL/MariaDB binary-protocol client for one thing only: what a lean
// COM_STMT_EXECUTE path would cost the client (issue 16, item 3: "do the same for mysql2's binary
// protocol if measurement shows a comparable gain"). It connects with an empty password
// (mysql_native_password), prepares one statement with one BIGINT parameter, keeps the
// COM_STMT_EXECUTE packet serialised once and writes only the 8 parameter bytes per call, and
// counts the answer's packets (column count, definitions, EOF, rows, EOF) without decoding a
// value. Not a driver: no TLS, no other auth, no multi-packet payloads; used by
// mysql-lean.bench.mjs.
import net from 'node:net';

const CLIENT_LONG_PASSWORD = 0x1;
const CLIENT_LONG_FLAG = 0x4;
const CLIENT_CONNECT_WITH_DB = 0x8;
const CLIENT_PROTOCOL_41 = 0x200;
const CLIENT_TRANSACTIONS = 0x2000;
const CLIENT_SECURE_CONNECTION = 0x8000;
const CLIENT_PLUGIN_AUTH = 0x80000;
const CAPS =
  CLIENT_LONG_PASSWORD |
  CLIENT_LONG_FLAG |
  CLIENT_CONNECT_WITH_DB |
  CLIENT_PROTOCOL_41 |
  CLIENT_TRANSACTIONS |
  CLIENT_SECURE_CONNECTION |
  CLIENT_PLUGIN_AUTH;

function packet(seq, payload) {
  const b = Buffer.allocUnsafe(4 + payload.length);
  b.writeUIntLE(payload.length, 0, 3);
  b[3] = seq;
  payload.copy(b, 4);
  return b;
}

/** Reads whole packets off a socket: `next()` resolves with the next payload (handshake phase). */
function packetReader(socket) {
  let buf = Buffer.alloc(0);
  const waiting = [];
  const ready = [];
  const pump = () => {
    while (buf.length >= 4) {
      const len = buf.readUIntLE(0, 3);
      if (buf.length < 4 + len) break;
      const p = buf.subarray(4, 4 + len);
      buf = buf.subarray(4 + len);
      const w = waiting.shift();
      if (w) w(p);
      else ready.push(p);
    }
  };
  const onData = (d) => {
    buf = buf.length ? Buffer.concat([buf, d]) : d;
    pump();
  };
  socket.on('data', onData);
  return {
    next: () =>
      ready.length
        ? Promise.resolve(ready.shift())
        : new Promise((r) => waiting.push(r)),
    detach: () => {
      socket.off('data', onData);
      return buf;
    },
  };
}

function errorText(p) {
  return `MySQL error ${p.readUInt16LE(1)}: ${p.subarray(9).toString('utf8')}`;
}

/**
 * Connects, authenticates and prepares `sql` (one `?`, bound as BIGINT). Resolves with
 * `{ execute(id): Promise<rows>, close() }`.
 */
export async function connectLean({ host, port, user, database, sql }) {
  const socket = net.connect({ host, port });
  socket.setNoDelay(true);
  await new Promise((res, rej) => {
    socket.once('connect', res);
    socket.once('error', rej);
  });
  const reader = packetReader(socket);
  const hello = await reader.next();
  if (hello[0] === 0xff) throw new Error(errorText(hello));
  const name = Buffer.from(`${user}\0`);
  const db = Buffer.from(`${database}\0`);
  const fixed = Buffer.alloc(32);
  fixed.writeUInt32LE(CAPS, 0);
  fixed.writeUInt32LE(1 << 24, 4);
  fixed[8] = 45; // utf8mb4_general_ci
  const plugin = Buffer.from('mysql_native_password\0');
  // empty password: a zero-length auth response
  socket.write(
    packet(1, Buffer.concat([fixed, name, Buffer.from([0]), db, plugin])),
  );
  let seq = 3;
  for (;;) {
    const r = await reader.next();
    if (r[0] === 0x00) break;
    if (r[0] === 0xff) throw new Error(errorText(r));
    if (r[0] === 0xfe) {
      // auth switch: an empty password is an empty answer whatever the plugin
      socket.write(packet(seq, Buffer.alloc(0)));
      seq += 2;
      continue;
    }
    throw new Error(`unexpected auth packet 0x${r[0].toString(16)}`);
  }
  socket.write(
    packet(0, Buffer.concat([Buffer.from([0x16]), Buffer.from(sql)])),
  );
  const prep = await reader.next();
  if (prep[0] === 0xff) throw new Error(errorText(prep));
  const stmtId = prep.readUInt32LE(1);
  const columns = prep.readUInt16LE(5);
  const params = prep.readUInt16LE(7);
  // parameter and column definitions, each block followed by an EOF
  for (
    let i = 0;
    i < (params ? params + 1 : 0) + (columns ? columns + 1 : 0);
    i++
  )
    await reader.next();
  let pending = reader.detach();

  // COM_STMT_EXECUTE, serialised once: 0x17, stmt id, flags, iteration count 1, null bitmap,
  // new-params-bound 1, type LONGLONG, the 8 value bytes (rewritten per call)
  const exec = packet(0, Buffer.alloc(22));
  exec[4] = 0x17;
  exec.writeUInt32LE(stmtId, 5);
  exec[9] = 0;
  exec.writeUInt32LE(1, 10);
  exec[14] = 0;
  exec[15] = 1;
  exec[16] = 0x08;
  exec[17] = 0x00;
  const VALUE = 18;

  let resolve;
  let reject;
  let eofs = 0;
  let rows = 0;
  let header = true;
  const onPacket = (p) => {
    if (header) {
      header = false;
      if (p[0] === 0xff) return reject(new Error(errorText(p)));
      if (p[0] === 0x00) return resolve(0); // OK: no result set
      return undefined; // column count
    }
    if (p[0] === 0xfe && p.length < 9) {
      if (++eofs === 2) resolve(rows);
      return undefined;
    }
    if (p[0] === 0xff) return reject(new Error(errorText(p)));
    if (eofs === 1) rows++;
    return undefined;
  };
  const onData = (d) => {
    let b = pending.length ? Buffer.concat([pending, d]) : d;
    let o = 0;
    while (b.length - o >= 4) {
      const len = b[o] | (b[o + 1] << 8) | (b[o + 2] << 16);
      if (b.length - o < 4 + len) break;
      onPacket(b.subarray(o + 4, o + 4 + len));
      o += 4 + len;
    }
    pending = o === b.length ? Buffer.alloc(0) : b.subarray(o);
  };
  socket.on('data', onData);
  return {
    execute(id) {
      header = true;
      eofs = 0;
      rows = 0;
      exec.writeBigInt64LE(BigInt(id), VALUE);
      return new Promise((res, rej) => {
        resolve = res;
        reject = rej;
        socket.write(exec);
      });
    },
    close() {
      socket.end(packet(0, Buffer.from([0x01])));
    },
  };
}

import { connect, createServer } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';

/** A loopback TCP proxy that holds each new connection `delayMs` before it reaches the server. */
export interface SlowProxy {
  readonly port: number;
  /** Client connections accepted so far. */
  readonly accepted: number;
  /** Client connections not yet closed. */
  readonly open: number;
  /** Client connections still held (accepted, not yet passed to the server). */
  readonly held: number;
  /** Called as each client connection is accepted (1, 2, …), before its delay. */
  onAccept: ((n: number) => void) | null;
  close(): Promise<void>;
}

/**
 * Starts a proxy to `host:port` on 127.0.0.1. A connection's bytes wait until the upstream
 * connection opens, `delayMs` after the accept: a client's connect then takes that long, so a
 * test can act while it is under way. `delayMs` may also be given per connection, by its number
 * (1, 2, …): `(n) => (n === 1 ? 0 : 400)` lets a session through at once and holds what follows
 * (a PostgreSQL cancel request comes on a connection of its own).
 */
export async function startSlowProxy(
  upstream: { host: string; port: number },
  delayMs: number | ((n: number) => number),
): Promise<SlowProxy> {
  const delayOf = typeof delayMs === 'number' ? () => delayMs : delayMs;
  const clients = new Set<Socket>();
  const upstreams = new Set<Socket>();
  let accepted = 0;
  let held = 0;
  const server = createServer((client) => {
    accepted++;
    clients.add(client);
    client.pause();
    held++;
    let up: Socket | null = null;
    const timer = setTimeout(() => {
      held--;
      up = connect(upstream.port, upstream.host);
      upstreams.add(up);
      up.on('error', () => client.destroy());
      up.on('close', () => {
        upstreams.delete(up as Socket);
        client.destroy();
      });
      up.once('connect', () => {
        client.pipe(up as Socket);
        (up as Socket).pipe(client);
        client.resume();
      });
    }, delayOf(accepted));
    client.on('error', () => undefined);
    client.on('close', () => {
      if (up === null) {
        clearTimeout(timer);
        held--;
      }
      clients.delete(client);
      up?.destroy();
    });
    proxy.onAccept?.(accepted);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const proxy: SlowProxy = {
    port: (server.address() as AddressInfo).port,
    get accepted() {
      return accepted;
    },
    get open() {
      return clients.size;
    },
    get held() {
      return held;
    },
    onAccept: null,
    close: () =>
      new Promise<void>((r) => {
        for (const s of [...clients, ...upstreams]) s.destroy();
        server.close(() => r());
      }),
  };
  return proxy;
}

import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { createKnexPlugin } from '../src/db/knex';
import { createMysqlPlugin } from '../src/db/mysql';
import { createPostgresPlugin } from '../src/db/postgres';
import type { ExecOutcome } from '../src/bound-query';
import type { DbPlugin, DbSession } from '../src/db-plugin';
import { takeQueryTimeout } from '../src/internal/statement-deadline';
import { useMysqlDatabase, usePgDatabase } from './helpers/db';
import {
  expectQueryTimeoutCancels,
  MYSQL_SLEEP,
  q,
  sessionRunner,
} from './helpers/pg-wire-plugin';

// The statement deadline of the default plugins (`postgres`: pg, `mysql`: mysql2) and of the
// generic `knex` one, which their drivers do not have: a statement past `query_timeout` is cancelled and counts as class `timeout`; on a
// server that stopped answering (the proxy below freezes), the statement ends as a lost
// connection within the deadline plus 1 s, and a session's close ends its socket, so nothing
// keeps the process waiting on the database.

/** A loopback proxy that, once frozen, passes no more bytes and keeps every socket open. */
async function startFreezingProxy(port: number): Promise<{
  port: number;
  freeze(): void;
  close(): void;
}> {
  let frozen = false;
  const sockets = new Set<Socket>();
  // half-open kept: a client that only ends its side (a goodbye, a half close) leaves the socket
  // open, as a server that stopped answering would; only destroying it closes it
  const server = createServer({ allowHalfOpen: true }, (client) => {
    sockets.add(client);
    client.on('error', () => undefined);
    if (frozen) return; // a cancel or KILL connection after the freeze: accepted, never served
    const up = connect(port, '127.0.0.1');
    sockets.add(up);
    up.on('error', () => client.destroy());
    client.on('data', (d) => {
      if (!frozen) up.write(d);
    });
    up.on('data', (d) => {
      if (!frozen) client.write(d);
    });
    client.on('close', () => {
      if (!frozen) up.destroy();
    });
    up.on('close', () => {
      if (!frozen) client.destroy();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    freeze: () => {
      frozen = true;
    },
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

/**
 * This process's sockets connected to 127.0.0.1:`port` (the plugin's side of the proxy's
 * connections) that are still open: from /proc/net/tcp, those whose inode is one of this
 * process's descriptors. A socket only half closed (`end()`) is still open; a destroyed one is not.
 */
function openSocketsTo(port: number): number {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  const inodes = new Set<string>();
  for (const line of readFileSync('/proc/net/tcp', 'utf8')
    .split('\n')
    .slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f[2] === `0100007F:${hex}` && f[9] !== undefined && f[9] !== '0')
      inodes.add(f[9]);
  }
  let open = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`));
      if (m !== null && inodes.has(m[1] as string)) open++;
    } catch {
      // closed meanwhile
    }
  }
  return open;
}

/** Waits until `fn()` is true, polling every 20 ms, at most `ms`; returns whether it became true. */
async function until(fn: () => boolean, ms: number): Promise<boolean> {
  const end = performance.now() + ms;
  while (!fn() && performance.now() < end)
    await new Promise((r) => setTimeout(r, 20));
  return fn();
}

/**
 * Through a proxy that freezes after the session is open: a statement ends as a lost connection
 * of class `timeout` within the deadline (300 ms) plus the cancel's grace (1 s) and a margin, and
 * `close()` returns and ends the socket within 2 s.
 */
async function expectFrozenServerBounded(
  plugin: DbPlugin,
  url: string,
  o: {
    /** Opens the session on the proxied URL (default: the plugin's `{ url }` options). */
    open?: (url: string) => Promise<DbSession>;
    /** What runs once the proxy froze (default: a statement), as an outcome. */
    call?: (s: DbSession) => Promise<ExecOutcome>;
  } = {},
): Promise<void> {
  const open =
    o.open ??
    ((u: string) => plugin.connect({ url: u }, { protocol: 'simple' }));
  const call = o.call ?? ((s: DbSession) => s.execute(q('SELECT 1')));
  const target = new URL(url);
  const proxy = await startFreezingProxy(Number(target.port));
  target.hostname = '127.0.0.1';
  target.port = String(proxy.port);
  target.searchParams.set('query_timeout', '300');
  let s: DbSession | undefined;
  try {
    s = await open(target.toString());
    expect(await s.execute(q('SELECT 1'))).toMatchObject({ ok: true });
    proxy.freeze();
    const t0 = performance.now();
    const out = await call(s);
    const took = performance.now() - t0;
    expect(out).toMatchObject({
      ok: false,
      errorClass: 'timeout',
      connectionLost: true,
    });
    expect(took).toBeGreaterThanOrEqual(1200);
    expect(took).toBeLessThan(4000);
    const c0 = performance.now();
    await s.close();
    s = undefined;
    expect(performance.now() - c0).toBeLessThan(2000);
    // every socket the plugin opened to the server is closed, none only half closed: the
    // session's and the cancel's (bounded on its own)
    expect(await until(() => openSocketsTo(proxy.port) === 0, 4000)).toBe(true);
  } finally {
    await s?.close();
    proxy.close();
  }
}

/** A dry run's prepare of `SELECT 1`. */
const prepareOf = (s: DbSession): Promise<ExecOutcome> =>
  (s.prepare as NonNullable<DbSession['prepare']>)(q('SELECT 1'));

/**
 * The server's version, as an outcome: what is checked of it is that it fails within the bound
 * (its failure stands for the lost connection of class `timeout`, whatever its message), and that
 * the session's socket closes.
 */
const versionOf = (s: DbSession): Promise<ExecOutcome> =>
  (s.serverVersion as NonNullable<DbSession['serverVersion']>)().then(
    () => ({ ok: true, rows: 0 }),
    () => ({ ok: false, rows: 0, errorClass: 'timeout', connectionLost: true }),
  );

describe('query_timeout in a target URL', () => {
  it('is taken out of the URL for the plugin, the other parameters left as written', () => {
    expect(
      takeQueryTimeout(
        'postgres://u@h/db?options=-c%20x%3D1&query_timeout=250&sslmode=disable',
      ),
    ).toEqual({
      url: 'postgres://u@h/db?options=-c%20x%3D1&sslmode=disable',
      queryTimeoutMs: 250,
    });
    expect(takeQueryTimeout('mysql://u@h/db?query_timeout=abc')).toEqual({
      url: 'mysql://u@h/db',
      queryTimeoutMs: undefined,
    });
    expect(takeQueryTimeout('mysql://u@h/db')).toEqual({
      url: 'mysql://u@h/db',
      queryTimeoutMs: undefined,
    });
  });
});

describe('postgres (pg): the statement deadline', () => {
  const plugin = createPostgresPlugin() as DbPlugin;
  const db = usePgDatabase();
  const withSession = sessionRunner(plugin, db);

  it('cancels a statement past query_timeout as a timeout and keeps the connection', async () => {
    await withSession((s) => expectQueryTimeoutCancels(s), {
      query: '?query_timeout=200',
      protocol: 'simple',
    });
  });

  it('gives up on a server that stopped answering, and closes its session', async () => {
    const url = db.url();
    if (url === null) return;
    await expectFrozenServerBounded(plugin, url);
  }, 15_000);

  it("bounds a dry run's prepare and the server version the same way", async () => {
    const url = db.url();
    if (url === null) return;
    await expectFrozenServerBounded(plugin, url, { call: prepareOf });
    await expectFrozenServerBounded(plugin, url, { call: versionOf });
  }, 30_000);
});

describe('mysql (mysql2): the statement deadline', () => {
  const plugin = createMysqlPlugin() as DbPlugin;
  const mysqlDb = useMysqlDatabase();

  it('kills a statement past query_timeout as a timeout and keeps the connection', async () => {
    const url = mysqlDb.url();
    if (url === null) return;
    const s = await plugin.connect(
      { url: `${url}?query_timeout=200` },
      { protocol: 'simple' },
    );
    try {
      // the mysql2 plugin reports no wire times
      await expectQueryTimeoutCancels(s, MYSQL_SLEEP, { ok: true, rows: 1 });
    } finally {
      await s.close();
    }
  });

  it('gives up on a server that stopped answering, and closes its session', async () => {
    const url = mysqlDb.url();
    if (url === null) return;
    await expectFrozenServerBounded(plugin, url);
  }, 15_000);

  it("bounds a dry run's prepare and the server version the same way", async () => {
    const url = mysqlDb.url();
    if (url === null) return;
    await expectFrozenServerBounded(plugin, url, { call: prepareOf });
    await expectFrozenServerBounded(plugin, url, { call: versionOf });
  }, 30_000);
});

// knex gives none of its clients a deadline: until 2026-12-06 a knex target that stopped
// answering held a session, and a run without --duration, for ever
describe.each([
  { client: 'pg', db: usePgDatabase, sleep: undefined },
  { client: 'mysql2', db: useMysqlDatabase, sleep: MYSQL_SLEEP },
])('knex ($client): the statement deadline', ({ client, db, sleep }) => {
  const plugin = createKnexPlugin() as DbPlugin;
  const database = db();
  const open = (url: string): Promise<DbSession> =>
    plugin.connect({ client, connection: url }, { protocol: 'simple' });

  it('cancels a statement past query_timeout as a timeout and keeps the connection', async () => {
    const url = database.url();
    if (url === null) return;
    const s = await open(`${url}?query_timeout=200`);
    try {
      // knex reports no wire times
      await expectQueryTimeoutCancels(s, sleep, { ok: true, rows: 1 });
    } finally {
      await s.close();
    }
  });

  it('gives up on a server that stopped answering, and closes its session', async () => {
    const url = database.url();
    if (url === null) return;
    await expectFrozenServerBounded(plugin, url, { open });
  }, 15_000);
});

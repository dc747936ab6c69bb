import { createServer } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import mysql from 'mysql2/promise';
import type { ParamValue } from '@stb/core';
import type { BoundQuery } from '../src/bound-query';
import {
  createMysqlLeanPlugin,
  encodeExecute,
  mysqlLeanConfig,
} from '../src/db/mysql-lean';
import type { DbPlugin, DbSession, Protocol } from '../src/db-plugin';
import { packet } from '../src/internal/mysql-wire';
import { nowMs } from '../src/internal/wire';
import { runBench } from '../src/runner';
import { resolveTarget } from '../src/target';
import { describeDbPlugin } from './helpers/conformance';
import { expectUnreachable } from './helpers/refusal';
import {
  greetingPacket,
  okPacket,
  prepareOkPacket,
  startFakeMysql,
} from './helpers/fake-mysql';
import { createMysqlDatabase } from './helpers/db';
import { createMysqlTarget } from './helpers/targets';
import {
  expectQueryTimeoutCancels,
  MYSQL_SLEEP,
} from './helpers/pg-wire-plugin';
import { TraceBuilder, template } from './helpers/trace';

// The lean MySQL/MariaDB wire path (issue 16, item 3) on the real server: the conformance suite
// through the runner, then what the bench result needs from it: row counts, errnos, every
// parameter type stored as mysql2 reads it back, cancel, timeouts, a password login.
const lean = createMysqlLeanPlugin() as DbPlugin;
const base = createMysqlTarget(0);
describeDbPlugin('mysql-lean', {
  ...base,
  runOptions: { plugin: lean },
  createTarget: async () => {
    const t = await base.createTarget();
    return t && { ...t, target: t.target.replace('mysql:', 'mysql+lean:') };
  },
});

let db: Awaited<ReturnType<typeof createMysqlDatabase>> = null;
beforeAll(async () => {
  db = await createMysqlDatabase();
  if (db === null) return;
  const c = await mysql.createConnection({
    uri: db.url,
    multipleStatements: true,
  });
  await c.query(`
CREATE TABLE t (id int PRIMARY KEY, v varchar(20)) ENGINE=InnoDB;
INSERT INTO t SELECT seq, CONCAT('v', seq) FROM seq_1_to_50;
CREATE TABLE types (id int PRIMARY KEY, b bigint, bu bigint unsigned, big decimal(30,0), f double,
  s varchar(50), u char(36), j json, ts datetime, d date, bin varbinary(10), bo tinyint(1), n int);`);
  await c.end();
}, 30_000);
afterAll(async () => {
  await db?.drop();
}, 30_000);

const q = (
  text: string,
  params: ParamValue[] = [],
  queryType: BoundQuery['queryType'] = 'SELECT',
): BoundQuery => ({
  templateId: text,
  text,
  params,
  queryType,
});
const int = (v: number): ParamValue => ({ t: 'int', v });
const okRows = (rows: number): unknown => ({
  ok: true,
  rows,
  sentAt: expect.any(Number),
  doneAt: expect.any(Number),
});
const leanUrl = (url: string): string => url.replace(/^mysql:/, 'mysql+lean:');

async function withSession<T>(
  fn: (s: DbSession, url: string) => Promise<T>,
  o: { protocol?: Protocol; query?: string } = {},
): Promise<T | undefined> {
  if (db === null) return undefined;
  const options = (await resolveTarget(leanUrl(db.url) + (o.query ?? '')))
    .options as { url: string };
  const s = await lean.connect(options, { protocol: o.protocol ?? 'prepared' });
  try {
    return await fn(s, db.url);
  } finally {
    await s.close();
  }
}

async function readBack(sql: string): Promise<Record<string, unknown>[]> {
  const c = await mysql.createConnection({
    uri: db?.url ?? '',
    supportBigNumbers: true,
    bigNumberStrings: true,
    dateStrings: true,
  });
  try {
    return (await c.query(sql))[0] as Record<string, unknown>[];
  } finally {
    await c.end();
  }
}

const ALL_TYPES = (id: number, n: ParamValue): ParamValue[] => [
  int(id),
  { t: 'bigint', v: '-9007199254740993' },
  { t: 'bigint', v: '18446744073709551615' },
  { t: 'bigint', v: '123456789012345678901234567890' },
  { t: 'float', v: 1.5 },
  { t: 'string', v: "it's ü 😀" },
  { t: 'uuid', v: '123e4567-e89b-12d3-a456-426614174000' },
  { t: 'json', v: '{"a": [1, 2]}' },
  { t: 'timestamp', v: '2026-01-02 03:04:05' },
  { t: 'date', v: '2026-01-02' },
  { t: 'bytes', v: 'deadbeef00' },
  { t: 'bool', v: true },
  n,
];
const INSERT_TYPES =
  'INSERT INTO types VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)';

describe('mysql-lean on MariaDB', () => {
  it.each<Protocol>(['prepared', 'extended', 'simple'])(
    'counts rows of point selects and affected rows of DML (%s)',
    async (protocol) => {
      await withSession(
        async (s) => {
          const sel = q('SELECT v FROM t WHERE id = $1', [int(7)]);
          expect(await s.execute(sel)).toEqual(okRows(1));
          // the second call executes the statement prepared by the first
          expect(await s.execute({ ...sel, params: [int(3)] })).toEqual(
            okRows(1),
          );
          expect(await s.execute({ ...sel, params: [int(999)] })).toEqual(
            okRows(0),
          );
          expect(
            await s.execute(q('SELECT id FROM t WHERE id <= $1', [int(20)])),
          ).toEqual(okRows(20));
          expect(
            await s.execute(
              q('SELECT id FROM t WHERE id IN ($1)', [
                { t: 'list', v: [int(1), int(2), int(60)] },
              ]),
            ),
          ).toEqual(okRows(2));
          expect(
            await s.execute(
              q(
                'UPDATE t SET v = CONCAT(v, $2) WHERE id > $1',
                [int(45), { t: 'string', v: '' }],
                'UPDATE',
              ),
            ),
          ).toEqual(okRows(0));
          expect(
            await s.execute(
              q(
                'UPDATE t SET v = $2 WHERE id > $1',
                [int(45), { t: 'string', v: protocol }],
                'UPDATE',
              ),
            ),
          ).toEqual(okRows(5));
          expect(
            await s.execute(
              q(
                'INSERT INTO t VALUES ($1, $2), ($3, $4)',
                [
                  int(1001),
                  { t: 'null', v: null },
                  int(1002),
                  { t: 'string', v: 'x' },
                ],
                'INSERT',
              ),
            ),
          ).toEqual(okRows(2));
          expect(
            await s.execute(
              q('DELETE FROM t WHERE id > $1', [int(1000)], 'DELETE'),
            ),
          ).toEqual(okRows(2));
        },
        { protocol },
      );
    },
  );

  it.each<Protocol>(['prepared', 'simple'])(
    'stores every parameter type as mysql2 reads it back (%s)',
    async (protocol) => {
      const base = protocol === 'prepared' ? 0 : 100;
      await withSession(
        async (s) => {
          // NULL first, then an int in the same place (types re-bound), then the same types again
          expect(
            await s.execute(
              q(
                INSERT_TYPES,
                ALL_TYPES(base + 1, { t: 'null', v: null }),
                'INSERT',
              ),
            ),
          ).toEqual(okRows(1));
          expect(
            await s.execute(
              q(INSERT_TYPES, ALL_TYPES(base + 2, int(-5)), 'INSERT'),
            ),
          ).toEqual(okRows(1));
          expect(
            await s.execute(
              q(INSERT_TYPES, ALL_TYPES(base + 3, int(7)), 'INSERT'),
            ),
          ).toEqual(okRows(1));
          expect(
            await s.execute(
              q(
                INSERT_TYPES,
                ALL_TYPES(base + 4, { t: 'bool', v: false }),
                'INSERT',
              ),
            ),
          ).toEqual(okRows(1));
        },
        { protocol },
      );
      if (db === null) return;
      const rows = await readBack(
        `SELECT *, HEX(bin) AS hx FROM types WHERE id BETWEEN ${String(base + 1)} AND ${String(base + 4)} ORDER BY id`,
      );
      expect(rows.map((r) => r['n'])).toEqual([null, -5, 7, 0]);
      for (const r of rows)
        expect(r).toMatchObject({
          b: '-9007199254740993',
          bu: '18446744073709551615',
          big: '123456789012345678901234567890',
          f: 1.5,
          s: "it's ü 😀",
          u: '123e4567-e89b-12d3-a456-426614174000',
          j: { a: [1, 2] },
          ts: '2026-01-02 03:04:05',
          d: '2026-01-02',
          hx: 'DEADBEEF00',
          bo: 1,
        });
    },
  );

  it('reports errnos: duplicate key 1062, syntax 1064, unknown table 1146; the session stays usable', async () => {
    await withSession(async (s) => {
      const dup = await s.execute(
        q(
          'INSERT INTO t (id, v) VALUES ($1, $2)',
          [int(1), { t: 'string', v: 'x' }],
          'INSERT',
        ),
      );
      expect(dup).toMatchObject({
        ok: false,
        errorCode: '1062',
        errorClass: '1062',
        connectionLost: false,
      });
      expect(dup.errorMessage).toBe('Duplicate entry ? for key ?');
      // prepared before the violation: the next call executes it
      expect(
        await s.execute(
          q(
            'INSERT INTO t (id, v) VALUES ($1, $2)',
            [int(2001), { t: 'string', v: 'y' }],
            'INSERT',
          ),
        ),
      ).toEqual(okRows(1));
      expect(
        await s.execute(q('SELEC 1 FROM t WHERE id = $1', [int(1)])),
      ).toMatchObject({ ok: false, errorCode: '1064', connectionLost: false });
      expect(await s.execute(q('SELEC 1', [], 'UTILITY'))).toMatchObject({
        ok: false,
        errorCode: '1064',
      });
      expect(
        await s.execute(q('SELECT * FROM nope WHERE id = $1', [int(1)])),
      ).toMatchObject({ ok: false, errorCode: '1146' });
      expect(await s.execute(q('SELECT 1'))).toEqual(okRows(1));
      expect(await s.serverVersion?.()).toMatch(/^MariaDB 10\.\d+/);
    });
  });

  it('counts rows of large answers split across many reads, and rows of 16 MiB and more (several packets)', async () => {
    await withSession(async (s) => {
      expect(
        await s.execute(
          q('SELECT seq FROM seq_1_to_200000 WHERE seq <= $1', [int(200_000)]),
        ),
      ).toEqual(okRows(200_000));
      expect(
        await s.execute(
          q("SELECT REPEAT('x', $1), seq FROM seq_1_to_3", [int(3_000_000)]),
        ),
      ).toEqual(okRows(3));
      // 16777215 bytes: each row's payload is over 0xffffff bytes, sent as two packets
      expect(
        await s.execute(
          q("SELECT REPEAT('x', $1), seq FROM seq_1_to_2", [int(16_777_215)]),
        ),
      ).toEqual(okRows(2));
      expect(
        await s.execute(
          q("SELECT REPEAT('x', 16777215), seq FROM seq_1_to_2", [], 'UTILITY'),
        ),
      ).toEqual(okRows(2));
      expect(await s.execute(q('SELECT 1'))).toEqual(okRows(1));
      // a statement of 16 MiB or more is refused on the client, the session stays usable
      const huge = await s.execute(
        q('SELECT LENGTH($1)', [{ t: 'string', v: 'x'.repeat(17_000_000) }]),
      );
      expect(huge).toMatchObject({ ok: false, errorClass: 'client' });
      expect(huge.errorMessage).toMatch(/several packets/);
      expect(await s.execute(q('SELECT 1'))).toEqual(okRows(1));
    });
  }, 30_000);

  it('keeps transactions: BEGIN / ROLLBACK / COMMIT go as text', async () => {
    await withSession(async (s) => {
      const ins = (id: number): BoundQuery =>
        q(
          'INSERT INTO t (id, v) VALUES ($1, $2)',
          [int(id), { t: 'string', v: 'tx' }],
          'INSERT',
        );
      expect(await s.execute(q('BEGIN', [], 'TCL'))).toEqual(okRows(0));
      expect(await s.execute(ins(3001))).toEqual(okRows(1));
      expect(await s.execute(q('ROLLBACK', [], 'TCL'))).toEqual(okRows(0));
      expect(await s.execute(q('START TRANSACTION', [], 'TCL'))).toEqual(
        okRows(0),
      );
      expect(await s.execute(ins(3002))).toEqual(okRows(1));
      expect(await s.execute(q('COMMIT', [], 'TCL'))).toEqual(okRows(0));
      expect(await s.execute(q('SET @x = $1', [int(1)], 'UTILITY'))).toEqual(
        okRows(0),
      );
    });
    if (db === null) return;
    expect(
      await readBack('SELECT id FROM t WHERE id > 3000 ORDER BY id'),
    ).toEqual([{ id: 3002 }]);
  });

  it('cancel() kills a running SELECT SLEEP(5) with 1317 quickly; after close, calls fail as connection lost', async () => {
    if (db === null) return;
    const s = await lean.connect({ url: db.url }, { protocol: 'prepared' });
    const t0 = performance.now();
    const running = s.execute(q('SELECT SLEEP($1)', [int(5)]));
    await new Promise((r) => setTimeout(r, 200));
    await s.cancel?.();
    expect(await running).toMatchObject({
      ok: false,
      errorCode: '1317',
      errorClass: '1317',
      connectionLost: false,
    });
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(await s.execute(q('SELECT 1'))).toEqual(okRows(1));
    await s.close();
    expect(await s.execute(q('SELECT 1'))).toMatchObject({
      ok: false,
      errorClass: 'connection',
      connectionLost: true,
    });
  });

  it('kills a statement past query_timeout as a timeout and keeps the connection', async () => {
    await withSession(
      (s) => expectQueryTimeoutCancels(s, MYSQL_SLEEP, okRows(1)),
      { query: '?query_timeout=200' },
    );
  });

  it('a connection killed on the server fails as connection lost, without hanging', async () => {
    await withSession(async (s) => {
      const running = s.execute(q('SELECT SLEEP($1)', [int(5)]));
      await new Promise((r) => setTimeout(r, 200));
      const name = new URL(db?.url ?? 'mysql://x/').pathname.slice(1);
      const ids = await readBack(
        `SELECT id FROM information_schema.processlist WHERE db = '${name}' AND info LIKE 'SELECT SLEEP(?)%'`,
      );
      expect(ids.length).toBe(1);
      const c = await mysql.createConnection({ uri: db?.url ?? '' });
      for (const r of ids) await c.query(`KILL CONNECTION ${String(r['id'])}`);
      await c.end();
      const out = await running;
      expect(out).toMatchObject({ ok: false, connectionLost: true });
      expect(await s.execute(q('SELECT 1'))).toMatchObject({
        ok: false,
        connectionLost: true,
      });
    });
  });

  it('gives each answer its wire times: written, then read, inside the call', async () => {
    await withSession(async (s) => {
      await s.execute(q('SELECT SLEEP($1)', [{ t: 'float', v: 0.01 }]));
      const t0 = nowMs();
      const out = await s.execute(
        q('SELECT SLEEP($1)', [{ t: 'float', v: 0.05 }]),
      );
      const t1 = nowMs();
      expect(out.ok).toBe(true);
      expect(out.sentAt ?? NaN).toBeGreaterThanOrEqual(t0);
      expect(out.doneAt ?? NaN).toBeLessThanOrEqual(t1);
      expect((out.doneAt ?? NaN) - (out.sentAt ?? NaN)).toBeGreaterThanOrEqual(
        50,
      );
    });
  });

  it('gives independent calls on one connection their own answers, in order', async () => {
    await withSession(async (s) => {
      const outs = await Promise.all(
        [3, 1, 50, 0, 9].map((n) =>
          s.execute(q('SELECT id FROM t WHERE id <= $1', [int(n)])),
        ),
      );
      expect(outs.map((o) => o.rows)).toEqual([3, 1, 50, 0, 9]);
    });
  });

  it('logs in with a mysql_native_password password; a wrong one is STB_DB_UNREACHABLE', async () => {
    if (db === null) return;
    const name = new URL(db.url).pathname.slice(1);
    const user = `${name.slice(-10)}_u`;
    const pw = 'p@ss:w/rd ü';
    const c = await mysql.createConnection({ uri: db.url });
    await c.query(
      `CREATE USER '${user}'@'%' IDENTIFIED VIA mysql_native_password USING PASSWORD('${pw}')`,
    );
    await c.query(`GRANT ALL ON ${name}.* TO '${user}'@'%'`);
    try {
      const url = `mysql://${user}:${encodeURIComponent(pw)}@127.0.0.1:3306/${name}`;
      const s = await lean.connect({ url });
      expect(
        await s.execute(q('SELECT v FROM t WHERE id = $1', [int(2)])),
      ).toEqual(okRows(1));
      expect(await s.execute(q('SELECT CURRENT_USER()'))).toEqual(okRows(1));
      await s.close();
      await expect(
        lean.connect({ url: url.replace('p%40ss', 'nope') }),
      ).rejects.toMatchObject({
        code: 'STB_DB_UNREACHABLE',
        message: expect.stringMatching(/Access denied/),
      });
    } finally {
      await c.query(`DROP USER '${user}'@'%'`);
      await c.end();
    }
  });

  it('fails to connect with STB_DB_UNREACHABLE: closed port, TLS asked for', async () => {
    await expect(
      lean.connect({ url: 'mysql://root@127.0.0.1:1/x' }),
    ).rejects.toMatchObject({ code: 'STB_DB_UNREACHABLE' });
    await expect(
      lean.connect({ url: 'mysql://root@127.0.0.1:3306/x?ssl=true' }),
    ).rejects.toMatchObject({
      code: 'STB_DB_UNREACHABLE',
      message: expect.stringMatching(/TLS/),
    });
  });

  it('runs a bench selected by a mysql+lean:// target', async () => {
    if (db === null) return;
    const target = leanUrl(db.url);
    const d = await resolveTarget(
      target.replace('mysql+lean:', 'mariadb+lean:'),
    );
    expect(d).toMatchObject({
      name: 'mysql-lean',
      module: '@stb/bench/db/mysql-lean',
      dialect: 'mysql',
      options: { url: db.url },
    });
    const sel = template('mysql', 'SELECT v FROM t WHERE id = $1', 'SELECT');
    const bad = template('mysql', 'SELECT * FROM nope WHERE id = $1', 'SELECT');
    const b = new TraceBuilder('mysql');
    for (let i = 0; i < 20; i++) b.add(`s${String(i % 4)}`, sel, [int(i + 1)]);
    b.add('s0', bad, [int(0)]);
    const r = await runBench(b.trace(), {
      target,
      plugin: lean,
      mode: 'closed',
      connections: 4,
    });
    expect(r.overall.count).toBe(21);
    expect(r.overall.errors).toBe(1);
    expect(r.templates.find((x) => x.templateId === sel.id)?.count).toBe(20);
  });
});

describe('mysql-lean without a server', () => {
  it('refuses another authentication plugin with one clear error naming mysql://', async () => {
    // a fake server: greeting offering caching_sha2_password, then an auth switch to it
    const server = createServer((sock) => {
      const salt = Buffer.alloc(20, 7);
      sock.write(
        greetingPacket({
          version: '8.0.36',
          threadId: 1,
          plugin: 'caching_sha2_password',
        }),
      );
      sock.once('data', () =>
        sock.write(
          packet(
            2,
            Buffer.concat([
              Buffer.from([0xfe]),
              Buffer.from('caching_sha2_password\0'),
              salt,
              Buffer.from([0]),
            ]),
          ),
        ),
      );
      sock.on('error', () => undefined);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    try {
      const err = await lean
        .connect({ url: `mysql+lean://u:secret@127.0.0.1:${String(port)}/db` })
        .catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'STB_DB_UNREACHABLE' });
      const m = (err as Error).message;
      expect(m).toMatch(
        /^\[stb\] \[bench\] .*caching_sha2_password.*Use mysql:\/\//,
      );
      expect(m).not.toMatch(/secret/);
    } finally {
      server.close();
    }
  });

  it('pipelines independent calls: every execute is written before the first answer', async () => {
    // the fake server holds its answers until it has five executes, or 200 ms after the last one
    // came: a plugin that waits for each answer before the next write is answered late, and the
    // server has seen one execute when it first answers. Each answer's affected rows are the
    // execute's parameter, so the answers must also come back to their own calls.
    let received = 0;
    let seenAtFirstAnswer = 0;
    const held: Buffer[] = [];
    let timer: NodeJS.Timeout | undefined;
    const answer = (sock: Socket): void => {
      clearTimeout(timer);
      if (seenAtFirstAnswer === 0) seenAtFirstAnswer = received;
      for (const p of held.splice(0))
        sock.write(okPacket(1, Number(p.readBigInt64LE(p.length - 8))));
    };
    const server = await startFakeMysql((p, sock) => {
      if (p[0] === 0x16) sock.write(prepareOkPacket(7));
      else if (p[0] === 0x17) {
        received++;
        held.push(p);
        clearTimeout(timer);
        if (received === 5) answer(sock);
        else timer = setTimeout(() => answer(sock), 200);
      }
    });
    const s = await lean.connect(
      { url: `mysql://u@127.0.0.1:${String(server.port)}/d` },
      { protocol: 'prepared' },
    );
    try {
      const outs = await Promise.all(
        [3, 1, 50, 0, 9].map((n) =>
          s.execute(q('SELECT id FROM t WHERE id <= $1', [int(n)])),
        ),
      );
      expect(outs.map((o) => o.rows)).toEqual([3, 1, 50, 0, 9]);
      expect(seenAtFirstAnswer).toBe(5);
    } finally {
      clearTimeout(timer);
      await s.close();
      server.close();
    }
  });

  it('answers a statement held behind KILL QUERY with its own answer, not an error sent unasked', async () => {
    // The first statement passes its deadline (200 ms) and ends by itself as the KILL QUERY
    // arrives; the KILL is answered 400 ms later, so the next statement waits for it. Meanwhile
    // the server sends the session an ERR nobody asked for: it answers no statement.
    let session: Socket | undefined;
    const err = packet(
      0,
      Buffer.concat([
        Buffer.from([0xff, 0x1d, 0x04]), // errno 1053
        Buffer.from('#08S01Server shutdown in progress'),
      ]),
    );
    const server = await startFakeMysql((p, sock) => {
      if (p[0] !== 0x03) return;
      const text = p.subarray(1).toString();
      if (text === 'SELECT 1')
        session = sock; // no answer: past its deadline
      else if (text.startsWith('KILL QUERY')) {
        session?.write(okPacket(1));
        setTimeout(() => session?.write(err), 100);
        setTimeout(() => sock.write(okPacket(1)), 400);
      } else sock.write(okPacket(1, 2));
    });
    const s = await lean.connect(
      {
        url: `mysql://u@127.0.0.1:${String(server.port)}/d?query_timeout=200`,
      },
      { protocol: 'simple' },
    );
    try {
      expect(await s.execute(q('SELECT 1'))).toEqual(okRows(0));
      const t = nowMs();
      const next = await s.execute(q('UPDATE t SET v = v', [], 'UPDATE'));
      expect(next).toEqual(okRows(2));
      // sent once the KILL was through
      expect(next.sentAt).toBeGreaterThanOrEqual(t + 250);
      expect(next.sentAt).toBeLessThan(t + 5000);
    } finally {
      await s.close();
      server.close();
    }
  });

  it('times out a connect to a server that never greets', async () => {
    const server = createServer((sock) => sock.on('error', () => undefined));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    try {
      const t0 = performance.now();
      await expect(
        lean.connect({
          url: `mysql://root@127.0.0.1:${String(port)}/db`,
          connectTimeoutMs: 200,
        }),
      ).rejects.toMatchObject({
        code: 'STB_DB_UNREACHABLE',
        message: expect.stringMatching(/timed out/),
      });
      expect(performance.now() - t0).toBeLessThan(2000);
    } finally {
      server.close();
    }
  });

  it('binds types only when they change, and encodes every type', () => {
    const st = { id: 5, params: 3, types: null as Uint8Array | null };
    const first = encodeExecute(st, [
      int(-2),
      { t: 'null', v: null },
      { t: 'string', v: 'ab' },
    ]);
    // 4 header, 0x17, id, flags, iterations, bitmap (param 2 NULL), bound 1, types, values
    expect(first.subarray(4).toString('hex')).toBe(
      [
        '17',
        '05000000',
        '00',
        '01000000',
        '02',
        '01',
        '0800',
        '0600',
        'fd00',
        'feffffffffffffff',
        '02',
        '6162',
      ].join(''),
    );
    const again = encodeExecute(st, [
      int(3),
      { t: 'null', v: null },
      { t: 'string', v: 'c' },
    ]);
    expect(again.subarray(4).toString('hex')).toBe(
      [
        '17',
        '05000000',
        '00',
        '01000000',
        '02',
        '00',
        '0300000000000000',
        '01',
        '63',
      ].join(''),
    );
    const changed = encodeExecute(st, [
      { t: 'bigint', v: '18446744073709551615' },
      { t: 'bool', v: true },
      { t: 'bytes', v: '00ff' },
    ]);
    expect(changed.subarray(4).toString('hex')).toBe(
      [
        '17',
        '05000000',
        '00',
        '01000000',
        '00',
        '01',
        '0880',
        '0100',
        'fc00',
        'ffffffffffffffff',
        '01',
        '02',
        '00ff',
      ].join(''),
    );
    expect(changed.readUIntLE(0, 3)).toBe(changed.length - 4);
  });

  it('encodes a statement of many parameters, then a short one, from the same scratch', () => {
    const many = Array.from({ length: 100 }, (_, i) => int(i * 1000));
    const big = encodeExecute({ id: 9, params: 100, types: null }, many);
    // header, 0x17, id, flags, iterations, bitmap (13 bytes), bound, types, values
    expect(big.length).toBe(4 + 1 + 4 + 1 + 4 + 13 + 1 + 200 + 800);
    const values = big.subarray(big.length - 800);
    for (let i = 0; i < 100; i++)
      expect(values.readBigInt64LE(8 * i)).toBe(BigInt(i * 1000));
    const short = encodeExecute({ id: 9, params: 1, types: null }, [
      { t: 'string', v: 'x' },
    ]);
    expect(short.subarray(4).toString('hex')).toBe(
      ['17', '09000000', '00', '01000000', '00', '01', 'fd00', '01', '78'].join(
        '',
      ),
    );
  });

  it('reads host, port, user, password, database and timeouts from the URL', () => {
    expect(
      mysqlLeanConfig({
        url: 'mysql://u:p%40ss@db.example:3307/app?connectTimeout=2000&query_timeout=1500',
      }),
    ).toEqual({
      host: 'db.example',
      port: 3307,
      user: 'u',
      password: 'p@ss',
      database: 'app',
      connectTimeoutMs: 2000,
      queryTimeoutMs: 1500,
    });
  });

  it('refuses a malformed URL, a bad escape and TLS with STB_DB_UNREACHABLE (no secret shown); bad timeout parameters keep the defaults', async () => {
    await expectUnreachable(lean, 'mysql+lean://u:secret@127.0.0.1:99999/x', {
      target: 'mysql+lean://u:***@127.0.0.1:99999/x',
      reason: 'Invalid URL',
    });
    // no host: unlike postgres://, not read as localhost
    await expectUnreachable(lean, 'mysql://u@/x', {
      target: 'mysql://u@/x',
      reason: 'Invalid URL',
    });
    await expectUnreachable(lean, 'mariadb://u:%zz@127.0.0.1:1/x', {
      target: 'mariadb://u:***@127.0.0.1:1/x',
      reason: 'URI malformed',
    });
    await expectUnreachable(
      lean,
      'mysql://u:secret@127.0.0.1:1/x?ssl-mode=DISABLED',
      {
        target: 'mysql://u:***@127.0.0.1:1/x?ssl-mode=DISABLED',
        reason:
          'ssl-mode= needs TLS, which the lean path does not speak; use mysql://',
      },
    );
    expect(
      mysqlLeanConfig({
        url: 'mysql://[::1]/?connectTimeout=-1&query_timeout=abc',
      }),
    ).toEqual({
      host: '::1',
      port: 3306,
      user: '',
      password: '',
      database: '',
      connectTimeoutMs: 10_000,
      queryTimeoutMs: 300_000,
    });
    // options win over the URL's parameters
    expect(
      mysqlLeanConfig({
        url: 'mariadb+lean://h/d?connectTimeout=3&query_timeout=5',
        connectTimeoutMs: 7,
        queryTimeoutMs: 9,
      }),
    ).toMatchObject({ host: 'h', connectTimeoutMs: 7, queryTimeoutMs: 9 });
  });
});

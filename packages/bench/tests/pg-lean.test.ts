import { compileSqlTemplate, renderSqlTemplate } from '@stb/core';
import type { ParamValue } from '@stb/core';
import {
  createPgLeanPlugin,
  encodeCall,
  pgLeanConfig,
} from '../src/db/pg-lean';
import type { DbPlugin, Protocol } from '../src/db-plugin';
import {
  encodeSimpleQuery,
  simpleQueryShape,
} from '../src/internal/pg-simple-query';
import { runBench } from '../src/runner';
import { resolveTarget } from '../src/target';
import { expectUnreachable } from './helpers/refusal';
import { usePgDatabase } from './helpers/db';
import {
  describeUrlPlugin,
  expectCallsInOrder,
  expectLargeAnswersCounted,
  expectLateCancelStopsNothing,
  expectQueryTimeoutCancels,
  expectRowsAndTypes,
  expectSameInWorkers,
  int,
  okRows,
  q,
  resetTableT,
  sessionRunner,
} from './helpers/pg-wire-plugin';
import { TraceBuilder, template } from './helpers/trace';
import { expectSleepWireTimes } from './helpers/wire-times';

// The lean PostgreSQL wire path (issue 16) on the real server: the conformance suite through the
// runner, then what the bench result needs from it: row counts, SQLSTATE errors, timeouts.
const lean = createPgLeanPlugin() as DbPlugin;
describeUrlPlugin('pg-lean', lean, 'postgres+lean:');

const db = usePgDatabase();
const withSession = sessionRunner(lean, db);

beforeAll(() => resetTableT(db.url()));

describe('pg-lean on PostgreSQL', () => {
  it.each<Protocol>(['prepared', 'extended', 'simple'])(
    'counts rows of SELECT and DML, and binds every parameter type (%s)',
    async (protocol) => {
      await withSession(expectRowsAndTypes, { protocol });
    },
  );

  it('reports SQLSTATE errors, and a statement whose Parse failed is parsed again', async () => {
    await withSession(async (s) => {
      const missing = await s.execute(
        q('SELECT * FROM nope WHERE id = $1', [int(1)]),
      );
      expect(missing).toMatchObject({
        ok: false,
        errorCode: '42P01',
        errorClass: '42',
        connectionLost: false,
      });
      expect(missing.errorMessage).toBe('relation "nope" does not exist');
      expect(
        (await s.execute(q('SELECT * FROM nope WHERE id = $1', [int(1)])))
          .errorCode,
      ).toBe('42P01');
      const dup = q(
        'INSERT INTO t (id, v) VALUES ($1, $2)',
        [int(1), { t: 'string', v: 'x' }],
        'INSERT',
      );
      expect(await s.execute(dup)).toMatchObject({
        ok: false,
        errorCode: '23505',
        errorClass: '23',
      });
      // parsed fine before the violation: the next call binds to it
      expect(
        await s.execute({
          ...dup,
          params: [int(1000), { t: 'string', v: 'y' }],
        }),
      ).toEqual(okRows(1));
      expect(
        (await s.execute(q('SELECT $1::int', [{ t: 'string', v: 'abc' }])))
          .errorCode,
      ).toBe('22P02');
      // the session is still usable
      expect(await s.execute(q('SELECT 1'))).toEqual(okRows(1));
    });
  });

  it('cancels a statement past query_timeout and keeps the connection', async () => {
    await withSession((s) => expectQueryTimeoutCancels(s), {
      query: '?query_timeout=200',
    });
  });

  it('a cancel that reaches the server after its statement ended stops nothing: the next statement waits for it', async () => {
    await expectLateCancelStopsNothing(lean, db.url());
  });

  it('cancel() stops a running statement with 57014; after close, calls fail as connection lost', async () => {
    const url = db.url();
    if (url === null) return;
    const s = await lean.connect({ url }, { protocol: 'prepared' });
    const running = s.execute(q('SELECT pg_sleep(5)'));
    await new Promise((r) => setTimeout(r, 100));
    await s.cancel?.();
    expect(await running).toMatchObject({
      ok: false,
      errorCode: '57014',
      errorClass: '57',
    });
    expect(await s.serverVersion?.()).toMatch(/^PostgreSQL \d+/);
    await s.close();
    expect(await s.execute(q('SELECT 1'))).toMatchObject({
      ok: false,
      errorClass: 'connection',
      connectionLost: true,
    });
  });

  it('gives each answer its wire times: written, then read, inside the call', async () => {
    await withSession(async (s) => {
      await expectSleepWireTimes(s);
      // an error carries them too
      const bad = await s.execute(q('SELECT 1/$1::int', [int(0)]));
      expect(bad).toMatchObject({ ok: false, errorCode: '22012' });
      expect(bad.doneAt ?? NaN).toBeGreaterThanOrEqual(bad.sentAt ?? NaN);
    });
  });

  it('counts rows of large answers split across many reads', async () => {
    await withSession(async (s) => {
      await expectLargeAnswersCounted(s);
      expect(await s.execute(q('SELECT 1'))).toEqual(okRows(1));
    });
  });

  it('pipelines independent calls on one connection; answers come back in order', async () => {
    await withSession(expectCallsInOrder);
  });

  it('fails to connect with STB_DB_UNREACHABLE within connect_timeout', async () => {
    await expect(
      lean.connect({ url: 'postgres://postgres@127.0.0.1:1/x' }),
    ).rejects.toMatchObject({ code: 'STB_DB_UNREACHABLE' });
    await expect(
      lean.connect({
        url: 'postgres://postgres@127.0.0.1:5432/x?sslmode=require',
      }),
    ).rejects.toMatchObject({ code: 'STB_DB_UNREACHABLE' });
  });

  it('runs a bench selected by a postgres+lean:// target', async () => {
    const url = db.url();
    if (url === null) return;
    const target = url.replace('postgres:', 'postgres+lean:');
    const d = await resolveTarget(target);
    expect(d).toMatchObject({
      name: 'pg-lean',
      module: '@stb/bench/db/pg-lean',
      dialect: 'postgres',
      options: { url },
    });
    const sel = template('postgres', 'SELECT v FROM t WHERE id = $1', 'SELECT');
    const bad = template('postgres', 'SELECT 1/$1', 'SELECT');
    const b = new TraceBuilder('postgres');
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
    const t = r.templates.find((x) => x.templateId === sel.id);
    expect(t?.count).toBe(20);
  });

  it('runs the same statements in two worker threads as inline (the workers require its CommonJS build)', async () => {
    const url = db.url();
    if (url === null) return;
    await expectSameInWorkers(url.replace('postgres:', 'postgres+lean:'));
  }, 30_000);
});

describe('pg-lean encoding', () => {
  it('writes a Bind that pg-protocol would write, then Execute + Sync', async () => {
    const { serialize } = await import('pg-protocol');
    const head = Buffer.from('\0l0\0');
    const values = ['a', null, '42', Buffer.from([1, 2])];
    const ours = encodeCall(head, values, null);
    const theirs = Buffer.concat([
      serialize.bind({ statement: 'l0', values }),
      serialize.execute(),
      serialize.sync(),
    ]);
    expect(ours.equals(theirs)).toBe(true);
  });

  it('writes integers as the digits pg-protocol writes for their text (String(v))', async () => {
    const { serialize } = await import('pg-protocol');
    const head = Buffer.from('\0l1\0');
    const values = [
      0,
      -0,
      7,
      -7,
      10,
      99,
      -100,
      123456789,
      Number.MAX_SAFE_INTEGER,
      Number.MIN_SAFE_INTEGER,
      1e21,
      0.5,
      -1.25,
      NaN,
      12n,
      null,
      'x',
    ];
    const ours = encodeCall(head, values, null);
    const theirs = Buffer.concat([
      serialize.bind({
        statement: 'l1',
        values: values.map((v) => (v === null ? null : String(v))),
      }),
      serialize.execute(),
      serialize.sync(),
    ]);
    expect(ours.equals(theirs)).toBe(true);
  });

  it('writes a simple Query with integer parameters as the bytes of the rendered text (issue 16)', () => {
    const texts = [
      'BEGIN',
      'UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2',
      'INSERT INTO h (tid, bid, aid, delta) VALUES ($1, $2, $3, $4)',
      'SELECT a-$1, a - $1, a*$2, ($1), f(-$1,$2), $1 FROM t',
      'SELECT \'ü $1\', "$2" FROM t WHERE x = $2 AND y = $1 -- $3',
      '$1',
      '-$1',
      '$1$2',
    ];
    const values = [
      0,
      -0,
      7,
      -7,
      10,
      -100,
      123456789,
      Number.MAX_SAFE_INTEGER,
      Number.MIN_SAFE_INTEGER,
    ];
    let checked = 0;
    for (const text of texts) {
      const shape = simpleQueryShape(text);
      const parsed = compileSqlTemplate(text, 'postgres');
      for (const a of values)
        for (const b of values) {
          const params: ParamValue[] = [
            { t: 'int', v: a },
            { t: 'float', v: b },
            int(a),
            int(b),
          ];
          const sql = renderSqlTemplate(parsed, params, 'postgres');
          const body = Buffer.from(`${sql}\0`, 'utf8');
          const head = Buffer.from([81, 0, 0, 0, 0]);
          head.writeInt32BE(4 + body.length, 1);
          const ours = encodeSimpleQuery(shape, params);
          expect(ours?.toString('hex')).toBe(
            Buffer.concat([head, body]).toString('hex'),
          );
          checked++;
        }
    }
    expect(checked).toBe(texts.length * values.length ** 2);
  });

  it('leaves a simple Query with other parameters to the rendered text (null)', () => {
    const shape = simpleQueryShape('SELECT $1, $2');
    for (const p of [
      { t: 'float', v: 1.5 },
      { t: 'int', v: 2 ** 53 },
      { t: 'float', v: NaN },
      { t: 'string', v: '1' },
      { t: 'null', v: null },
      { t: 'bigint', v: '12' },
      { t: 'bool', v: true },
      { t: 'list', v: [int(1)] },
    ] as ParamValue[])
      expect(encodeSimpleQuery(shape, [int(1), p])).toBeNull();
    // a placeholder without its parameter: the text path raises the trace error
    expect(encodeSimpleQuery(shape, [int(1)])).toBeNull();
    expect(encodeSimpleQuery(simpleQueryShape('SELECT 1'), [])).not.toBeNull();
  });

  it('reads host, port, user, database and timeouts from the URL', () => {
    expect(
      pgLeanConfig({
        url: 'postgres://u:p%40ss@db.example:6543/app?application_name=x&connect_timeout=2&query_timeout=1500',
      }),
    ).toEqual({
      host: 'db.example',
      port: 6543,
      user: 'u',
      password: 'p@ss',
      database: 'app',
      applicationName: 'x',
      connectTimeoutMs: 2000,
      queryTimeoutMs: 1500,
    });
    expect(
      pgLeanConfig({ url: 'postgres://u@/app?host=/var/run/postgresql' }).host,
    ).toBe('/var/run/postgresql');
  });

  it('refuses a malformed URL, a bad escape and TLS with STB_DB_UNREACHABLE (no secret shown); bad timeout parameters keep the defaults', async () => {
    await expectUnreachable(
      lean,
      'postgres+lean://u:secret@127.0.0.1:99999/x',
      {
        target: 'postgres+lean://u:***@127.0.0.1:99999/x',
        reason: 'Invalid URL',
      },
    );
    await expectUnreachable(lean, 'postgres://u:%zz@127.0.0.1:1/x', {
      target: 'postgres://u:***@127.0.0.1:1/x',
      reason: 'URI malformed',
    });
    await expectUnreachable(
      lean,
      'postgresql://u:secret@127.0.0.1:1/x?sslmode=verify-full',
      {
        target: 'postgresql://u:***@127.0.0.1:1/x?sslmode=verify-full',
        reason:
          'sslmode=verify-full needs TLS, which the lean path does not speak; use postgres://',
      },
    );
    // sslmode that allows plain text is read as no TLS
    expect(
      pgLeanConfig({ url: 'postgres://u@h:1/d?sslmode=prefer' }).host,
    ).toBe('h');
    expect(
      pgLeanConfig({
        url: 'postgres://u@h:1/d?connect_timeout=-1&query_timeout=abc',
      }),
    ).toMatchObject({ connectTimeoutMs: 10_000, queryTimeoutMs: 300_000 });
    expect(
      pgLeanConfig({
        url: 'postgres://u@h:1/d?connect_timeout=0&query_timeout=',
      }),
    ).toMatchObject({ connectTimeoutMs: 10_000, queryTimeoutMs: 300_000 });
    // options win over the URL's parameters
    expect(
      pgLeanConfig({
        url: 'postgres://u@[::1]:1/d?connect_timeout=3&query_timeout=5',
        connectTimeoutMs: 7,
        queryTimeoutMs: 9,
        applicationName: 'a',
      }),
    ).toMatchObject({
      host: '::1',
      connectTimeoutMs: 7,
      queryTimeoutMs: 9,
      applicationName: 'a',
    });
  });
});

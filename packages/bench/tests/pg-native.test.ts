import pg from 'pg';
import {
  copyFileSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  createPgNativePlugin,
  loadPgNativeLib,
  pgNativeConninfo,
} from '../src/db/pg-native';
import type { DbPlugin, Protocol } from '../src/db-plugin';
import { runBench } from '../src/runner';
import { resolveTarget } from '../src/target';
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
import {
  expectFailedWireTimes,
  expectSleepWireTimes,
} from './helpers/wire-times';

// The libpq plugin on native loop threads (issue 16) on the real server: the conformance suite
// through the runner, then its batches: rows, SQLSTATE errors, timeouts, cancels, a stop in the
// middle of a batch, a lost connection, and the runner's closed loop on it.
const native = createPgNativePlugin() as DbPlugin;
describeUrlPlugin('pg-native', native, 'postgres+native:');

const db = usePgDatabase();
const withSession = sessionRunner(native, db);

beforeAll(() => resetTableT(db.url()));

/**
 * Runs `sql` (a count, `n`) every 50 ms, at most `tries` times, until it reads 0; returns the last
 * count (for backends, which leave within a moment of their connection's close).
 */
async function countUntilZero(
  url: string,
  sql: string,
  tries: number,
): Promise<number> {
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    let left = -1;
    for (let i = 0; i < tries && left !== 0; i++) {
      if (i > 0) await new Promise((res) => setTimeout(res, 50));
      const { rows } = await admin.query<{ n: string }>(sql);
      left = Number(rows[0]?.n);
    }
    return left;
  } finally {
    await admin.end();
  }
}

describe('pg-native on PostgreSQL', () => {
  it.each<Protocol>(['prepared', 'extended', 'simple'])(
    'counts rows of SELECT and DML, and binds every parameter type (%s)',
    async (protocol) => {
      await withSession(expectRowsAndTypes, { protocol });
    },
  );

  it('runs a batch back to back: one outcome per statement, errors in place, wire times in order', async () => {
    await withSession(async (s) => {
      const outs = await s.runBatch?.([
        q('SELECT id FROM t WHERE id <= $1', [int(5)]),
        q('SELECT * FROM nope WHERE id = $1', [int(1)]),
        q('SELECT * FROM nope WHERE id = $1', [int(1)]),
        q('SELECT $1::int', [{ t: 'string', v: 'abc' }]),
        q(
          'INSERT INTO t (id, v) VALUES ($1, $2)',
          [int(1), { t: 'string', v: 'x' }],
          'INSERT',
        ),
        q('SELECT id FROM t WHERE id <= $1', [int(2)]),
      ]);
      expect(outs).toHaveLength(6);
      const o = outs ?? [];
      expect(o[0]).toEqual(okRows(5));
      expect(o[1]).toMatchObject({
        ok: false,
        errorCode: '42P01',
        errorClass: '42',
        connectionLost: false,
        errorMessage: 'relation "nope" does not exist',
      });
      // a statement whose Parse failed is parsed again next time
      expect(o[2]).toMatchObject({ ok: false, errorCode: '42P01' });
      expect(o[3]).toMatchObject({ ok: false, errorCode: '22P02' });
      expect(o[4]).toMatchObject({ ok: false, errorCode: '23505' });
      expect(o[5]).toEqual(okRows(2));
      for (let i = 1; i < o.length; i++)
        expect(o[i]?.sentAt ?? NaN).toBeGreaterThanOrEqual(
          o[i - 1]?.doneAt ?? NaN,
        );
    });
  });

  it('cancels a statement past query_timeout and keeps the connection', async () => {
    await withSession((s) => expectQueryTimeoutCancels(s), {
      query: '?query_timeout=200',
    });
  });

  it('a cancel that reaches the server after its statement ended stops nothing: the next statement waits for it', async () => {
    await expectLateCancelStopsNothing(native, db.url());
  });

  it('cancel() ends a batch: the running statement fails with 57014, the rest do not run', async () => {
    await withSession(async (s) => {
      const running = s.runBatch?.([
        q('SELECT 1'),
        q('SELECT pg_sleep(5)'),
        q('SELECT 2'),
      ]);
      await new Promise((r) => setTimeout(r, 150));
      await s.cancel?.();
      const outs = (await running) ?? [];
      expect(outs).toHaveLength(2);
      expect(outs[0]).toEqual(okRows(1));
      expect(outs[1]).toMatchObject({
        ok: false,
        errorCode: '57014',
        errorClass: '57',
      });
      expect(await s.serverVersion?.()).toMatch(/^PostgreSQL \d+/);
      expect(await s.execute(q('SELECT 1'))).toEqual(okRows(1));
    });
  });

  it('an aborted signal lets the running statement finish and starts no more', async () => {
    await withSession(async (s) => {
      const ac = new AbortController();
      const running = s.runBatch?.(
        [
          q('SELECT pg_sleep(0.2)'),
          q('SELECT pg_sleep(5)'),
          q('SELECT pg_sleep(5)'),
        ],
        { signal: ac.signal },
      );
      setTimeout(() => ac.abort(), 50);
      const t0 = performance.now();
      const outs = (await running) ?? [];
      expect(performance.now() - t0).toBeLessThan(2000);
      expect(outs).toEqual([okRows(1)]);
    });
  });

  it('one signal for many batches (as the runner passes it): an abort during a later batch stops it', async () => {
    await withSession(async (s) => {
      // a first signal, aborted while no batch runs: it interrupts nothing later
      const idle = new AbortController();
      await s.runBatch?.([q('SELECT 1')], { signal: idle.signal });
      idle.abort();
      const ac = new AbortController();
      for (let i = 0; i < 3; i++)
        expect(
          await s.runBatch?.([q('SELECT 1'), q('SELECT 2')], {
            signal: ac.signal,
          }),
        ).toEqual([okRows(1), okRows(1)]);
      const running = s.runBatch?.(
        [q('SELECT pg_sleep(0.2)'), q('SELECT pg_sleep(5)')],
        { signal: ac.signal },
      );
      setTimeout(() => ac.abort(), 50);
      const t0 = performance.now();
      expect(await running).toEqual([okRows(1)]);
      expect(performance.now() - t0).toBeLessThan(2000);
      // the signal stays aborted: a batch given it starts nothing
      expect(
        await s.runBatch?.([q('SELECT 1')], { signal: ac.signal }),
      ).toEqual([]);
    });
  });

  it('a signal given to an earlier batch does not stop a later batch given another one (or none)', async () => {
    await withSession(async (s) => {
      for (const later of [new AbortController().signal, undefined]) {
        const first = new AbortController();
        expect(
          await s.runBatch?.([q('SELECT 1')], { signal: first.signal }),
        ).toEqual([okRows(1)]);
        const running = s.runBatch?.(
          [q('SELECT pg_sleep(0.2)'), q('SELECT pg_sleep(0.1)')],
          later === undefined ? {} : { signal: later },
        );
        setTimeout(() => first.abort(), 50);
        expect(await running).toEqual([okRows(1), okRows(1)]);
      }
    });
  });

  it('a statement first carried by a batch that ended before it is prepared with the next call', async () => {
    await withSession(async (s) => {
      const ac = new AbortController();
      const sel = q('SELECT $1::int + 0 AS once', [int(1)]);
      const running = s.runBatch?.([q('SELECT pg_sleep(0.2)'), sel], {
        signal: ac.signal,
      });
      setTimeout(() => ac.abort(), 50);
      expect(await running).toEqual([okRows(1)]);
      // the text of `sel` never reached the server: this call carries it again
      expect(await s.runBatch?.([{ ...sel, params: [int(2)] }])).toEqual([
        okRows(1),
      ]);
      // and a batch that did not start at all (aborted before) leaves nothing behind either
      const other = q('SELECT $1::int + 1 AS never', [int(1)]);
      expect(
        await s.runBatch?.([other], { signal: AbortSignal.abort() }),
      ).toEqual([]);
      expect(await s.execute(other)).toEqual(okRows(1));
    });
  });

  it('a value the protocol cannot carry fails that statement on the client; those before it run', async () => {
    await withSession(
      async (s) => {
        const outs = await s.runBatch?.([
          q('SELECT $1::text', [{ t: 'string', v: 'x' }]),
          q('SELECT $1::text', [{ t: 'string', v: 'a\0b' }]),
          q('SELECT 2'),
        ]);
        expect(outs).toEqual([
          okRows(1),
          expect.objectContaining({ ok: false, errorClass: 'client' }),
        ]);
        expect(await s.execute(q('SELECT 2'))).toEqual(okRows(1));
      },
      { protocol: 'simple' },
    );
  });

  it('close() during a batch: the running statement is reported as a lost connection; later calls fail', async () => {
    const url = db.url();
    if (url === null) return;
    const s = await native.connect({ url }, { protocol: 'prepared' });
    const running = s.runBatch?.([
      q('SELECT pg_sleep(5) -- stb-native-close'),
      q('SELECT 1'),
    ]);
    await new Promise((r) => setTimeout(r, 100));
    const t0 = performance.now();
    await s.close();
    const outs = (await running) ?? [];
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(outs).toHaveLength(1);
    expect(outs[0]).toMatchObject({
      ok: false,
      errorClass: 'connection',
      connectionLost: true,
    });
    expect(await s.execute(q('SELECT 1'))).toMatchObject({
      ok: false,
      errorClass: 'connection',
      connectionLost: true,
    });
    // the statement was cancelled too: the server does not go on running it
    expect(
      await countUntilZero(
        url,
        "SELECT count(*) AS n FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(5) -- stb-native-close'",
        40,
      ),
    ).toBe(0);
  });

  it('a backend terminated mid-batch: the statement reports a lost connection and the batch ends', async () => {
    await withSession(async (s, url) => {
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      try {
        const running = s.runBatch?.([
          q('SELECT pg_sleep(5) -- stb-native-terminate'),
          q('SELECT 1'),
        ]);
        await new Promise((r) => setTimeout(r, 150));
        await admin.query(
          "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE '%stb-native-terminate' AND pid <> pg_backend_pid()",
        );
        const outs = (await running) ?? [];
        expect(outs).toHaveLength(1);
        expect(outs[0]).toMatchObject({ ok: false, connectionLost: true });
      } finally {
        await admin.end();
      }
    });
  });

  it('gives each answer its wire times, for a failed statement too', async () => {
    await withSession(async (s) => {
      await expectSleepWireTimes(s);
      await expectFailedWireTimes(s);
    });
  });

  it('sends statements larger than the socket buffer (the loop waits for the socket to drain)', async () => {
    for (const protocol of ['prepared', 'simple'] as const)
      await withSession(
        async (s) => {
          // 8 MiB went out without the socket filling up here; 16 MiB waits for it (EPOLLOUT,
          // seen with strace on the simple protocol)
          const big = 'x'.repeat(16 << 20);
          const outs = await s.runBatch?.([
            q('SELECT length($1::text)', [{ t: 'string', v: big }]),
            q('SELECT 1'),
          ]);
          expect(outs).toEqual([okRows(1), okRows(1)]);
        },
        { protocol },
      );
  });

  it("names its loop threads (top -H, perf and /proc show them apart from Node's)", async () => {
    const { loopThreadName } = await loadPgNativeLib(undefined);
    expect(loopThreadName).toBe('stb-pq-loop');
    await withSession(async () => {
      // A thread may end between the listing and the read (the addon's connect and cancel
      // threads are short-lived): its name is gone, not an error.
      const names = readdirSync('/proc/self/task').flatMap((t) => {
        try {
          return [readFileSync(`/proc/self/task/${t}/comm`, 'utf8').trim()];
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
          throw err;
        }
      });
      expect(names).toContain(loopThreadName);
    });
  });

  it('counts rows of large answers', async () => {
    await withSession(expectLargeAnswersCounted);
  });

  it('runs calls made at once on one session one after the other, answers in order', async () => {
    await withSession(expectCallsInOrder);
  });

  it('fails to connect with STB_DB_UNREACHABLE, the reason from libpq, no secret shown', async () => {
    await expect(
      native.connect({ url: 'postgres://postgres:secret@127.0.0.1:1/x' }),
    ).rejects.toMatchObject({
      code: 'STB_DB_UNREACHABLE',
      message: expect.stringMatching(
        /postgres:\*\*\*@127\.0\.0\.1:1\/x.*(refused|connect)/s,
      ),
    });
    const url = db.url();
    if (url === null) return;
    await expect(
      native.connect({ url: `${url}?nosuchoption=1` }),
    ).rejects.toMatchObject({
      code: 'STB_DB_UNREACHABLE',
      message: expect.stringContaining('nosuchoption'),
    });
  });

  it('runs a closed-loop bench selected by a postgres+native:// target, sessions outnumbering connections', async () => {
    const url = db.url();
    if (url === null) return;
    const target = url.replace('postgres:', 'postgres+native:');
    expect(await resolveTarget(target)).toMatchObject({
      name: 'pg-native',
      module: '@stb/bench/db/pg-native',
      dialect: 'postgres',
      options: { url },
    });
    const begin = template('postgres', 'BEGIN', 'TCL');
    const upd = template(
      'postgres',
      'UPDATE t SET v = v WHERE id = $1',
      'UPDATE',
    );
    const sel = template('postgres', 'SELECT v FROM t WHERE id = $1', 'SELECT');
    const commit = template('postgres', 'COMMIT', 'TCL');
    const bad = template('postgres', 'SELECT 1/$1', 'SELECT');
    const b = new TraceBuilder('postgres');
    // 8 sessions on 2 connections: batches end where a transaction does, so sessions take turns
    for (let i = 0; i < 400; i++) {
      const s = `s${String(i % 8)}`;
      b.add(s, begin, []);
      b.add(s, upd, [int((i % 50) + 1)]);
      b.add(s, sel, [int((i % 50) + 1)]);
      b.add(s, commit, []);
      if (i % 100 === 3) b.add(s, bad, [int(0)]);
    }
    const r = await runBench(b.trace(), {
      target,
      plugin: native,
      mode: 'closed',
      connections: 2,
    });
    expect(r.status).toBe('completed');
    expect(r.overall.count).toBe(1604);
    expect(r.overall.errors).toBe(4);
    expect(r.templates.find((x) => x.templateId === sel.id)?.count).toBe(400);
  }, 30_000);

  it('a connection lost mid-batch: the runner reconnects and runs the statements the batch did not reach', async () => {
    const url = db.url();
    if (url === null) return;
    const sleep = template(
      'postgres',
      'SELECT pg_sleep($1) -- stb-native-kill',
      'SELECT',
    );
    const sel = template('postgres', 'SELECT $1::int', 'SELECT');
    const b = new TraceBuilder('postgres');
    b.add('s0', sel, [int(0)]);
    b.add('s0', sleep, [{ t: 'float', v: 5 }]);
    for (let i = 1; i <= 10; i++) b.add('s0', sel, [int(i)]);
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      const killer = (async () => {
        for (let i = 0; i < 100; i++) {
          await new Promise((res) => setTimeout(res, 30));
          const { rows } = await admin.query(
            "SELECT pg_terminate_backend(pid) AS k FROM pg_stat_activity WHERE query LIKE '%stb-native-kill' AND state = 'active' AND pid <> pg_backend_pid()",
          );
          if (rows.length > 0) return;
        }
      })();
      const r = await runBench(b.trace(), {
        target: url.replace('postgres:', 'postgres+native:'),
        plugin: native,
        mode: 'closed',
        connections: 1,
      });
      await killer;
      expect(r.status).toBe('completed');
      expect(r.overall.count).toBe(12);
      expect(r.overall.errors).toBe(1);
      expect(r.templates.find((x) => x.templateId === sel.id)).toMatchObject({
        count: 11,
        errors: 0,
      });
    } finally {
      await admin.end();
    }
  }, 30_000);

  it('a stop during closed-loop batches ends the run promptly, nothing left open', async () => {
    const url = db.url();
    if (url === null) return;
    const sel = template(
      'postgres',
      'SELECT pg_sleep(0.001), $1::int',
      'SELECT',
    );
    const b = new TraceBuilder('postgres');
    for (let i = 0; i < 20_000; i++) b.add(`s${String(i % 4)}`, sel, [int(i)]);
    const t0 = performance.now();
    const r = await runBench(b.trace(), {
      target: `${url.replace('postgres:', 'postgres+native:')}?application_name=stb-native-stop`,
      plugin: native,
      mode: 'closed',
      connections: 4,
      durationSeconds: 0.5,
    });
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(r.overall.count).toBeGreaterThan(100);
    expect(r.overall.count).toBeLessThan(20_000);
    expect(r.overall.errors).toBe(0);
    expect(r.status).toBe('stopped');
    // every connection closed (the backends leave within a moment)
    expect(
      await countUntilZero(
        url,
        "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'stb-native-stop'",
        20,
      ),
    ).toBe(0);
  }, 30_000);

  it('runs the same statements in two worker threads as inline', async () => {
    const url = db.url();
    if (url === null) return;
    await expectSameInWorkers(url.replace('postgres:', 'postgres+native:'));
  }, 30_000);
});

describe('pg-native connection string', () => {
  it('takes query_timeout out, sets connect_timeout and application_name, keeps the rest as written', () => {
    expect(
      pgNativeConninfo({
        url: 'postgres+native://u:p%40ss@db.example:6543/app?query_timeout=1500&sslmode=require',
      }),
    ).toEqual({
      conninfo:
        'postgres://u:p%40ss@db.example:6543/app?sslmode=require&connect_timeout=10&application_name=stb-bench',
      queryTimeoutMs: 1500,
      realtime: false,
    });
    // `+` stays `+` (libpq does not read it as a space); the URL's timeout and name are kept
    expect(
      pgNativeConninfo({
        url: 'postgresql://u@/app?host=/var/run/postgresql&connect_timeout=2&application_name=a+b%20c',
        queryTimeoutMs: 9,
      }),
    ).toEqual({
      conninfo:
        'postgresql://u@/app?host=/var/run/postgresql&connect_timeout=2&application_name=a+b%20c',
      queryTimeoutMs: 9,
      realtime: false,
    });
    // options win; a connect_timeout of 0 (libpq: wait for ever) or garbage gets the default
    expect(
      pgNativeConninfo({
        url: 'postgres://u@h/d?query_timeout=abc&connect_timeout=5&application_name=y',
        connectTimeoutMs: 2500,
        applicationName: 'x',
      }),
    ).toEqual({
      conninfo: 'postgres://u@h/d?connect_timeout=3&application_name=x',
      queryTimeoutMs: 300_000,
      realtime: false,
    });
    // realtime (stb's) is taken out; the option wins over the URL
    for (const [v, want] of [
      ['1', true],
      ['ON', true],
      ['true', true],
      ['0', false],
      ['off', false],
    ] as const)
      expect(
        pgNativeConninfo({ url: `postgres://u@h/d?realtime=${v}` }),
      ).toEqual({
        conninfo:
          'postgres://u@h/d?connect_timeout=10&application_name=stb-bench',
        queryTimeoutMs: 300_000,
        realtime: want,
      });
    expect(
      pgNativeConninfo({ url: 'postgres://u@h/d?realtime=1', realtime: false })
        .realtime,
    ).toBe(false);
    // the last one counts, a bare `realtime` is on, an empty value is not a value
    expect(() =>
      pgNativeConninfo({ url: 'postgres://u@h/d?realtime=' }),
    ).toThrow(/realtime= is neither/);
    expect(
      pgNativeConninfo({ url: 'postgres://u@h/d?realtime=1&realtime=0' })
        .realtime,
    ).toBe(false);
    expect(
      pgNativeConninfo({ url: 'postgres://u@h/d?realtime' }).realtime,
    ).toBe(true);
    expect(() =>
      pgNativeConninfo({ url: 'postgres://u@h/d?realtime=yes' }),
    ).toThrow(
      expect.objectContaining({
        code: 'STB_PLUGIN_OPTIONS_INVALID',
        message:
          "[stb] [db:pg-native] The target's realtime=yes is neither 1/true/on (or the bare key) nor 0/false/off.",
      }),
    );
    for (const bad of ['0', '-1', 'abc', ''])
      expect(
        pgNativeConninfo({ url: `postgres://u@h/d?connect_timeout=${bad}` })
          .conninfo,
      ).toBe('postgres://u@h/d?connect_timeout=10&application_name=stb-bench');
    expect(() => pgNativeConninfo({ url: 'mysql://u@h/d' })).toThrow(
      /Invalid URL/,
    );
    expect(() =>
      pgNativeConninfo({ url: 'postgres://u@h/d?application_name=%zz' }),
    ).toThrow(URIError);
  });
});

describe('pg-native addon loading', () => {
  it('an addon that is not built says what to install, as STB_PLUGIN_DEPENDENCY_MISSING', async () => {
    // the package's loader without its build/ directory
    const dir = mkdtempSync(path.join(tmpdir(), 'stb-libpq-loop-'));
    try {
      const from = createRequire(__filename).resolve('@stb/libpq-loop');
      copyFileSync(from, path.join(dir, 'index.cjs'));
      let thrown: Error | undefined;
      try {
        createRequire(__filename)(path.join(dir, 'index.cjs'));
      } catch (err) {
        thrown = err as Error;
      }
      expect(thrown).toMatchObject({
        code: 'STB_NATIVE_NOT_BUILT',
        message: expect.stringContaining('apt install libpq-dev'),
      });
      await expect(
        loadPgNativeLib(undefined, () =>
          Promise.reject(thrown ?? new Error('it loaded')),
        ),
      ).rejects.toMatchObject({
        code: 'STB_PLUGIN_DEPENDENCY_MISSING',
        message: expect.stringMatching(
          /^\[stb\] \[db:pg-native\] @stb\/libpq-loop is installed but its addon did not load/,
        ),
      });
      // a missing package: the install command
      await expect(
        loadPgNativeLib(undefined, () =>
          Promise.reject(
            Object.assign(new Error('nope'), { code: 'ERR_MODULE_NOT_FOUND' }),
          ),
        ),
      ).rejects.toMatchObject({
        code: 'STB_PLUGIN_DEPENDENCY_MISSING',
        message: expect.stringContaining('npm install @stb/libpq-loop'),
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

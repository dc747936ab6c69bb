import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { release } from 'node:os';
import { createPgNativePlugin } from '../src/db/pg-native';
import type { DbBatchContext, DbPlugin, DbSession } from '../src/db-plugin';
import { runBench } from '../src/runner';
import { queryRows, usePgDatabase } from './helpers/db';
import { startSlowProxy } from './helpers/slow-proxy';
import type { SlowProxy } from './helpers/slow-proxy';
import { okRows, q, sessionRunner } from './helpers/pg-wire-plugin';
import { TraceBuilder, template } from './helpers/trace';

// pg-native's timed batches (issue 16) on the real server: in replay and open loop the runner
// hands a session's statements to the loop thread with their due and think times, and the loop
// sends each one itself when it is due, so that a session's statements follow each other as
// pgbench's do. Checked here: never early, the think time after the previous completion, a stop,
// a cancel, a close or a lost connection while the loop waits, and the runner's use of it.
const native = createPgNativePlugin() as DbPlugin;
const db = usePgDatabase();
const withSession = sessionRunner(native, db);

/** The plugins' clock (`ExecOutcome.sentAt`). */
const now = (): number => performance.timeOrigin + performance.now();

/** A timed batch's context: due times relative to `t0`, think times as given. */
function timing(
  t0: number,
  due: number[],
  think: number[] = due.map(() => NaN),
): DbBatchContext {
  return { timing: { due: due.map((d) => t0 + d), think } };
}

/** The shared server's Unix socket directory (Debian's). */
const PG_SOCKET_DIR = '/var/run/postgresql';

/** The addon's diagnostics (required at the first call, as the plugin loads it). */
const addon = (): {
  wireStamped: () => [number, number];
  wakeLeads: () => (number | null)[];
  timedWaits: () => [number, number, number];
  realtimeSwitches: () => [number, number, number, number, number];
  realtimeRefused: () => string;
  spinBudget: (ms?: number) => number;
  loopSlice: (us?: number) => [number, number, number, number];
  loopThreadName: string;
} => createRequire(__filename)('@stb/libpq-loop') as ReturnType<typeof addon>;

/** The scheduling policy of each of this process's threads named `name` (0 SCHED_OTHER, 1 SCHED_FIFO). */
function policies(name: string): number[] {
  return threadFiles('stat', name).map((stat) =>
    // after "pid (comm) ": field 3 onwards; the policy is field 41
    Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[38]),
  );
}

/** The scheduling policy of each of this process's loop threads. */
const loopPolicies = (): number[] => policies(addon().loopThreadName);

/**
 * `/proc/self/task/<tid>/<file>` of each of this process's threads named `name`; a thread that
 * ended after the listing (a cancel request's, say) is left out.
 */
function threadFiles(file: 'stat' | 'sched', name: string): string[] {
  return readdirSync('/proc/self/task').flatMap((t) => {
    let text: string;
    try {
      // the name first: a cancel request's thread takes its policy before its name, so once it
      // has the name it is read with its own policy, not the loop's it started with
      const comm = readFileSync(`/proc/self/task/${t}/comm`, 'utf8').trimEnd();
      if (comm !== name) return [];
      text = readFileSync(`/proc/self/task/${t}/${file}`, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    return [text];
  });
}

/**
 * The slice (ns) of each of this process's loop threads, as the kernel shows it (`se.slice` in
 * `/proc/<pid>/task/<tid>/sched`); null where it shows none (a kernel without that line).
 */
function loopSlices(): number[] | null {
  const texts = threadFiles('sched', addon().loopThreadName);
  const slices = texts.map((t) => /^se\.slice\s+:\s+(\d+)$/m.exec(t)?.[1]);
  if (texts.length === 0 || slices.includes(undefined)) return null;
  return slices.map(Number);
}

/** Whether this kernel keeps the slice a thread asks for (EEVDF, Linux 6.12 and later). */
const KEEPS_SLICE = ((): boolean => {
  const [major = 0, minor = 0] = release()
    .split('.')
    .map((n) => parseInt(n, 10));
  return major > 6 || (major === 6 && minor >= 12);
})();

/** Resolves once no cancel request's thread (`stb-pq-cancel`) runs in this process (at most 5 s). */
async function cancelThreadsEnded(): Promise<void> {
  for (const until = Date.now() + 5000; Date.now() < until;) {
    if (threadFiles('stat', 'stb-pq-cancel').length === 0) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error("a cancel request's thread still runs after 5 s");
}

/**
 * Runs `fn` on a session opened through a proxy that holds every connection after the session's
 * 400 ms: the cancel requests, so that a request's thread lives that long. `params`: the URL's
 * query (`?query_timeout=…`); `threads`: the plugin's. Then waits for the requests' threads to
 * end and closes both.
 */
async function withCancelsHeld(
  session: { url: string; params: string; threads?: number },
  fn: (s: DbSession, proxy: SlowProxy) => Promise<void>,
): Promise<void> {
  const { url, params, threads } = session;
  const to = new URL(url);
  const proxy = await startSlowProxy(
    { host: to.hostname, port: Number(to.port || 5432) },
    (n) => (n === 1 ? 0 : 400),
  );
  try {
    const via = new URL(url);
    via.port = String(proxy.port);
    const s = await native.connect(
      { url: `${via.href}${params}`, threads },
      { protocol: 'prepared' },
    );
    try {
      await fn(s, proxy);
      await cancelThreadsEnded();
    } finally {
      await s.close();
    }
  } finally {
    await proxy.close();
  }
}

/** The addon's count of statements whose sent, done time came from the kernel's timestamps. */
const wireStamped = (): [number, number] => addon().wireStamped();

/** The addon's loop threads' leads before a due time (ms; null for a loop not started). */
const wakeLeads = (): (number | null)[] => addon().wakeLeads();

/** The addon's timed waits in this process: [noted in a lead, spun to a due time, µs spun]. */
const timedWaits = (): [number, number, number] => addon().timedWaits();

/** Starts a timed batch whose second statement is due in 5 s; resolves once the first ran. */
async function waitingBatch(
  s: DbSession,
  signal?: AbortSignal,
): Promise<{ t0: number; running: Promise<unknown[]> }> {
  const t0 = now();
  const running = s.runBatch?.(
    [q('SELECT 1'), q('SELECT 2 -- stb-timed-waits')],
    { ...timing(t0, [0, 5000]), ...(signal ? { signal } : {}) },
  ) as Promise<unknown[]>;
  await new Promise((r) => setTimeout(r, 100));
  return { t0, running };
}

describe('pg-native timed batches', () => {
  it("times a timed batch's statements by the kernel: sent when they left, done when the answer arrived; a closed batch by the loop's clock", async () => {
    await withSession(async (s) => {
      const t0 = now();
      const before = wireStamped();
      const outs =
        (await s.runBatch?.(
          [q('SELECT pg_sleep(0.05)'), q('SELECT 2')],
          timing(t0, [0, 100]),
        )) ?? [];
      expect(outs).toEqual([okRows(1), okRows(1)]);
      // both statements, both ends (the test's server is on 127.0.0.1: TCP)
      const after = wireStamped();
      expect(after[0] - before[0]).toBe(2);
      expect(after[1] - before[1]).toBe(2);
      const [a, b] = outs;
      expect((a?.doneAt ?? NaN) - (a?.sentAt ?? NaN)).toBeGreaterThanOrEqual(
        50,
      );
      expect(b?.sentAt ?? NaN).toBeGreaterThanOrEqual(t0 + 100);
      expect(b?.doneAt ?? NaN).toBeGreaterThan(b?.sentAt ?? NaN);
      // a closed batch on the same connection: the loop's clock, and the socket's queued
      // timestamps, if any, do not get in its way
      const closed = (await s.runBatch?.([q('SELECT 3'), q('SELECT 4')])) ?? [];
      expect(closed).toEqual([okRows(1), okRows(1)]);
      expect(wireStamped()).toEqual(after);
      // and timed again
      const again =
        (await s.runBatch?.([q('SELECT 5')], timing(now(), [20]))) ?? [];
      expect(again).toEqual([okRows(1)]);
      expect(wireStamped()[0] - after[0]).toBe(1);
    });
  });

  it('the simple protocol is timed by the kernel too; a Unix socket, which stamps nothing, keeps the loop clock', async () => {
    await withSession(
      async (s) => {
        const before = wireStamped();
        const outs =
          (await s.runBatch?.(
            [q('SELECT pg_sleep(0.02)'), q('SELECT 2')],
            timing(now(), [0, 10]),
          )) ?? [];
        expect(outs).toEqual([okRows(1), okRows(1)]);
        expect(wireStamped()).toEqual([before[0] + 2, before[1] + 2]);
        const o = outs[0];
        expect((o?.doneAt ?? NaN) - (o?.sentAt ?? NaN)).toBeGreaterThanOrEqual(
          20,
        );
      },
      { protocol: 'simple' },
    );
    const url = db.url();
    if (url === null || !existsSync(`${PG_SOCKET_DIR}/.s.PGSQL.5432`)) return;
    const name = new URL(url).pathname.slice(1);
    const s = await native.connect(
      { url: `postgres://postgres@/${name}?host=${PG_SOCKET_DIR}` },
      { protocol: 'simple' },
    );
    try {
      const before = wireStamped();
      const outs =
        (await s.runBatch?.([q('SELECT 1')], timing(now(), [0]))) ?? [];
      expect(outs).toEqual([okRows(1)]);
      expect(wireStamped()).toEqual(before);
    } finally {
      await s.close();
    }
  });

  it('sends each statement at its due time, and not before the previous completion plus its think time', async () => {
    await withSession(async (s) => {
      const t0 = now();
      const outs =
        (await s.runBatch?.(
          [q('SELECT 1'), q('SELECT 2'), q('SELECT 3'), q('SELECT 4')],
          timing(t0, [0, 40, 20, 60], [NaN, NaN, 30, 0]),
        )) ?? [];
      expect(outs).toEqual([okRows(1), okRows(1), okRows(1), okRows(1)]);
      const sent = outs.map((o) => o.sentAt as number);
      const done = outs.map((o) => o.doneAt as number);
      // never early: its due time; statement 3 after statement 2's completion + 30 ms of think
      expect(sent[1]).toBeGreaterThanOrEqual(t0 + 40);
      expect(sent[2]).toBeGreaterThanOrEqual((done[1] as number) + 30);
      // statement 4 was due (t0 + 60) before statement 3 completed: right after it
      expect(sent[3]).toBeGreaterThanOrEqual(done[2] as number);
      // and not held back beyond that (a generous bound: the machine is shared)
      expect((sent[1] as number) - (t0 + 40)).toBeLessThan(50);
      expect((sent[2] as number) - (done[1] as number) - 30).toBeLessThan(50);
      expect((sent[3] as number) - (done[2] as number)).toBeLessThan(50);
    });
  });

  it('learns how late its timer wakes it and spins the rest of the way, never sending a statement early', async () => {
    await withSession(async (s) => {
      const n = 40;
      const [noted0, spun0] = timedWaits();
      const t0 = now();
      const due = Array.from({ length: n }, (_, i) => 5 + 3 * i);
      const outs =
        (await s.runBatch?.(
          due.map((_, i) => q(`SELECT ${i}`)),
          timing(t0, due),
        )) ?? [];
      expect(outs).toEqual(due.map(() => okRows(1)));
      // with the loop waking a lead early and spinning to the due time: still never early
      outs.forEach((o, i) =>
        expect(o.sentAt as number).toBeGreaterThanOrEqual(
          t0 + (due[i] as number),
        ),
      );
      const [noted, spun] = timedWaits();
      // about 40 waits of about 3 ms (a few may end late enough for the next one to start in the
      // past, and are not counted): their lateness went into the lead
      expect(noted - noted0).toBeGreaterThanOrEqual(20);
      // with the lead at the median lateness, about half the wake-ups come before the due time and
      // spin the rest of the way; none would without the lead (or with it the wrong way round)
      expect(spun - spun0).toBeGreaterThanOrEqual(1);
      const leads = wakeLeads().filter((l): l is number => l !== null);
      expect(Math.max(...leads)).toBeGreaterThan(0);
      expect(Math.max(...leads)).toBeLessThanOrEqual(0.1);
    });
  });

  it("a loop thread asks for the ordinary scheduler's shortest slice, 0.1 ms, which the kernel keeps from Linux 6.12 on", async () => {
    if (db.url() === null) return;
    await withSession(async (s) =>
      s.runBatch?.([q('SELECT 1'), q('SELECT 2')], timing(now(), [0, 5])),
    );
    const [us, asked, kept, refused] = addon().loopSlice();
    expect(us).toBe(100);
    expect(asked).toBeGreaterThan(0);
    expect(refused).toBe(0);
    // an older kernel keeps its own slice (the batch above ran all the same)
    if (!KEEPS_SLICE) return;
    // read back by the addon as asked (sched_getattr shows the kernel's default otherwise)
    expect(kept).toBe(asked);
    // and as the kernel shows each loop thread, where it does (6.18 here)
    const slices = loopSlices();
    if (slices !== null) expect(new Set(slices)).toEqual(new Set([100_000]));
    // values the kernel would not take as given are refused, not stored
    // (the addon's RangeError is not of this test's realm: compared by name)
    for (const bad of [50, 100.5, 200_000, -1, Number.NaN])
      expect(() => addon().loopSlice(bad)).toThrow(
        expect.objectContaining({
          name: 'RangeError',
          message: 'loopSlice: µs is 0, or whole from 100 to 100000',
        }),
      );
    expect(addon().loopSlice()[0]).toBe(100);
  });

  it('realtime: a loop thread is under SCHED_FIFO while any of its connections runs a realtime timed batch, and back when the last ends; without realtime nothing changes', async () => {
    const url = db.url();
    if (url === null) return;
    const lib = addon();
    const switches = (): [number, number, number] => {
      const [fifo, other, refused] = lib.realtimeSwitches();
      return [fifo, other, refused];
    };
    const [fifo0, other0, refused0] = switches();
    // without the option: no switch, no loop thread under SCHED_FIFO
    await withSession(async (s) =>
      s.runBatch?.([q('SELECT 1'), q('SELECT 2')], timing(now(), [0, 20])),
    );
    expect(switches()).toEqual([fifo0, other0, refused0]);
    expect(loopPolicies()).not.toContain(1);
    if (lib.realtimeRefused() !== '') {
      // this process may not: the connection is refused, saying why and what to do
      await expect(
        native.connect({ url, realtime: true }, {}),
      ).rejects.toMatchObject({ code: 'STB_PLUGIN_PRIVILEGE_MISSING' });
      return;
    }
    // two connections on one loop thread (threads: 1): a realtime batch waiting on one, an
    // untimed batch on the other
    const a = await native.connect({ url, threads: 1, realtime: true }, {});
    const b = await native.connect({ url, threads: 1 }, {});
    try {
      const ac = new AbortController();
      const waiting = a.runBatch?.([q('SELECT 1'), q('SELECT 2')], {
        ...timing(now(), [0, 5000]),
        signal: ac.signal,
      });
      await new Promise((r) => setTimeout(r, 100));
      expect(switches()).toEqual([fifo0 + 1, other0, refused0]);
      expect(loopPolicies().filter((p) => p === 1)).toHaveLength(1);
      expect(await b.runBatch?.([q('SELECT 3')])).toEqual([okRows(1)]);
      // the other connection's batch does not take the loop thread off SCHED_FIFO
      expect(loopPolicies().filter((p) => p === 1)).toHaveLength(1);
      ac.abort();
      expect(await waiting).toEqual([okRows(1)]);
      // the last realtime batch ended: back under SCHED_OTHER, still with the loop's short slice
      expect(switches()).toEqual([fifo0 + 1, other0 + 1, refused0]);
      expect(loopPolicies()).not.toContain(1);
      const slices = KEEPS_SLICE ? loopSlices() : null;
      if (slices !== null) expect(new Set(slices)).toEqual(new Set([100_000]));
      // past the spin budget under SCHED_FIFO (lowered here to 1 µs per 100 ms window, 10 ms by
      // default) the loop sleeps to the due time instead of spinning: a spin or so per window, and
      // still never early
      const budget = lib.spinBudget();
      const [, , , unspun0, early0] = lib.realtimeSwitches();
      const [, spun0] = timedWaits();
      try {
        expect(lib.spinBudget(0.001)).toBe(0.001);
        const t0 = now();
        const due = Array.from({ length: 60 }, (_, i) => 2 + 1.5 * i);
        // one text, prepared already: one answer per statement
        const outs =
          (await a.runBatch?.(
            due.map(() => q('SELECT 1')),
            timing(t0, due),
          )) ?? [];
        const windows = Math.ceil((now() - t0) / 100) + 1;
        expect(outs.filter((o) => o.ok)).toHaveLength(due.length);
        outs.forEach((o, i) =>
          expect(o.sentAt as number).toBeGreaterThanOrEqual(
            t0 + (due[i] as number),
          ),
        );
        const [, , , unspun, early] = lib.realtimeSwitches();
        expect(unspun - unspun0).toBeGreaterThan(0);
        // without the budget about half of the 60 waits spin
        expect(timedWaits()[1] - spun0).toBeLessThanOrEqual(windows);
        // past the budget the loop asks to wake at the due time itself: it does not wake at the
        // lead first only to wait again. Counted by the loop: none of those waits woke early
        // (30–41 of 57–59 when it asks for the lead anyway). Until 2026-12-08 the test bounded
        // the loop's sleeps (2 per statement, 122): 121 in most runs, but over the bound in 9 of 27
        // runs of this file that day (123–128 where read), from wake-ups not traced
        expect(early - early0).toBe(0);
      } finally {
        lib.spinBudget(budget);
      }
    } finally {
      await a.close();
      await b.close();
    }
    expect(loopPolicies()).not.toContain(1);
  });

  it('realtime where the process may not use SCHED_FIFO: the connection fails with one [stb] line saying what to do; the closed loop, whose batches are never timed, runs', () => {
    const url = db.url();
    // root without CAP_SYS_NICE (and a real-time priority limit of 0, as here): what a user
    // without privileges gets
    const rtLimit = /^Max realtime priority\s+(\S+)/m.exec(
      readFileSync('/proc/self/limits', 'utf8'),
    )?.[1];
    if (
      url === null ||
      process.getuid?.() !== 0 ||
      rtLimit !== '0' ||
      !existsSync('/usr/bin/setpriv')
    )
      return;
    // the runner in closed loop, inline and in a worker (it opens its connections with timed:
    // false), then in replay; the plugin opened for untimed batches, then for any (the default)
    const child = `(async () => {
      const { runBench } = require('@stb/bench');
      const { TemplateCatalog } = require('@stb/core');
      const { plugin } = require('@stb/bench/db/pg-native');
      const url = process.argv[1];
      const t = { kind: 'template', id: 't1', text: 'SELECT $1::int', queryType: 'SELECT', tables: [], slots: [] };
      const events = Array.from({ length: 20 }, (_, i) => ({ kind: 'event', startUs: i, sessionId: 's' + (i % 2), templateId: 't1', params: [{ t: 'int', v: i }] }));
      const target = url.replace(/^postgres(ql)?:/, 'postgres+native:');
      for (const workers of [0, 1]) {
        const r = await runBench({ templates: new TemplateCatalog([t]), events }, { target, mode: 'closed', connections: 2, workers });
        console.log('closed loop, ' + workers + ' workers: ' + r.status + ' ' + r.overall.count + ' statements, ' + r.overall.errors + ' errors');
      }
      // replay (the default mode), whose batches are timed: refused, before any statement runs
      await runBench({ templates: new TemplateCatalog([t]), events }, { target, connections: 2, workers: 0 }).then(
        (r) => console.log('replay: ' + r.status),
        (e) => console.log('replay: ' + e.code),
      );
      const s = await plugin.connect({ url }, { timed: false });
      console.log('untimed: connected');
      await s.close();
      await plugin.connect({ url }).then(
        (s) => { console.log('connected'); return s.close(); },
        (e) => console.log(e.code + ' ' + e.message),
      );
    })();`;
    const r = spawnSync(
      '/usr/bin/setpriv',
      [
        '--bounding-set=-sys_nice',
        '--inh-caps=-sys_nice',
        process.execPath,
        '-e',
        child,
        `${url}?realtime=on`,
      ],
      {
        encoding: 'utf8',
        env: { ...process.env, NODE_OPTIONS: '' },
        timeout: 30_000,
      },
    );
    expect(r.stderr).toBe('');
    expect(r.stdout.trim().split('\n')).toEqual([
      'closed loop, 0 workers: completed 20 statements, 0 errors',
      'closed loop, 1 workers: completed 20 statements, 0 errors',
      'replay: STB_PLUGIN_PRIVILEGE_MISSING',
      'untimed: connected',
      'STB_PLUGIN_PRIVILEGE_MISSING [stb] [db:pg-native] realtime: this process may not run threads under SCHED_FIFO (Operation not permitted). It needs a real-time priority limit of at least 1 (any user: docker run --ulimit rtprio=1, rtprio in /etc/security/limits.conf, LimitRTPRIO= in a systemd unit) or CAP_SYS_NICE (root in Docker: --cap-add SYS_NICE), in a cgroup that allows real-time time (cpu.rt_runtime_us above 0); or leave realtime out.',
    ]);
  }, 40_000);

  it('an abort while the loop waits for a due time ends the batch at once; the session stays usable', async () => {
    await withSession(async (s) => {
      const ac = new AbortController();
      const { t0, running } = await waitingBatch(s, ac.signal);
      ac.abort();
      expect(await running).toEqual([okRows(1)]);
      expect(now() - t0).toBeLessThan(2000);
      expect(await s.execute(q('SELECT 3'))).toEqual(okRows(1));
    });
  });

  it('a due time too far ahead to wait for in one go (Infinity): the loop waits, and an abort still ends the batch', async () => {
    await withSession(async (s) => {
      const ac = new AbortController();
      const t0 = now();
      const running = s.runBatch?.([q('SELECT 1'), q('SELECT 2')], {
        ...timing(t0, [0, Number.POSITIVE_INFINITY]),
        signal: ac.signal,
      }) as Promise<unknown[]>;
      await new Promise((r) => setTimeout(r, 100));
      ac.abort();
      expect(await running).toEqual([okRows(1)]);
      expect(now() - t0).toBeLessThan(2000);
      expect(await s.execute(q('SELECT 3'))).toEqual(okRows(1));
    });
  });

  it('cancel() while the loop waits ends the batch; no cancel request reaches a later statement', async () => {
    await withSession(async (s) => {
      const { t0, running } = await waitingBatch(s);
      await s.cancel?.();
      expect(await running).toEqual([okRows(1)]);
      expect(now() - t0).toBeLessThan(2000);
      // nothing was running: a cancel request sent anyway could stop this one
      expect(await s.execute(q('SELECT pg_sleep(0.3)'))).toEqual(okRows(1));
    });
  });

  it('close() while the loop waits: the batch ends with what ran, the connection is gone', async () => {
    const url = db.url();
    if (url === null) return;
    const s = await native.connect({ url }, { protocol: 'prepared' });
    const { t0, running } = await waitingBatch(s);
    await s.close();
    expect(await running).toEqual([okRows(1)]);
    expect(now() - t0).toBeLessThan(2000);
    expect(await s.execute(q('SELECT 1'))).toMatchObject({
      ok: false,
      connectionLost: true,
    });
  });

  it('a backend terminated while the loop waits: the next statement reports a lost connection at once', async () => {
    await withSession(
      async (s, url) => {
        const { t0, running } = await waitingBatch(s);
        await queryRows(
          'postgres',
          url,
          "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'stb-timed-terminate'",
        );
        expect(await running).toEqual([
          okRows(1),
          expect.objectContaining({ ok: false, connectionLost: true }),
        ]);
        expect(now() - t0).toBeLessThan(2000);
      },
      { query: '?application_name=stb-timed-terminate' },
    );
  });

  it('a notification that arrives while the loop waits is not taken for an answer', async () => {
    await withSession(async (s, url) => {
      const t0 = now();
      const running = s.runBatch?.(
        [q('LISTEN stb_timed'), q('SELECT 2')],
        timing(t0, [0, 300]),
      );
      await new Promise((r) => setTimeout(r, 100));
      await queryRows('postgres', url, 'NOTIFY stb_timed');
      const outs = (await running) ?? [];
      expect(outs).toEqual([okRows(0), okRows(1)]);
      expect(outs[1]?.sentAt).toBeGreaterThanOrEqual(t0 + 300);
    });
  });

  it("a wait longer than query_timeout is not the statement's time: nothing is cancelled", async () => {
    await withSession(
      async (s) => {
        const t0 = now();
        // a cancel request sent for the wait would reach the sleep, which is within its time
        const outs = await s.runBatch?.(
          [q('SELECT 1'), q('SELECT pg_sleep(0.1)')],
          timing(t0, [0, 1300]),
        );
        expect(outs).toEqual([okRows(1), okRows(1)]);
      },
      { query: '?query_timeout=200' },
    );
  }, 10_000);

  it("realtime: a cancel request's thread, started by a loop thread under SCHED_FIFO, runs under SCHED_OTHER", async () => {
    const url = db.url();
    if (url === null || addon().realtimeRefused() !== '') return;
    // the cancel request reaches the server 400 ms late, so its thread lives that long
    await withCancelsHeld(
      { url, params: '?query_timeout=100&realtime=1', threads: 1 },
      async (s, proxy) => {
        // the sleep outlives query_timeout: at 100 ms the loop thread, under SCHED_FIFO for this
        // realtime batch, starts the cancel request's thread; the sleep ends by itself at 300 ms
        let settled = false;
        const running = (
          s.runBatch?.([q('SELECT pg_sleep(0.3)')], timing(now(), [0])) ??
          Promise.resolve([])
        ).finally(() => {
          settled = true;
        });
        const seen: number[] = [];
        let whileFifo = 0;
        for (const until = Date.now() + 3000; Date.now() < until;) {
          const loops = loopPolicies();
          const cancels = policies('stb-pq-cancel');
          if (!settled && cancels.length > 0 && loops.includes(1)) whileFifo++;
          seen.push(...cancels);
          if (settled && seen.length > 0 && cancels.length === 0) break;
          await new Promise((r) => setTimeout(r, 2));
        }
        expect(await running).toEqual([okRows(1)]);
        expect(proxy.accepted - 1).toBe(1);
        // seen while the loop thread ran under SCHED_FIFO, and never under it itself
        expect(whileFifo).toBeGreaterThan(0);
        expect(new Set(seen)).toEqual(new Set([0]));
      },
    );
  }, 10_000);

  it("a batch interrupted while it waited for a cancel request's thread: the next batch's due time is a due time again, waited for with the lead, while the thread still runs", async () => {
    const url = db.url();
    if (url === null) return;
    // cancel requests reach the server 400 ms late, so the loop waits for the cancel's thread
    // when the next statement is due
    await withCancelsHeld(
      { url, params: '?query_timeout=100' },
      async (s, proxy) => {
        const ac = new AbortController();
        const t0 = now();
        // the sleep outlives query_timeout (a cancel request goes out) and ends before the
        // request arrives; SELECT 1 is then due, and waits for the request's thread
        const running = s.runBatch?.(
          [q('SELECT pg_sleep(0.2)'), q('SELECT 1')],
          {
            ...timing(t0, [0, 0]),
            signal: ac.signal,
          },
        );
        await new Promise((r) => setTimeout(r, 400));
        const abortAt = now();
        ac.abort();
        const outs = (await running) ?? [];
        // the sleep's answer came before the abort: the batch ended in its wait for the thread
        expect(outs).toHaveLength(1);
        expect(outs[0]?.doneAt as number).toBeLessThan(abortAt);
        expect(proxy.accepted - 1).toBe(1);
        // the request's thread still runs (the proxy lets it through about 500 ms after t0); the
        // next batch's statement is due after that
        const [noted0] = timedWaits();
        const t1 = now();
        expect(await s.runBatch?.([q('SELECT 2')], timing(t1, [400]))).toEqual([
          okRows(1),
        ]);
        // a wait for a due time counts in the lead; taken for a look again at the thread (until
        // 2026-12-07), it was a plain wake-up, not counted
        expect(timedWaits()[0] - noted0).toBe(1);
      },
    );
  }, 10_000);
});

/** A batch the runner handed the plugin: its size, whether timed, its first due time − now (ms). */
interface Handed {
  n: number;
  timed: boolean;
  ahead: number;
}

/** The plugin, with the batches the runner hands it recorded. */
function recordingPlugin(batches: Handed[]): DbPlugin {
  return {
    ...native,
    async connect(options, ctx) {
      const s = await native.connect(options, ctx);
      return {
        ...s,
        runBatch: (queries, bctx) => {
          batches.push({
            n: queries.length,
            timed: bctx?.timing !== undefined,
            ahead: (bctx?.timing?.due[0] ?? NaN) - now(),
          });
          return s.runBatch?.(queries, bctx) ?? Promise.resolve([]);
        },
      };
    },
  };
}

describe('pg-native timed batches in the runner', () => {
  beforeAll(async () => {
    const url = db.url();
    if (url === null) return;
    await queryRows(
      'postgres',
      url,
      'CREATE TABLE IF NOT EXISTS timed_t (s text, at timestamptz)',
    );
  });

  it('replay hands each session its statements in timed batches: due and think times kept on the server clock', async () => {
    const url = db.url();
    if (url === null) return;
    await queryRows('postgres', url, 'TRUNCATE timed_t');
    const ins = template(
      'postgres',
      'INSERT INTO timed_t VALUES ($1, clock_timestamp())',
      'INSERT',
    );
    const b = new TraceBuilder('postgres');
    // two sessions, 4 statements each, 30 ms apart (the second 15 ms behind the first); each
    // statement took 1 ms in the log, so the think time before the next is 29 ms
    for (let i = 0; i < 4; i++)
      for (const [k, sid] of ['s0', 's1'].entries()) {
        b.add(sid, ins, [{ t: 'string', v: sid }]);
        const ev = b.events.at(-1) as { startUs: number; durationUs?: number };
        ev.startUs = 1_700_000_000_000_000 + i * 30_000 + k * 15_000;
        ev.durationUs = 1000;
      }
    const { r, batches } = await replayTrace(url, b, 2);
    expect(r.overall.count).toBe(8);
    expect(r.overall.errors).toBe(0);
    expect(r.scheduleLagMs?.p50).toEqual(expect.any(Number));
    // the runner's read-ahead queued a session's later statements: some batch carried several
    expect(batches.every((x) => x.timed)).toBe(true);
    expect(Math.max(...batches.map((x) => x.n))).toBeGreaterThan(1);
    const rows = await queryRows<{ gap: number | null }>(
      'postgres',
      url,
      'SELECT EXTRACT(EPOCH FROM at - lag(at) OVER (PARTITION BY s ORDER BY at)) * 1000 AS gap FROM timed_t',
    );
    const gaps = rows.filter((x) => x.gap !== null).map((x) => Number(x.gap));
    expect(gaps).toHaveLength(6);
    // 30 ms apart in the log; a statement sent late (its lag) shortens the gap after it
    for (const g of gaps) expect(g).toBeGreaterThan(20);
    for (const g of gaps) expect(g).toBeLessThan(80);
  }, 30_000);

  it('open loop: a statement queued behind a slow one in its session counts that wait as lag', async () => {
    const url = db.url();
    if (url === null) return;
    const sleep = template('postgres', 'SELECT pg_sleep($1)', 'SELECT');
    const b = new TraceBuilder('postgres');
    for (let i = 0; i < 4; i++) b.add('s0', sleep, [{ t: 'float', v: 0.05 }]);
    const batches: Handed[] = [];
    const r = await runBench(b.trace(), {
      target: url.replace('postgres:', 'postgres+native:'),
      plugin: recordingPlugin(batches),
      mode: 'open',
      rate: 100,
      arrival: 'uniform',
      connections: 1,
    });
    expect(r.overall.count).toBe(4);
    expect(batches.some((x) => x.timed && x.n > 1)).toBe(true);
    // arrivals 10 ms apart, each statement 50 ms: the fourth waits about 3 × 40 ms for the others
    expect(r.scheduleLagMs?.max).toBeGreaterThan(100);
    // latency from the intended start holds that wait too; the service time does not
    expect(r.overall.latencyMs.max).toBeGreaterThan(150);
    expect(r.overall.serviceMs?.max).toBeLessThan(100);
  }, 30_000);

  /** A replay of `b`'s trace through the recording plugin on `connections` connections. */
  async function replayTrace(
    url: string,
    b: TraceBuilder,
    connections: number,
  ): Promise<{ r: Awaited<ReturnType<typeof runBench>>; batches: Handed[] }> {
    const batches: Handed[] = [];
    const r = await runBench(b.trace(), {
      target: url.replace('postgres:', 'postgres+native:'),
      plugin: recordingPlugin(batches),
      mode: 'replay',
      connections,
    });
    return { r, batches };
  }

  /**
   * A replay of `spec` (`session@offset ms`, space-separated, in log order; each statement 0.5 ms
   * long) on `connections` connections.
   */
  async function replay(
    url: string,
    spec: string,
    connections: number,
  ): Promise<{ r: Awaited<ReturnType<typeof runBench>>; batches: Handed[] }> {
    const sel = template('postgres', 'SELECT $1::int', 'SELECT');
    const b = new TraceBuilder('postgres');
    const rows = spec.split(' ').map((x) => x.split('@'));
    for (const [sid = '', at = ''] of rows) {
      const ms = Number(at);
      b.add(sid, sel, [{ t: 'int', v: ms }]);
      const ev = b.events.at(-1) as { startUs: number; durationUs?: number };
      ev.startUs = 1_700_000_000_000_000 + ms * 1000;
      ev.durationUs = 500;
    }
    const { r, batches } = await replayTrace(url, b, connections);
    expect(r.overall.count).toBe(rows.length);
    expect(r.overall.errors).toBe(0);
    return { r, batches };
  }

  it('a statement not yet due goes to the loop at once, which waits for its due time; not when sessions share connections', async () => {
    const url = db.url();
    if (url === null) return;
    // one session, 150 ms between statements (more than the read-ahead of 100 ms): each next
    // statement is handed over when read ahead, 100 ms before it is due; the loop waits for it
    const own = await replay(url, 's0@0 s0@150 s0@300', 1);
    expect(Math.max(...own.batches.map((x) => x.ahead))).toBeGreaterThan(15);
    // two sessions on one connection: s0 must not hold it waiting for its 100 ms statement while
    // s1's (50 ms) is due; s0 lends it from the schedule
    const shared = await replay(url, 's0@0 s1@50 s0@100', 1);
    expect(Math.max(...shared.batches.map((x) => x.ahead))).toBeLessThan(5);
    expect(shared.r.scheduleLagMs?.max).toBeLessThan(30);
  }, 30_000);

  it('a timed batch ends at the widest gap in its second half', async () => {
    const url = db.url();
    if (url === null) return;
    // 8 statements, queued at once (the read-ahead is 100 ms), the widest gap before the 7th:
    // batches [6, 2] (or [1, 5, 2] if the first one left before the rest were read); without the
    // cut, one batch of 8 (or [1, 7])
    const spec = [0, 2, 4, 6, 8, 10, 40, 42].map((ms) => `s0@${ms}`);
    const { batches } = await replay(url, spec.join(' '), 1);
    let ran = 0;
    const ends = batches.map((x) => (ran += x.n));
    expect(ends).toContain(6);
    expect(ran).toBe(8);
  }, 30_000);

  it('a stop while a session waits in a timed batch ends the run promptly; the late statement does not run', async () => {
    const url = db.url();
    if (url === null) return;
    const sleep = template('postgres', 'SELECT pg_sleep($1)', 'SELECT');
    const sel = template('postgres', 'SELECT $1::int', 'SELECT');
    const b = new TraceBuilder('postgres');
    // the sleep took 1 ms in the log and the next statement came 95 ms after it started: in the
    // replay, the loop waits 94 ms after the 300-ms sleep, and the stop (350 ms) comes then
    b.add('s0', sleep, [{ t: 'float', v: 0.3 }]);
    b.add('s0', sel, [{ t: 'int', v: 2 }]);
    const [first, second] = b.events as {
      startUs: number;
      durationUs?: number;
    }[];
    (first as { durationUs?: number }).durationUs = 1000;
    (second as { startUs: number }).startUs =
      (first as { startUs: number }).startUs + 95_000;
    const t0 = now();
    const r = await runBench(b.trace(), {
      target: url.replace('postgres:', 'postgres+native:'),
      plugin: native,
      mode: 'replay',
      connections: 1,
      durationSeconds: 0.35,
    });
    expect(now() - t0).toBeLessThan(3000);
    expect(r.overall.count).toBe(1);
    expect(r.overall.errors).toBe(0);
  }, 30_000);
});

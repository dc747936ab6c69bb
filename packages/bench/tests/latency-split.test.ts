import { BENCH_RESULT_VERSION, BenchResult, lagShare } from '@stb/core';
import { createPostgresPlugin } from '../src/db/postgres';
import { formatBenchResult } from '../src/format';
import { runBench } from '../src/runner';
import { queryRows, usePgDatabase } from './helpers/db';
import { TraceBuilder, template } from './helpers/trace';
import {
  expectFailedWireTimes,
  expectSleepWireTimes,
} from './helpers/wire-times';

// The latency split on the real PostgreSQL: service time (sent → completed), schedule lag
// (start − due) and latency from the intended start. The assertions are lower bounds set by
// pg_sleep and by a single connection, never by how fast this machine is.
const db = usePgDatabase();
const sleep = template('postgres', 'SELECT pg_sleep($1)', 'SELECT');
const SLEEP_S = 0.1;

/** Runs `sleeps` pg_sleep statements of `seconds`, session by `session(i)`, on one connection. */
async function runSleeps(o: {
  url: string;
  sleeps: number;
  seconds: number;
  session: (i: number) => string;
  mode: 'replay' | 'closed';
}): Promise<Awaited<ReturnType<typeof runBench>>> {
  const b = new TraceBuilder('postgres');
  for (let i = 0; i < o.sleeps; i++)
    b.add(o.session(i), sleep, [{ t: 'float', v: o.seconds }]);
  return runBench(b.trace(), {
    target: o.url,
    mode: o.mode,
    connections: 1,
    workers: 0,
  });
}

describe('latency split on PostgreSQL', () => {
  it('a pg_sleep template shows as service time, and a session is never late because of itself', async () => {
    const url = db.url();
    if (url === null) return;
    // one session, five statements logged 1 ms apart that each take 100 ms now
    const r = await runSleeps({
      url,
      sleeps: 5,
      seconds: SLEEP_S,
      session: () => 's',
      mode: 'replay',
    });
    expect(BenchResult.parse(JSON.parse(JSON.stringify(r))).version).toBe(
      BENCH_RESULT_VERSION,
    );
    const [t] = r.templates;
    expect(t?.count).toBe(5);
    const svc = t?.serviceMs;
    const lag = t?.scheduleLagMs;
    expect(svc?.count).toBe(5);
    expect(svc?.p50).toBeGreaterThanOrEqual(SLEEP_S * 1000);
    // due = max(offset, previous completion + think time 0): the lag does not pile up. Without
    // the rule statement k would start ≈ k × 100 ms after its offset.
    expect(lag?.count).toBe(5);
    expect(lag?.max).toBeLessThan(SLEEP_S * 1000);
    // latency from the intended start = lag + service
    expect(t?.latencyMs.p50).toBeGreaterThanOrEqual(svc?.p50 ?? Infinity);
    expect(t?.serviceHistogramNs).toMatch(/^HISTF/);
    expect(formatBenchResult(r)).not.toContain('bottleneck: the client');
  }, 30_000);

  it('a saturated client shows as schedule lag and the summary names the client', async () => {
    const url = db.url();
    if (url === null) return;
    // four sessions due within 4 ms share one connection: each waits for the ones before it
    const r = await runSleeps({
      url,
      sleeps: 4,
      seconds: SLEEP_S,
      session: (i) => `s${i}`,
      mode: 'replay',
    });
    const [t] = r.templates;
    expect(t?.count).toBe(4);
    expect(t?.serviceMs?.p50).toBeGreaterThanOrEqual(SLEEP_S * 1000);
    // the last session waited for three sleeps (less its 3 ms later offset)
    expect(t?.scheduleLagMs?.max).toBeGreaterThanOrEqual(
      3 * SLEEP_S * 1000 - 3,
    );
    expect(r.scheduleLagMs?.max).toBe(t?.scheduleLagMs?.max);
    expect(lagShare(r)).toBeGreaterThan(0.4);
    expect(formatBenchResult(r)).toContain('bottleneck: the client');
  }, 30_000);

  it.each(['simple', 'prepared'] as const)(
    'the postgres plugin reports wire times (%s): written at uncork, answered at the read, inside the call',
    async (protocol) => {
      const url = db.url();
      if (url === null) return;
      const s = await createPostgresPlugin().connect({ url }, { protocol });
      try {
        await expectSleepWireTimes(s);
        await expectFailedWireTimes(s);
      } finally {
        await s.close();
      }
    },
    30_000,
  );

  it('closed loop: latency is service time, no lag', async () => {
    const url = db.url();
    if (url === null) return;
    const r = await runSleeps({
      url,
      sleeps: 3,
      seconds: 0.02,
      session: () => 's',
      mode: 'closed',
    });
    const [t] = r.templates;
    expect(t?.scheduleLagMs).toBeUndefined();
    expect(r.scheduleLagMs).toBeUndefined();
    expect(t?.serviceMs).toEqual(t?.latencyMs);
    expect(lagShare(r)).toBeUndefined();
  }, 30_000);

  it("replay: a gap the log's time resolution cannot tell from none is not waited, within one step of the log's clock", async () => {
    const url = db.url();
    if (url === null) return;
    await queryRows(
      'postgres',
      url,
      'CREATE TABLE IF NOT EXISTS chained_t (k int, at timestamptz); TRUNCATE chained_t',
    );
    const ins = template(
      'postgres',
      'INSERT INTO chained_t VALUES ($1, clock_timestamp())',
      'INSERT',
    );
    // a log stamped every 50 ms, every statement 0.1 ms long: 8 pairs 100 ms apart whose second
    // statement came 45 ms after the first one's end (no more than the stamps' rounding), then a
    // run of 10 statements 45 ms apart, then one 100 ms after
    const gapsUs = [
      ...Array.from({ length: 8 }, (_, g) => [
        g === 0 ? 0 : 100_000,
        45_000,
      ]).flat(),
      100_000,
      ...Array.from({ length: 9 }, () => 45_000),
      100_000,
    ];
    const b = new TraceBuilder('postgres');
    let at = 1_700_000_000_000_000;
    gapsUs.forEach((gap, k) => {
      b.add('s', ins, [{ t: 'int', v: k }]);
      const ev = b.events.at(-1) as { startUs: number; durationUs?: number };
      at += gap;
      ev.startUs = at;
      ev.durationUs = 100;
      at += 100;
    });
    const trace = b.trace();
    const r = await runBench(
      { ...trace, header: { ...trace.header, timeResolutionUs: 50_000 } },
      { target: url, mode: 'replay', connections: 1, workers: 0 },
    );
    expect(r.overall.errors).toBe(0);
    const rows = await queryRows<{ gap: number | null }>(
      'postgres',
      url,
      'SELECT EXTRACT(EPOCH FROM at - lag(at) OVER (ORDER BY k)) * 1000 AS gap FROM chained_t ORDER BY k',
    );
    const gaps = rows.map((x) => Number(x.gap));
    expect(gaps).toHaveLength(gapsUs.length);
    // each pair's second statement starts when the first completes, not 45 ms later (the
    // median of 8: a first statement on a new backend can take milliseconds)
    const paired = Array.from(
      { length: 8 },
      (_, g) => gaps[2 * g + 1] as number,
    );
    expect(paired.sort((x, y) => x - y)[4]).toBeLessThan(22.5);
    // a run of short gaps takes the time the log says (9 × 45.1 ms), to within one step (and
    // the lag its first statement started with): chained without that bound, a few ms each
    const run = gaps.slice(17, 26).reduce((x, y) => x + y, 0);
    expect(run).toBeGreaterThan(200);
    // the resolved gap keeps the log's clock: its offset is 100 ms after the last one's end
    expect(gaps[26]).toBeGreaterThan(80);
  }, 30_000);
});

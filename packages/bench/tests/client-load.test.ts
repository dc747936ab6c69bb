import { BenchResult, CLIENT_BOUND_BUSY_SHARE } from '@stb/core';
import type { Registry } from 'prom-client';
import { formatBenchResult } from '../src/format';
import { createMetricsRegistry, startMetricsServer } from '../src/metrics';
import { runBench } from '../src/runner';
import { usePgDatabase } from './helpers/db';
import { TraceBuilder, template } from './helpers/trace';

// The result's `client` block (version 3): the runner's own CPU and its busiest thread, on real
// databases. A closed loop of pg_sleep statements leaves the runner idle; a closed loop on the
// in-memory SQLite, whose driver answers synchronously, keeps its one thread busy, and the
// summary then names the client. The bounds are set by pg_sleep and by the synchronous driver,
// not by how fast this machine is.
const db = usePgDatabase();

/** A closed loop of `n` pg_sleep(`seconds`) statements over `sessions` sessions, read back. */
async function sleeps(
  url: string,
  o: {
    n: number;
    seconds: number;
    sessions: number;
    workers: number;
    registry?: Registry;
  },
): Promise<BenchResult> {
  const sleep = template('postgres', 'SELECT pg_sleep($1)', 'SELECT');
  const b = new TraceBuilder('postgres');
  for (let i = 0; i < o.n; i++)
    b.add(`s${i % o.sessions}`, sleep, [{ t: 'float', v: o.seconds }]);
  return roundTrip(
    await runBench(b.trace(), {
      target: url,
      mode: 'closed',
      connections: o.sessions,
      workers: o.workers,
      ...(o.registry ? { registry: o.registry } : {}),
    }),
  );
}

/** `n` in-memory SQLite selects over 4 sessions: the synchronous driver keeps the runner busy. */
function selects(n: number): TraceBuilder {
  const select = template('postgres', 'SELECT $1 + 1', 'SELECT');
  const b = new TraceBuilder('postgres');
  for (let i = 0; i < n; i++) b.add(`s${i % 4}`, select, [{ t: 'int', v: i }]);
  return b;
}

/** A result as written to disk and read back. */
const roundTrip = (r: unknown): BenchResult =>
  BenchResult.parse(JSON.parse(JSON.stringify(r)));

describe('client load in the result', () => {
  it('a pg_sleep closed loop: the runner thread mostly waits, and the summary does not blame the client', async () => {
    const url = db.url();
    if (url === null) return;
    const r = await sleeps(url, {
      n: 6,
      seconds: 0.1,
      sessions: 1,
      workers: 0,
    });
    const c = r.client;
    expect(c).toBeDefined();
    expect(c?.queries).toBe(6);
    expect(c?.threads).toBe(1);
    expect(c?.cpuSeconds).toBeGreaterThan(0);
    // cpuSeconds is rounded to the ms: per statement that is at most 0.5 ms / 6 apart
    expect(
      Math.abs((c?.cpuPerQueryUs ?? 0) - ((c?.cpuSeconds ?? 0) * 1e6) / 6),
    ).toBeLessThanOrEqual(500 / 6 + 0.01);
    // 600 ms of sleeping on the server against a few ms of work here
    expect(c?.busiestThreadShare).toBeLessThan(0.5);
    const text = formatBenchResult(r);
    expect(text).toMatch(/client: [\d.]+ CPU s for 6 queries/);
    expect(text).not.toContain('bottleneck: the client');
  }, 30_000);

  it('worker lanes report each worker thread, and the busiest is kept', async () => {
    const url = db.url();
    if (url === null) return;
    // 400 ms of sleeping, so one-off work in a thread (a first compilation) stays a small share
    const r = await sleeps(url, {
      n: 16,
      seconds: 0.1,
      sessions: 4,
      workers: 2,
    });
    expect(r.client?.threads).toBe(2);
    expect(r.client?.queries).toBe(16);
    expect(r.client?.busiestThreadShare).toBeGreaterThanOrEqual(0);
    expect(r.client?.busiestThreadShare).toBeLessThan(0.5);
  }, 60_000);

  it('a closed loop on a synchronous driver keeps the runner busy, and the summary names the client', async () => {
    const b = selects(20_000);
    const r = roundTrip(
      await runBench(b.trace(), { target: 'sqlite::memory:', mode: 'closed' }),
    );
    expect(r.client?.queries).toBe(20_000);
    expect(r.client?.threads).toBe(1);
    expect(r.client?.busiestThreadShare).toBeGreaterThan(
      CLIENT_BOUND_BUSY_SHARE,
    );
    expect(formatBenchResult(r)).toMatch(
      /bottleneck: the client\. A runner thread was busy \d+% of the run, so the throughput is the load generator’s/,
    );
    // the way out for PostgreSQL's JavaScript plugins: the native closed loop
    expect(formatBenchResult(r)).not.toContain('postgres+native://');
    for (const plugin of ['postgres', 'pg-lean'])
      expect(formatBenchResult(withPlugin(r, plugin))).toContain(
        '--target postgres+native://… (the pg-native plugin',
      );
    expect(formatBenchResult(withPlugin(r, 'pg-native'))).not.toContain(
      'postgres+native://',
    );
  }, 30_000);

  it('a dry run has no client block', async () => {
    const select = template('postgres', 'SELECT $1 + 1', 'SELECT');
    const b = new TraceBuilder('postgres');
    b.add('s', select, [{ t: 'int', v: 1 }]);
    const r = roundTrip(
      await runBench(b.trace(), { target: 'sqlite::memory:', dryRun: true }),
    );
    expect(r.client).toBeUndefined();
  }, 30_000);
});

/** The result as if another plugin had run it. */
function withPlugin(r: BenchResult, plugin: string): BenchResult {
  return {
    ...r,
    context: { ...r.context, target: { ...r.context.target, plugin } },
  };
}

describe('client load on /metrics', () => {
  /** Runs with a registry served over HTTP and returns the result and the scraped text. */
  async function scraped(
    run: (registry: Registry) => Promise<BenchResult>,
  ): Promise<{ r: BenchResult; text: string }> {
    const registry = createMetricsRegistry();
    const server = await startMetricsServer(registry, { port: 0 });
    try {
      const r = roundTrip(await run(registry));
      const res = await fetch(server.url);
      expect(res.status).toBe(200);
      return { r, text: await res.text() };
    } finally {
      await server.close();
    }
  }
  const value = (text: string, name: string): number => {
    const m = new RegExp(`^${name} ([\\d.e+-]+)$`, 'm').exec(text);
    if (!m) throw new Error(`${name} is not in the scrape`);
    return Number(m[1]);
  };

  it('a client-bound closed loop shows a busy runner thread and the CPU it used', async () => {
    const b = selects(400_000);
    const { r, text } = await scraped((registry) =>
      runBench(b.trace(), {
        target: 'sqlite::memory:',
        mode: 'closed',
        durationSeconds: 1.6,
        registry,
      }),
    );
    expect(r.status).toBe('stopped');
    expect(value(text, 'stb_bench_client_busy_ratio')).toBeGreaterThan(
      CLIENT_BOUND_BUSY_SHARE,
    );
    // the same process CPU the result's block counts, sampled over the same stretch
    const cpu = value(text, 'stb_bench_client_cpu_seconds_total');
    const own = r.client?.cpuSeconds ?? 0;
    expect(cpu).toBeGreaterThan(0.5 * own);
    expect(cpu).toBeLessThan(1.5 * own + 0.05);
  }, 60_000);

  it('a pg_sleep loop shows an idle runner', async () => {
    const url = db.url();
    if (url === null) return;
    const { r, text } = await scraped((registry) =>
      sleeps(url, { n: 6, seconds: 0.1, sessions: 1, workers: 0, registry }),
    );
    expect(r.overall.count).toBe(6);
    expect(value(text, 'stb_bench_client_busy_ratio')).toBeLessThan(0.5);
    expect(value(text, 'stb_bench_client_cpu_seconds_total')).toBeGreaterThan(
      0,
    );
  }, 30_000);
});

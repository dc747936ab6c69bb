import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { Registry } from 'prom-client';
import { BenchResult } from '@stb/core';
import { BENCH_METRIC_NAMES, startMetricsServer } from '../src/metrics';
import { createBenchRunner, runBench } from '../src/runner';
import { createPgDatabase } from './helpers/db';
import { TraceBuilder, template } from './helpers/trace';

const required = process.env['STB_REQUIRE_DB'] === '1';
let db: Awaited<ReturnType<typeof createPgDatabase>> = null;
beforeAll(async () => {
  db = await createPgDatabase();
}, 30_000);
afterAll(async () => {
  await db?.drop();
}, 30_000);

const one = template('postgres', 'SELECT $1::int AS x', 'SELECT');
const sleep = template('postgres', 'SELECT pg_sleep($1)', 'SELECT');

function hasPromtool(): boolean {
  return spawnSync('sh', ['-c', 'command -v promtool']).status === 0;
}

describe('postgres runtime behaviour', () => {
  it('serves metrics over HTTP during a run that pass promtool check metrics', async () => {
    if (!db) return;
    const b = new TraceBuilder('postgres');
    for (let i = 0; i < 3000; i++)
      b.add(`s${i % 4}`, one, [{ t: 'int', v: i }]);
    const registry = new Registry();
    const server = await startMetricsServer(registry, { port: 0 });
    let scraped = '';
    try {
      const run = createBenchRunner(b.trace(), {
        target: db.url,
        mode: 'open',
        rate: 1500,
        arrival: 'uniform',
        connections: 2,
        workers: 1,
        registry,
      });
      for (let i = 0; i < 100 && scraped === ''; i++) {
        await new Promise((r) => setTimeout(r, 50));
        const text = await (await fetch(server.url)).text();
        if (
          /stb_bench_queries_total\{[^}]*outcome="ok"[^}]*\} [1-9]/.test(text)
        )
          scraped = text;
      }
      const result = await run.result;
      expect(result.overall.count).toBe(3000);
    } finally {
      await server.close();
    }
    expect(scraped).not.toBe('');
    for (const name of BENCH_METRIC_NAMES)
      expect(scraped).toContain(`# TYPE ${name}`);
    expect(scraped).toMatch(/stb_bench_schedule_lag_seconds_count [1-9]/);
    if (!hasPromtool()) {
      if (required)
        throw new Error('promtool is missing (apt-get install prometheus)');
      console.warn(
        '[bench tests] promtool not installed; skipping `promtool check metrics`',
      );
      return;
    }
    const out = spawnSync('promtool', ['check', 'metrics'], {
      input: scraped,
      encoding: 'utf8',
    });
    expect(out.stdout + out.stderr).toBe('');
    expect(out.status).toBe(0);
  }, 60_000);

  it('survives pg_terminate_backend mid-run: errors by class, reconnects, the run goes on', async () => {
    if (!db) return;
    const url = db.url;
    const b = new TraceBuilder('postgres');
    const total = 12_000;
    for (let i = 0; i < total; i++)
      b.add(`s${i % 4}`, one, [{ t: 'int', v: i }]);
    let killed = false;
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      const kill = async (): Promise<void> => {
        await admin.query(
          "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'stb-bench'",
        );
      };
      // set in the progress callback: typed so that the await below is not narrowed to null
      let pending = null as Promise<void> | null;
      const result = await runBench(b.trace(), {
        target: url,
        mode: 'closed',
        connections: 4,
        workers: 2,
        progressIntervalMs: 20,
        onProgress: (p) => {
          if (!killed && p.queries > 1000) {
            killed = true;
            pending = kill();
          }
        },
      });
      await pending;
      expect(killed).toBe(true);
      expect(result.status).toBe('completed');
      expect(result.overall.count).toBe(total);
      expect(result.overall.errors).toBeGreaterThanOrEqual(1);
      expect(result.overall.errors).toBeLessThanOrEqual(4);
      for (const cls of Object.keys(result.overall.errorsByClass))
        expect(['57', 'connection', '08']).toContain(cls);
      expect(result.faults.reconnects).toBeGreaterThanOrEqual(1);
      expect(result.faults.incidents.some((i) => i.kind === 'reconnect')).toBe(
        true,
      );
      expect(result.sessions).toEqual({
        total: 4,
        completed: 4,
        aborted: 0,
        gaveUp: 0,
      });
    } finally {
      await admin.end();
    }
  }, 60_000);

  it('open loop latency includes the queueing behind a slow query (no coordinated omission)', async () => {
    if (!db) return;
    const b = new TraceBuilder('postgres');
    for (let i = 0; i < 300; i++) {
      if (i === 20) b.add('only', sleep, [{ t: 'float', v: 0.5 }]);
      else b.add('only', one, [{ t: 'int', v: i }]);
    }
    const result = await runBench(b.trace(), {
      target: db.url,
      mode: 'open',
      rate: 200,
      arrival: 'uniform',
      connections: 1,
      workers: 1,
    });
    expect(result.overall.count).toBe(300);
    const fast = result.templates.find((t) => t.templateId === one.id);
    // ~100 fast queries were due while pg_sleep(0.5) held the connection: their latency from the
    // intended start spans 0..500 ms, so the 90th percentile is far above a SELECT's service time.
    expect(fast?.latencyMs.p90).toBeGreaterThan(100);
    expect(fast?.latencyMs.max).toBeGreaterThan(400);
    expect(result.overall.latencyMs.max).toBeGreaterThanOrEqual(500);
    expect(result.scheduleLagMs?.max).toBeGreaterThan(400);
  }, 60_000);

  it('writes results that validate against the core schema and redact credentials', async () => {
    if (!db) return;
    const b = new TraceBuilder('postgres');
    b.add('a', one, [{ t: 'int', v: 1 }]);
    const withPassword = db.url.replace('postgres@', 'postgres:secret@');
    const result = await runBench(b.trace(), {
      target: withPassword,
      mode: 'closed',
      workers: 0,
    });
    expect(BenchResult.parse(result)).toBeTruthy();
    expect(JSON.stringify(result)).not.toContain('secret');
    expect(result.context.target.serverVersion).toMatch(/^PostgreSQL \d+/);
  }, 30_000);
});

describe('deploy/grafana/stb-dashboard.json', () => {
  it('is valid JSON and references only metrics the runner exports', () => {
    const file = path.resolve(
      __dirname,
      '../../../deploy/grafana/stb-dashboard.json',
    );
    const dash = JSON.parse(readFileSync(file, 'utf8')) as {
      panels: { title: string; targets: { expr: string }[] }[];
    };
    const exprs = dash.panels.flatMap((p) => p.targets.map((t) => t.expr));
    const used = new Set(
      exprs.flatMap((e) =>
        [...e.matchAll(/\b(stb_[a-z_]+)/g)].map((m) =>
          (m[1] as string).replace(/_(bucket|sum|count)$/, ''),
        ),
      ),
    );
    for (const name of used) expect(BENCH_METRIC_NAMES).toContain(name);
    for (const needed of [
      'stb_bench_queries_total',
      'stb_bench_query_duration_seconds',
      'stb_bench_schedule_lag_seconds',
    ])
      expect(used).toContain(needed);
    const titles = dash.panels.map((p) => p.title.toLowerCase()).join('|');
    for (const w of [
      'queries per second',
      'p99',
      'error',
      'schedule lag',
      'per template',
    ])
      expect(titles).toContain(w);
  });
});

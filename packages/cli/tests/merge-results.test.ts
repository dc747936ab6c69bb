// Issue 21: n = 4 sharded `stb bench` runs against PostgreSQL, merged with `stb merge-results`,
// give the per-template counts of one unsharded run of the same trace, and percentiles equal to
// one histogram of every execution (exact HDR merge); the merged result feeds `stb compare`.
import {
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as hdr from 'hdr-histogram-js';
import { Client } from 'pg';
import { BenchResult, computeTemplateId } from '@stb/core';
import { PG_TRACE_HEADER, runStb } from './helpers';

const dir = mkdtempSync(path.join(tmpdir(), 'stb-cli-merge-results-'));
const dbName = `stb_test_${Math.random().toString(36).slice(2, 10)}`;
const admin = 'postgres://postgres@127.0.0.1:5432/postgres';
const target = `postgres://postgres@127.0.0.1:5432/${dbName}`;
const N = 4;
let reachable = true;

const tpl = (text: string, queryType: string) => ({
  kind: 'template',
  id: computeTemplateId('postgres', text),
  text,
  queryType,
  tables: ['kv'],
  slots: [],
});
const ins = tpl('INSERT INTO kv (id, v) VALUES ($1, $2)', 'INSERT');
const sel = tpl('SELECT v FROM kv WHERE id = $1', 'SELECT');
const upd = tpl('UPDATE kv SET v = v + 1 WHERE id = $1', 'UPDATE');

/** 24 sessions of 30 statement triples (insert, select, update) on their own keys. */
function writeTrace(file: string): void {
  const lines: unknown[] = [PG_TRACE_HEADER, ins, sel, upd];
  let t = 1_700_000_000_000_000;
  for (let i = 0; i < 30; i++)
    for (let s = 0; s < 24; s++) {
      const id = s * 10_000 + i;
      const sessionId = `s${s}`;
      const p = [{ t: 'int', v: id }];
      lines.push(
        {
          kind: 'event',
          startUs: (t += 100),
          sessionId,
          templateId: ins.id,
          params: [...p, { t: 'int', v: i }],
        },
        {
          kind: 'event',
          startUs: (t += 100),
          sessionId,
          templateId: sel.id,
          params: p,
        },
        {
          kind: 'event',
          startUs: (t += 100),
          sessionId,
          templateId: upd.id,
          params: p,
        },
      );
    }
  writeFileSync(file, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
}

const at = (f: string): string => path.join(dir, f);
const read = (f: string): BenchResult =>
  BenchResult.parse(JSON.parse(readFileSync(at(f), 'utf8')));

async function sql(url: string, text: string): Promise<void> {
  const c = new Client({
    connectionString: url,
    connectionTimeoutMillis: 5000,
  });
  await c.connect();
  try {
    await c.query(text);
  } finally {
    await c.end();
  }
}

async function bench(out: string, extra: string[] = []): Promise<void> {
  const r = await runStb([
    'bench',
    '-q',
    '-i',
    at('trace.jsonl'),
    '-t',
    target,
    '--mode',
    'closed',
    '-c',
    '4',
    '--no-metrics',
    ...extra,
    '-o',
    at(out),
  ]);
  if (r.code !== 0) throw new Error(`stb bench exited ${r.code}: ${r.stderr}`);
}

beforeAll(async () => {
  try {
    await sql(admin, `CREATE DATABASE ${dbName}`);
  } catch (err) {
    if (process.env['STB_REQUIRE_DB'] === '1') throw err;
    reachable = false;
    console.warn(
      `PostgreSQL unreachable on 127.0.0.1:5432; skipping: ${String(err)}`,
    );
    return;
  }
  writeTrace(at('trace.jsonl'));
  await sql(target, 'CREATE TABLE kv (id int PRIMARY KEY, v int)');
  await bench('full.json');
  await sql(target, 'TRUNCATE kv');
  // the shards run at once, as on n machines: their sessions own disjoint keys
  await Promise.all(
    Array.from({ length: N }, (_, i) =>
      bench(`shard-${i}.json`, ['--shard', `${i}/${N}`]),
    ),
  );
  const r = await runStb([
    'merge-results',
    ...Array.from({ length: N }, (_, i) => at(`shard-${N - 1 - i}.json`)),
    '-o',
    at('merged.json'),
  ]);
  if (r.code !== 0)
    throw new Error(`merge-results exited ${r.code}: ${r.stderr}`);
}, 180_000);

afterAll(async () => {
  if (reachable)
    await sql(admin, `DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  rmSync(dir, { recursive: true, force: true });
});

describe('issue 21: merged sharded bench results', () => {
  it('have the per-template counts of one unsharded run', () => {
    if (!reachable) return;
    const full = read('full.json');
    const merged = read('merged.json');
    const counts = (r: BenchResult) =>
      Object.fromEntries(
        r.templates.map((t) => [
          t.templateId,
          [t.count, t.ok, t.errors, t.rows],
        ]),
      );
    expect(merged.overall.count).toBe(24 * 30 * 3);
    expect(counts(merged)).toEqual(counts(full));
    expect(merged.sessions.total).toBe(full.sessions.total);
    for (let i = 0; i < N; i++)
      expect(read(`shard-${i}.json`).overall.count).toBeGreaterThan(0);
  });

  it('have the percentiles of one histogram of every execution', () => {
    if (!reachable) return;
    const merged = read('merged.json');
    const shards = Array.from({ length: N }, (_, i) => read(`shard-${i}.json`));
    const check = (
      got: BenchResult['overall'],
      parts: BenchResult['overall'][],
    ): void => {
      // the runner's histogram settings (packages/bench/src/internal/stats.ts)
      const h = hdr.build({
        lowestDiscernibleValue: 1,
        highestTrackableValue: 60_000_000_000,
        numberOfSignificantValueDigits: 3,
        autoResize: true,
      });
      for (const p of parts)
        if (p.latencyHistogramNs)
          h.add(hdr.decodeFromCompressedBase64(p.latencyHistogramNs));
      const ms = (ns: number): number => Math.round(ns / 1000) / 1000;
      expect(got.latencyMs.count).toBe(h.totalCount);
      expect(got.latencyMs.p50).toBe(ms(h.getValueAtPercentile(50)));
      expect(got.latencyMs.p90).toBe(ms(h.getValueAtPercentile(90)));
      expect(got.latencyMs.p99).toBe(ms(h.getValueAtPercentile(99)));
      expect(got.latencyMs.p999).toBe(ms(h.getValueAtPercentile(99.9)));
      expect(got.latencyMs.max).toBe(ms(h.maxValue));
    };
    check(
      merged.overall,
      shards.map((s) => s.overall),
    );
    for (const t of merged.templates)
      check(
        t,
        shards.flatMap((s) =>
          s.templates.filter((x) => x.templateId === t.templateId),
        ),
      );
  });

  it('add up the shards’ time windows at the widest shard’s width', () => {
    if (!reachable) return;
    const merged = read('merged.json');
    const shards = Array.from({ length: N }, (_, i) => read(`shard-${i}.json`));
    const w = merged.overall.latencyWindows;
    expect(w).toBeDefined();
    expect(w?.widthMs).toBe(
      Math.max(...shards.map((s) => s.overall.latencyWindows?.widthMs ?? 0)),
    );
    const total = (w?.windows ?? []).flat().reduce((a, [, n]) => a + n, 0);
    expect(total).toBe(merged.overall.count);
  });

  it('add up the shards’ client load (CPU, statements, threads) and keep the busiest thread and the longest CPU wait', () => {
    if (!reachable) return;
    const merged = read('merged.json');
    const shards = Array.from({ length: N }, (_, i) => read(`shard-${i}.json`));
    const clients = shards.map((s) => s.client);
    expect(clients.every((c) => c !== undefined && c.queries > 0)).toBe(true);
    const sum = (f: (c: NonNullable<BenchResult['client']>) => number) =>
      clients.reduce((a, c) => a + (c ? f(c) : 0), 0);
    expect(merged.client?.queries).toBe(sum((c) => c.queries));
    expect(merged.client?.threads).toBe(sum((c) => c.threads));
    expect(merged.client?.cpuSeconds).toBeCloseTo(
      sum((c) => c.cpuSeconds),
      2,
    );
    expect(merged.client?.busiestThreadShare).toBe(
      Math.max(...clients.map((c) => c?.busiestThreadShare ?? 0)),
    );
    // Linux gives every shard its wait for a CPU; the merge keeps the longest
    const waits = clients.flatMap((c) =>
      c?.cpuWaitShare === undefined ? [] : [c.cpuWaitShare],
    );
    if (process.platform === 'linux') expect(waits).toHaveLength(N);
    expect(merged.client?.cpuWaitShare).toBe(
      waits.length > 0 ? Math.max(...waits) : undefined,
    );
  });

  it('reports QPS over the union of the shards’ windows and feeds stb compare', async () => {
    if (!reachable) return;
    const merged = read('merged.json');
    const shards = Array.from({ length: N }, (_, i) => read(`shard-${i}.json`));
    const longest = Math.max(...shards.map((s) => s.durationSeconds));
    const total = shards.reduce((a, s) => a + s.durationSeconds, 0);
    expect(merged.durationSeconds).toBeGreaterThanOrEqual(longest - 1e-9);
    expect(merged.durationSeconds).toBeLessThanOrEqual(total + 1e-9);
    expect(merged.overall.qps).toBeCloseTo(
      merged.overall.count / merged.durationSeconds,
      1,
    );
    const r = await runStb(['compare', at('full.json'), at('merged.json')]);
    expect([0, 1]).toContain(r.code);
  });

  it('refuses a missing shard and a result of another trace', async () => {
    if (!reachable) return;
    let r = await runStb([
      'merge-results',
      at('shard-0.json'),
      at('shard-1.json'),
      '-o',
      at('x.json'),
    ]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^\[stb\] \[bench\] Shard 2\/4, 3\/4 missing/m);
    r = await runStb([
      'merge-results',
      at('shard-0.json'),
      at('full.json'),
      '-o',
      at('x.json'),
    ]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/shard count/);
  });

  it('refuses a shard whose latency histogram was damaged, with exit 3', async () => {
    if (!reachable) return;
    const shard = JSON.parse(readFileSync(at('shard-1.json'), 'utf8')) as {
      overall: { latencyHistogramNs: string };
    };
    shard.overall.latencyHistogramNs = `${shard.overall.latencyHistogramNs.slice(0, -4)}!!!!`;
    writeFileSync(at('damaged-1.json'), JSON.stringify(shard));
    const r = await runStb([
      'merge-results',
      ...[0, 2, 3].map((i) => at(`shard-${i}.json`)),
      at('damaged-1.json'),
      '-o',
      at('y.json'),
    ]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(
      /^\[stb\] \[bench\] A latency histogram of the results to merge cannot be decoded \(Invalid base64 string\)/m,
    );
    expect(existsSync(at('y.json'))).toBe(false);
  });
});

// Replay schedule lag: how late queries start against their scheduled time, at 1,000 and 5,000
// queries/s, on SQLite in memory and the shared PostgreSQL. Build first:
// (cd packages/core && npx tsup) && (cd packages/bench && npx tsup).
// Prints progress to stderr and one JSON object as the last stdout line.
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import pg from 'pg';
import { TemplateCatalog, computeTemplateId, createRng } from '@stb/core';
// STB_BENCH_DIST=path/to/dist/index.js compares another build of the runner
const { runBench } = await import(
  process.env.STB_BENCH_DIST ? new URL(process.env.STB_BENCH_DIST, `file://${process.cwd()}/`).href : '@stb/bench'
);

const SECONDS = Number(process.env.SECONDS_PER_RUN ?? 5);
const RATES = (process.env.RATES ?? '1000,5000').split(',').map(Number);
const SESSIONS = Number(process.env.SESSIONS ?? 8);
const ONLY = process.env.ONLY ?? 'sqlite,postgres';
const SPIN = process.env.SPIN_MS === undefined ? undefined : Number(process.env.SPIN_MS);
const WORKERS = process.env.WORKERS === undefined ? undefined : Number(process.env.WORKERS);
const ADMIN = 'postgres://postgres@127.0.0.1:5432/postgres';
const log = (m) => process.stderr.write(`[replay-lag] ${m}\n`);

async function admin(sql) {
  const c = new pg.Client({ connectionString: ADMIN });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

/** `rate` queries/s spread over `sessions` sessions, jittered arrivals (seeded), for `seconds`. */
function replayTrace({ sql, rate, sessions, seconds, keys }) {
  const tpl = { kind: 'template', id: computeTemplateId('postgres', sql), text: sql, queryType: 'SELECT', tables: [], slots: [] };
  const rng = createRng(42);
  const n = Math.round(rate * seconds);
  async function* events() {
    let t = 1_700_000_000_000_000;
    for (let i = 0; i < n; i++) {
      t += Math.round(-Math.log(1 - rng.next()) * (1e6 / rate));
      yield { kind: 'event', startUs: t, sessionId: `s${rng.int(sessions)}`, templateId: tpl.id, params: [{ t: 'int', v: 1 + rng.int(keys) }] };
    }
  }
  return { templates: new TemplateCatalog([tpl]), events: events() };
}

async function measure(name, target, extra, rate) {
  const load = loadavg()[0].toFixed(2);
  const eld = monitorEventLoopDelay({ resolution: 1 });
  eld.enable();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const r = await runBench(replayTrace({ ...extra.trace, rate, sessions: SESSIONS, seconds: SECONDS }), {
    target, mode: 'replay', connections: SESSIONS, warmupSeconds: 0.5, ...extra.options,
    ...(SPIN !== undefined ? { scheduleSpinMs: SPIN } : {}),
    ...(WORKERS !== undefined ? { workers: WORKERS } : {}),
  });
  const cpu = process.cpuUsage(cpu0);
  eld.disable();
  const loopP99 = eld.percentile(99) / 1e6;
  const cpuShare = (cpu.user + cpu.system) / 1000 / (performance.now() - t0);
  const lag = r.scheduleLagMs;
  log(`${name} @ ${rate} q/s: lag p50 ${lag?.p50} ms p99 ${lag?.p99} ms max ${lag?.max} ms; latency p99 ${r.overall.latencyMs.p99} ms; ${r.overall.qps} q/s; client CPU ${(cpuShare * 100).toFixed(0)}% of a core; event-loop delay p99 ${loopP99.toFixed(2)} ms (load ${load})`);
  return { name, rate, lag, qps: r.overall.qps, load, cpuShare, loopP99 };
}

const rows = [];
const raw = [];
const dbName = `stb_test_lag_${randomBytes(4).toString('hex')}`;
const pgUrl = `postgres://postgres@127.0.0.1:5432/${dbName}`;
const SETUP = 'CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER); INSERT INTO t SELECT x, x FROM (WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000) SELECT x FROM c) s;';
try {
  const targets = [];
  if (ONLY.includes('sqlite'))
    targets.push(['SQLite in memory', 'sqlite::memory:', { trace: { sql: 'SELECT v FROM t WHERE id = $1', keys: 1000 }, options: { setup: { name: 'setup.sql', sql: SETUP } } }]);
  if (ONLY.includes('postgres')) {
    await admin(`CREATE DATABASE ${dbName}`);
    targets.push(['PostgreSQL', pgUrl, { trace: { sql: 'SELECT v FROM t WHERE id = $1', keys: 1000 }, options: { setup: { name: 'setup.sql', sql: SETUP } } }]);
  }
  for (const [name, target, extra] of targets)
    for (const rate of RATES) {
      if (name === 'PostgreSQL') await admin(`DROP TABLE IF EXISTS t`).catch(() => undefined);
      const m = await measure(name, name === 'PostgreSQL' ? pgUrl : target, {
        ...extra,
        options: name === 'PostgreSQL' ? { ...extra.options, setup: { name: 'setup.sql', sql: `DROP TABLE IF EXISTS t; ${SETUP}` } } : extra.options,
      }, rate);
      raw.push(m);
      rows.push({ metric: `${name}, ${rate} q/s: schedule lag p50`, value: m.lag?.p50 ?? NaN, unit: 'ms' });
      rows.push({ metric: `${name}, ${rate} q/s: schedule lag p99`, value: m.lag?.p99 ?? NaN, unit: 'ms', ...(rate === 5000 ? { target: '<= 2' } : {}) });
    }
} finally {
  if (ONLY.includes('postgres')) await admin(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).catch(() => undefined);
}
console.log(JSON.stringify({
  title: '@stb/bench replay schedule lag',
  command: 'node packages/bench/bench/replay-lag.bench.mjs',
  rows,
  notes: `${SESSIONS} sessions on ${SESSIONS} connections, Poisson arrivals, ${SECONDS} s per run after a 0.5 s warmup, default workers (inline on 2 cores). Busy shared 2-core machine; 1-minute load averages at each run start: ${raw.map((r) => `${r.name}@${r.rate}: ${r.load}`).join(', ')}.`,
}));

// Replay schedule lag: how late queries start against their scheduled time, at 1,000 and 5,000
// queries/s, on SQLite in memory and the shared PostgreSQL (through `pg` and the lean wire path).
// Before each run, the machine's floor at the same rate: a bare thread that only sleeps to the
// same kind of deadlines (Atomics.wait to 50 µs before each, then a spin, as the alarm thread
// does) and wakes the main thread (Atomics.waitAsync), with no database and no other work. No
// design that sleeps between events and wakes an event loop can start statements earlier than
// that on this machine at that moment, so the floor is the reference for the lag figures.
// Build first: (cd packages/core && npx tsup) && (cd packages/bench && npx tsup).
// ONLY=sqlite,postgres,lean picks targets; RATES, SESSIONS, SPIN_MS, WORKERS, SECONDS_PER_RUN.
// Prints progress to stderr and one JSON object as the last stdout line.
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { TemplateCatalog, computeTemplateId, createRng } from '@stb/core';
import { admin } from './pg-shared.mjs';
// STB_BENCH_DIST=path/to/dist/index.js compares another build of the runner
const { runBench } = await import(
  process.env.STB_BENCH_DIST ? new URL(process.env.STB_BENCH_DIST, `file://${process.cwd()}/`).href : '@stb/bench'
);

const SECONDS = Number(process.env.SECONDS_PER_RUN ?? 5);
const RATES = (process.env.RATES ?? '1000,5000').split(',').map(Number);
const SESSIONS = Number(process.env.SESSIONS ?? 8);
const ONLY = process.env.ONLY ?? 'sqlite,postgres,lean';
const SPIN = process.env.SPIN_MS === undefined ? undefined : Number(process.env.SPIN_MS);
const WORKERS = process.env.WORKERS === undefined ? undefined : Number(process.env.WORKERS);
const log = (m) => process.stderr.write(`[replay-lag] ${m}\n`);

/**
 * The machine's floor at `rate` deadlines/s for `seconds` (Poisson, seeded): a worker thread sleeps
 * to 50 µs before each deadline, spins to it and wakes the main thread; lateness (ms) where the
 * thread got there and where the main thread's callback ran. The first 10 % is left out (warm-up).
 */
async function floorLag(rate, seconds) {
  const n = Math.round(rate * seconds);
  const sab = new SharedArrayBuffer(16 + n * 16);
  const i32 = new Int32Array(sab, 0, 4);
  const due = new Float64Array(sab, 16, n);
  const atThread = new Float64Array(sab, 16 + n * 8, n);
  const w = new Worker(
    `const { workerData: { sab, n } } = require('node:worker_threads');
const i32 = new Int32Array(sab, 0, 4), due = new Float64Array(sab, 16, n), at = new Float64Array(sab, 16 + n * 8, n);
const now = () => performance.timeOrigin + performance.now(), cell = new Int32Array(new SharedArrayBuffer(4));
Atomics.wait(i32, 2, 0);
for (let i = 0; i < n; i++) {
  const d = due[i], w = d - 0.05 - now();
  if (w > 0) Atomics.wait(cell, 0, 0, w);
  while (now() < d);
  at[i] = now() - d;
  Atomics.store(i32, 1, i + 1);
  Atomics.notify(i32, 1);
}`,
    { eval: true, workerData: { sab, n } },
  );
  await new Promise((r) => w.once('online', r));
  const rng = createRng(42);
  let t = performance.timeOrigin + performance.now() + 20;
  for (let i = 0; i < n; i++) due[i] = t += -Math.log(1 - rng.next()) * (1000 / rate);
  Atomics.store(i32, 2, 1);
  Atomics.notify(i32, 2);
  const atMain = new Float64Array(n);
  let seen = 0;
  await new Promise((resolve) => {
    const listen = () => {
      const r = Atomics.waitAsync(i32, 1, seen);
      (r.async ? r.value : Promise.resolve()).then(() => {
        const now = performance.timeOrigin + performance.now();
        for (const upto = Atomics.load(i32, 1); seen < upto; seen++) atMain[seen] = now - due[seen];
        if (seen >= n) resolve();
        else listen();
      });
    };
    listen();
  });
  await w.terminate();
  const q = (a, p) => {
    const s = Float64Array.from(a.subarray(Math.floor(n * 0.1))).sort();
    return Math.round(s[Math.floor(s.length * p)] * 1000) / 1000;
  };
  return { thread: { p50: q(atThread, 0.5), p99: q(atThread, 0.99) }, main: { p50: q(atMain, 0.5), p99: q(atMain, 0.99) } };
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
  const floor = await floorLag(rate, SECONDS);
  log(`machine floor @ ${rate}/s: thread p50 ${floor.thread.p50} p99 ${floor.thread.p99} ms, main thread p50 ${floor.main.p50} p99 ${floor.main.p99} ms`);
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
  return { name, rate, lag, qps: r.overall.qps, load, cpuShare, loopP99, floor };
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
  const pgTargets = [['PostgreSQL', pgUrl, 'postgres'], ['PostgreSQL (pg-lean)', pgUrl.replace('postgres:', 'postgres+lean:'), 'lean']].filter(([, , k]) => ONLY.split(',').includes(k));
  if (pgTargets.length > 0) await admin(`CREATE DATABASE ${dbName}`);
  for (const [name, url] of pgTargets)
    targets.push([name, url, { trace: { sql: 'SELECT v FROM t WHERE id = $1', keys: 1000 }, options: { setup: { name: 'setup.sql', sql: `DROP TABLE IF EXISTS t; ${SETUP}` } } }]);
  for (const [name, target, extra] of targets)
    for (const rate of RATES) {
      const m = await measure(name, target, extra, rate);
      raw.push(m);
      rows.push({ metric: `${name}, ${rate} q/s: schedule lag p50`, value: m.lag?.p50 ?? NaN, unit: 'ms', ...(rate === 5000 ? { target: '<= 0.05' } : {}) });
      rows.push({ metric: `${name}, ${rate} q/s: schedule lag p99`, value: m.lag?.p99 ?? NaN, unit: 'ms', ...(rate === 5000 ? { target: '<= 0.5' } : {}) });
      rows.push({ metric: `${name}, ${rate} q/s: client CPU`, value: Math.round(m.cpuShare * 1000) / 10, unit: '% of a core' });
      rows.push({ metric: `${name}, ${rate} q/s: machine floor just before (bare thread wakes the main thread) p50`, value: m.floor.main.p50, unit: 'ms' });
      rows.push({ metric: `${name}, ${rate} q/s: machine floor just before (bare thread wakes the main thread) p99`, value: m.floor.main.p99, unit: 'ms' });
    }
} finally {
  if (/postgres|lean/.test(ONLY)) await admin(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).catch(() => undefined);
}
console.log(JSON.stringify({
  title: '@stb/bench replay schedule lag',
  command: 'node packages/bench/bench/replay-lag.bench.mjs',
  rows,
  notes: `${SESSIONS} sessions on ${SESSIONS} connections, Poisson arrivals, ${SECONDS} s per run after a 0.5 s warmup, default workers (inline on 2 cores). Machine floor: a bare worker thread sleeping (Atomics.wait, 50 µs early, then a spin) to Poisson deadlines at the same rate for the same time and waking the main thread (Atomics.waitAsync), measured just before each run, lateness at the main thread. Busy shared 2-core machine; 1-minute load averages at each run start: ${raw.map((r) => `${r.name}@${r.rate}: ${r.load}`).join(', ')}.`,
}));

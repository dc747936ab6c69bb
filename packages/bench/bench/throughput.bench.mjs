// Throughput of `stb bench` against the bare driver and pgbench, replay schedule lag, and runner
// overhead on SQLite. Build first: (cd packages/core && npx tsup) && (cd packages/bench && npx tsup).
// Prints progress to stderr and one JSON object as the last stdout line.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import Database from 'better-sqlite3';
import { TemplateCatalog, computeTemplateId, createRng } from '@stb/core';
import { runBench } from '@stb/bench';
import { admin } from './pg-shared.mjs';

const ROUNDS = Number(process.env.ROUNDS ?? 5);
const SECONDS = Number(process.env.SECONDS_PER_RUN ?? 4);
const SCALE = Number(process.env.SCALE ?? 5);
const PGBIN = '/usr/lib/postgresql/15/bin';
const SQL = 'SELECT abalance FROM pgbench_accounts WHERE aid = $1';
const log = (m) => process.stderr.write(`[throughput] ${m}\n`);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2
    ? s[(s.length - 1) / 2]
    : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const dbName = `stb_test_bench_${randomBytes(4).toString('hex')}`;
const url = `postgres://postgres@127.0.0.1:5432/${dbName}`;
const accounts = SCALE * 100_000;

function pointTrace(opts) {
  const { sessions, perSession, stepUs = 0 } = opts;
  const tpl = {
    kind: 'template',
    id: computeTemplateId('postgres', SQL),
    text: SQL,
    queryType: 'SELECT',
    tables: ['pgbench_accounts'],
    slots: [],
  };
  const catalog = new TemplateCatalog([tpl]);
  const rng = createRng(42);
  const ids = Array.from({ length: sessions }, (_, s) => `c${s}`);
  async function* events() {
    let t = 1_700_000_000_000_000;
    for (let i = 0; i < perSession; i++)
      for (let s = 0; s < sessions; s++) {
        t += stepUs;
        yield {
          kind: 'event',
          startUs: t,
          sessionId: ids[s],
          templateId: tpl.id,
          params: [{ t: 'int', v: 1 + rng.int(accounts) }],
        };
      }
  }
  return { templates: catalog, events: events() };
}

async function runStb(workers) {
  const r = await runBench(
    pointTrace({ sessions: 8, perSession: 10_000_000 }),
    {
      target: url,
      mode: 'closed',
      connections: 8,
      workers,
      durationSeconds: SECONDS,
      warmupSeconds: 0.5,
    },
  );
  return r.overall.qps;
}

async function runBare() {
  const rng = createRng(7);
  const clients = await Promise.all(
    Array.from({ length: 8 }, async () => {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      return c;
    }),
  );
  let n = 0;
  const end = performance.now() + SECONDS * 1000;
  await Promise.all(
    clients.map(async (c) => {
      while (performance.now() < end) {
        await c.query({
          name: 'q',
          text: SQL,
          values: [1 + rng.int(accounts)],
        });
        n++;
      }
    }),
  );
  await Promise.all(clients.map((c) => c.end()));
  return n / SECONDS;
}

function runPgbench() {
  const out = execFileSync(
    `${PGBIN}/pgbench`,
    [
      '-h',
      '127.0.0.1',
      '-U',
      'postgres',
      '-S',
      '-c',
      '8',
      '-j',
      '2',
      '-M',
      'prepared',
      '-T',
      String(SECONDS),
      dbName,
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const m = /tps = ([\d.]+) \(without initial connection time\)/.exec(out);
  return Number(m?.[1] ?? NaN);
}

async function replayLag() {
  // 5,000 queries/s: 8 sessions, one event every 200 µs
  const r = await runBench(
    pointTrace({
      sessions: 8,
      perSession: Math.round((5000 * SECONDS) / 8),
      stepUs: 200,
    }),
    {
      target: url,
      mode: 'replay',
      connections: 8,
      warmupSeconds: 0.5,
    },
  );
  return {
    p99: r.scheduleLagMs?.p99 ?? NaN,
    p50: r.scheduleLagMs?.p50 ?? NaN,
    qps: r.overall.qps,
  };
}

async function sqliteOverhead() {
  const n = 300_000;
  const db = new Database(':memory:');
  db.exec(
    'CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER); WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000) INSERT INTO t SELECT x, x FROM c;',
  );
  const st = db.prepare('SELECT v FROM t WHERE id = ?');
  const rng = createRng(3);
  // CPU time too: on a loaded machine the wall clock counts other processes' turns
  const cpuUs = (c) => c.user + c.system;
  let c0 = process.cpuUsage();
  let t = performance.now();
  for (let i = 0; i < n; i++) st.all([1 + rng.int(1000)]);
  const bareUs = ((performance.now() - t) * 1000) / n;
  const bareCpuUs = cpuUs(process.cpuUsage(c0)) / n;
  db.close();
  const text = 'SELECT v FROM t WHERE id = $1';
  const tpl = {
    kind: 'template',
    id: computeTemplateId('postgres', text),
    text,
    queryType: 'SELECT',
    tables: ['t'],
    slots: [],
  };
  const r2 = createRng(3);
  async function* events() {
    for (let i = 0; i < n; i++)
      yield {
        kind: 'event',
        startUs: i,
        sessionId: 's',
        templateId: tpl.id,
        params: [{ t: 'int', v: 1 + r2.int(1000) }],
      };
  }
  c0 = process.cpuUsage();
  t = performance.now();
  const r = await runBench(
    { templates: new TemplateCatalog([tpl]), events: events() },
    {
      target: 'sqlite::memory:',
      mode: 'closed',
      setup: {
        name: 'setup.sql',
        sql: 'CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER); INSERT INTO t WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000) SELECT x, x FROM c;',
      },
    },
  );
  const stbUs = ((performance.now() - t) * 1000) / r.overall.count;
  const stbCpuUs = cpuUs(process.cpuUsage(c0)) / r.overall.count;
  return {
    bareUs,
    stbUs,
    overheadUs: stbUs - bareUs,
    cpuOverheadUs: stbCpuUs - bareCpuUs,
    count: r.overall.count,
  };
}

try {
  log(`creating ${dbName} (pgbench -i -s ${SCALE})`);
  await admin(`CREATE DATABASE ${dbName}`);
  execFileSync(
    `${PGBIN}/pgbench`,
    [
      '-i',
      '-q',
      '-s',
      String(SCALE),
      '-h',
      '127.0.0.1',
      '-U',
      'postgres',
      dbName,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const a = [],
    a0 = [],
    b = [],
    c = [];
  for (let i = 0; i < ROUNDS; i++) {
    const steps = [
      async () => {
        a.push(await runStb(1));
        log(`round ${i + 1}: stb (1 worker) ${a.at(-1).toFixed(0)} q/s`);
      },
      async () => {
        b.push(await runBare());
        log(`round ${i + 1}: bare pg ${b.at(-1).toFixed(0)} q/s`);
      },
      async () => {
        c.push(runPgbench());
        log(`round ${i + 1}: pgbench ${c.at(-1).toFixed(0)} q/s`);
      },
      async () => {
        a0.push(await runStb(0));
        log(`round ${i + 1}: stb (inline) ${a0.at(-1).toFixed(0)} q/s`);
      },
    ];
    // The order alternates from round to round, so that an order effect favours neither side.
    if (i % 2 === 1) steps.reverse();
    for (const step of steps) await step();
  }
  const lag = await replayLag();
  log(
    `replay at 5000 q/s: lag p50 ${lag.p50} ms p99 ${lag.p99} ms (achieved ${lag.qps} q/s)`,
  );
  const sq = await sqliteOverhead();
  log(
    `sqlite: bare ${sq.bareUs.toFixed(2)} µs/query, stb ${sq.stbUs.toFixed(2)} µs/query`,
  );
  const [ma, ma0, mb, mc] = [median(a), median(a0), median(b), median(c)];
  // the load on this shared machine drifts between rounds: a ratio within one round is steadier
  const perRound = b.map((x, i) => Math.max(a[i], a0[i]) / x);
  const rows = [
    {
      metric: '(a) stb bench closed loop, 8 connections, 1 worker (median)',
      value: Math.round(ma),
      unit: 'queries/s',
    },
    {
      metric: "(a') stb bench closed loop, 8 connections, inline (median)",
      value: Math.round(ma0),
      unit: 'queries/s',
    },
    {
      metric: '(b) bare pg loop, 8 clients, named prepared (median)',
      value: Math.round(mb),
      unit: 'queries/s',
    },
    {
      metric: '(c) pgbench -S -c 8 -j 2 -M prepared (median)',
      value: Math.round(mc),
      unit: 'queries/s',
    },
    {
      metric: '(a)/(b)',
      value: Math.round((Math.max(ma, ma0) / mb) * 1000) / 1000,
      unit: 'ratio',
      target: '>= 0.9',
    },
    {
      metric: '(a)/(b), median of per-round ratios',
      value: Math.round(median(perRound) * 1000) / 1000,
      unit: 'ratio',
      target: '>= 0.9',
    },
    {
      metric: '(a)/(c)',
      value: Math.round((Math.max(ma, ma0) / mc) * 1000) / 1000,
      unit: 'ratio',
    },
    {
      metric: 'replay schedule lag p99 at 5,000 queries/s',
      value: lag.p99,
      unit: 'ms',
      target: '<= 2',
    },
    {
      metric:
        'runner overhead per query, SQLite in memory (stb − bare better-sqlite3)',
      value: Math.round(sq.overheadUs * 100) / 100,
      unit: 'µs',
    },
    {
      metric:
        'runner CPU overhead per query, SQLite in memory (process CPU time, stb − bare)',
      value: Math.round(sq.cpuOverheadUs * 100) / 100,
      unit: 'µs',
    },
  ];
  console.log(
    JSON.stringify({
      title: '@stb/bench throughput',
      command: 'node packages/bench/bench/throughput.bench.mjs',
      rows,
      notes: `${ROUNDS} alternating rounds of ${SECONDS} s each, medians; pgbench scale ${SCALE}; client and server share the 2 cores. (a)/(b) and (a)/(c) use the better of the worker and inline runs. Per-round (a)/(b): ${perRound.map((r) => r.toFixed(3))}. Raw: stb ${a.map(Math.round)}, inline ${a0.map(Math.round)}, bare ${b.map(Math.round)}, pgbench ${c.map(Math.round)}.`,
    }),
  );
} finally {
  await admin(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).catch(
    () => undefined,
  );
}

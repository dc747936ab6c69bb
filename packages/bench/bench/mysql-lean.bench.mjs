// A lean MySQL wire path (issue 16, item 3): point selects by primary key, 8 connections, one
// statement in flight each, against the shared MariaDB: stb bench's `mysql` plugin (mysql2,
// `execute`, binary protocol), stb bench's `mysql-lean` plugin (`mysql+lean://`: its own
// COM_STMT_EXECUTE path, src/internal/mysql-wire.ts), a bare mysql2 `execute` loop, a hand-rolled
// COM_STMT_EXECUTE loop that writes only the parameter bytes per call and counts packets without
// decoding (mysql-wire-probe.mjs: the floor a lean path could reach in Node), and sysbench
// oltp_point_select (C, libmariadb, server-side prepared statements) as the competitor. Each run
// is its own process under /usr/bin/time; rounds alternate the order. Prints progress to stderr
// and one JSON object as the last stdout line. Build first (npm run bench does).
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROUNDS = Number(process.env.ROUNDS ?? 3);
const SECONDS = Number(process.env.SECONDS_PER_RUN ?? 5);
const WARMUP = Number(process.env.WARMUP_SECONDS ?? 1);
const ROWS = 100_000;
const DB = 'stb_bench_mylean';
const HOST = '127.0.0.1';
const PORT = 3306;
const SQL = 'SELECT c FROM sbtest1 WHERE id = ?';
const here = path.dirname(fileURLToPath(import.meta.url));
const pkg = path.resolve(here, '..');
const log = (m) => process.stderr.write(`[mysql-lean] ${m}\n`);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2
    ? s[(s.length - 1) / 2]
    : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function sh(cmd, args, o = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...o });
  if (r.status !== 0)
    throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return r;
}

const sysbenchArgs = (more) => [
  'oltp_point_select',
  `--mysql-host=${HOST}`,
  `--mysql-port=${PORT}`,
  '--mysql-user=root',
  `--mysql-db=${DB}`,
  '--tables=1',
  `--table-size=${ROWS}`,
  ...more,
];

/** Runs `sql` with the mysql client as root (`check`: fail on a non-zero exit). */
function admin(sql, check = true) {
  const args = ['-h', HOST, '-P', String(PORT), '-uroot', '-e', sql];
  if (check) sh('mysql', args);
  else spawnSync('mysql', args);
}

function setup() {
  admin(`DROP DATABASE IF EXISTS ${DB}; CREATE DATABASE ${DB}`);
  sh('sysbench', sysbenchArgs(['prepare']));
}

/** A Node child under /usr/bin/time: warm-up, then a measured run; `body` defines run(seconds). */
function nodeChild(body) {
  const src = `${body}
await run(${WARMUP});
const c0 = process.cpuUsage();
const n = await run(${SECONDS});
const c = process.cpuUsage(c0);
await done?.();
console.log('COUNT', n, (c.user + c.system) / n);`;
  const r = spawnSync(
    '/usr/bin/time',
    ['-f', 'STBTIME %U %S', process.execPath, '--input-type=module', '-e', src],
    { encoding: 'utf8', cwd: pkg },
  );
  const m = /COUNT (\d+) ([\d.]+)/.exec(r.stdout);
  const t = /STBTIME ([\d.]+) ([\d.]+)/.exec(r.stderr);
  if (!m || !t) throw new Error(`child failed: ${r.stderr}`);
  return {
    qps: Number(m[1]) / SECONDS,
    cpuUs: Number(m[2]),
    processCpuS: Number(t[1]) + Number(t[2]),
  };
}

const RNG = `let x = 7; const id = () => { x = (Math.imul(x, 1103515245) + 12345) >>> 0; return 1 + (x % ${ROWS}); };`;

/** stb's runBench in a closed loop, 8 connections, on `scheme://` (mysql: mysql2; mysql+lean: the lean path). */
const stbChild = (scheme) =>
  nodeChild(`
import { TemplateCatalog, computeTemplateId } from '@stb/core';
import { runBench } from '@stb/bench';
${RNG}
const text = 'SELECT c FROM sbtest1 WHERE id = $1';
const POINT = { kind: 'template', id: computeTemplateId('mysql', text), text, queryType: 'SELECT', tables: ['sbtest1'], slots: [] };
async function* events() { for (let i = 0; ; i++) yield { kind: 'event', startUs: i, sessionId: 'c' + (i % 8), templateId: POINT.id, params: [{ t: 'int', v: id() }] }; }
const run = async (s) => (await runBench({ templates: new TemplateCatalog([POINT]), events: events() }, { target: '${scheme}://root@${HOST}:${PORT}/${DB}', mode: 'closed', connections: 8, durationSeconds: s, warmupSeconds: 0 })).overall.count;
const done = undefined;`);

const runs = {
  stb: () => stbChild('mysql'),
  'stb-lean': () => stbChild('mysql+lean'),
  mysql2: () =>
    nodeChild(`
import mysql from 'mysql2/promise';
${RNG}
const conns = await Promise.all(Array.from({ length: 8 }, () => mysql.createConnection({ host: '${HOST}', port: ${PORT}, user: 'root', database: '${DB}' })));
const run = async (s) => { let n = 0; const end = performance.now() + s * 1000; await Promise.all(conns.map(async (c) => { while (performance.now() < end) { await c.execute(${JSON.stringify(SQL)}, [id()]); n++; } })); return n; };
const done = () => Promise.all(conns.map((c) => c.end()));`),
  probe: () =>
    nodeChild(`
import { connectLean } from './bench/mysql-wire-probe.mjs';
${RNG}
const conns = await Promise.all(Array.from({ length: 8 }, () => connectLean({ host: '${HOST}', port: ${PORT}, user: 'root', database: '${DB}', sql: ${JSON.stringify(SQL)} })));
const run = async (s) => { let n = 0; const end = performance.now() + s * 1000; await Promise.all(conns.map(async (c) => { while (performance.now() < end) { await c.execute(id()); n++; } })); return n; };
const done = () => conns.forEach((c) => c.close());`),
  sysbench: () => {
    const r = sh('/usr/bin/time', [
      '-f',
      'STBTIME %U %S',
      'sysbench',
      ...sysbenchArgs(['--threads=8', `--time=${SECONDS}`, 'run']),
    ]);
    const q = /read:\s+(\d+)/.exec(r.stdout);
    const t = /STBTIME ([\d.]+) ([\d.]+)/.exec(r.stderr);
    if (!q || !t) throw new Error(`sysbench: ${r.stdout}`);
    const n = Number(q[1]);
    const cpu = Number(t[1]) + Number(t[2]);
    return { qps: n / SECONDS, cpuUs: (cpu * 1e6) / n, processCpuS: cpu };
  },
};

setup();
const names = Object.keys(runs);
const raw = Object.fromEntries(names.map((n) => [n, []]));
const loads = [];
try {
  for (let round = 0; round < ROUNDS; round++) {
    loads.push(os.loadavg()[0]);
    const order = names.map((_, i) => names[(i + round) % names.length]);
    for (const name of order) {
      const r = runs[name]();
      raw[name].push(r);
      log(
        `round ${round + 1}: ${name} ${r.qps.toFixed(0)} q/s, ${r.cpuUs.toFixed(1)} µs CPU/query`,
      );
    }
  }
} finally {
  admin(`DROP DATABASE IF EXISTS ${DB}`, false);
}
loads.push(os.loadavg()[0]);
const q = (n) => median(raw[n].map((r) => r.qps));
const cpu = (n) => median(raw[n].map((r) => r.cpuUs));
/** Median over rounds of a ratio taken within each round (both runs shared the round's load). */
const perRound = (a, b, f) => median(raw[a].map((r, i) => f(r) / f(raw[b][i])));
const LABEL = {
  stb: 'stb (mysql plugin, mysql2)',
  'stb-lean': 'stb (mysql-lean plugin)',
  mysql2: 'bare mysql2',
  probe: 'hand-rolled COM_STMT_EXECUTE probe',
  sysbench: 'sysbench',
};
const ratioRow = (what, a, b, f) => ({
  metric: `${what}: ${LABEL[a]} ÷ ${LABEL[b]} (median of per-round ratios)`,
  value: Number(perRound(a, b, f).toFixed(3)),
  unit: 'ratio',
  target: '',
});
const qpsOf = (r) => r.qps;
const cpuOf = (r) => r.cpuUs;
const rows = [
  ...names.map((n) => ({
    metric: `point selects, 8 connections: ${LABEL[n]} (median)`,
    value: Math.round(q(n)),
    unit: 'queries/s',
    target: '',
  })),
  ...names.map((n) => ({
    metric: `client CPU per point select: ${LABEL[n]} (${n === 'sysbench' ? 'whole process' : 'measured run'}, median)`,
    value: Number(cpu(n).toFixed(2)),
    unit: 'µs',
    target: '',
  })),
  ratioRow('queries/s', 'stb-lean', 'stb', qpsOf),
  ratioRow('queries/s', 'stb-lean', 'mysql2', qpsOf),
  ratioRow('queries/s', 'stb-lean', 'probe', qpsOf),
  ratioRow('queries/s', 'stb-lean', 'sysbench', qpsOf),
  ratioRow('queries/s', 'stb', 'sysbench', qpsOf),
  ratioRow('queries/s', 'probe', 'sysbench', qpsOf),
  ratioRow('CPU per query', 'stb-lean', 'stb', cpuOf),
  ratioRow('CPU per query', 'stb-lean', 'sysbench', cpuOf),
  ratioRow('CPU per query', 'stb', 'sysbench', cpuOf),
  ratioRow('CPU per query', 'mysql2', 'sysbench', cpuOf),
  ratioRow('CPU per query', 'probe', 'sysbench', cpuOf),
];
console.log(
  JSON.stringify({
    title:
      'A lean MySQL wire path: stb mysql-lean vs mysql2, a hand-rolled probe and sysbench (issue 16, item 3)',
    command:
      'npm run bench -- mysql-lean (node packages/bench/bench/mysql-lean.bench.mjs)',
    rows,
    notes: `${ROUNDS} alternating rounds of ${SECONDS} s (each Node run after a ${WARMUP}-s warm-up in the same process), medians; shared MariaDB on the same 2 cores as the client (1-minute load averages at round starts and end: ${loads.map((l) => l.toFixed(2)).join(', ')}). Table sbtest1, ${ROWS} rows (sysbench prepare), uniform ids. stb: runBench closed loop, 8 connections, default protocol (prepared), once with mysql:// (the mysql plugin: mysql2 execute) and once with mysql+lean:// (the mysql-lean plugin: COM_STMT_PREPARE once per connection, COM_STMT_EXECUTE with the parameter bytes, rows counted not decoded). bare mysql2: 8 connections, execute(). Hand-rolled: packages/bench/bench/mysql-wire-probe.mjs — COM_STMT_EXECUTE serialised once, 8 parameter bytes written per call, answer packets counted, nothing decoded: a floor for a lean path in Node, not a driver. sysbench oltp_point_select --threads=8 (libmariadb, server-side prepared statements). CPU per query: process.cpuUsage around the measured run for Node; /usr/bin/time user+sys of the whole process for sysbench.`,
  }),
);

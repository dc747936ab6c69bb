// stb bench against pgbench in one run (issue 16): accuracy of the service time on a replayed
// pgbench log, schedule lag at 5,000 statements/s, closed-loop TPC-B and point-select throughput,
// and client CPU per query (/usr/bin/time); stb through the default postgres plugin (pg) and the
// lean wire path (pg-lean, postgres+lean://). Alternating rounds, medians. Build first
// (npm run bench builds). Prints progress to stderr and one JSON object as the last stdout line.
//   ROUNDS (3), SECONDS_PER_RUN (4), SCALE (2: the scale of the fixture's log),
//   WARMUP_SECONDS (3: the point-select children's warm-up run before the measured one)
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import pg from 'pg';
import { TemplateCatalog, computeTemplateId, createRng } from '@stb/core';
import { runBench } from '@stb/bench';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const SECONDS = Number(process.env.SECONDS_PER_RUN ?? 4);
const SCALE = Number(process.env.SCALE ?? 2);
const WARMUP = Number(process.env.WARMUP_SECONDS ?? 3);
const PGBIN = '/usr/lib/postgresql/15/bin';
const DB = 'stb_bench16';
const ADMIN = 'postgres://postgres@127.0.0.1:5432/postgres';
const URL_ = `postgres://postgres@127.0.0.1:5432/${DB}`;
const LEAN = URL_.replace('postgres:', 'postgres+lean:');
const FIXTURE = path.join(ROOT, 'fixtures/samples/pg-tpcb-simple-logduration');
const log = (m) => process.stderr.write(`[vs-pgbench] ${m}\n`);
const load = () => loadavg()[0].toFixed(2);
const median = (xs) => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const r3 = (x) => Math.round(x * 1000) / 1000;

async function admin(sql) {
  const c = new pg.Client({ connectionString: ADMIN });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

/** pgbench under /usr/bin/time: stdout, and user+sys CPU seconds. */
function pgbench(args) {
  const r = spawnSync('/usr/bin/time', ['-f', 'STBTIME %U %S', `${PGBIN}/pgbench`, '-h', '127.0.0.1', '-U', 'postgres', ...args, DB], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`pgbench ${args.join(' ')}: ${r.stderr}`);
  const t = /STBTIME ([\d.]+) ([\d.]+)/.exec(r.stderr);
  return { out: r.stdout, cpu: Number(t[1]) + Number(t[2]) };
}
const tpsOf = (out) => Number(/tps = ([\d.]+) \(without initial connection time\)/.exec(out)?.[1] ?? NaN);
const txOf = (out) => Number(/number of transactions actually processed: (\d+)/.exec(out)?.[1] ?? NaN);

/** A statement's key: its first two words (BEGIN, UPDATE pgbench_accounts, INSERT INTO, END). */
const stmtKey = (text) => text.replace(/;\s*$/, '').trim().split(/\s+/).slice(0, 2).join(' ');

/** `pgbench -r`'s per-statement average latencies (ms) by statement key. */
function perStatement(out) {
  const m = new Map();
  const at = out.indexOf('statement latencies');
  for (const line of out.slice(at).split('\n').slice(1)) {
    const x = /^\s+([\d.]+)\s+\d+\s+(\S.*)$/.exec(line);
    if (x && !x[2].startsWith('\\')) m.set(stmtKey(x[2]), Number(x[1]));
  }
  return m;
}

// --- the fixture log as a trace (parsed once with the built CLI), TPC-B sessions only ---
function fixtureTrace() {
  const out = execFileSync(process.execPath, [path.join(ROOT, 'packages/cli/dist/cli.js'), 'parse', '-i', path.join(FIXTURE, 'postgresql.csv.gz'), '-o', '-'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 1 << 28 });
  const templates = [];
  const events = [];
  const tpcb = new Set();
  for (const line of out.split('\n')) {
    if (!line) continue;
    const r = JSON.parse(line);
    if (r.kind === 'template') {
      templates.push(r);
      if (/pgbench_(accounts|tellers|branches|history)/.test(r.text) && /^(UPDATE|SELECT abalance|INSERT)/.test(r.text)) tpcb.add(r.id);
      if (r.text === 'BEGIN' || r.text === 'END') tpcb.add(r.id);
    } else if (r.kind === 'event' && tpcb.has(r.templateId)) events.push(r);
  }
  return { templates: templates.filter((t) => tpcb.has(t.id)), events };
}

/** The sample's pgbench settings (rate, clients) from its client output. */
function fixtureRate() {
  const out = readFileSync(path.join(FIXTURE, 'client_output.txt'), 'utf8');
  return { tps: Number(/tps = ([\d.]+)/.exec(out)[1]), clients: Number(/number of clients: (\d+)/.exec(out)[1]) };
}

async function replayFixture(fx) {
  const r = await runBench({ templates: new TemplateCatalog(fx.templates), events: fx.events }, {
    target: URL_, mode: 'replay', protocol: 'simple', connections: 4, warmupSeconds: 0.5,
  });
  const byKey = new Map();
  for (const t of r.templates) byKey.set(stmtKey(fx.templates.find((x) => x.id === t.templateId).text), t);
  return { byKey, lag: r.scheduleLagMs };
}

// --- synthetic traces ---
const tpl = (text, queryType) => ({ kind: 'template', id: computeTemplateId('postgres', text), text, queryType, tables: [], slots: [] });
const TPCB = [
  tpl('BEGIN', 'TCL'),
  tpl('UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2', 'UPDATE'),
  tpl('SELECT abalance FROM pgbench_accounts WHERE aid = $1', 'SELECT'),
  tpl('UPDATE pgbench_tellers SET tbalance = tbalance + $1 WHERE tid = $2', 'UPDATE'),
  tpl('UPDATE pgbench_branches SET bbalance = bbalance + $1 WHERE bid = $2', 'UPDATE'),
  tpl('INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES ($1, $2, $3, $4, CURRENT_TIMESTAMP)', 'INSERT'),
  tpl('END', 'TCL'),
];
TPCB[0].boundary = 'begin';
TPCB[6].boundary = 'end';
const int = (v) => ({ t: 'int', v });

function tpcbTrace(sessions) {
  const rng = createRng(16);
  async function* events() {
    let t = 1_700_000_000_000_000;
    for (;;)
      for (let s = 0; s < sessions; s++) {
        const aid = 1 + rng.int(100_000 * SCALE), bid = 1 + rng.int(SCALE), tid = 1 + rng.int(10 * SCALE), delta = rng.int(10_001) - 5000;
        const params = [[], [int(delta), int(aid)], [int(aid)], [int(delta), int(tid)], [int(delta), int(bid)], [int(tid), int(bid), int(aid), int(delta)], []];
        for (let i = 0; i < 7; i++) yield { kind: 'event', startUs: t++, sessionId: `c${s}`, templateId: TPCB[i].id, params: params[i] };
      }
  }
  return { templates: new TemplateCatalog(TPCB), events: events() };
}

async function stbTpcb(target) {
  const r = await runBench(tpcbTrace(4), { target, mode: 'closed', protocol: 'simple', connections: 4, durationSeconds: SECONDS, warmupSeconds: 0.5 });
  const end = r.templates.find((t) => t.templateId === TPCB[6].id);
  return end.qps;
}

const POINT = tpl('SELECT abalance FROM pgbench_accounts WHERE aid = $1', 'SELECT');

function lagTrace(rate, sessions) {
  const rng = createRng(42);
  const n = Math.round(rate * SECONDS);
  async function* events() {
    let t = 1_700_000_000_000_000;
    for (let i = 0; i < n; i++) {
      t += Math.round(-Math.log(1 - rng.next()) * (1e6 / rate));
      yield { kind: 'event', startUs: t, sessionId: `s${rng.int(sessions)}`, templateId: POINT.id, params: [int(1 + rng.int(100_000 * SCALE))] };
    }
  }
  return { templates: new TemplateCatalog([POINT]), events: events() };
}

async function stbLag(target = URL_) {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const r = await runBench(lagTrace(5000, 8), { target, mode: 'replay', connections: 8, warmupSeconds: 0.5 });
  const c = process.cpuUsage(c0);
  return { p50: r.scheduleLagMs?.p50 ?? NaN, p99: r.scheduleLagMs?.p99 ?? NaN, qps: r.overall.qps, cpuShare: (c.user + c.system) / 1000 / (performance.now() - t0) };
}

/**
 * stb closed-loop point selects, 8 connections, in a child process under /usr/bin/time: a
 * WARMUP_SECONDS warm-up run, then the measured run. Returns its queries/s, the whole process's CPU per query
 * (Node start-up, module loading and the warm-up included) and the measured run's own CPU per
 * query (process.cpuUsage around runBench: connecting, dispatch, execution, result building).
 */
function stbPointChild(target) {
  const child = `
import { TemplateCatalog, createRng } from '@stb/core';
import { runBench } from '@stb/bench';
const POINT = ${JSON.stringify(POINT)};
const rng = createRng(7);
async function* events() { for (let i = 0; ; i++) yield { kind: 'event', startUs: i, sessionId: 'c' + (i % 8), templateId: POINT.id, params: [{ t: 'int', v: 1 + rng.int(${100_000 * SCALE}) }] }; }
const run = (s) => runBench({ templates: new TemplateCatalog([POINT]), events: events() }, { target: '${target}', mode: 'closed', connections: 8, durationSeconds: s, warmupSeconds: 0 });
const w = await run(${WARMUP});
const c0 = process.cpuUsage();
const r = await run(${SECONDS});
const c = process.cpuUsage(c0);
console.log('STBCOUNT', w.overall.count + r.overall.count, r.overall.qps, (c.user + c.system) / r.overall.count);`;
  const r = spawnSync('/usr/bin/time', ['-f', 'STBTIME %U %S', process.execPath, '--input-type=module', '-e', child], { encoding: 'utf8', cwd: path.join(ROOT, 'packages/bench') });
  const m = /STBCOUNT (\d+) ([\d.]+) ([\d.]+)/.exec(r.stdout);
  const t = /STBTIME ([\d.]+) ([\d.]+)/.exec(r.stderr);
  if (!m || !t) throw new Error(`stb child failed: ${r.stderr}`);
  return { qps: Number(m[2]), cpuPerQueryUs: ((Number(t[1]) + Number(t[2])) * 1e6) / Number(m[1]), runCpuPerQueryUs: Number(m[3]) };
}

/**
 * The bare pg loop (8 clients, pg's named prepared statement, one query in flight each) in a child
 * process with the same warm-up as stb's, so neither side runs in a process the other warmed.
 */
function barePgChild() {
  const child = `
import pg from 'pg';
import { createRng } from '@stb/core';
const rng = createRng(7);
const clients = await Promise.all(Array.from({ length: 8 }, async () => { const c = new pg.Client({ connectionString: '${URL_}' }); await c.connect(); return c; }));
const loop = async (s) => {
  let n = 0;
  const end = performance.now() + s * 1000;
  await Promise.all(clients.map(async (c) => { while (performance.now() < end) { await c.query({ name: 'q', text: ${JSON.stringify(POINT.text)}, values: [1 + rng.int(${100_000 * SCALE})] }); n++; } }));
  return n;
};
await loop(${WARMUP});
const n = await loop(${SECONDS});
await Promise.all(clients.map((c) => c.end()));
console.log('BARECOUNT', n / ${SECONDS});`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', child], { encoding: 'utf8', cwd: path.join(ROOT, 'packages/bench') });
  const m = /BARECOUNT ([\d.]+)/.exec(r.stdout);
  if (!m) throw new Error(`bare pg child failed: ${r.stderr}`);
  return Number(m[1]);
}

const fx = fixtureTrace();
const rate = fixtureRate();
const raw = { acc: [], pgR: [], fixLag: [], lag: [], lagLean: [], tpcbStb: [], tpcbLean: [], tpcbPg: [], ptStb: [], ptLean: [], ptBare: [], ptPg: [], cpuStb: [], cpuLean: [], cpuLeanRun: [], cpuStbRun: [], cpuPg: [], loads: [] };
try {
  await admin(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
  await admin(`CREATE DATABASE ${DB}`);
  log(`pgbench -i -s ${SCALE} ${DB}`);
  execFileSync(`${PGBIN}/pgbench`, ['-i', '-q', '-s', String(SCALE), '-h', '127.0.0.1', '-U', 'postgres', DB], { stdio: ['ignore', 'ignore', 'pipe'] });
  for (let i = 0; i < ROUNDS; i++) {
    raw.loads.push(load());
    // accuracy: pgbench -r at the sample's rate, then the sample's log replayed by stb
    const pr = pgbench(['-n', '-r', '-M', 'simple', '-c', String(rate.clients), '-j', '2', '-R', String(Math.round(rate.tps)), '-T', String(SECONDS)]);
    raw.pgR.push(perStatement(pr.out));
    const rep = await replayFixture(fx);
    raw.acc.push(rep.byKey);
    raw.fixLag.push(rep.lag?.p99 ?? NaN);
    log(`round ${i + 1}: accuracy ${[...raw.pgR.at(-1)].map(([k, v]) => `${k}: pgbench ${v} / stb ${rep.byKey.get(k)?.serviceMs?.p50}`).join('; ')}`);
    raw.lag.push(await stbLag());
    raw.lagLean.push(await stbLag(LEAN));
    log(`round ${i + 1}: lag at 5k/s p50 ${raw.lag.at(-1).p50} p99 ${raw.lag.at(-1).p99} ms (${raw.lag.at(-1).qps} q/s, client CPU ${(raw.lag.at(-1).cpuShare * 100).toFixed(0)}%); pg-lean p50 ${raw.lagLean.at(-1).p50} p99 ${raw.lagLean.at(-1).p99} ms (${raw.lagLean.at(-1).qps} q/s, client CPU ${(raw.lagLean.at(-1).cpuShare * 100).toFixed(0)}%)`);
    // the order within a round alternates, so neither side always runs first
    const flip = i % 2 === 1;
    const tpcb = [async () => raw.tpcbStb.push(await stbTpcb(URL_)), async () => raw.tpcbLean.push(await stbTpcb(LEAN)), async () => raw.tpcbPg.push(tpsOf(pgbench(['-n', '-M', 'simple', '-c', '4', '-j', '2', '-T', String(SECONDS)]).out))];
    for (const f of flip ? tpcb.reverse() : tpcb) await f();
    log(`round ${i + 1}: TPC-B 4 conns stb ${raw.tpcbStb.at(-1)} tps, stb pg-lean ${raw.tpcbLean.at(-1)}, pgbench ${raw.tpcbPg.at(-1)} tps`);
    const points = [
      async () => { const st = stbPointChild(URL_); raw.ptStb.push(st.qps); raw.cpuStb.push(st.cpuPerQueryUs); raw.cpuStbRun.push(st.runCpuPerQueryUs); },
      async () => { const st = stbPointChild(LEAN); raw.ptLean.push(st.qps); raw.cpuLean.push(st.cpuPerQueryUs); raw.cpuLeanRun.push(st.runCpuPerQueryUs); },
      async () => raw.ptBare.push(barePgChild()),
      async () => { const pp = pgbench(['-n', '-S', '-M', 'prepared', '-c', '8', '-j', '2', '-T', String(SECONDS)]); raw.ptPg.push(tpsOf(pp.out)); raw.cpuPg.push((pp.cpu * 1e6) / txOf(pp.out)); },
    ];
    for (const f of flip ? points.reverse() : points) await f();
    log(`round ${i + 1}: point selects stb ${raw.ptStb.at(-1)} q/s (${raw.cpuStbRun.at(-1).toFixed(1)} µs CPU/q), pg-lean ${raw.ptLean.at(-1)} (${raw.cpuLeanRun.at(-1).toFixed(1)} µs CPU/q in the run, ${raw.cpuLean.at(-1).toFixed(1)} whole process), bare pg ${raw.ptBare.at(-1).toFixed(0)}, pgbench ${raw.ptPg.at(-1)} (${raw.cpuPg.at(-1).toFixed(1)} µs CPU/q); load ${load()}`);
  }
} finally {
  await admin(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`).catch(() => undefined);
}

const rows = [];
let worst = 0;
for (const k of raw.pgR[0].keys()) {
  const pgAvg = median(raw.pgR.map((m) => m.get(k)));
  const stb = median(raw.acc.map((m) => m.get(k)?.serviceMs?.p50));
  worst = Math.max(worst, Math.abs(stb / pgAvg - 1));
  rows.push({ metric: `accuracy ${k}: stb median service time / pgbench -r average (${r3(stb)} / ${r3(pgAvg)} ms)`, value: r3(stb / pgAvg), unit: 'ratio', target: '0.85–1.15' });
}
rows.push({ metric: 'accuracy: worst |ratio − 1| over the statements', value: r3(worst), unit: 'share', target: '<= 0.15' });
let worstMean = 0;
for (const k of raw.pgR[0].keys()) {
  const pgAvg = median(raw.pgR.map((m) => m.get(k)));
  const stbMean = median(raw.acc.map((m) => m.get(k)?.serviceMs?.mean));
  worstMean = Math.max(worstMean, Math.abs(stbMean / pgAvg - 1));
}
rows.push({ metric: 'accuracy, means (stb mean service time / pgbench -r average): worst |ratio − 1|', value: r3(worstMean), unit: 'share' });
rows.push({ metric: 'replay of the sample log: schedule lag p99', value: median(raw.fixLag), unit: 'ms' });
rows.push({ metric: 'replay at 5,000 statements/s: schedule lag p50', value: median(raw.lag.map((l) => l.p50)), unit: 'ms', target: '<= 0.05' });
rows.push({ metric: 'replay at 5,000 statements/s: schedule lag p99', value: median(raw.lag.map((l) => l.p99)), unit: 'ms', target: '<= 0.5' });
rows.push({ metric: 'replay at 5,000 statements/s: client CPU', value: r3(median(raw.lag.map((l) => l.cpuShare))), unit: 'cores' });
rows.push({ metric: 'replay at 5,000 statements/s, pg-lean: schedule lag p50', value: median(raw.lagLean.map((l) => l.p50)), unit: 'ms', target: '<= 0.05' });
rows.push({ metric: 'replay at 5,000 statements/s, pg-lean: schedule lag p99', value: median(raw.lagLean.map((l) => l.p99)), unit: 'ms', target: '<= 0.5' });
rows.push({ metric: 'replay at 5,000 statements/s, pg-lean: client CPU', value: r3(median(raw.lagLean.map((l) => l.cpuShare))), unit: 'cores' });
const ratio = (a, b) => r3(median(a) / median(b));
rows.push({ metric: 'TPC-B closed loop, 4 connections, --protocol simple: stb (postgres plugin, pg)', value: Math.round(median(raw.tpcbStb)), unit: 'tps' });
rows.push({ metric: 'TPC-B closed loop, 4 connections, --protocol simple: stb (pg-lean plugin)', value: Math.round(median(raw.tpcbLean)), unit: 'tps' });
rows.push({ metric: 'TPC-B, 4 clients: pgbench -M simple', value: Math.round(median(raw.tpcbPg)), unit: 'tps' });
rows.push({ metric: 'TPC-B stb (pg) / pgbench', value: ratio(raw.tpcbStb, raw.tpcbPg), unit: 'ratio', target: '>= 0.9' });
rows.push({ metric: 'TPC-B stb (pg-lean) / pgbench', value: ratio(raw.tpcbLean, raw.tpcbPg), unit: 'ratio', target: '>= 0.9' });
rows.push({ metric: 'point selects, 8 connections: stb (pg, closed loop, prepared)', value: Math.round(median(raw.ptStb)), unit: 'queries/s' });
rows.push({ metric: 'point selects, 8 connections: stb (pg-lean)', value: Math.round(median(raw.ptLean)), unit: 'queries/s' });
rows.push({ metric: 'point selects: bare pg loop', value: Math.round(median(raw.ptBare)), unit: 'queries/s' });
rows.push({ metric: 'point selects: pgbench -S -M prepared -c 8 -j 2', value: Math.round(median(raw.ptPg)), unit: 'queries/s' });
rows.push({ metric: 'point selects stb (pg) / bare pg', value: ratio(raw.ptStb, raw.ptBare), unit: 'ratio', target: '>= 1.0' });
rows.push({ metric: 'point selects stb (pg-lean) / bare pg', value: ratio(raw.ptLean, raw.ptBare), unit: 'ratio', target: '>= 1.0' });
rows.push({ metric: 'point selects stb (pg-lean) / pgbench', value: ratio(raw.ptLean, raw.ptPg), unit: 'ratio', target: '>= 0.75' });
rows.push({ metric: 'client CPU per point select: stb (pg), measured run', value: r3(median(raw.cpuStbRun)), unit: 'µs' });
rows.push({ metric: 'client CPU per point select: stb (pg-lean), measured run', value: r3(median(raw.cpuLeanRun)), unit: 'µs' });
rows.push({ metric: 'client CPU per point select: stb (pg-lean), whole process (/usr/bin/time, Node start-up and warm-up included)', value: r3(median(raw.cpuLean)), unit: 'µs' });
rows.push({ metric: 'client CPU per point select: pgbench (libpq, /usr/bin/time)', value: r3(median(raw.cpuPg)), unit: 'µs' });
rows.push({ metric: 'CPU per query stb (pg-lean, measured run) / pgbench', value: ratio(raw.cpuLeanRun, raw.cpuPg), unit: 'ratio', target: '<= 1.2' });
rows.push({ metric: 'CPU per query stb (pg-lean, whole process) / pgbench', value: ratio(raw.cpuLean, raw.cpuPg), unit: 'ratio', target: '<= 1.2' });
console.log(JSON.stringify({
  title: '@stb/bench against pgbench (issue 16)',
  command: 'node packages/bench/bench/vs-pgbench.bench.mjs',
  rows,
  notes: `${ROUNDS} alternating rounds of ${SECONDS} s per run, medians; scratch database ${DB}, pgbench scale ${SCALE}, shared PostgreSQL 15 on the same 2 cores as the client (busy machine shared by several engineers: 1-minute load averages at round starts ${raw.loads.join(', ')}, end ${load()}). Accuracy: the sample pg-tpcb-simple-logduration (pgbench -M simple, ${rate.clients} clients, ${rate.tps} tps) replayed by stb (--protocol simple, 4 connections) against pgbench -r -R ${Math.round(rate.tps)} -c ${rate.clients} on the same server in the same round; stb's per-template median service time against pgbench's per-statement average. Lag: Poisson point selects at 5,000/s from 8 sessions on 8 connections, default scheduler (alarm thread). Point selects: each stb figure is a child process (like pgbench) that runs ${WARMUP} s of warm-up, then the measured ${SECONDS} s run; the bare pg loop (pg's named prepared statement, 8 clients) runs in its own child process with the same warm-up (earlier versions ran it in the script's process, warmed by the runs before it, against an stb child without warm-up: stb with pg needs 5–7 s in a fresh process to reach full speed, so its figure was about a third of its warm one); the order of the contenders alternates between rounds. CPU: /usr/bin/time user+sys of the whole stb process (Node start-up, module loading and the warm-up run included) and of pgbench, over the queries each ran; and process.cpuUsage() around the measured runBench call. Raw: TPC-B stb (pg) ${raw.tpcbStb.map(Math.round)}, stb (pg-lean) ${raw.tpcbLean.map(Math.round)}, pgbench ${raw.tpcbPg.map(Math.round)}; points stb (pg) ${raw.ptStb.map(Math.round)}, stb (pg-lean) ${raw.ptLean.map(Math.round)}, bare ${raw.ptBare.map(Math.round)}, pgbench ${raw.ptPg.map(Math.round)}; lag p99 ${raw.lag.map((l) => l.p99)}, pg-lean ${raw.lagLean.map((l) => l.p99)}; CPU µs/q stb (pg) run ${raw.cpuStbRun.map((x) => x.toFixed(1))}, whole ${raw.cpuStb.map((x) => x.toFixed(1))}; stb (pg-lean) run ${raw.cpuLeanRun.map((x) => x.toFixed(1))}, whole ${raw.cpuLean.map((x) => x.toFixed(1))}; pgbench ${raw.cpuPg.map((x) => x.toFixed(1))}.`,
}));

// stb bench against pgbench in one run (issue 16): accuracy of the service time on a replayed
// pgbench log, schedule lag at 5,000 statements/s, closed-loop TPC-B and point-select throughput,
// and client CPU per query (/usr/bin/time); stb through the default postgres plugin (pg), the
// lean wire path (pg-lean, postgres+lean://) and libpq on native loop threads (pg-native,
// postgres+native://). Alternating rounds, medians. Build first
// (npm run bench builds). Prints progress to stderr and one JSON object as the last stdout line.
// Where tcpdump can capture on the loopback (root), the accuracy step is also timed on the wire:
// each statement's request and answer packets, so each tool's own share of what it reports shows.
//   ROUNDS (3), SECONDS_PER_RUN (4), SCALE (2: the scale of the fixture's log),
//   WARMUP_SECONDS (3: the point-select children's warm-up run before the measured one),
//   LONG_SECONDS (60: the long pair's run, stb pg-native and pgbench, about 4 min of the whole
//     at 3 rounds; 0 skips it),
//   WIRE (1: 0 skips the tcpdump capture)
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { TemplateCatalog, computeTemplateId, createRng, createTraceHeader, withTemplateRecords, writeTrace } from '@stb/core';
import { runBench } from '@stb/bench';
import { loopThreadName, realtimeRefused, wakeLeads } from '@stb/libpq-loop';
import { admin, median, pgbenchLogLags } from './pg-shared.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const SECONDS = Number(process.env.SECONDS_PER_RUN ?? 4);
const SCALE = Number(process.env.SCALE ?? 2);
const WARMUP = Number(process.env.WARMUP_SECONDS ?? 3);
const LONG = Number(process.env.LONG_SECONDS ?? 60);
/** Clock ticks per second of /proc's CPU times. */
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }));
const PGBIN = '/usr/lib/postgresql/15/bin';
const DB = 'stb_bench16';
const URL_ = `postgres://postgres@127.0.0.1:5432/${DB}`;
const LEAN = URL_.replace('postgres:', 'postgres+lean:');
const NATIVE = URL_.replace('postgres:', 'postgres+native:');
/** pg-native with its loop threads under SCHED_FIFO in timed batches (the lag step only), where this process may. */
const REFUSED_RT = realtimeRefused();
const WITH_RT = REFUSED_RT === '';
const NATIVE_RT = `${NATIVE}?realtime=1`;
const FIXTURE = path.join(ROOT, 'fixtures/samples/pg-tpcb-simple-logduration');
const log = (m) => process.stderr.write(`[vs-pgbench] ${m}\n`);
const load = () => loadavg()[0].toFixed(2);
const r3 = (x) => Math.round(x * 1000) / 1000;

/** Node's own start-up: user+sys CPU seconds of `node -e 0` under /usr/bin/time. */
function nodeBareStart() {
  const r = spawnSync('/usr/bin/time', ['-f', 'STBTIME %U %S', process.execPath, '-e', '0'], { encoding: 'utf8' });
  const t = /STBTIME ([\d.]+) ([\d.]+)/.exec(r.stderr);
  if (r.status !== 0 || !t) throw new Error(`node -e 0: ${r.stderr}`);
  return Number(t[1]) + Number(t[2]);
}

/** pgbench under /usr/bin/time: stdout, and user+sys CPU seconds. */
function pgbench(args, o = {}) {
  const r = spawnSync('/usr/bin/time', ['-f', 'STBTIME %U %S', `${PGBIN}/pgbench`, '-h', '127.0.0.1', '-U', 'postgres', ...args, DB], { encoding: 'utf8', cwd: o.cwd, env: { ...process.env, ...o.env } });
  if (r.status !== 0) throw new Error(`pgbench ${args.join(' ')}: ${r.stderr}`);
  const t = /STBTIME ([\d.]+) ([\d.]+)/.exec(r.stderr);
  return { out: r.stdout, cpu: Number(t[1]) + Number(t[2]), user: Number(t[1]) };
}
/**
 * pgbench run as a child, its threads' run-queue waits sampled from /proc/<pid>/task/<tid>/schedstat
 * every 50 ms until it exits: stdout, and its busiest thread's wait for a CPU as a share of the
 * time from its start to the last sample (the machine reference for stb's client.cpuWaitShare).
 */
function pgbenchWaiting(args) {
  return new Promise((resolve, reject) => {
    const child = spawn(`${PGBIN}/pgbench`, ['-h', '127.0.0.1', '-U', 'postgres', ...args, DB], { stdio: ['ignore', 'pipe', 'pipe'] });
    const t0 = performance.now();
    let out = '';
    let err = '';
    let last = { at: t0, waits: new Map() };
    child.stdout.on('data', (b) => (out += b));
    child.stderr.on('data', (b) => (err += b));
    const sample = () => {
      const waits = new Map();
      try {
        for (const t of readdirSync(`/proc/${child.pid}/task`)) waits.set(t, Number(readFileSync(`/proc/${child.pid}/task/${t}/schedstat`, 'latin1').split(' ')[1]) / 1e6);
      } catch {
        return; // exited between two samples
      }
      last = { at: performance.now(), waits };
    };
    const timer = setInterval(sample, 50);
    child.on('error', reject);
    child.on('close', (code) => {
      clearInterval(timer);
      if (code !== 0) return reject(new Error(`pgbench ${args.join(' ')}: ${err}`));
      const wall = last.at - t0;
      resolve({ out, wait: wall > 0 && last.waits.size > 0 ? Math.max(...last.waits.values()) / wall : NaN });
    });
  });
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
  const out = execFileSync(process.execPath, [path.join(ROOT, 'packages/cli/dist/cli.cjs'), 'parse', '-i', path.join(FIXTURE, 'postgresql.csv.gz'), '-o', '-'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 1 << 28 });
  const templates = [];
  const events = [];
  const tpcb = new Set();
  let header;
  for (const line of out.split('\n')) {
    if (!line) continue;
    const r = JSON.parse(line);
    if (r.kind === 'header') header = r;
    else if (r.kind === 'template') {
      templates.push(r);
      if (/pgbench_(accounts|tellers|branches|history)/.test(r.text) && /^(UPDATE|SELECT abalance|INSERT)/.test(r.text)) tpcb.add(r.id);
      if (r.text === 'BEGIN' || r.text === 'END') tpcb.add(r.id);
    } else if (r.kind === 'event' && tpcb.has(r.templateId)) events.push(r);
  }
  // the header too, as `stb bench` reads it from a trace file (its time resolution, 1 ms here,
  // tells replay which gaps the log cannot resolve)
  return { header, templates: templates.filter((t) => tpcb.has(t.id)), events };
}

/** The sample's pgbench settings (rate, clients) from its client output. */
function fixtureRate() {
  const out = readFileSync(path.join(FIXTURE, 'client_output.txt'), 'utf8');
  return { tps: Number(/tps = ([\d.]+)/.exec(out)[1]), clients: Number(/number of clients: (\d+)/.exec(out)[1]) };
}

async function replayFixture(fx, target) {
  const r = await runBench({ header: fx.header, templates: new TemplateCatalog(fx.templates), events: fx.events.map((e) => ({ ...e })) }, {
    target, mode: 'replay', protocol: 'simple', connections: 4, warmupSeconds: 0.5,
  });
  const byKey = new Map();
  for (const t of r.templates) byKey.set(stmtKey(fx.templates.find((x) => x.id === t.templateId).text), t);
  return { byKey, lag: r.scheduleLagMs };
}

// --- the wire: tcpdump on the loopback, statements paired with their answers per connection ---
const APP = { pgbench: 'stb16-pgbench', pg: 'stb16-pg', lean: 'stb16-lean', native: 'stb16-native' };
const withApp = (url, app) => `${url}?application_name=${app}`;

/** Whether tcpdump can capture on lo here (it needs root or CAP_NET_RAW). */
function wireAvailable() {
  if (process.env.WIRE === '0') return false;
  // killed after a second (nothing goes to port 1): it could capture if it got as far as listening
  const r = spawnSync('tcpdump', ['-i', 'lo', '-c', '1', '-w', '/dev/null', 'tcp port 1'], { timeout: 1000, encoding: 'utf8' });
  return /listening on/.test(r.stderr ?? '');
}

/** Starts a capture of PostgreSQL's port on lo; `stop()` resolves with the pcap's bytes. */
async function startCapture() {
  const dir = mkdtempSync(path.join(tmpdir(), 'stb16-'));
  const file = path.join(dir, 'cap.pcap');
  const td = spawn('tcpdump', ['-i', 'lo', '-s', '512', '-w', file, 'tcp port 5432'], { stdio: ['ignore', 'ignore', 'pipe'] });
  await new Promise((resolve, reject) => {
    td.stderr.on('data', (d) => /listening on/.test(String(d)) && resolve());
    td.once('exit', (code) => reject(new Error(`tcpdump exited with ${code}`)));
  });
  return {
    async stop() {
      await new Promise((r) => setTimeout(r, 200));
      const done = new Promise((r) => td.once('exit', r));
      td.kill('SIGINT');
      await done;
      const bytes = readFileSync(file);
      rmSync(dir, { recursive: true, force: true });
      return bytes;
    },
  };
}

/**
 * Per client application name and statement key, the wire time of each statement in ms: from its
 * request packet to the answer packet that ends in ReadyForQuery (simple protocol, one statement
 * in flight per connection). Packets are those of lo (Ethernet framing), IPv4.
 */
function wireTimes(pcap) {
  const nano = pcap.readUInt32LE(0) === 0xa1b23c4d;
  const link = pcap.readUInt32LE(20);
  const conns = new Map();
  const out = new Map();
  let off = 24;
  while (off + 16 <= pcap.length) {
    const ms = pcap.readUInt32LE(off) * 1000 + pcap.readUInt32LE(off + 4) / (nano ? 1e6 : 1e3);
    const incl = pcap.readUInt32LE(off + 8);
    const orig = pcap.readUInt32LE(off + 12);
    const p = off + 16;
    off = p + incl;
    if (off > pcap.length) break;
    const ip = p + (link === 1 ? 14 : link === 113 ? 16 : 0);
    if (pcap[ip] >> 4 !== 4) continue;
    const ihl = (pcap[ip] & 15) * 4;
    const tcp = ip + ihl;
    const payload = tcp + (pcap[tcp + 12] >> 4) * 4;
    const len = pcap.readUInt16BE(ip + 2) - (payload - ip);
    if (len <= 0) continue;
    const sport = pcap.readUInt16BE(tcp);
    const dport = pcap.readUInt16BE(tcp + 2);
    const body = pcap.subarray(payload, off);
    if (dport === 5432) {
      if (body.length >= 8 && body.readUInt32BE(4) === 196608) {
        // a new connection's startup packet: its application name
        const kv = body.subarray(8).toString('latin1').split('\0');
        const at = kv.indexOf('application_name');
        conns.set(sport, { app: at < 0 ? '?' : kv[at + 1], pending: [] });
        continue;
      }
      const c = conns.get(sport);
      if (c === undefined) continue;
      if (body[0] === 81) c.pending.push({ at: ms, key: stmtKey(body.subarray(5).toString('utf8').split('\0')[0]) });
    } else {
      const c = conns.get(dport);
      if (!c || c.pending.length === 0) continue;
      const complete = incl < orig || (body.length >= 6 && body[body.length - 6] === 90);
      if (!complete) continue;
      const q = c.pending.shift();
      const byKey = out.get(c.app) ?? new Map();
      out.set(c.app, byKey);
      const xs = byKey.get(q.key) ?? [];
      byKey.set(q.key, xs);
      xs.push(ms - q.at);
    }
  }
  return out;
}
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;

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
  if (target === LEAN) raw.waitTpcbLean.push(r.client?.cpuWaitShare ?? NaN);
  if (target === NATIVE) raw.waitTpcbNative.push(r.client?.cpuWaitShare ?? NaN);
  return end.qps;
}

const POINT = tpl('SELECT abalance FROM pgbench_accounts WHERE aid = $1', 'SELECT');

/** pgbench's own schedule lag at `rate` transactions/s (-S, 8 clients): p50 and p99 from its -l log, ms. */
function pgbenchLag(rate) {
  const dir = mkdtempSync(path.join(tmpdir(), 'stb16-'));
  try {
    const r = pgbench(['-n', '-S', '-M', 'prepared', '-c', '8', '-j', '2', '-R', String(rate), '-T', String(SECONDS), '-l', '--log-prefix', path.join(dir, 'lag')], { cwd: dir });
    const lags = pgbenchLogLags(dir);
    return { p50: lags[Math.floor(lags.length * 0.5)], p99: lags[Math.floor(lags.length * 0.99)], tps: tpsOf(r.out) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

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
  return { p50: r.scheduleLagMs?.p50 ?? NaN, p99: r.scheduleLagMs?.p99 ?? NaN, qps: r.overall.qps, cpuShare: (c.user + c.system) / 1000 / (performance.now() - t0), cpuPerQueryUs: (c.user + c.system) / r.overall.count, cpuWait: r.client?.cpuWaitShare ?? NaN };
}

/**
 * stb closed-loop point selects, 8 connections, in a child process under /usr/bin/time: a
 * WARMUP_SECONDS warm-up run, then the measured run of `seconds`. Returns its queries/s, the whole
 * process's CPU per query (Node start-up, module loading and the warm-up included), the measured
 * run's own CPU per query (process.cpuUsage around runBench: connecting, dispatch, execution,
 * result building) and that CPU by thread (/proc/self/task before and after the measured run):
 * the JavaScript thread, pg-native's loop threads (named by the addon) and the rest (V8's
 * optimising compiler and GC helpers, libuv's pool); a thread that ended within the run (the
 * addon's connect threads) is not in it, so the three may add up to a little less.
 */
function stbPointChild(target, seconds = SECONDS) {
  const child = `
import { TemplateCatalog, createRng } from '@stb/core';
import { runBench } from '@stb/bench';
const cStart = process.cpuUsage();
const POINT = ${JSON.stringify(POINT)};
const rng = createRng(7);
async function* events() { for (let i = 0; ; i++) yield { kind: 'event', startUs: i, sessionId: 'c' + (i % 8), templateId: POINT.id, params: [{ t: 'int', v: 1 + rng.int(${100_000 * SCALE}) }] }; }
const run = (s) => runBench({ templates: new TemplateCatalog([POINT]), events: events() }, { target: '${target}', mode: 'closed', connections: 8, durationSeconds: s, warmupSeconds: 0 });
import { readFileSync, readdirSync } from 'node:fs';
const threads = () => new Map(readdirSync('/proc/self/task').map((t) => {
  const st = readFileSync('/proc/self/task/' + t + '/stat', 'utf8');
  const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
  const kind = Number(t) === process.pid ? 'main' : st.slice(st.indexOf('(') + 1, st.lastIndexOf(')')) === ${JSON.stringify(loopThreadName)} ? 'loops' : 'other';
  return [t, { kind, ticks: Number(f[11]) + Number(f[12]) }];
}));
const cw0 = process.cpuUsage();
const w = await run(${WARMUP});
const cw = process.cpuUsage(cw0);
const t0 = threads();
const c0 = process.cpuUsage();
const r = await run(${seconds});
const c = process.cpuUsage(c0);
const by = { main: 0, loops: 0, other: 0 };
for (const [t, v] of threads()) by[v.kind] += v.ticks - (t0.get(t)?.ticks ?? 0);
const us = (ticks) => (ticks * 1e6) / ${CLK_TCK} / r.overall.count;
console.log('STBCOUNT', w.overall.count + r.overall.count, r.overall.qps, (c.user + c.system) / r.overall.count, r.client.busiestThreadShare, c.user / r.overall.count, us(by.main), us(by.loops), us(by.other), (cStart.user + cStart.system) / 1e6, (cw.user + cw.system) / w.overall.count);`;
  const r = spawnSync('/usr/bin/time', ['-f', 'STBTIME %U %S', process.execPath, '--input-type=module', '-e', child], { encoding: 'utf8', cwd: path.join(ROOT, 'packages/bench') });
  const m = /STBCOUNT (\d+) ([\d.]+) ([\d.]+) ([\d.]+) ([\d.]+) ([\d.]+) ([\d.]+) ([\d.]+) ([\d.]+) ([\d.]+)/.exec(r.stdout);
  const t = /STBTIME ([\d.]+) ([\d.]+)/.exec(r.stderr);
  if (!m || !t) throw new Error(`stb child failed: ${r.stderr}`);
  return { qps: Number(m[2]), cpuPerQueryUs: ((Number(t[1]) + Number(t[2])) * 1e6) / Number(m[1]), runCpuPerQueryUs: Number(m[3]), busy: Number(m[4]), runUserPerQueryUs: Number(m[5]), byThread: { main: Number(m[6]), loops: Number(m[7]), other: Number(m[8]) }, startSeconds: Number(m[9]), warmCpuPerQueryUs: Number(m[10]), queries: Number(m[1]) };
}

/** Runs an ES module source in a child Node process (in packages/bench) and matches its stdout. */
function moduleChild(source, re, label) {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', source], { encoding: 'utf8', cwd: path.join(ROOT, 'packages/bench') });
  const m = re.exec(r.stdout);
  if (!m) throw new Error(`${label} child failed: ${r.stderr}`);
  return m;
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
  return Number(moduleChild(child, /BARECOUNT ([\d.]+)/, 'bare pg')[1]);
}

/**
 * The pg-lean plugin without the runner: 8 of its sessions, each a plain `await execute()` loop
 * over the same point select (typed parameter, prepared), in a child process with the same
 * warm-up as stb's. What stb (pg-lean) spends per query beyond this is the runner's (reading the
 * trace, dispatch, the executor, the accounting); what this spends beyond pgbench is Node's and
 * the wire path's.
 */
function bareLeanChild() {
  const child = `
import { plugin } from '@stb/bench/db/pg-lean';
import { createRng } from '@stb/core';
const rng = createRng(7);
const sessions = await Promise.all(Array.from({ length: 8 }, () => plugin.connect({ url: '${URL_}' }, { protocol: 'prepared' })));
const q = (v) => ({ templateId: ${JSON.stringify(POINT.id)}, text: ${JSON.stringify(POINT.text)}, params: [{ t: 'int', v }], queryType: 'SELECT' });
const loop = async (s) => {
  let n = 0;
  const end = performance.now() + s * 1000;
  await Promise.all(sessions.map(async (c) => { while (performance.now() < end) { const o = await c.execute(q(1 + rng.int(${100_000 * SCALE}))); if (!o.ok) throw new Error(JSON.stringify(o)); n++; } }));
  return n;
};
await loop(${WARMUP});
const c0 = process.cpuUsage();
const t0 = performance.now();
const n = await loop(${SECONDS});
const c = process.cpuUsage(c0);
const wall = (performance.now() - t0) / 1000;
await Promise.all(sessions.map((c) => c.close()));
console.log('LEANCOUNT', n / wall, (c.user + c.system) / n, c.user / n);`;
  const m = moduleChild(child, /LEANCOUNT ([\d.]+) ([\d.]+) ([\d.]+)/, 'bare pg-lean');
  return { qps: Number(m[1]), cpuPerQueryUs: Number(m[2]), userPerQueryUs: Number(m[3]) };
}

/**
 * The point selects as `stb bench` users run them: a JSON Lines trace file written once per run
 * of this script (long enough for the warm-up and the measured run), read by the CLI as a real
 * process. The trace holds POINT_TRACE_EVENTS events with the child's parameters: enough for
 * (WARMUP_SECONDS + SECONDS_PER_RUN) at 150,000 statements/s (pg-native ran 100,000/s here).
 */
const POINT_TRACE_EVENTS = 1_500_000;
async function writePointTrace(dir) {
  const file = path.join(dir, 'points.stb.jsonl');
  const rng = createRng(7);
  function* events() {
    for (let i = 0; i < POINT_TRACE_EVENTS; i++)
      yield { kind: 'event', startUs: 1_700_000_000_000_000 + i * 40, sessionId: `c${i % 8}`, templateId: POINT.id, params: [{ t: 'int', v: 1 + rng.int(100_000 * SCALE) }] };
  }
  const header = createTraceHeader({ dialect: 'postgres', source: { tool: 'vs-pgbench' }, createdAt: '2026-01-01T00:00:00.000Z' });
  await writeTrace(file, withTemplateRecords(header, events(), () => POINT));
  return file;
}

/**
 * `stb bench` (the built CLI, through the package's `bin`, dist/cli.cjs, as `stb` runs) in closed
 * loop on that trace, 8 connections, pg-lean unless named, WARMUP_SECONDS of warm-up left out,
 * under /usr/bin/time. Returns its queries/s (the measured window), the result's client CPU per
 * statement (from the schedule's start: trace reading, dispatch, execution, warm-up included) and
 * the whole process's CPU per statement (Node start-up and module loading included).
 */
function stbCliChild(trace, dir, target = LEAN) {
  const out = path.join(dir, 'cli-result.json');
  const r = spawnSync('/usr/bin/time', ['-f', 'STBTIME %U %S', process.execPath, path.join(ROOT, 'packages/cli/dist/cli.cjs'), 'bench', '-i', trace, '--target', target, '--mode', 'closed', '-c', '8', '--warmup', `${WARMUP}s`, '--duration', `${SECONDS}s`, '--no-metrics', '--out', out], { encoding: 'utf8' });
  const t = /STBTIME ([\d.]+) ([\d.]+)/.exec(r.stderr);
  if (r.status !== 0 || !t) throw new Error(`stb bench CLI failed (exit ${r.status}): ${r.stderr}`);
  const res = JSON.parse(readFileSync(out, 'utf8'));
  if (res.status !== 'stopped') throw new Error(`stb bench CLI: the trace ran out before the duration (status ${res.status})`);
  return { qps: res.overall.qps, runCpuPerQueryUs: res.client.cpuPerQueryUs, cpuPerQueryUs: ((Number(t[1]) + Number(t[2])) * 1e6) / res.client.queries, busy: res.client.busiestThreadShare };
}

const fx = fixtureTrace();
const rate = fixtureRate();
const ACC_SECONDS = Number(/duration: (\d+) s/.exec(readFileSync(path.join(FIXTURE, 'client_output.txt'), 'utf8'))?.[1] ?? 8);
const wire = wireAvailable();
const raw = { startNative: [], warmNative: [], lessStartNative: [], nodeStart: [], threadNative: [], ptNativeLong: [], cpuNativeLong: [], cpuNativeLongRun: [], ptPgLong: [], cpuPgLong: [], accNative: [], lagNative: [], lagNativeRt: [], tpcbNative: [], waitTpcbNative: [], ptNative: [], cpuNative: [], cpuNativeRun: [], busyNative: [], userNativeRun: [], ptCliNative: [], cpuCliNativeRun: [], cpuCliNative: [], pgR: [], accPg: [], accLean: [], wire: [], fixLag: [], lag: [], lagLean: [], lagPgb: [], tpcbStb: [], tpcbLean: [], tpcbPg: [], ptStb: [], ptLean: [], ptBare: [], ptBareLean: [], cpuBareLean: [], busyLean: [], waitTpcbLean: [], waitTpcbPg: [], ptPg: [], ptCli: [], cpuCli: [], cpuCliRun: [], busyCli: [], cpuStb: [], cpuLean: [], cpuLeanRun: [], cpuStbRun: [], cpuPg: [], userLeanRun: [], userBareLean: [], userPg: [], loads: [] };
const f3 = (x) => (x === undefined ? '-' : x.toFixed(3));
const scratch = mkdtempSync(path.join(tmpdir(), 'stb-vs-pgbench-'));
try {
  const pointTrace = await writePointTrace(scratch);
  await admin(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
  await admin(`CREATE DATABASE ${DB}`);
  log(`pgbench -i -s ${SCALE} ${DB}${wire ? '; tcpdump captures the accuracy steps' : '; no tcpdump capture (not available or WIRE=0)'}`);
  execFileSync(`${PGBIN}/pgbench`, ['-i', '-q', '-s', String(SCALE), '-h', '127.0.0.1', '-U', 'postgres', DB], { stdio: ['ignore', 'ignore', 'pipe'] });
  for (let i = 0; i < ROUNDS; i++) {
    raw.loads.push(load());
    // the order within a round alternates, so neither side always runs first
    const flip = i % 2 === 1;
    // accuracy: pgbench -r at the sample's rate and the sample's log replayed by stb (both plugins)
    const cap = wire ? await startCapture() : null;
    const acc = [
      async () => raw.pgR.push(perStatement(pgbench(['-n', '-r', '-M', 'simple', '-c', String(rate.clients), '-j', '2', '-R', String(Math.round(rate.tps)), '-T', String(ACC_SECONDS)], { env: { PGAPPNAME: APP.pgbench } }).out)),
      async () => {
        const rep = await replayFixture(fx, withApp(URL_, APP.pg));
        raw.accPg.push(rep.byKey);
        raw.fixLag.push(rep.lag?.p99 ?? NaN);
      },
      async () => raw.accLean.push((await replayFixture(fx, withApp(LEAN, APP.lean))).byKey),
      async () => raw.accNative.push((await replayFixture(fx, withApp(NATIVE, APP.native))).byKey),
    ];
    for (const f of flip ? acc.reverse() : acc) await f();
    if (cap) raw.wire.push(wireTimes(await cap.stop()));
    const w = raw.wire.at(-1);
    log(`round ${i + 1}: accuracy ${[...raw.pgR.at(-1)].map(([k, v]) => `${k}: pgbench ${v}${w ? ` (wire ${f3(mean(w.get(APP.pgbench)?.get(k) ?? [NaN]))})` : ''} / stb pg p50 ${raw.accPg.at(-1).get(k)?.serviceMs?.p50} lean ${raw.accLean.at(-1).get(k)?.serviceMs?.p50} native ${raw.accNative.at(-1).get(k)?.serviceMs?.p50}`).join('; ')}`);
    const lags = [async () => raw.lag.push(await stbLag()), async () => raw.lagLean.push(await stbLag(LEAN)), async () => raw.lagNative.push({ ...(await stbLag(NATIVE)), lead: wakeLeads().reduce((m, l) => (l === null || m >= l ? m : l), NaN) }), ...(WITH_RT ? [async () => raw.lagNativeRt.push(await stbLag(NATIVE_RT))] : []), async () => raw.lagPgb.push(pgbenchLag(5000))];
    for (const f of flip ? lags.reverse() : lags) await f();
    const [lg, ll, lp] = [raw.lag.at(-1), raw.lagLean.at(-1), raw.lagPgb.at(-1)];
    log(`round ${i + 1}: lag at 5k/s p50/p99 ms: pg ${lg.p50}/${lg.p99} (${lg.qps} q/s, ${lg.cpuPerQueryUs.toFixed(1)} µs CPU/q), pg-lean ${ll.p50}/${ll.p99} (${ll.qps} q/s, ${ll.cpuPerQueryUs.toFixed(1)} µs CPU/q), pg-native ${raw.lagNative.at(-1).p50}/${raw.lagNative.at(-1).p99}${WITH_RT ? `, pg-native realtime ${raw.lagNativeRt.at(-1).p50}/${raw.lagNativeRt.at(-1).p99}` : ''}, pgbench ${f3(lp.p50)}/${f3(lp.p99)} (${lp.tps} tps)`);
    const tpcb = [async () => raw.tpcbStb.push(await stbTpcb(URL_)), async () => raw.tpcbLean.push(await stbTpcb(LEAN)), async () => raw.tpcbNative.push(await stbTpcb(NATIVE)), async () => { const pb = await pgbenchWaiting(['-n', '-M', 'simple', '-c', '4', '-j', '2', '-T', String(SECONDS)]); raw.tpcbPg.push(tpsOf(pb.out)); raw.waitTpcbPg.push(pb.wait); }];
    for (const f of flip ? tpcb.reverse() : tpcb) await f();
    log(`round ${i + 1}: TPC-B 4 conns stb ${raw.tpcbStb.at(-1)} tps, stb pg-lean ${raw.tpcbLean.at(-1)} (waited for a CPU ${f3(raw.waitTpcbLean.at(-1))}), stb pg-native ${raw.tpcbNative.at(-1)}, pgbench ${raw.tpcbPg.at(-1)} tps (${f3(raw.waitTpcbPg.at(-1))})`);
    const points = [
      async () => { const st = stbPointChild(URL_); raw.ptStb.push(st.qps); raw.cpuStb.push(st.cpuPerQueryUs); raw.cpuStbRun.push(st.runCpuPerQueryUs); },
      async () => { const st = stbPointChild(LEAN); raw.ptLean.push(st.qps); raw.cpuLean.push(st.cpuPerQueryUs); raw.cpuLeanRun.push(st.runCpuPerQueryUs); raw.busyLean.push(st.busy); raw.userLeanRun.push(st.runUserPerQueryUs); },
      async () => { const st = stbPointChild(NATIVE); raw.ptNative.push(st.qps); raw.cpuNative.push(st.cpuPerQueryUs); raw.cpuNativeRun.push(st.runCpuPerQueryUs); raw.busyNative.push(st.busy); raw.userNativeRun.push(st.runUserPerQueryUs); raw.threadNative.push(st.byThread); raw.startNative.push(st.startSeconds); raw.warmNative.push(st.warmCpuPerQueryUs); raw.lessStartNative.push(st.cpuPerQueryUs - (st.startSeconds * 1e6) / st.queries); raw.nodeStart.push(nodeBareStart()); },
      async () => { const c = stbCliChild(pointTrace, scratch, NATIVE); raw.ptCliNative.push(c.qps); raw.cpuCliNativeRun.push(c.runCpuPerQueryUs); raw.cpuCliNative.push(c.cpuPerQueryUs); },
      async () => raw.ptBare.push(barePgChild()),
      async () => { const bl = bareLeanChild(); raw.ptBareLean.push(bl.qps); raw.cpuBareLean.push(bl.cpuPerQueryUs); raw.userBareLean.push(bl.userPerQueryUs); },
      async () => { const c = stbCliChild(pointTrace, scratch); raw.ptCli.push(c.qps); raw.cpuCli.push(c.cpuPerQueryUs); raw.cpuCliRun.push(c.runCpuPerQueryUs); raw.busyCli.push(c.busy); },
      async () => { const pp = pgbench(['-n', '-S', '-M', 'prepared', '-c', '8', '-j', '2', '-T', String(SECONDS)]); raw.ptPg.push(tpsOf(pp.out)); raw.cpuPg.push((pp.cpu * 1e6) / txOf(pp.out)); raw.userPg.push((pp.user * 1e6) / txOf(pp.out)); },
    ];
    for (const f of flip ? points.reverse() : points) await f();
    log(`round ${i + 1}: point selects stb ${raw.ptStb.at(-1)} q/s (${raw.cpuStbRun.at(-1).toFixed(1)} µs CPU/q), pg-lean ${raw.ptLean.at(-1)} (${raw.cpuLeanRun.at(-1).toFixed(1)} µs CPU/q in the run, ${raw.cpuLean.at(-1).toFixed(1)} whole process), bare pg ${raw.ptBare.at(-1).toFixed(0)}, bare pg-lean ${raw.ptBareLean.at(-1).toFixed(0)} (${raw.cpuBareLean.at(-1).toFixed(1)} µs CPU/q), stb bench CLI ${Math.round(raw.ptCli.at(-1))} (${raw.cpuCliRun.at(-1).toFixed(1)} µs CPU/q in the run), pg-native ${raw.ptNative.at(-1)} (${raw.cpuNativeRun.at(-1).toFixed(1)} µs CPU/q in the run, ${raw.cpuNative.at(-1).toFixed(1)} whole process), CLI pg-native ${Math.round(raw.ptCliNative.at(-1))}, pgbench ${raw.ptPg.at(-1)} (${raw.cpuPg.at(-1).toFixed(1)} µs CPU/q); load ${load()}`);
    // the long pair: Node's start-up and its optimising compiler's warm-up, spread over a run of
    // the length users run, against pgbench's over the same length
    if (LONG > 0) {
      const long = [
        async () => { const st = stbPointChild(NATIVE, LONG); raw.ptNativeLong.push(st.qps); raw.cpuNativeLong.push(st.cpuPerQueryUs); raw.cpuNativeLongRun.push(st.runCpuPerQueryUs); },
        async () => { const pp = pgbench(['-n', '-S', '-M', 'prepared', '-c', '8', '-j', '2', '-T', String(LONG)]); raw.ptPgLong.push(tpsOf(pp.out)); raw.cpuPgLong.push((pp.cpu * 1e6) / txOf(pp.out)); },
      ];
      for (const f of flip ? long.reverse() : long) await f();
      log(`round ${i + 1}: ${LONG} s runs: pg-native ${raw.ptNativeLong.at(-1)} q/s (${raw.cpuNativeLong.at(-1).toFixed(1)} µs CPU/q whole process, ${raw.cpuNativeLongRun.at(-1).toFixed(1)} in the run), pgbench ${raw.ptPgLong.at(-1)} (${raw.cpuPgLong.at(-1).toFixed(1)} µs CPU/q)`);
    }
  }
} finally {
  await admin(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`).catch(() => undefined);
  rmSync(scratch, { recursive: true, force: true });
}

const rows = [];
const keys = [...raw.pgR[0].keys()];
const pgAvg = (k) => median(raw.pgR.map((m) => m.get(k)));
/** Worst |stb figure / pgbench -r average − 1| over the statements, stb's figure a median over rounds. */
function accuracy(runs, label, fig) {
  let worst = 0;
  for (const k of keys) {
    const stb = median(runs.map((m) => m.get(k)?.serviceMs?.[fig]));
    worst = Math.max(worst, Math.abs(stb / pgAvg(k) - 1));
    if (fig === 'p50') rows.push({ metric: `accuracy ${k}: stb (${label}) median service time / pgbench -r average (${r3(stb)} / ${r3(pgAvg(k))} ms)`, value: r3(stb / pgAvg(k)), unit: 'ratio', target: '0.85–1.15' });
  }
  return worst;
}
const worstPg = accuracy(raw.accPg, 'pg', 'p50');
rows.push({ metric: 'accuracy (pg, the default plugin): worst |median / pgbench average − 1| over the statements', value: r3(worstPg), unit: 'share', target: '<= 0.15' });
const worstLean = accuracy(raw.accLean, 'pg-lean', 'p50');
rows.push({ metric: 'accuracy (pg-lean): worst |median / pgbench average − 1| over the statements', value: r3(worstLean), unit: 'share', target: '<= 0.15' });
const worstNative = accuracy(raw.accNative, 'pg-native', 'p50');
rows.push({ metric: 'accuracy (pg-native): worst |median / pgbench average − 1| over the statements', value: r3(worstNative), unit: 'share', target: '<= 0.15' });
rows.push({ metric: 'accuracy, like for like (stb mean service time / pgbench -r average): worst |ratio − 1|, pg', value: r3(accuracy(raw.accPg, 'pg', 'mean')), unit: 'share' });
rows.push({ metric: 'accuracy, like for like (stb mean service time / pgbench -r average): worst |ratio − 1|, pg-lean', value: r3(accuracy(raw.accLean, 'pg-lean', 'mean')), unit: 'share' });
rows.push({ metric: 'accuracy, like for like (stb mean service time / pgbench -r average): worst |ratio − 1|, pg-native', value: r3(accuracy(raw.accNative, 'pg-native', 'mean')), unit: 'share' });
if (raw.wire.length > 0) {
  // what each tool adds to the wire time of its own statements (per round, then the median of rounds)
  const q = (xs, f) => (xs && xs.length > 0 ? f([...xs].sort((a, b) => a - b)) : NaN);
  const wmed = (xs) => q(xs, (s) => s[Math.floor(s.length / 2)]);
  const over = (perStmt) => {
    const per = raw.wire.map((w, r) => median(keys.map((k) => perStmt(w, r, k))));
    const worst = raw.wire.map((w, r) => Math.max(...keys.map((k) => perStmt(w, r, k))));
    return [median(per), median(worst)];
  };
  const add = (label, perStmt) => {
    const [med, worst] = over(perStmt);
    rows.push({ metric: `the wire (tcpdump): ${label}, median over the statements (worst)`, value: r3(med), unit: `ms (worst ${r3(worst)})` });
  };
  add('stb (pg) median service time − the wire median of its statements', (w, r, k) => raw.accPg[r].get(k)?.serviceMs?.p50 - wmed(w.get(APP.pg)?.get(k)));
  add('stb (pg-lean) median service time − the wire median of its statements', (w, r, k) => raw.accLean[r].get(k)?.serviceMs?.p50 - wmed(w.get(APP.lean)?.get(k)));
  add('stb (pg-native) median service time − the wire median of its statements', (w, r, k) => raw.accNative[r].get(k)?.serviceMs?.p50 - wmed(w.get(APP.native)?.get(k)));
  add('stb (pg) mean service time − the wire mean of its statements', (w, r, k) => raw.accPg[r].get(k)?.serviceMs?.mean - q(w.get(APP.pg)?.get(k), mean));
  add('stb (pg-lean) mean service time − the wire mean of its statements', (w, r, k) => raw.accLean[r].get(k)?.serviceMs?.mean - q(w.get(APP.lean)?.get(k), mean));
  add('stb (pg-native) mean service time − the wire mean of its statements', (w, r, k) => raw.accNative[r].get(k)?.serviceMs?.mean - q(w.get(APP.native)?.get(k), mean));
  add('pgbench -r average − the wire mean of its statements', (w, r, k) => raw.pgR[r].get(k) - q(w.get(APP.pgbench)?.get(k), mean));
  const bound = median(raw.wire.map((w) => Math.max(...keys.map((k) => Math.abs(wmed(w.get(APP.pgbench)?.get(k)) / q(w.get(APP.pgbench)?.get(k), mean) - 1)))));
  rows.push({ metric: "the wire: pgbench's own statements, worst |wire median / wire mean − 1| (a tool timing them exactly would be this far from the target's ratio of a median to an average)", value: r3(bound), unit: 'share' });
  // The issue's reference with pgbench's own work taken out: the database's median for
  // pgbench's statements, as the wire shows it, against stb's median (medians of rounds).
  const pgbWireMedian = new Map(keys.map((k) => [k, median(raw.wire.map((w) => wmed(w.get(APP.pgbench)?.get(k))))]));
  for (const [label, runs] of [['pg', raw.accPg], ['pg-lean', raw.accLean], ['pg-native', raw.accNative]]) {
    let worst = 0;
    for (const k of keys) {
      const stb = median(runs.map((m) => m.get(k)?.serviceMs?.p50));
      const ref = pgbWireMedian.get(k);
      worst = Math.max(worst, Math.abs(stb / ref - 1));
      if (label === 'pg-native') rows.push({ metric: `the wire: ${k}: stb (pg-native) median service time / the wire median of pgbench's own statements (${r3(stb)} / ${r3(ref)} ms)`, value: r3(stb / ref), unit: 'ratio' });
    }
    rows.push({ metric: `the wire: stb (${label}) median service time / the wire median of pgbench's own statements, worst |ratio − 1| over the statements`, value: r3(worst), unit: 'share' });
  }
}
rows.push({ metric: 'replay of the sample log (pg): schedule lag p99', value: median(raw.fixLag), unit: 'ms' });
for (const [label, runs] of [['pg', raw.lag], ['pg-lean', raw.lagLean], ['pg-native', raw.lagNative], ...(WITH_RT ? [['pg-native, ?realtime=1: loop threads under SCHED_FIFO', raw.lagNativeRt]] : [])]) {
  rows.push({ metric: `replay at 5,000 statements/s (${label}): schedule lag p50`, value: median(runs.map((l) => l.p50)), unit: 'ms', target: '<= 0.05' });
  rows.push({ metric: `replay at 5,000 statements/s (${label}): schedule lag p99`, value: median(runs.map((l) => l.p99)), unit: 'ms', target: '<= 0.5' });
  rows.push({ metric: `replay at 5,000 statements/s (${label}): statements/s run`, value: Math.round(median(runs.map((l) => l.qps))), unit: 'statements/s' });
  rows.push({ metric: `replay at 5,000 statements/s (${label}): client CPU per statement`, value: r3(median(runs.map((l) => l.cpuPerQueryUs))), unit: 'µs' });
  rows.push({ metric: `replay at 5,000 statements/s (${label}): the runner thread's wait for a CPU (client.cpuWaitShare)`, value: r3(median(runs.map((l) => l.cpuWait))), unit: 'share' });
}
rows.push({ metric: "replay at 5,000 statements/s (pg-native): the largest of its loop threads' leads before a due time after the run (each the median lateness of the thread's last 32 timer wake-ups; they spin the rest of the way)", value: r3(median(raw.lagNative.map((l) => l.lead))), unit: 'ms' });
rows.push({ metric: 'pgbench -S -R 5000 -c 8 -j 2 on the same machine: schedule lag p50 (its -l log)', value: r3(median(raw.lagPgb.map((l) => l.p50))), unit: 'ms' });
rows.push({ metric: 'pgbench -S -R 5000 -c 8 -j 2 on the same machine: schedule lag p99 (its -l log)', value: r3(median(raw.lagPgb.map((l) => l.p99))), unit: 'ms' });
const ratio = (a, b) => r3(median(a) / median(b));
/** The most a reference's own rounds may differ (largest ÷ smallest) for a ratio against it to be read. */
const STEADY_MAX = 1.25;
/**
 * Why a ratio against a reference measured in every round is not a reading of its target (the
 * row's `notReading`), or undefined. The reference's own rounds differing by more than STEADY_MAX×
 * means the machine changed under the run, and the ratio of medians pairs unlike rounds; it is
 * still a reading when every round's own ratio (`of[i] / ref[i]`, both measured in that round)
 * falls on the same side of the target, since no drift between rounds can then change the verdict
 * (and the ratio of medians falls on that side too: if `of[i] >= t * ref[i]` for every i, each
 * order statistic of `of` is at least t times that of `ref`).
 */
const unsteady = (ref, name, { of, target }) => {
  const spread = Math.max(...ref) / Math.min(...ref);
  if (spread <= STEADY_MAX) return undefined;
  const [, op, bound] = /^(>=|<=) ([\d.]+)$/.exec(target);
  const rounds = of.map((x, i) => x / ref[i]);
  const met = rounds.map((x) => (op === '>=' ? x >= Number(bound) : x <= Number(bound)));
  if (met.every(Boolean) || !met.some(Boolean)) return undefined;
  return `${name}'s own rounds ${ref.map((x) => (x >= 100 ? Math.round(x) : r3(x))).join(', ')} (${r3(spread)}× apart, over ${STEADY_MAX}), and the rounds' own ratios ${rounds.map(r3).join(', ')} fall on both sides of the target`;
};
/** A ratio row with a target: stb's rounds `of` against the reference's `ref`, read or not by {@link unsteady}. */
const ratioRow = (metric, { of, ref, refName, target }) => ({ metric, value: ratio(of, ref), unit: 'ratio', target, notReading: unsteady(ref, refName, { of, target }) });
rows.push({ metric: 'TPC-B closed loop, 4 connections, --protocol simple: stb (postgres plugin, pg)', value: Math.round(median(raw.tpcbStb)), unit: 'tps' });
rows.push({ metric: 'TPC-B closed loop, 4 connections, --protocol simple: stb (pg-lean plugin)', value: Math.round(median(raw.tpcbLean)), unit: 'tps' });
rows.push({ metric: 'TPC-B closed loop, 4 connections, --protocol simple: stb (pg-native plugin)', value: Math.round(median(raw.tpcbNative)), unit: 'tps' });
rows.push({ metric: 'TPC-B, 4 clients: pgbench -M simple', value: Math.round(median(raw.tpcbPg)), unit: 'tps' });
rows.push(ratioRow('TPC-B stb (pg) / pgbench', { of: raw.tpcbStb, ref: raw.tpcbPg, refName: 'pgbench', target: '>= 0.9' }));
rows.push(ratioRow('TPC-B stb (pg-lean) / pgbench', { of: raw.tpcbLean, ref: raw.tpcbPg, refName: 'pgbench', target: '>= 0.9' }));
rows.push(ratioRow('TPC-B stb (pg-native) / pgbench', { of: raw.tpcbNative, ref: raw.tpcbPg, refName: 'pgbench', target: '>= 0.9' }));
rows.push({ metric: "TPC-B stb (pg-lean): its runner thread's wait for a CPU (the result's client.cpuWaitShare: the database shares the 2 cores)", value: r3(median(raw.waitTpcbLean)), unit: 'share' });
rows.push({ metric: "TPC-B pgbench: its busiest thread's wait for a CPU (/proc schedstat sampled every 50 ms, over its whole run)", value: r3(median(raw.waitTpcbPg)), unit: 'share' });
rows.push({ metric: 'point selects, 8 connections: stb (pg, closed loop, prepared)', value: Math.round(median(raw.ptStb)), unit: 'queries/s' });
rows.push({ metric: 'point selects, 8 connections: stb (pg-lean)', value: Math.round(median(raw.ptLean)), unit: 'queries/s' });
rows.push({ metric: 'point selects, 8 connections: stb (pg-native)', value: Math.round(median(raw.ptNative)), unit: 'queries/s' });
rows.push({ metric: 'point selects: bare pg loop', value: Math.round(median(raw.ptBare)), unit: 'queries/s' });
rows.push({ metric: 'point selects: pgbench -S -M prepared -c 8 -j 2', value: Math.round(median(raw.ptPg)), unit: 'queries/s' });
rows.push(ratioRow('point selects stb (pg) / bare pg', { of: raw.ptStb, ref: raw.ptBare, refName: 'the bare pg loop', target: '>= 1.0' }));
rows.push(ratioRow('point selects stb (pg-lean) / bare pg', { of: raw.ptLean, ref: raw.ptBare, refName: 'the bare pg loop', target: '>= 1.0' }));
rows.push(ratioRow('point selects stb (pg-lean) / pgbench', { of: raw.ptLean, ref: raw.ptPg, refName: 'pgbench', target: '>= 0.75' }));
rows.push(ratioRow('point selects stb (pg-native) / bare pg', { of: raw.ptNative, ref: raw.ptBare, refName: 'the bare pg loop', target: '>= 1.0' }));
rows.push(ratioRow('point selects stb (pg-native) / pgbench', { of: raw.ptNative, ref: raw.ptPg, refName: 'pgbench', target: '>= 0.75' }));
rows.push({ metric: 'client CPU per point select: stb (pg), measured run', value: r3(median(raw.cpuStbRun)), unit: 'µs' });
rows.push({ metric: 'client CPU per point select: stb (pg-lean), measured run', value: r3(median(raw.cpuLeanRun)), unit: 'µs' });
rows.push({ metric: 'client CPU per point select: stb (pg-lean), whole process (/usr/bin/time, Node start-up and warm-up included)', value: r3(median(raw.cpuLean)), unit: 'µs' });
rows.push({ metric: 'client CPU per point select: stb (pg-native), measured run (every thread: the loop threads too)', value: r3(median(raw.cpuNativeRun)), unit: 'µs' });
rows.push({ metric: 'client CPU per point select: stb (pg-native), whole process (/usr/bin/time, Node start-up and warm-up included)', value: r3(median(raw.cpuNative)), unit: 'µs' });
// where the whole process's CPU goes beyond the measured run's (not targets): start-up and the
// warm-up, in which V8 compiles the hot path; a user's run pays both once
rows.push({ metric: "stb (pg-native) child: CPU before its script's first line (Node start-up, the static imports of @stb/core and @stb/bench)", value: r3(median(raw.startNative)), unit: 's' });
rows.push({ metric: "Node's own start-up: node -e 0 (/usr/bin/time, 10 ms resolution)", value: Math.round(median(raw.nodeStart) * 100) / 100, unit: 's' });
rows.push({ metric: `stb (pg-native) child: client CPU per point select in its ${WARMUP} s warm-up run (loading the plugin and the addon, connecting, V8 compiling the hot path)`, value: r3(median(raw.warmNative)), unit: 'µs' });
rows.push({ metric: 'CPU per query stb (pg-native, whole process less its start-up and static imports) / pgbench (not the target: what start-up weighs in it)', value: ratio(raw.lessStartNative, raw.cpuPg), unit: 'ratio' });
rows.push({ metric: 'client CPU per point select: pgbench (libpq, /usr/bin/time)', value: r3(median(raw.cpuPg)), unit: 'µs' });
rows.push(ratioRow('CPU per query stb (pg-lean, measured run) / pgbench', { of: raw.cpuLeanRun, ref: raw.cpuPg, refName: 'pgbench', target: '<= 1.2' }));
rows.push(ratioRow('CPU per query stb (pg-lean, whole process) / pgbench', { of: raw.cpuLean, ref: raw.cpuPg, refName: 'pgbench', target: '<= 1.2' }));
rows.push(ratioRow('CPU per query stb (pg-native, measured run) / pgbench', { of: raw.cpuNativeRun, ref: raw.cpuPg, refName: 'pgbench', target: '<= 1.2' }));
rows.push(ratioRow('CPU per query stb (pg-native, whole process) / pgbench', { of: raw.cpuNative, ref: raw.cpuPg, refName: 'pgbench', target: '<= 1.2' }));
// where pg-native's CPU goes (its measured run, by thread): the loop threads do what pgbench's
// threads do (libpq, a send and a receive per statement); the rest is what a JavaScript runner adds
const byThread = (k) => raw.threadNative.map((t) => t[k]);
rows.push({ metric: 'client CPU per point select, stb (pg-native) measured run, by thread: the JavaScript thread (dispatch, encoding, results)', value: r3(median(byThread('main'))), unit: 'µs' });
rows.push({ metric: "client CPU per point select, stb (pg-native) measured run, by thread: the addon's loop threads (libpq and the sockets' system calls)", value: r3(median(byThread('loops'))), unit: 'µs' });
rows.push({ metric: "client CPU per point select, stb (pg-native) measured run, by thread: the others (V8's optimising compiler and GC helpers, libuv's pool)", value: r3(median(byThread('other'))), unit: 'µs' });
rows.push({ metric: "CPU per query, pg-native's loop threads alone / pgbench (reference: the libpq part against libpq)", value: ratio(byThread('loops'), raw.cpuPg), unit: 'ratio' });
if (LONG > 0) {
  rows.push({ metric: `point selects, ${LONG} s runs: stb (pg-native)`, value: Math.round(median(raw.ptNativeLong)), unit: 'queries/s' });
  rows.push({ metric: `point selects, ${LONG} s runs: pgbench -S -M prepared -c 8 -j 2`, value: Math.round(median(raw.ptPgLong)), unit: 'queries/s' });
  rows.push({ metric: `client CPU per point select, ${LONG} s runs: stb (pg-native), whole process (/usr/bin/time, start-up and the ${WARMUP} s warm-up included)`, value: r3(median(raw.cpuNativeLong)), unit: 'µs' });
  rows.push({ metric: `client CPU per point select, ${LONG} s runs: stb (pg-native), measured run`, value: r3(median(raw.cpuNativeLongRun)), unit: 'µs' });
  rows.push({ metric: `client CPU per point select, ${LONG} s runs: pgbench (/usr/bin/time)`, value: r3(median(raw.cpuPgLong)), unit: 'µs' });
  rows.push(ratioRow(`CPU per query, ${LONG} s runs: stb (pg-native, whole process) / pgbench`, { of: raw.cpuNativeLong, ref: raw.cpuPgLong, refName: 'pgbench', target: '<= 1.2' }));
  rows.push(ratioRow(`CPU per query, ${LONG} s runs: stb (pg-native, measured run) / pgbench`, { of: raw.cpuNativeLongRun, ref: raw.cpuPgLong, refName: 'pgbench', target: '<= 1.2' }));
}
rows.push({ metric: "stb (pg-native) point selects: its runner thread's busy share", value: r3(median(raw.busyNative)), unit: 'share' });
rows.push({ metric: 'point selects: the pg-lean plugin alone (8 sessions, a bare execute loop, no runner)', value: Math.round(median(raw.ptBareLean)), unit: 'queries/s' });
rows.push({ metric: 'point selects, the pg-lean plugin alone / pgbench (reference: what the wire path reaches without the runner)', value: ratio(raw.ptBareLean, raw.ptPg), unit: 'ratio' });
rows.push({ metric: 'client CPU per point select: the pg-lean plugin alone, measured loop', value: r3(median(raw.cpuBareLean)), unit: 'µs' });
rows.push({ metric: 'CPU per query, the pg-lean plugin alone / pgbench (reference)', value: ratio(raw.cpuBareLean, raw.cpuPg), unit: 'ratio' });
rows.push({ metric: "stb (pg-lean) point selects: its runner thread's busy share (the result's client.busiestThreadShare; above 0.85 its summary names the client as the bottleneck)", value: r3(median(raw.busyLean)), unit: 'share' });
rows.push({ metric: "the runner's own CPU per point select: stb (pg-lean) measured run − the plugin alone (medians)", value: r3(median(raw.cpuLeanRun) - median(raw.cpuBareLean)), unit: 'µs' });
// The split of that CPU between user space and the kernel: the kernel's part (a write and a read
// on loopback TCP, which also does the server side's TCP receive work) is about the same for Node
// and libpq; the gap is user space (V8, libuv, the stream machinery).
for (const [label, user, all] of [['pgbench (libpq)', raw.userPg, raw.cpuPg], ['the pg-lean plugin alone', raw.userBareLean, raw.cpuBareLean], ['stb (pg-lean), measured run', raw.userLeanRun, raw.cpuLeanRun], ['stb (pg-native), measured run', raw.userNativeRun, raw.cpuNativeRun]]) {
  rows.push({ metric: `client CPU per point select in user space: ${label}`, value: r3(median(user)), unit: 'µs' });
  rows.push({ metric: `client CPU per point select in the kernel: ${label}`, value: r3(median(all.map((a, i) => a - user[i]))), unit: 'µs' });
}
rows.push({ metric: 'point selects, 8 connections: the stb bench CLI on a trace file (pg-lean, closed loop, a real process)', value: Math.round(median(raw.ptCli)), unit: 'queries/s' });
rows.push({ metric: 'point selects, the stb bench CLI / pgbench', value: ratio(raw.ptCli, raw.ptPg), unit: 'ratio' });
rows.push({ metric: "client CPU per point select: the stb bench CLI, the result's client block (trace reading, dispatch, execution)", value: r3(median(raw.cpuCliRun)), unit: 'µs' });
rows.push({ metric: 'client CPU per point select: the stb bench CLI, whole process (/usr/bin/time)', value: r3(median(raw.cpuCli)), unit: 'µs' });
rows.push({ metric: 'CPU per query, the stb bench CLI (client block) / pgbench', value: ratio(raw.cpuCliRun, raw.cpuPg), unit: 'ratio' });
rows.push({ metric: 'point selects, 8 connections: the stb bench CLI on a trace file (pg-native, closed loop, a real process)', value: Math.round(median(raw.ptCliNative)), unit: 'queries/s' });
rows.push(ratioRow('point selects, the stb bench CLI (pg-native) / pgbench', { of: raw.ptCliNative, ref: raw.ptPg, refName: 'pgbench', target: '>= 0.75' }));
rows.push({ metric: "client CPU per point select: the stb bench CLI (pg-native), the result's client block", value: r3(median(raw.cpuCliNativeRun)), unit: 'µs' });
rows.push({ metric: 'client CPU per point select: the stb bench CLI (pg-native), whole process (/usr/bin/time: start-up, trace reading, the warm-up)', value: r3(median(raw.cpuCliNative)), unit: 'µs' });
rows.push(ratioRow('CPU per query, the stb bench CLI (pg-native, whole process) / pgbench', { of: raw.cpuCliNative, ref: raw.cpuPg, refName: 'pgbench', target: '<= 1.2' }));
rows.push({ metric: "the stb bench CLI: its runner thread's busy share", value: r3(median(raw.busyCli)), unit: 'share' });
const wireNote = raw.wire.length > 0
  ? ` The wire rows: tcpdump on lo (port 5432) during each round's accuracy step; per connection (told apart by application_name) a statement's wire time runs from its Query packet to the answer packet ending in ReadyForQuery, so "tool − wire" is what the tool adds to its own statements' times (its wake-up after the answer arrives, its own work before the write).`
  : ' No wire rows: tcpdump was not available (it needs root or CAP_NET_RAW on lo) or WIRE=0.';
console.log(JSON.stringify({
  title: '@stb/bench against pgbench (issue 16)',
  command: 'node packages/bench/bench/vs-pgbench.bench.mjs',
  rows,
  notes: `${ROUNDS} alternating rounds, medians; scratch database ${DB}, pgbench scale ${SCALE}, shared PostgreSQL 15 on the same 2 cores as the client (machine shared by several engineers: 1-minute load averages at round starts ${raw.loads.join(', ')}, end ${load()}). Accuracy: the sample pg-tpcb-simple-logduration (pgbench -M simple, ${rate.clients} clients, ${rate.tps} tps, ${ACC_SECONDS} s) replayed by stb (--protocol simple, 4 connections, 0.5 s warm-up left out, the trace's header as stb parse wrote it: 1 ms stamps, so gaps below 1 ms are not waited) through each plugin, against pgbench -r -R ${Math.round(rate.tps)} -c ${rate.clients} -T ${ACC_SECONDS} on the same server in the same round; the issue's figure is stb's per-template median service time against pgbench's per-statement average (pgbench -r gives no median), the like-for-like one compares averages.${wireNote} Lag: Poisson point selects at 5,000/s from 8 sessions on 8 connections (no durations in the trace: think time 0), default scheduler (alarm thread); pg-native once as it is by default and once with ?realtime=1 (its loop threads under SCHED_FIFO for timed batches)${WITH_RT ? '' : `, which was not run: this process may not use SCHED_FIFO (${REFUSED_RT})`}; pgbench's own lag at the same rate from its per-transaction log as the machine's reference. TPC-B and point selects: ${SECONDS} s runs; each stb point-select figure is a child process (like pgbench) that runs ${WARMUP} s of warm-up, then the measured run; the bare pg loop (pg's named prepared statement, 8 clients) and the pg-lean plugin alone (8 of its sessions in a bare execute loop, no runner) run in their own child processes with the same warm-up; the stb bench CLI runs as a real process (the package's bin, dist/cli.cjs, as \`stb\` runs) on a JSON Lines trace of ${POINT_TRACE_EVENTS.toLocaleString('en')} point selects written at the start, with --warmup ${WARMUP}s --duration ${SECONDS}s (its client block counts from the schedule's start, so the warm-up's statements are in both its CPU and its count). ${LONG > 0 ? `The long pair: the pg-native child with a ${LONG} s measured run (after the same warm-up) and pgbench -T ${LONG}, in alternating order, so that Node's start-up and its optimising compiler's warm-up (it still recompiles hot functions during a second runBench call) weigh as in a run of the length users run. ` : ''}By thread: /proc/self/task/*/stat of the pg-native child before and after its measured run; the addon names its loop threads stb-pq-loop. CPU: /usr/bin/time user+sys of the whole stb process (Node start-up, module loading and the warm-up run included) and of pgbench, over the queries each ran; and process.cpuUsage() around the measured runBench call. A throughput or CPU ratio's target cell says "not a reading" when the reference it is taken against (pgbench, or the bare pg loop) differed by more than ${STEADY_MAX}× between its own rounds and the rounds' own ratios (stb ÷ the reference, both measured in that round) fall on both sides of the target; when every round's own ratio is on one side, no drift between rounds can change the verdict, and the row is a reading. Raw: TPC-B stb (pg) ${raw.tpcbStb.map(Math.round)}, stb (pg-lean) ${raw.tpcbLean.map(Math.round)}, stb (pg-native) ${raw.tpcbNative.map(Math.round)}, pgbench ${raw.tpcbPg.map(Math.round)}; points stb (pg) ${raw.ptStb.map(Math.round)}, stb (pg-lean) ${raw.ptLean.map(Math.round)}, stb (pg-native) ${raw.ptNative.map(Math.round)}, CLI (pg-native) ${raw.ptCliNative.map(Math.round)}, bare ${raw.ptBare.map(Math.round)}, pg-lean alone ${raw.ptBareLean.map(Math.round)}, pgbench ${raw.ptPg.map(Math.round)}; lag p50 pg-native ${raw.lagNative.map((l) => l.p50)}, its lead ${raw.lagNative.map((l) => f3(l.lead))}; lag p99 pg ${raw.lag.map((l) => l.p99)}, pg-lean ${raw.lagLean.map((l) => l.p99)}, pg-native ${raw.lagNative.map((l) => l.p99)}, pg-native realtime ${raw.lagNativeRt.map((l) => l.p99)}, pgbench ${raw.lagPgb.map((l) => f3(l.p99))}; CPU µs/q stb (pg) run ${raw.cpuStbRun.map((x) => x.toFixed(1))}, whole ${raw.cpuStb.map((x) => x.toFixed(1))}; stb (pg-lean) run ${raw.cpuLeanRun.map((x) => x.toFixed(1))}, whole ${raw.cpuLean.map((x) => x.toFixed(1))}; stb (pg-native) run ${raw.cpuNativeRun.map((x) => x.toFixed(1))}, whole ${raw.cpuNative.map((x) => x.toFixed(1))}, user space ${raw.userNativeRun.map((x) => x.toFixed(1))}, CPU before its script's first line ${raw.startNative.map((x) => x.toFixed(3))} s, its warm-up run ${raw.warmNative.map((x) => x.toFixed(1))} µs/q, node -e 0 ${raw.nodeStart.map((x) => x.toFixed(2))} s; pg-lean alone ${raw.cpuBareLean.map((x) => x.toFixed(1))}; stb bench CLI client block ${raw.cpuCliRun.map((x) => x.toFixed(1))}, whole ${raw.cpuCli.map((x) => x.toFixed(1))}, queries/s ${raw.ptCli.map(Math.round)}; stb bench CLI (pg-native) client block ${raw.cpuCliNativeRun.map((x) => x.toFixed(1))}, whole ${raw.cpuCliNative.map((x) => x.toFixed(1))}; pgbench ${raw.cpuPg.map((x) => x.toFixed(1))}; of which user space: stb (pg-lean) run ${raw.userLeanRun.map((x) => x.toFixed(1))}, pg-lean alone ${raw.userBareLean.map((x) => x.toFixed(1))}, pgbench ${raw.userPg.map((x) => x.toFixed(1))}; stb (pg-lean) runner thread busy ${raw.busyLean.map((x) => x.toFixed(3))}; stb (pg-native) measured run by thread, µs/q: JavaScript ${byThread('main').map((x) => x.toFixed(2))}, loop threads ${byThread('loops').map((x) => x.toFixed(2))}, others ${byThread('other').map((x) => x.toFixed(2))};${LONG > 0 ? ` ${LONG} s runs: stb (pg-native) queries/s ${raw.ptNativeLong.map(Math.round)}, µs CPU/q whole ${raw.cpuNativeLong.map((x) => x.toFixed(1))}, run ${raw.cpuNativeLongRun.map((x) => x.toFixed(1))}, pgbench queries/s ${raw.ptPgLong.map(Math.round)}, µs CPU/q ${raw.cpuPgLong.map((x) => x.toFixed(1))};` : ''} runner's wait for a CPU, lag pg ${raw.lag.map((l) => l.cpuWait.toFixed(3))}, lag pg-lean ${raw.lagLean.map((l) => l.cpuWait.toFixed(3))}, TPC-B pg-lean ${raw.waitTpcbLean.map((x) => x.toFixed(3))}, TPC-B pgbench ${raw.waitTpcbPg.map((x) => x.toFixed(3))}.`,
}));

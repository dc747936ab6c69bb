// Performance fidelity: the shared sample pg-tpcb-simple-logduration (pgbench -R, 3183 statements)
// is parsed, a Markov model learned, and a synthetic trace of the same size generated; both are
// replayed on PostgreSQL with their own timing (`stb bench --mode replay`), and compared with
// `stb compare`. The original is replayed twice per round, so the same figures between its two
// replays give the noise floor: on a shared 2-core machine, sub-millisecond p50s of two replays of
// one trace already differ. Reports per-template p50 agreement and the throughput ratio
// (synthetic ÷ original) beside that floor. Targets (issue 17): p50 within 10 %, throughput
// within 5 %.
// Needs the shared samples (/work/shared/samples or STB_SAMPLES), pgbench and the PostgreSQL at
// 127.0.0.1:5432. Prints progress to stderr and one JSON object as the last stdout line.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../..',
);
const CLI = path.join(ROOT, 'packages/cli/dist/cli.cjs');
const SAMPLE = process.env.STB_SAMPLE ?? 'pg-tpcb-simple-logduration';
const SAMPLES = process.env.STB_SAMPLES ?? '/work/shared/samples';
const PGBENCH = process.env.PGBENCH ?? '/usr/lib/postgresql/15/bin/pgbench';
const ROUNDS = Number(process.env.ROUNDS ?? 6);
/** A template's p50 is compared only with at least this many executions in both runs. */
const MIN_EXECUTIONS = 20;
const log = (m) => process.stderr.write(`[performance-fidelity] ${m}\n`);
const dir = mkdtempSync(path.join(tmpdir(), 'stb-perf-fidelity-'));
const suffix = randomBytes(5).toString('hex');
/** The pgbench database as initialised; every replay runs on a fresh copy of it. */
const base = `stb_test_${suffix}_base`;
const db = `stb_test_${suffix}`;
const psql = (sql, database = 'postgres') =>
  execFileSync(
    'psql',
    ['-h', '127.0.0.1', '-U', 'postgres', '-qAtc', sql, database],
    { encoding: 'utf8' },
  );

function stb(args) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  if (r.status !== 0)
    throw new Error(`stb ${args[0]} failed (${r.status}): ${r.stderr}`);
  return r.stderr;
}

const f = (n) => path.join(dir, n);

const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Per-template p50 ratios, the share within ±10 % and the throughput ratio of one comparison. */
function summarise(c) {
  const ratios = c.templates.map((t) => ({
    id: t.templateId,
    q: t.queryType,
    n: Math.min(t.count.baseline, t.count.candidate),
    p50: t.latency.p50.ratio,
  }));
  const ok = (t) => t.p50 !== null && Math.abs(t.p50 - 1) <= 0.1;
  const kept = ratios.filter((t) => t.n >= MIN_EXECUTIONS && t.p50 !== null);
  const devs = kept.map((t) => Math.abs(t.p50 - 1)).sort((a, b) => a - b);
  return {
    ratios,
    n: kept.length,
    within: kept.filter(ok).length,
    nAll: ratios.length,
    withinAll: ratios.filter(ok).length,
    medianDev: devs[Math.floor(devs.length / 2)] ?? 0,
    qps: c.overall.throughput.ratio ?? 0,
    onlyA: c.onlyInBaseline.length,
    onlyB: c.onlyInCandidate.length,
  };
}

const fmt = (s) =>
  s.ratios
    .filter((t) => t.n >= MIN_EXECUTIONS)
    .map((t) => `${t.id.slice(0, 6)} ${t.q} ${t.p50}`)
    .join(', ');
const loads = [];
try {
  const input = path.join(SAMPLES, SAMPLE, 'postgresql.log.gz');
  stb(['parse', '-q', '-i', input, '-o', f('o.jsonl')]);
  const events = readFileSync(f('o.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.includes('"kind":"event"')).length;
  stb(['learn', '-q', '-m', 'markov', '-i', f('o.jsonl'), '-o', f('m.json')]);
  stb([
    'generate',
    '-q',
    '-m',
    f('m.json'),
    '-n',
    String(events),
    '--seed',
    '11',
    '-o',
    f('g.jsonl'),
  ]);
  log(`${SAMPLE}: ${events} statements; generated the same number`);
  psql(`CREATE DATABASE ${base}`);
  execFileSync(
    PGBENCH,
    ['-i', '-s', '2', '-q', '-h', '127.0.0.1', '-U', 'postgres', base],
    { stdio: 'ignore' },
  );
  const url = `postgres://postgres@127.0.0.1:5432/${db}`;
  // A replay changes the data (balances, HOT chains, dead index entries of the rows it updates):
  // a trace replayed again on the same database finds its rows already touched, a new trace does
  // not, and the capture ran on fresh rows. Every replay therefore starts from a copy of the
  // initialised database (CREATE DATABASE … TEMPLATE), so no replay inherits another's changes.
  const replay = (which, out) => {
    psql(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
    psql(`CREATE DATABASE ${db} TEMPLATE ${base}`);
    psql('CHECKPOINT');
    loads.push(loadavg()[0]);
    stb([
      'bench',
      '-q',
      '-i',
      f(`${which}.jsonl`),
      '--target',
      url,
      '--mode',
      'replay',
      '--metrics-port',
      '0',
      '-o',
      out,
    ]);
    return out;
  };
  const compare = (a, b, name) => {
    stb(['compare', '-q', a, b, '--json-report', f(name)]);
    return JSON.parse(readFileSync(f(name), 'utf8'));
  };
  // Each round replays the original twice and the generated trace once, the three positions
  // rotating over rounds. o₁ vs o₂ is the noise floor: what two replays of the very same trace
  // disagree by on this machine; o vs g (both o runs) is the fidelity figure.
  // all six orders of the three replays, so neither o₁ nor o₂ nor g keeps a position
  const ORDERS = [
    ['o1', 'o2', 'g'],
    ['g', 'o2', 'o1'],
    ['o1', 'g', 'o2'],
    ['o2', 'o1', 'g'],
    ['g', 'o1', 'o2'],
    ['o2', 'g', 'o1'],
  ];
  const noise = [];
  const fidelity = [];
  for (let r = 0; r < ROUNDS; r++) {
    const runs = {};
    for (const which of ORDERS[r % ORDERS.length])
      runs[which] = replay(which.slice(0, 1), f(`${which}-${r}.json`));
    noise.push(summarise(compare(runs.o1, runs.o2, `n${r}.json`)));
    for (const o of ['o1', 'o2'])
      fidelity.push(summarise(compare(runs[o], runs.g, `f${o}${r}.json`)));
    const last = fidelity.at(-1);
    log(
      `round ${r + 1} (${ORDERS[r % ORDERS.length].join(', ')}; load ${loadavg()[0].toFixed(1)}): noise within 10 % ${noise.at(-1).within}/${noise.at(-1).n}, throughput ×${noise.at(-1).qps}; fidelity (o2 vs g) within 10 % ${last.within}/${last.n}, throughput ×${last.qps}; p50 ratios o1/o2 ${fmt(noise.at(-1))}; o2/g ${fmt(last)}`,
    );
  }
  const r3 = (x) => Math.round(x * 1000) / 1000;
  const share = (xs) =>
    r3(mean(xs.map((x) => x.within / Math.max(1, x.n))) * 100);
  const medDev = (xs) => r3(mean(xs.map((x) => x.medianDev)) * 100);
  const qpsDev = (xs) => r3(mean(xs.map((x) => Math.abs(x.qps - 1))) * 100);
  // Per template, the geometric mean of its p50 ratio over all comparisons of a kind: run-to-run
  // noise averages out over the rounds, a systematic difference does not.
  const pooled = (list) => {
    const logs = new Map();
    for (const x of list)
      for (const t of x.ratios)
        if (t.n >= MIN_EXECUTIONS && t.p50 > 0)
          logs.set(t.id, [...(logs.get(t.id) ?? []), Math.log(t.p50)]);
    return [...logs].map(([id, ls]) => ({
      id,
      ratio: Math.exp(mean(ls)),
      // standard error of the mean log ratio (comparisons sharing a run are not independent: a floor)
      se:
        ls.length > 1
          ? Math.sqrt(
              (mean(ls.map((l) => (l - mean(ls)) ** 2)) *
                (ls.length / (ls.length - 1))) /
                ls.length,
            )
          : null,
    }));
  };
  const pooledF = pooled(fidelity);
  const pooledN = pooled(noise);
  const withinPooled = (xs) =>
    r3(
      (xs.filter((x) => Math.abs(x.ratio - 1) <= 0.1).length /
        Math.max(1, xs.length)) *
        100,
    );
  const rows = [
    {
      metric: `templates (≥ ${MIN_EXECUTIONS} executions) whose p50 ratio, geometric mean over the ${fidelity.length} comparisons, is within 10 %: synthetic vs original`,
      value: withinPooled(pooledF),
      unit: '%',
      target: '100 %',
    },
    {
      metric: `the same over the ${noise.length} comparisons original vs original (noise floor)`,
      value: withinPooled(pooledN),
      unit: '%',
    },
    {
      metric: `templates (≥ ${MIN_EXECUTIONS} executions) with p50 within 10 %, synthetic vs original (mean of ${fidelity.length} comparisons)`,
      value: share(fidelity),
      unit: '%',
      target: '100 %',
    },
    {
      metric: `the same, original vs original (noise floor, ${noise.length} comparisons)`,
      value: share(noise),
      unit: '%',
    },
    {
      metric: 'median |p50 ratio − 1| over templates, synthetic vs original',
      value: medDev(fidelity),
      unit: '%',
      target: '≤ 10 %',
    },
    {
      metric: 'the same, original vs original (noise floor)',
      value: medDev(noise),
      unit: '%',
    },
    {
      metric: 'throughput ratio, synthetic ÷ original (mean)',
      value: r3(mean(fidelity.map((x) => x.qps))),
      unit: '×',
      target: '0.95–1.05',
    },
    {
      metric: 'mean |throughput ratio − 1|: synthetic vs original',
      value: qpsDev(fidelity),
      unit: '%',
    },
    {
      metric: 'the same, original vs original (noise floor)',
      value: qpsDev(noise),
      unit: '%',
    },
    {
      metric:
        'templates with p50 within 10 %, all templates (incl. single executions), synthetic vs original',
      value: r3(
        mean(fidelity.map((x) => x.withinAll / Math.max(1, x.nAll))) * 100,
      ),
      unit: '%',
    },
    {
      metric: 'the same, original vs original (noise floor)',
      value: r3(
        mean(noise.map((x) => x.withinAll / Math.max(1, x.nAll))) * 100,
      ),
      unit: '%',
    },
    ...pooledF.map((t) => {
      const q = fidelity[0].ratios.find((x) => x.id === t.id)?.q;
      const n = pooledN.find((x) => x.id === t.id);
      const fmtSe = (x) => (x?.se == null ? 'n/a' : `±${r3(x.se)}`);
      return {
        metric: `p50 ratio of ${t.id} (${q}), geometric mean over rounds: synthetic ÷ original (SE of the log ${fmtSe(t)}; original ÷ original ${n ? r3(n.ratio) : 'n/a'}, ${fmtSe(n)})`,
        value: r3(t.ratio),
        unit: '×',
        target: '0.9–1.1',
      };
    }),
  ];
  console.log(
    JSON.stringify({
      title: 'Performance fidelity: original vs synthetic replay on PostgreSQL',
      command: `${process.env.ROUNDS ? `ROUNDS=${ROUNDS} ` : ''}node packages/compare/bench/performance-fidelity.bench.mjs`,
      rows,
      notes: `${SAMPLE}: parse → learn markov → generate -n ${events} --seed 11; each trace replayed with its own timing (--mode replay, speed 1) on a fresh copy (CREATE DATABASE … TEMPLATE, then CHECKPOINT) of one pgbench -i -s 2 database (the sample's scale). ${ROUNDS} rounds, each replaying the original twice (o₁, o₂) and the synthetic trace once (g), positions following the first ${ROUNDS} of the six orders of the three; o₁ vs o₂ is the noise floor (the same trace replayed twice), o₁ vs g and o₂ vs g the fidelity comparisons; all with stb compare (defaults). p50 agreement counts templates with at least ${MIN_EXECUTIONS} executions in both runs (a p50 of one execution is that execution). Templates only in one replay (last round): ${fidelity.at(-1).onlyA} (original), ${fidelity.at(-1).onlyB} (synthetic). Load average during the replays: ${Math.min(...loads).toFixed(2)}–${Math.max(...loads).toFixed(2)}.`,
    }),
  );
} finally {
  try {
    psql(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
    psql(`DROP DATABASE IF EXISTS ${base} WITH (FORCE)`);
  } catch {
    /* server gone */
  }
  rmSync(dir, { recursive: true, force: true });
}

// Performance fidelity: the shared sample pg-tpcb-simple-logduration (pgbench -R, 3183 statements)
// is parsed, a Markov model learned, and a synthetic trace of the same size generated; both are
// replayed on PostgreSQL with their own timing (`stb bench --mode replay`), alternating, and
// compared with `stb compare`. Reports per-template p50 agreement and the throughput ratio
// (synthetic ÷ original). Targets (issue 17): p50 within 10 %, throughput within 5 %.
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
const CLI = path.join(ROOT, 'packages/cli/dist/cli.js');
const SAMPLE = process.env.STB_SAMPLE ?? 'pg-tpcb-simple-logduration';
const SAMPLES = process.env.STB_SAMPLES ?? '/work/shared/samples';
const PGBENCH = process.env.PGBENCH ?? '/usr/lib/postgresql/15/bin/pgbench';
const ROUNDS = Number(process.env.ROUNDS ?? 2);
const log = (m) => process.stderr.write(`[performance-fidelity] ${m}\n`);
const dir = mkdtempSync(path.join(tmpdir(), 'stb-perf-fidelity-'));
const db = `stb_test_${randomBytes(5).toString('hex')}`;
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
  psql(`CREATE DATABASE ${db}`);
  execFileSync(
    PGBENCH,
    ['-i', '-s', '2', '-q', '-h', '127.0.0.1', '-U', 'postgres', db],
    { stdio: 'ignore' },
  );
  const url = `postgres://postgres@127.0.0.1:5432/${db}`;
  const rounds = [];
  for (let r = 0; r < ROUNDS; r++) {
    const runs = {};
    // alternate which trace goes first
    for (const which of r % 2 === 0 ? ['o', 'g'] : ['g', 'o']) {
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
        f(`${which}${r}.json`),
      ]);
      runs[which] = f(`${which}${r}.json`);
    }
    stb(['compare', '-q', runs.o, runs.g, '--json-report', f(`c${r}.json`)]);
    const c = JSON.parse(readFileSync(f(`c${r}.json`), 'utf8'));
    const ratios = c.templates.map((t) => ({
      id: t.templateId,
      q: t.queryType,
      n: t.count.baseline,
      p50: t.latency.p50.ratio,
    }));
    const within = ratios.filter(
      (t) => t.p50 !== null && Math.abs(t.p50 - 1) <= 0.1,
    );
    rounds.push({ c, ratios, within });
    log(
      `round ${r + 1}: throughput ${c.overall.throughput.baseline} → ${c.overall.throughput.candidate}/s (×${c.overall.throughput.ratio}); p50 ratios ${ratios.map((t) => `${t.id.slice(0, 6)} ${t.q} ${t.p50}`).join(', ')}; only in original ${c.onlyInBaseline.length}, only in generated ${c.onlyInCandidate.length}`,
    );
  }
  const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const r3 = (x) => Math.round(x * 1000) / 1000;
  const last = rounds.at(-1);
  const rows = [
    {
      metric: 'throughput ratio, synthetic ÷ original (mean of rounds)',
      value: r3(mean(rounds.map((r) => r.c.overall.throughput.ratio ?? 0))),
      unit: '×',
      target: '0.95–1.05',
    },
    {
      metric: 'templates with p50 within 10 % (mean share of rounds)',
      value: r3(
        mean(
          rounds.map((r) => r.within.length / Math.max(1, r.ratios.length)),
        ) * 100,
      ),
      unit: '%',
      target: '100 %',
    },
    {
      metric: 'median |p50 ratio − 1| over templates (mean of rounds)',
      value: r3(
        mean(
          rounds.map((r) => {
            const d = r.ratios
              .filter((t) => t.p50 !== null)
              .map((t) => Math.abs(t.p50 - 1))
              .sort((a, b) => a - b);
            return d[Math.floor(d.length / 2)] ?? 0;
          }),
        ) * 100,
      ),
      unit: '%',
      target: '≤ 10 %',
    },
    {
      metric: 'overall p50 ratio, synthetic ÷ original (mean of rounds)',
      value: r3(mean(rounds.map((r) => r.c.overall.latency.p50.ratio ?? 0))),
      unit: '×',
    },
    ...last.ratios.map((t) => ({
      metric: `last round: p50 ratio of ${t.id} (${t.q}, ${t.n} runs)`,
      value: t.p50 ?? 0,
      unit: '×',
      target: '0.9–1.1',
    })),
  ];
  console.log(
    JSON.stringify({
      title: 'Performance fidelity: original vs synthetic replay on PostgreSQL',
      command: 'node packages/compare/bench/performance-fidelity.bench.mjs',
      rows,
      notes: `${SAMPLE}: parse → learn markov → generate -n ${events} --seed 11; each trace replayed with its own timing (--mode replay, speed 1) on a pgbench -i -s 2 database (the sample's scale), ${ROUNDS} rounds alternating which goes first; compared with stb compare (defaults). Templates only in one replay: ${last.c.onlyInBaseline.length} (original), ${last.c.onlyInCandidate.length} (generated). Before the session model of issue 13 (same script, load average 16–21): throughput ratio 0.67 and 1.12 in two rounds, 0 % of templates with p50 within 10 %. Load average: ${Math.min(...loads).toFixed(2)}–${Math.max(...loads).toFixed(2)}.`,
    }),
  );
} finally {
  try {
    psql(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
  } catch {
    /* server gone */
  }
  rmSync(dir, { recursive: true, force: true });
}

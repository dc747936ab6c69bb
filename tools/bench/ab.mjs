#!/usr/bin/env node
// A/B comparison of two builds with the same bench scripts: runs each script in tree A, then in
// tree B, then A again, … (alternating, `--rounds` times each, in one run), and reports per metric
// the median of each side, the ratio of the medians (B ÷ A), the spread of each side and of the
// per-round ratios. The script is this checkout's (the measuring code is the same for both sides):
// it is copied next to the tree's own bench scripts for the run, so its imports resolve to that
// tree's packages, and removed after. Build both trees first. Hold the bench lock:
//
//   flock /work/wt/bench.lock node tools/bench/ab.mjs --a ../pre --b . --rounds 5 \
//     --env ROUNDS=1 packages/bench/bench/throughput.bench.mjs
//
//   --a DIR, --b DIR     the two trees (built; A is the baseline, B the candidate)
//   --rounds N           runs of each script per side (default 5)
//   --env K=V            environment for every run (repeatable), e.g. ROUNDS=1 for a script's own rounds
//   --timeout S          seconds a single run may take before it is killed (default 900)
//   --no-write           print the table only; by default the section `ab:<script>` of BENCHMARKS.md
//                        is replaced (tools/bench/run.mjs's format, with date, machine and load)
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  machineInfo,
  parseResult,
  renderSection,
  writeSections,
} from './run.mjs';

const ROOT = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../..',
);

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s.length % 2
    ? s[(s.length - 1) / 2]
    : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/**
 * Per metric of `runs` ({side: 'A'|'B', round, rows}), in first-seen order: each side's values by
 * round, their medians, the ratio of the medians (B ÷ A) and the per-round ratios B_i ÷ A_i.
 */
export function summarize(runs) {
  const byMetric = new Map();
  for (const r of runs)
    for (const row of r.rows) {
      let m = byMetric.get(row.metric);
      if (!m) {
        m = { metric: row.metric, unit: row.unit, A: [], B: [] };
        byMetric.set(row.metric, m);
      }
      m[r.side][r.round] = row.value;
    }
  return [...byMetric.values()].map((m) => {
    const a = m.A.filter(Number.isFinite);
    const b = m.B.filter(Number.isFinite);
    const perRound = [];
    for (let i = 0; i < Math.max(m.A.length, m.B.length); i++)
      if (Number.isFinite(m.A[i]) && Number.isFinite(m.B[i]) && m.A[i] !== 0)
        perRound.push(m.B[i] / m.A[i]);
    const medA = median(a);
    const medB = median(b);
    return {
      metric: m.metric,
      unit: m.unit,
      a,
      b,
      medianA: medA,
      medianB: medB,
      ratio: medA !== 0 ? medB / medA : NaN,
      perRound,
    };
  });
}

const fmt = (v) => {
  if (!Number.isFinite(v)) return 'n/a';
  const abs = Math.abs(v);
  const digits = abs >= 1000 ? 0 : abs >= 10 ? 1 : abs >= 1 ? 2 : 3;
  return v.toLocaleString('en-US', {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
};
const range = (xs) =>
  xs.length ? `${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))}` : 'n/a';
const ratioText = (v) => (Number.isFinite(v) ? v.toFixed(3) : 'n/a');

/** The markdown table of {@link summarize}'s output. */
export function renderTable(summary, labels) {
  return [
    `| metric | unit | A median (range) | B median (range) | B ÷ A (medians) | B ÷ A per round: median (range) |`,
    '|---|---|---:|---:|---:|---:|',
    ...summary.map(
      (s) =>
        `| ${s.metric.replace(/\|/g, '\\|')} | ${s.unit} | ${fmt(s.medianA)} (${range(s.a)}) | ${fmt(s.medianB)} (${range(s.b)}) | ${ratioText(s.ratio)} | ${ratioText(median(s.perRound))} (${s.perRound.length ? `${ratioText(Math.min(...s.perRound))}–${ratioText(Math.max(...s.perRound))}` : 'n/a'}) |`,
    ),
    '',
    `A = ${labels.A}, B = ${labels.B}.`,
  ];
}

function parseArgs(argv) {
  const o = {
    a: undefined,
    b: undefined,
    rounds: 5,
    env: {},
    timeoutS: 900,
    write: true,
    scripts: [],
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    if (arg === '--a') o.a = path.resolve(value());
    else if (arg === '--b') o.b = path.resolve(value());
    else if (arg === '--rounds') o.rounds = Number(value());
    else if (arg === '--timeout') o.timeoutS = Number(value());
    else if (arg === '--no-write') o.write = false;
    else if (arg === '--env') {
      const v = value();
      const eq = v.indexOf('=');
      if (eq <= 0) throw new Error(`--env wants K=V, got ${v}`);
      o.env[v.slice(0, eq)] = v.slice(eq + 1);
    } else if (arg.startsWith('-')) throw new Error(`unknown option ${arg}`);
    else o.scripts.push(arg);
  }
  if (!o.a || !o.b) throw new Error('--a and --b are required');
  if (!Number.isInteger(o.rounds) || o.rounds < 1)
    throw new Error('--rounds wants a positive integer');
  if (!(o.timeoutS > 0)) throw new Error('--timeout wants seconds above 0');
  if (o.scripts.length === 0) throw new Error('name at least one bench script');
  for (const s of o.scripts)
    if (!existsSync(path.join(ROOT, s)))
      throw new Error(`${s} is not a file of this checkout (${ROOT})`);
  for (const t of [o.a, o.b])
    if (!existsSync(path.join(t, 'package.json')))
      throw new Error(`${t} is not a checkout of the repository`);
  return o;
}

function treeLabel(tree) {
  const r = spawnSync('git', ['-C', tree, 'log', '-1', '--format=%h %s'], {
    encoding: 'utf8',
  });
  const head = r.status === 0 ? r.stdout.trim().slice(0, 72) : 'not a git tree';
  return `${path.relative(process.cwd(), tree) || '.'} (${head})`;
}

/** Runs `script` (a path of this checkout) inside `tree`; returns its rows. */
function runIn(tree, script, o) {
  const own = path.resolve(tree) === ROOT;
  const target = own
    ? path.join(ROOT, script)
    : path.join(tree, script.replace(/\.bench\.mjs$/, '.ab-copy.mjs'));
  if (!own) copyFileSync(path.join(ROOT, script), target);
  try {
    const r = spawnSync(process.execPath, [target], {
      cwd: tree,
      stdio: ['ignore', 'pipe', 'inherit'],
      encoding: 'utf8',
      maxBuffer: 256 << 20,
      timeout: o.timeoutS * 1000,
      env: { ...process.env, NX_DAEMON: 'false', ...o.env },
    });
    if (r.error) throw r.error;
    if (r.status !== 0)
      throw new Error(
        `${script} in ${tree} exited with ${r.status ?? r.signal}${r.signal === 'SIGTERM' ? ` (over --timeout ${o.timeoutS} s?)` : ''}`,
      );
    return parseResult(r.stdout, script);
  } finally {
    if (!own) rmSync(target, { force: true });
  }
}

function main(argv) {
  let o;
  try {
    o = parseArgs(argv);
  } catch (err) {
    process.stderr.write(`[ab] ${err.message}\n`);
    return 2;
  }
  const labels = { A: treeLabel(o.a), B: treeLabel(o.b) };
  const machine = machineInfo();
  const sections = new Map();
  for (const script of o.scripts) {
    const runs = [];
    const loads = [];
    let title = script;
    const started = new Date().toISOString();
    for (let round = 0; round < o.rounds; round++)
      for (const side of ['A', 'B']) {
        const load = os.loadavg()[0];
        loads.push(load);
        process.stderr.write(
          `[ab] ${script}: round ${round + 1}/${o.rounds}, ${side} (load ${load.toFixed(2)})\n`,
        );
        let result;
        try {
          result = runIn(side === 'A' ? o.a : o.b, script, o);
        } catch (err) {
          process.stderr.write(`[ab] FAILED ${err.message}\n`);
          return 1;
        }
        title = result.title;
        runs.push({ side, round, rows: result.rows });
      }
    loads.push(os.loadavg()[0]);
    const summary = summarize(runs);
    const table = renderTable(summary, labels);
    process.stdout.write(`\n${title}\n${table.join('\n')}\n`);
    const env = Object.entries(o.env)
      .map(([k, v]) => `${k}=${v} `)
      .join('');
    sections.set(
      `ab:${script}`,
      renderSection(
        `ab:${script}`,
        {
          title: `A/B: ${title}`,
          command: `flock /work/wt/bench.lock node tools/bench/ab.mjs --a ${path.relative(ROOT, o.a) || '.'} --b ${path.relative(ROOT, o.b) || '.'} --rounds ${o.rounds}${Object.entries(
            o.env,
          )
            .map(([k, v]) => ` --env ${k}=${v}`)
            .join('')} ${script}`,
          rows: summary.map((s) => ({
            metric: `${s.metric}: B ÷ A (medians of ${s.a.length} and ${s.b.length} runs)`,
            value: Math.round(s.ratio * 1000) / 1000,
            unit: 'ratio',
          })),
          table,
          notes: `${o.rounds} rounds, alternating A, B, A, B, … (each run a fresh Node process: ${env}node ${script} in the side's tree, this checkout's copy of the script); started ${started}. 1-minute load average at each run start, in order: ${loads
            .slice(0, -1)
            .map((l) => l.toFixed(2))
            .join(', ')}; at the end ${loads.at(-1).toFixed(2)}.`,
        },
        {
          date: new Date().toISOString(),
          machine,
          load: { before: loads[0], after: loads.at(-1) },
        },
      ),
    );
  }
  if (o.write) writeSections(sections, machine, '[ab]');
  return 0;
}

if (
  process.argv[1] &&
  path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)
) {
  process.exitCode = main(process.argv.slice(2));
}

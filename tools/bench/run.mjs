#!/usr/bin/env node
// `npm run bench [filter…]`: builds every package, runs each packages/*/bench/*.bench.mjs (or
// those whose path contains one of the filters) in its own Node process, and rewrites that
// script's section of BENCHMARKS.md, leaving the other sections as they are.
//
// A bench script prints progress to stderr and, as its LAST stdout line, one JSON object:
//   {"title": "...", "command": "...", "rows": [{"metric", "value", "unit", "target"?, "notReading"?}], "table"?: ["| … |", …], "notes"?: "..."}
// `notReading` (a string): why this run's value cannot be read against its target (the
// script's own controls say the machine did not give the conditions it needs); the target cell
// then says "not a reading" with that reason.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../..',
);
const OUT = path.join(ROOT, 'BENCHMARKS.md');
const BEGIN = (id) => `<!-- bench:${id} -->`;
const END = (id) => `<!-- /bench:${id} -->`;
const SECTION_RE = /<!-- bench:(\S+) -->\n[\s\S]*?<!-- \/bench:\1 -->\n?/g;

export function findScripts(root = ROOT) {
  const pkgs = path.join(root, 'packages');
  const out = [];
  for (const pkg of readdirSync(pkgs).sort()) {
    const dir = path.join(pkgs, pkg, 'bench');
    if (!existsSync(dir)) continue;
    for (const f of readdirSync(dir).sort())
      if (f.endsWith('.bench.mjs')) out.push(`packages/${pkg}/bench/${f}`);
  }
  return out;
}

/** Parses and checks the JSON object on the last non-empty stdout line. */
export function parseResult(stdout, script) {
  const last = stdout.trimEnd().split('\n').at(-1) ?? '';
  let r;
  try {
    r = JSON.parse(last);
  } catch {
    throw new Error(`${script}: the last stdout line is not JSON`);
  }
  if (typeof r?.title !== 'string' || !Array.isArray(r.rows))
    throw new Error(`${script}: the result needs "title" and "rows"`);
  for (const row of r.rows) {
    if (
      typeof row?.metric !== 'string' ||
      typeof row.value !== 'number' ||
      typeof row.unit !== 'string'
    )
      throw new Error(
        `${script}: every row needs metric (string), value (number), unit (string)`,
      );
    if (row.notReading !== undefined && typeof row.notReading !== 'string')
      throw new Error(`${script}: a row's notReading is a string (the reason)`);
  }
  return r;
}

export function machineInfo() {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model?.trim() ?? 'unknown',
    cores: cpus.length,
    ramGiB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
  };
}

const fmtValue = (v) =>
  Number.isInteger(v)
    ? v.toLocaleString('en-US')
    : String(Math.round(v * 1000) / 1000);
const cell = (s) => String(s).replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** A row's target, and why this run is not a reading of it (`notReading`), when it is not. */
const targetCell = (r) =>
  r.notReading === undefined
    ? (r.target ?? '')
    : `${r.target ?? ''}; not a reading: ${r.notReading}`;

export function renderSection(script, result, { date, machine, load }) {
  const lines = [
    BEGIN(script),
    `## ${result.title}`,
    '',
    `- Script: \`${script}\``,
    `- Command: \`${result.command ?? `node ${script}`}\``,
    `- Date: ${date}`,
    `- Machine: ${machine.cpu}, ${machine.cores} cores, ${machine.ramGiB} GiB RAM, Node ${machine.node}`,
    ...(load
      ? [
          `- Load average (1 min) before / after: ${load.before.toFixed(2)} / ${load.after.toFixed(2)} (what else ran on the machine)`,
        ]
      : []),
    '',
    '| metric | value | unit | target |',
    '|---|---:|---|---|',
    ...result.rows.map(
      (r) =>
        `| ${cell(r.metric)} | ${fmtValue(r.value)} | ${cell(r.unit)} | ${cell(targetCell(r))} |`,
    ),
  ];
  // An optional pre-rendered markdown table (lines), for results with many columns per row.
  if (Array.isArray(result.table) && result.table.length > 0)
    lines.push('', ...result.table.map((l) => String(l)));
  if (result.notes) lines.push('', cell(result.notes));
  lines.push(END(script), '');
  return lines.join('\n');
}

export function renderHeader(machine, date) {
  return [
    '# Benchmarks',
    '',
    'Written by `npm run bench` (tools/bench/run.mjs); each section is replaced only when its script runs',
    '(`npm run bench -- <filter>`). Figures vary with what else runs on the machine: each section records the 1-minute load average before and after its script.',
    '',
    `Last run: ${date} on ${machine.cpu}, ${machine.cores} cores, ${machine.ramGiB} GiB RAM, ${machine.os}, Node ${machine.node}.`,
    '',
  ].join('\n');
}

/** Replaces (or adds) the sections of the given scripts, keeping the others, ordered by script. */
export function mergeSections(existing, sections, header) {
  const kept = new Map();
  for (const m of existing.matchAll(SECTION_RE))
    kept.set(m[1], m[0].endsWith('\n') ? m[0] : `${m[0]}\n`);
  for (const [id, text] of sections) kept.set(id, text);
  const body = [...kept.keys()]
    .sort()
    .map((id) => kept.get(id))
    .join('\n');
  return `${header}\n${body}`;
}

/** Replaces (or adds) `sections` in BENCHMARKS.md, with a fresh header; says so on stderr. */
export function writeSections(sections, machine, tag) {
  const existing = existsSync(OUT) ? readFileSync(OUT, 'utf8') : '';
  writeFileSync(
    OUT,
    mergeSections(
      existing,
      sections,
      renderHeader(machine, new Date().toISOString()),
    ),
  );
  process.stderr.write(
    `${tag} wrote ${path.relative(process.cwd(), OUT)} (${[...sections.keys()].join(', ')})\n`,
  );
}

function main(argv) {
  const filters = argv.filter((a) => !a.startsWith('-'));
  const skipBuild = argv.includes('--no-build');
  const all = findScripts();
  // The 30-minute soak runs only when asked for by name (`npm run bench -- soak`).
  const scripts = filters.length
    ? all.filter((s) => filters.some((f) => s.includes(f)))
    : all.filter((s) => !s.endsWith('/soak.bench.mjs'));
  if (scripts.length === 0) {
    process.stderr.write(
      `[bench] no bench scripts match ${filters.join(' ')}; found: ${all.join(', ') || 'none'}\n`,
    );
    return 2;
  }
  const env = { ...process.env, NX_DAEMON: 'false' };
  if (!skipBuild) {
    process.stderr.write('[bench] building: npx nx run-many -t build\n');
    const b = spawnSync(
      'npx',
      ['nx', 'run-many', '-t', 'build', '--outputStyle=static'],
      {
        cwd: ROOT,
        stdio: ['ignore', 'inherit', 'inherit'],
        env,
      },
    );
    if (b.status !== 0)
      process.stderr.write(
        '[bench] some builds failed; benchmarks of those packages will fail too\n',
      );
  }
  const machine = machineInfo();
  const sections = new Map();
  let failed = 0;
  for (const script of scripts) {
    process.stderr.write(`[bench] ${script}\n`);
    const loadBefore = os.loadavg()[0];
    const r = spawnSync(process.execPath, [script], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
      encoding: 'utf8',
      maxBuffer: 256 << 20,
      env,
    });
    try {
      if (r.status !== 0)
        throw new Error(`${script} exited with ${r.status ?? r.signal}`);
      const result = parseResult(r.stdout, script);
      sections.set(
        script,
        renderSection(script, result, {
          date: new Date().toISOString(),
          machine,
          load: { before: loadBefore, after: os.loadavg()[0] },
        }),
      );
    } catch (err) {
      failed++;
      process.stderr.write(`[bench] FAILED ${err.message}\n`);
    }
  }
  if (sections.size > 0) writeSections(sections, machine, '[bench]');
  return failed > 0 ? 1 : 0;
}

if (
  process.argv[1] &&
  path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)
) {
  process.exitCode = main(process.argv.slice(2));
}

#!/usr/bin/env node
// Checks that `stb parse` writes the same bytes as a reference build: every fixture log (and any
// extra logs given), with --workers 0 and 1, to JSONL and to CSV (with its templates sidecar).
//
//   node tools/same-trace.mjs record <dir> [extra logs…]   # with the reference build (e.g. main)
//   node tools/same-trace.mjs check <dir> [extra logs…]    # with the build under test
//
// `record` writes <dir>/hashes.json (sha256 of each output, the exit code and the summary line);
// `check` compares and exits 1 on any difference. Run under `flock /work/wt/bench.lock`.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const STB = path.join(ROOT, 'packages/cli/dist/cli.cjs');
const LOG = /\.(log|csv|json|jsonl)(\.gz)?$/;
const NOT_LOGS =
  /(manifest|pg_stat_statements|performance_schema|client|templates)/;

function fixtureLogs() {
  const out = [];
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (LOG.test(e.name) && !NOT_LOGS.test(e.name)) out.push(p);
    }
  };
  walk(path.join(ROOT, 'fixtures/samples'));
  walk(path.join(ROOT, 'fixtures/load'));
  walk(path.join(ROOT, 'packages/parser/tests/fixtures/generated'));
  return out.sort();
}

/** sha256 of a written trace, its header's `createdAt` (the clock) masked. */
const sha = (file) =>
  existsSync(file)
    ? createHash('sha256')
        .update(
          readFileSync(file, 'latin1').replace(
            /"createdAt":"[^"]*"/,
            '"createdAt":""',
          ),
          'latin1',
        )
        .digest('hex')
    : null;

function runOne(log, workers, ext, tmp) {
  const out = path.join(tmp, `out.${ext}`);
  const sidecar = path.join(tmp, 'out.templates.json');
  rmSync(out, { force: true });
  rmSync(sidecar, { force: true });
  const r = spawnSync(
    process.execPath,
    [
      STB,
      'parse',
      '--json',
      '-i',
      log,
      '-o',
      out,
      '--workers',
      String(workers),
      '--max-invalid',
      '1',
    ],
    { encoding: 'utf8', maxBuffer: 1 << 26 },
  );
  let summary = null;
  try {
    const s = JSON.parse(r.stdout.trim().split('\n').at(-1));
    // Paths in the summary name this checkout: compare them relative to it.
    summary = JSON.stringify({ ...s, output: undefined }).replaceAll(
      `${ROOT}/`,
      '<root>/',
    );
  } catch {
    summary = null;
  }
  return {
    status: r.status,
    out: sha(out),
    sidecar: ext === 'csv' ? sha(sidecar) : undefined,
    summary,
  };
}

function main() {
  const [mode, dir, ...extra] = process.argv.slice(2);
  if ((mode !== 'record' && mode !== 'check') || !dir) {
    process.stderr.write(
      'usage: same-trace.mjs record|check <dir> [extra logs…]\n',
    );
    process.exit(2);
  }
  mkdirSync(dir, { recursive: true });
  const tmp = path.join(dir, 'tmp');
  mkdirSync(tmp, { recursive: true });
  const logs = [...fixtureLogs(), ...extra.map((f) => path.resolve(f))];
  const got = {};
  for (const log of logs)
    for (const workers of [0, 1])
      for (const ext of ['jsonl', 'csv']) {
        const rel = path.relative(ROOT, log);
        const name = rel.startsWith('..') ? log : rel;
        const key = `${name} --workers ${workers} ${ext}`;
        got[key] = runOne(log, workers, ext, tmp);
        process.stderr.write(
          `${key}: exit ${got[key].status} ${got[key].out?.slice(0, 12)}\n`,
        );
      }
  rmSync(tmp, { recursive: true, force: true });
  const file = path.join(dir, 'hashes.json');
  writeFileSync(path.join(dir, `${mode}.json`), `${JSON.stringify(got, null, 1)}\n`);
  if (mode === 'record') {
    writeFileSync(file, `${JSON.stringify(got, null, 1)}\n`);
    process.stdout.write(
      `recorded ${Object.keys(got).length} runs into ${file}\n`,
    );
    return;
  }
  const want = JSON.parse(readFileSync(file, 'utf8'));
  let bad = 0;
  let same = 0;
  for (const [key, w] of Object.entries(want)) {
    const g = got[key];
    if (!g) continue;
    if (JSON.stringify(g) === JSON.stringify(w)) same++;
    else {
      bad++;
      process.stdout.write(
        `DIFFERENT ${key}\n  want ${JSON.stringify(w)}\n  got  ${JSON.stringify(g)}\n`,
      );
    }
  }
  process.stdout.write(`${same} identical, ${bad} different\n`);
  if (bad > 0) process.exit(1);
}

main();

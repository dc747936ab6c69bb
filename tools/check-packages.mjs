#!/usr/bin/env node
// `npm run check:packages`: checks what we would publish. For each publishable, built package:
// `npm pack` into a temporary directory; the tarball holds only dist/, README.md, LICENSE and
// package.json (a native addon, `gypfile: true`, ships its sources instead of dist/: the files
// its `files` field names, built where it is installed); publint and `attw` (profile node16: our dual ESM + CJS build) report no
// problems. For @stb/core, the tarball is installed into a scratch project outside the repo and
// both `import('@stb/core')` and `require('@stb/core')` must work.
// Packages not built yet (still being written) are reported and skipped, not failed.
import { execFileSync, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ALLOWED = [/^dist\//, /^README\.md$/, /^LICENSE$/, /^package\.json$/];
const REQUIRED = ['README.md', 'LICENSE', 'package.json'];

const problems = [];
const log = (s) => process.stderr.write(`[check-packages] ${s}\n`);
const fail = (pkg, s) => {
  problems.push(`${pkg}: ${s}`);
  log(`FAIL ${pkg}: ${s}`);
};

function packages() {
  const dir = path.join(ROOT, 'packages');
  return readdirSync(dir)
    .sort()
    .map((d) => path.join(dir, d))
    .filter((d) => existsSync(path.join(d, 'package.json')))
    .map((d) => ({
      dir: d,
      json: JSON.parse(readFileSync(path.join(d, 'package.json'), 'utf8')),
    }));
}

/** Every file the exports map points at (for conditions we publish). */
function exportTargets(json) {
  const out = [];
  const walk = (v, condition) => {
    if (typeof v === 'string') {
      if (condition !== '@stb/source') out.push(v);
    } else if (v && typeof v === 'object')
      for (const [k, x] of Object.entries(v))
        walk(x, k.startsWith('.') ? condition : k);
  };
  walk(json.exports ?? {}, undefined);
  for (const k of ['main', 'module', 'types']) if (json[k]) out.push(json[k]);
  return [...new Set(out)].filter((f) => !f.endsWith('package.json'));
}

function pack(pkgDir, dest) {
  const out = execFileSync(
    'npm',
    ['pack', '--json', '--pack-destination', dest],
    {
      cwd: pkgDir,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const [info] = JSON.parse(out);
  return {
    tarball: path.join(dest, info.filename),
    files: info.files.map((f) => f.path),
  };
}

async function checkOne(pkg, tmp) {
  const name = pkg.json.name;
  const missing = exportTargets(pkg.json).filter(
    (f) => !existsSync(path.join(pkg.dir, f)),
  );
  if (missing.length > 0) {
    log(
      `skip ${name}: not built (${missing.join(', ')} missing); build it to check it`,
    );
    return undefined;
  }
  const { tarball, files } = pack(pkg.dir, tmp);
  const allowed = pkg.json.gypfile
    ? [
        ...ALLOWED,
        ...(pkg.json.files ?? []).map(
          (f) =>
            new RegExp(`^${f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(/|$)`),
        ),
      ]
    : ALLOWED;
  const extra = files.filter((f) => !allowed.some((re) => re.test(f)));
  if (extra.length)
    fail(
      name,
      `tarball holds files outside dist/, README.md, LICENSE, package.json${pkg.json.gypfile ? ' and its files field' : ''}: ${extra.join(', ')}`,
    );
  for (const f of REQUIRED)
    if (!files.includes(f)) fail(name, `tarball lacks ${f}`);

  const buf = readFileSync(tarball);
  const lint = await publint({
    pack: {
      tarball: buf.buffer.slice(
        buf.byteOffset,
        buf.byteOffset + buf.byteLength,
      ),
    },
    level: 'warning',
  });
  for (const m of lint.messages)
    fail(name, `publint ${m.type}: ${formatMessage(m, lint.pkg) ?? m.code}`);

  const attw = spawnSync(
    process.execPath,
    [
      path.join(ROOT, 'node_modules/@arethetypeswrong/cli/dist/index.js'),
      tarball,
      '--profile',
      'node16',
      '--format',
      'table-flipped',
    ],
    { encoding: 'utf8' },
  );
  if (attw.status !== 0)
    fail(name, `attw found problems:\n${attw.stdout}${attw.stderr}`);
  const mine = problems.filter((p) => p.startsWith(`${name}:`)).length;
  log(
    mine
      ? `${name}: ${mine} problem(s)`
      : `ok ${name} (${files.length} files; publint and attw clean)`,
  );
  return tarball;
}

function smokeInstall(tarball, tmp) {
  const project = mkdtempSync(path.join(os.tmpdir(), 'stb-pack-smoke-'));
  try {
    writeFileSync(
      path.join(project, 'package.json'),
      JSON.stringify({ name: 'stb-pack-smoke', private: true }),
    );
    execFileSync(
      'npm',
      ['install', '--no-audit', '--no-fund', '--no-package-lock', tarball],
      {
        cwd: project,
        stdio: ['ignore', 'ignore', 'inherit'],
      },
    );
    const check = (label, code, args = []) => {
      const r = spawnSync(process.execPath, [...args, '-e', code], {
        cwd: project,
        encoding: 'utf8',
      });
      if (r.status !== 0 || r.stdout.trim() !== 'ok')
        fail(
          '@stb/core',
          `${label} failed in a scratch project: ${r.stderr || r.stdout}`,
        );
      else log(`ok @stb/core ${label} from ${project}`);
    };
    const probe =
      "typeof m.writeTrace === 'function' && typeof m.readTraceRecords === 'function' && m.TRACE_FORMAT_VERSION === 2";
    check(
      'require()',
      `const m = require('@stb/core'); const s = require('@stb/core/trace.schema.json'); console.log(${probe} && s.$defs.TraceEvent ? 'ok' : 'bad')`,
    );
    check(
      'import()',
      `import('@stb/core').then((m) => console.log(${probe} ? 'ok' : 'bad'))`,
      ['--input-type=module'],
    );
    // a CSV trace written and read back: csv-stringify and csv-parse are required at their first
    // use, so only this finds one missing from the package's dependencies
    check(
      'CSV trace round trip',
      `const m = require('@stb/core'); const fs = require('node:fs'); const os = require('node:os'); const path = require('node:path');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stb-csv-smoke-')); const file = path.join(dir, 't.csv');
const t = { kind: 'template', id: m.computeTemplateId('postgres', 'SELECT 1'), text: 'SELECT 1', queryType: 'SELECT', tables: [], slots: [] };
const h = m.createTraceHeader({ dialect: 'postgres', source: { tool: 'smoke' }, createdAt: '2026-01-01T00:00:00.000Z' });
(async () => {
  await m.writeTrace(file, m.withTemplateRecords(h, [{ kind: 'event', startUs: 1, sessionId: 's', templateId: t.id, params: [] }], () => t));
  let n = 0;
  for await (const r of m.readTraceRecords(file)) if (r.kind === 'event') n++;
  fs.rmSync(dir, { recursive: true, force: true });
  console.log(n === 1 ? 'ok' : 'bad');
})().catch((e) => { console.error(e); process.exit(1); });`,
    );
  } finally {
    rmSync(project, { recursive: true, force: true });
  }
}

async function main() {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'stb-pack-'));
  try {
    const tarballs = new Map();
    for (const pkg of packages()) {
      if (pkg.json.private) {
        log(`skip ${pkg.json.name}: private`);
        continue;
      }
      const t = await checkOne(pkg, tmp);
      if (t) tarballs.set(pkg.json.name, t);
    }
    const core = tarballs.get('@stb/core');
    if (!core)
      fail('@stb/core', 'not built: run `npx nx run-many -t build` first');
    else smokeInstall(core, tmp);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  if (problems.length) {
    log(`${problems.length} problem(s)`);
    process.exitCode = 1;
  } else log('all built packages are publishable');
}

await main();

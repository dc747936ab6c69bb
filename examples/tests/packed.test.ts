import { execFileSync } from 'node:child_process';
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BenchResult, ValidationReport } from '@stb/core';
import {
  EXAMPLES_DIST,
  LOG,
  ROOT,
  SETUP_SQL,
  envWithoutDatabases,
  postgresReachable,
  run,
  runNode,
} from './helpers';

// Publishability: `npm pack` the packages, install the tarballs into a scratch project outside
// the repository, and run the examples there against the packed packages (no workspace links,
// no `@stb/source` condition: what a user gets from the registry).
const PACKAGES = [
  'core',
  'parser',
  'extractor',
  'models',
  'generator',
  'validator',
  'bench',
  'compare',
  'cli',
];

function npm(args: string[], cwd: string): string {
  return execFileSync('npm', args, {
    cwd,
    env: envWithoutDatabases(), // and without npm's variables
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

const rootVersion = (pkg: string): string =>
  (
    JSON.parse(
      readFileSync(
        path.join(ROOT, 'node_modules', pkg, 'package.json'),
        'utf8',
      ),
    ) as { version: string }
  ).version;

describe('packed packages in a scratch project', () => {
  let project: string;
  const tarballs: Record<string, string> = {};

  beforeAll(() => {
    project = mkdtempSync(path.join(os.tmpdir(), 'stb-packed-examples-'));
    const tgz = path.join(project, 'tgz');
    mkdirSync(tgz);
    // One npm process packs every workspace (what `npm publish` would upload).
    const packed = JSON.parse(
      npm(
        [
          'pack',
          '--json',
          '--pack-destination',
          tgz,
          ...PACKAGES.flatMap((p) => ['-w', `packages/${p}`]),
          '-w',
          'examples/custom-model',
        ],
        ROOT,
      ),
    ) as { name: string; filename: string }[];
    for (const info of packed)
      tarballs[info.name] = path.join(tgz, info.filename);
    writeFileSync(
      path.join(project, 'package.json'),
      JSON.stringify({ name: 'stb-scratch', private: true, type: 'module' }),
    );
    npm(
      [
        'install',
        '--no-audit',
        '--no-fund',
        '--prefer-offline',
        ...Object.values(tarballs).map((t) => `./${path.relative(project, t)}`),
        `pg@${rootVersion('pg')}`,
        `zod@${rootVersion('zod')}`,
      ],
      project,
    );
    // The examples' programs, beside the data they default to (../../data).
    cpSync(EXAMPLES_DIST, path.join(project, 'dist'), { recursive: true });
    mkdirSync(path.join(project, 'data'));
    for (const f of [LOG, SETUP_SQL])
      cpSync(f, path.join(project, 'data', path.basename(f)));
  });
  afterAll(() => rmSync(project, { recursive: true, force: true }));

  it('installs every package from its tarball, not from the workspace', () => {
    const installed = readdirSync(
      path.join(project, 'node_modules/@stb'),
    ).sort();
    expect(installed).toEqual([...PACKAGES].sort());
    // Only what `files` lists was packed: no TypeScript sources.
    expect(() =>
      readFileSync(
        path.join(project, 'node_modules/@stb/core/src/index.ts'),
        'utf8',
      ),
    ).toThrow();
  });

  it('runs examples 01 and 02 against the packed packages', async () => {
    const ex1 = await runNode(
      path.join(project, 'dist/01-compose-library/main.js'),
      [path.join(project, 'data', path.basename(LOG)), 'out1', '1000'],
      { cwd: project },
    );
    expect(ex1.stderr).toBe('');
    expect(ex1.code).toBe(0);
    expect(ex1.stdout).toContain('8405 statements, 12 templates');

    const ex2 = await runNode(
      path.join(project, 'dist/02-validate-gate/main.js'),
      ['out1/trace.jsonl', 'out1/generated.jsonl', '0.5', 'out2'],
      { cwd: project },
    );
    expect(ex2.code).toBe(0);
    const report = ValidationReport.parse(
      JSON.parse(readFileSync(path.join(project, 'out2/report.json'), 'utf8')),
    );
    expect(report.passed).toBe(true);
  });

  it('runs example 03 (custom DB plugin on PostgreSQL) against the packed packages', async () => {
    if (!(await postgresReachable('example 03 from packed packages'))) return;
    const ex3 = await runNode(
      path.join(project, 'dist/03-bench-custom-plugin/main.js'),
      ['out1/generated.jsonl', 'out3.json'],
      { cwd: project },
    );
    expect(ex3.stderr).toBe('');
    expect(ex3.code).toBe(0);
    const result = BenchResult.parse(
      JSON.parse(readFileSync(path.join(project, 'out3.json'), 'utf8')),
    );
    expect(result.overall.errors).toBe(0);
    expect(result.overall.count).toBeGreaterThanOrEqual(1000);
  });

  it('the installed `stb` learns with the packed custom model package', async () => {
    const r = await run(
      path.join(project, 'node_modules/.bin/stb'),
      [
        'learn',
        '-i',
        path.join('data', path.basename(LOG)),
        '-m',
        'unigram',
        '--model-package',
        'stb-plugin-model-unigram',
        '-o',
        'unigram.json',
      ],
      { cwd: project },
    );
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('Learned a unigram model');
  });

  it('the custom model package passes publint and attw', async () => {
    const tarball = tarballs['stb-plugin-model-unigram'];
    expect(tarball).toBeDefined();
    const attw = await runNode(
      path.join(ROOT, 'node_modules/@arethetypeswrong/cli/dist/index.js'),
      [tarball as string, '--profile', 'node16', '--format', 'table-flipped'],
    );
    expect(attw.stdout + attw.stderr).not.toMatch(/❌|🐛|💀|🥴|⚠️/u);
    expect(attw.code).toBe(0);
    const publint = await runNode(
      path.join(ROOT, 'node_modules/publint/src/cli.js'),
      ['run', tarball as string, '--level', 'suggestion', '--strict'],
    );
    expect(publint.stdout).toContain('All good!');
    expect(publint.code).toBe(0);
  });
});

import { spawnSync } from 'node:child_process';
import vm from 'node:vm';
import path from 'node:path';
import { createPgliteTarget } from './helpers/targets';
import { describeDbPlugin } from './helpers/conformance';

// PGlite imports its own modules dynamically, which jest's VM allows only under
// --experimental-vm-modules. jest.config.cjs passes the flag to forked test workers; when jest
// runs in band without it, this file reruns itself in a child jest that has it.
const vmModules =
  typeof (vm as unknown as { SourceTextModule?: unknown }).SourceTextModule ===
  'function';

if (vmModules) describeDbPlugin('pglite', createPgliteTarget());
else
  it('runs the PGlite conformance suite in a child jest with --experimental-vm-modules', () => {
    const jestBin = require.resolve('jest/bin/jest');
    const r = spawnSync(
      process.execPath,
      [
        '--experimental-vm-modules',
        '--no-warnings',
        jestBin,
        '--ci',
        'tests/pglite.test.ts',
      ],
      { cwd: path.resolve(__dirname, '..'), encoding: 'utf8' },
    );
    if (r.status !== 0) console.error(r.stdout + r.stderr);
    expect(r.stderr).toMatch(/Tests:\s+(\d+) passed, \1 total/);
    expect(r.status).toBe(0);
  }, 120_000);

import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/**
 * `npm pack` of @stb/core, @stb/models and @stb/model-lstm, installed into a scratch project outside
 * the repository, where a script fits, samples and loads the model through `loadModelPackage`,
 * from ESM and from CommonJS. Each package is built into a staging folder (never into the
 * package's own `dist`, which other engineers may be using), without declaration files to keep the
 * test fast. Installing needs the npm registry (or its cache) for tfjs, zod and pure-rand.
 */
const PACKAGES = ['core', 'models', 'model-lstm'];
const ROOT = resolve(__dirname, '../../..');

function run(
  cmd: string,
  args: string[],
  options: { cwd: string; timeoutMs?: number },
): string {
  return execFileSync(cmd, args, {
    cwd: options.cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: options.timeoutMs ?? 120_000,
    env: { ...process.env, npm_config_update_notifier: 'false' },
  });
}

function packPackage(name: string, work: string): string {
  const pkgDir = join(ROOT, 'packages', name);
  const stage = join(work, 'stage', name);
  mkdirSync(stage, { recursive: true });
  for (const f of ['package.json', 'README.md', 'LICENSE'])
    if (existsSync(join(pkgDir, f)))
      copyFileSync(join(pkgDir, f), join(stage, f));
  // The config lives in this package (tsup bundles it and resolves `tsup` from beside it).
  const config = join(
    __dirname,
    `.pack-${process.pid}-${name}.tsup.config.mjs`,
  );
  writeFileSync(
    config,
    `import base from ${JSON.stringify(join(pkgDir, 'tsup.config.ts'))};
const one = (c) => ({ ...c, dts: false, sourcemap: false, clean: true, outDir: ${JSON.stringify(join(stage, 'dist'))} });
export default Array.isArray(base) ? base.map(one) : one(base);
`,
  );
  try {
    run(join(ROOT, 'node_modules/.bin/tsup'), ['--config', config], {
      cwd: pkgDir,
    });
  } finally {
    rmSync(config, { force: true });
  }
  const out = run('npm', ['pack', '--silent', '--pack-destination', work], {
    cwd: stage,
  }).trim();
  return join(work, out.split('\n').pop() as string);
}

const SCRIPT = `
import { createRequire } from 'node:module';
import { createRng } from '@stb/core';
import { createModelRegistry, loadModelPackage } from '@stb/models';
import { plugin } from '@stb/model-lstm';

const cjs = createRequire(import.meta.url)('@stb/model-lstm');
if (cjs.plugin?.name !== 'lstm') throw new Error('require() did not give the plugin');
const registry = createModelRegistry();
await loadModelPackage(registry, '@stb/model-lstm', { from: process.cwd() });
const lstm = registry.get('lstm');
if (lstm !== plugin) throw new Error('loadModelPackage did not load the ESM plugin');

const sessions = Array.from({ length: 40 }, (_, i) => ({
  sessionId: String(i),
  templates: ['begin', i % 2 ? 'select' : 'update', 'select', 'commit'],
}));
const state = await lstm.fit(
  async function* () { yield* sessions; },
  lstm.options.parse({ epochs: 2, units: 8, embeddingSize: 4 }),
  { rng: createRng(1), templates: [] },
);
const restored = lstm.parseState(JSON.parse(JSON.stringify(state)));
const sampler = lstm.createSampler(restored, { templates: [] });
const rng = createRng(2);
const sampled = [];
for (let i = 0; i < 20; i++) sampled.push([...sampler.nextSession(rng)]);
const known = new Set(['begin', 'select', 'update', 'commit']);
if (!sampled.flat().every((t) => known.has(t))) throw new Error('unknown template sampled');
console.log(JSON.stringify({ backend: state.training.backend, epochs: state.training.epochs, sessions: sampled.length }));
`;

/** The CommonJS build on its own (a fresh process, so it initialises tfjs and the wasm backend itself). */
const CJS_SCRIPT = `
const { createRng } = require('@stb/core');
const { plugin } = require('@stb/model-lstm');
const sessions = Array.from({ length: 20 }, (_, i) => ({ sessionId: String(i), templates: ['a', i % 2 ? 'b' : 'c', 'd'] }));
plugin
  .fit(async function* () { yield* sessions; }, plugin.options.parse({ epochs: 1, units: 4, embeddingSize: 2 }), { rng: createRng(1), templates: [] })
  .then((state) => {
    const sampled = [...plugin.createSampler(state, { templates: [] }).nextSession(createRng(2))];
    console.log(JSON.stringify({ backend: state.training.backend, ok: sampled.every((t) => 'abcd'.includes(t)) }));
  });
`;

describe('installed from tarballs in a scratch project', () => {
  let work: string;

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'stb-model-lstm-pack-'));
  });
  afterAll(() => {
    rmSync(work, { recursive: true, force: true });
  });

  it('fits, round-trips and samples from ESM and CommonJS, and loads through loadModelPackage', () => {
    const tarballs = PACKAGES.map((p) => packPackage(p, work));
    const project = join(work, 'project');
    mkdirSync(project);
    writeFileSync(
      join(project, 'package.json'),
      JSON.stringify({ name: 'scratch', private: true, type: 'module' }),
    );
    run(
      'npm',
      ['install', '--no-audit', '--no-fund', '--prefer-offline', ...tarballs],
      { cwd: project, timeoutMs: 300_000 },
    );
    expect(readdirSync(join(project, 'node_modules/@stb')).sort()).toEqual([
      'core',
      'model-lstm',
      'models',
    ]);
    writeFileSync(join(project, 'smoke.mjs'), SCRIPT);
    const out = run('node', ['smoke.mjs'], { cwd: project });
    expect(JSON.parse(out.trim().split('\n').pop() as string)).toEqual({
      backend: 'wasm',
      epochs: 2,
      sessions: 20,
    });
    writeFileSync(join(project, 'smoke.cjs'), CJS_SCRIPT);
    const cjsOut = run('node', ['smoke.cjs'], { cwd: project });
    expect(JSON.parse(cjsOut.trim().split('\n').pop() as string)).toEqual({
      backend: 'wasm',
      ok: true,
    });
  }, 300_000);
});

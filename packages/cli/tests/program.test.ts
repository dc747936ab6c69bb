import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { SAMPLES_DIR, runStb } from './helpers';

describe('stb program', () => {
  it('prints help with examples and exit codes, exit 0', async () => {
    const r = await runStb(['--help']);
    expect(r.code).toBe(0);
    const text = r.stdout.toString();
    expect(text).toContain('Usage: stb');
    expect(text).toContain('Exit codes:');
    for (const c of ['parse', 'learn', 'generate', 'inspect'])
      expect(text).toContain(c);
  });

  it.each(['parse', 'learn', 'generate', 'inspect'])(
    '`stb %s --help` has examples',
    async (name) => {
      const r = await runStb([name, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout.toString()).toMatch(/Examples:\n {2}\$ stb /);
    },
  );

  it('maps an unknown option to exit 2 with one [stb] line', async () => {
    const r = await runStb(['parse', '-i', 'x.log', '--no-such-option']);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toMatch(/^\[stb\] unknown option/);
    expect(r.stdout.length).toBe(0);
  });

  it('maps an unknown command to exit 2', async () => {
    const r = await runStb(['frobnicate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^\[stb\] unknown command/);
  });

  it('rejects an invalid --log-level as a usage error', async () => {
    const r = await runStb(['--log-level', 'loud', 'inspect', 'x']);
    expect(r.code).toBe(2);
  });

  it('prints the version', async () => {
    const r = await runStb(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.toString()).toMatch(/^\d+\.\d+\.\d+\n$/);
  });
});

describe('stb start-up loads only the command it runs', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'stb-lazy-'));
    // Hooks that write every `@stb/*` package the process loads to stderr: one for `require`
    // (the binary is the CommonJS build, and so are the packages it requires), one for the ES
    // module loader (run in Node's loader thread) for what is imported.
    writeFileSync(
      path.join(dir, 'hook.cjs'),
      `const Module = require('node:module');
      const load = Module._load;
      Module._load = function (request, ...rest) {
        if (request.startsWith('@stb/')) process.stderr.write('LOADED ' + request + '\\n');
        return load.call(this, request, ...rest);
      };\n`,
    );
    writeFileSync(
      path.join(dir, 'hooks.mjs'),
      `export async function resolve(specifier, context, next) {
        if (specifier.startsWith('@stb/')) process.stderr.write('LOADED ' + specifier + '\\n');
        return next(specifier, context);
      }\n`,
    );
    writeFileSync(
      path.join(dir, 'register.mjs'),
      `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(path.join(dir, 'hooks.mjs')).href)});\n`,
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const loaded = async (args: string[]): Promise<string[]> => {
    const r = await runStb(args, {
      env: {
        NODE_OPTIONS: `--require=${path.join(dir, 'hook.cjs')} --import=${path.join(dir, 'register.mjs')}`,
      },
    });
    return [
      ...new Set(
        r.stderr
          .split('\n')
          .filter((l) => l.startsWith('LOADED '))
          .map((l) => l.slice(7)),
      ),
    ].sort();
  };

  it('`--version` loads no command package (only core, for the error helpers)', async () => {
    expect(await loaded(['--version'])).toEqual(['@stb/core']);
  });

  it('`parse` loads the parser and the extractor, not the models, generator, bench or validator', async () => {
    const out = path.join(dir, 'trace.jsonl');
    expect(
      await loaded([
        'parse',
        '-i',
        path.join(SAMPLES_DIR, 'pg-tpcb-simple-logstatement/postgresql.log.gz'),
        '-o',
        out,
      ]),
    ).toEqual(['@stb/core', '@stb/extractor', '@stb/parser']);
    expect(existsSync(out)).toBe(true);
  });

  it('`--help` still lists every command', async () => {
    const r = await runStb(['--help']);
    for (const c of [
      'parse',
      'learn',
      'merge-models',
      'generate',
      'merge-traces',
      'validate',
      'inspect',
      'bench',
      'merge-results',
      'compare',
    ])
      expect(r.stdout.toString()).toMatch(new RegExp(`^  ${c} `, 'm'));
  });
});

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { isStbError } from '@stb/core';
import {
  builtinLogFormats,
  loadFormatPackage,
  parseLogs,
  withFormats,
} from '../src/index';

// A third-party log format loaded like a model or DB plugin package: `plugin`/`plugins` export,
// resolved from a directory, detected among the built-in formats.
const dir = mkdtempSync(path.join(tmpdir(), 'stb-format-package-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const PLUGIN = `
const options = { safeParse: (v) => ({ success: true, data: v ?? {} }) };
exports.plugin = {
  kind: 'log-format', name: 'pipe-log', apiVersion: 1, dialect: 'postgres', options,
  detect: (sample) => (sample.length > 0 && sample.every((l) => l === '' || /^\\d+\\|\\w+\\|/.test(l)) ? 0.9 : 0),
  async *parse(lines, _o, ctx) {
    for await (const { text, line } of lines) {
      if (text === '') { ctx.report('blank', line); continue; }
      const [us, session, ...sql] = text.split('|');
      yield { sessionId: session, startUs: Number(us), sql: sql.join('|'), dialect: 'postgres', source: { file: ctx.file, line } };
    }
  },
};
`;
writeFileSync(path.join(dir, 'pipe-log.cjs'), PLUGIN);
const pkg = path.join(dir, 'node_modules', 'stb-format-pipe');
mkdirSync(pkg, { recursive: true });
writeFileSync(
  path.join(pkg, 'package.json'),
  JSON.stringify({
    name: 'stb-format-pipe',
    main: 'index.js',
  }),
);
writeFileSync(
  path.join(pkg, 'index.js'),
  PLUGIN.replace('exports.plugin =', 'exports.plugins = [').replace(
    /};\n$/,
    '}];\n',
  ),
);
writeFileSync(
  path.join(dir, 'not-a-format.cjs'),
  'exports.plugin = { kind: "model", name: "x", apiVersion: 1, options: {} };\n',
);

test('a format package by path or by name is detected among the built-in formats', async () => {
  const log = path.join(dir, 'app.pipe');
  writeFileSync(log, '1000|a|SELECT 1\n2000|b|SELECT 2\n');
  for (const spec of ['./pipe-log.cjs', 'stb-format-pipe']) {
    const formats = await loadFormatPackage(spec, { from: dir });
    expect(formats.map((f) => f.name)).toEqual(['pipe-log']);
    const all = withFormats(formats);
    expect(all).toHaveLength(builtinLogFormats.length + 1);
    const run = parseLogs([log], { formats: all });
    const sql: string[] = [];
    for await (const e of run) sql.push(e.sql);
    expect(sql).toEqual(['SELECT 1', 'SELECT 2']);
    expect(run.summary().files[0]?.format).toBe('pipe-log');
  }
});

test('missing and wrong packages fail with the plugin codes', async () => {
  const missing = await loadFormatPackage('stb-format-absent', {
    from: dir,
  }).catch((e: unknown) => e);
  expect(isStbError(missing, 'STB_PLUGIN_DEPENDENCY_MISSING')).toBe(true);
  expect((missing as Error).message).toContain('npm install stb-format-absent');
  const wrong = await loadFormatPackage('./not-a-format.cjs', {
    from: dir,
  }).catch((e: unknown) => e);
  expect(isStbError(wrong, 'STB_PLUGIN_INVALID')).toBe(true);
});

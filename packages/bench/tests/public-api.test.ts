import { spawnSync } from 'node:child_process';
import * as api from '../src/index';
import * as knex from '../src/db/knex';
import * as mysql from '../src/db/mysql';
import * as mysqlLean from '../src/db/mysql-lean';
import * as pgLean from '../src/db/pg-lean';
import * as pgNative from '../src/db/pg-native';
import * as pglite from '../src/db/pglite';
import * as postgres from '../src/db/postgres';
import * as sqlite from '../src/db/sqlite';

// Any change to the surface of @stb/bench (and its `./db/*` entry points) shows up here in review.
test('public API surface', () => {
  expect(Object.keys(api).sort()).toMatchSnapshot();
});

test.each([
  ['db/postgres', postgres],
  ['db/mysql', mysql],
  ['db/sqlite', sqlite],
  ['db/pglite', pglite],
  ['db/knex', knex],
  ['db/pg-lean', pgLean],
  ['db/pg-native', pgNative],
  ['db/mysql-lean', mysqlLean],
])('public API surface of @stb/bench/%s', (_name, mod) => {
  expect(Object.keys(mod).sort()).toMatchSnapshot();
});

// The built package as users load it, both ways: a run on SQLite whose result carries a latency
// histogram (hdr-histogram-js is loaded from its own modules, named imports from CommonJS in the
// ESM build). Needs the build, as the CLI tests do.
test.each([
  ['import()', ['--input-type=module', '-e']],
  ['require()', ['-e']],
])(
  'the built @stb/bench runs and encodes its histograms through %s',
  (how, flags) => {
    const load =
      how === 'import()'
        ? "const { runBench } = await import('@stb/bench'); const { TemplateCatalog } = await import('@stb/core');"
        : "const { runBench } = require('@stb/bench'); const { TemplateCatalog } = require('@stb/core');";
    const source = `(async () => { ${load}
    const t = { kind: 'template', id: 't1', text: 'SELECT $1', queryType: 'SELECT', tables: [], slots: [] };
    async function* events() { for (let i = 0; i < 20; i++) yield { kind: 'event', startUs: i, sessionId: 's', templateId: 't1', params: [{ t: 'int', v: i }] }; }
    const r = await runBench({ templates: new TemplateCatalog([t]), events: events() }, { target: 'sqlite::memory:', mode: 'closed', connections: 1 });
    const hdr = ${how === 'import()' ? "await import('hdr-histogram-js')" : "require('hdr-histogram-js')"};
    console.log(r.overall.count, hdr.decodeFromCompressedBase64(r.overall.latencyHistogramNs).totalCount);
  })();`;
    const r = spawnSync(process.execPath, [...flags, source], {
      cwd: __dirname,
      encoding: 'utf8',
    });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('20 20');
  },
);

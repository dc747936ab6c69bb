// A trace output whose name says no trace format (`-o workload.sql`) is written as JSON Lines,
// with a warning saying so; a trace extension, --output-format, stdout and devices get none.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PG_STATEMENT_LOG, runStb } from './helpers';

const dir = mkdtempSync(path.join(os.tmpdir(), 'stb-output-names-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const LOG = PG_STATEMENT_LOG;
const warning = (stderr: string): string[] =>
  stderr.split('\n').filter((l) => l.startsWith('[stb] warning:'));

it('warns when -o names no trace format, and writes JSON Lines', async () => {
  const out = path.join(dir, 'workload.sql');
  const r = await runStb(['parse', '-i', LOG, '-o', out]);
  expect(r.code).toBe(0);
  expect(warning(r.stderr)).toEqual([
    expect.stringMatching(/workload\.sql.*--output.*written as JSON Lines/),
  ]);
  const first = readFileSync(out, 'utf8').split('\n', 1)[0] as string;
  expect(JSON.parse(first)).toMatchObject({ kind: 'header' });
}, 60_000);

it.each([
  ['a trace extension', ['-o', 'trace.jsonl.gz']],
  ['--output-format', ['-o', 'workload.sql', '--output-format', 'jsonl']],
  ['a device', ['-o', '/dev/null']],
])(
  'does not warn for %s',
  async (_what, args) => {
    const r = await runStb(['parse', '-i', LOG, ...args], { cwd: dir });
    expect(r.code).toBe(0);
    expect(warning(r.stderr)).toEqual([]);
  },
  60_000,
);
